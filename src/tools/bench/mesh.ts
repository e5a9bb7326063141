// `npm run bench -- mesh [--runs N]`: vocabulary load time, matcher build time, and suggestMesh on a ~300-word
// paragraph once its neighbours are known (target ≤ 50 ms), against a baseline measured in the same run: a naive
// scan that looks for every name and entry term in the lower-cased text with indexOf.
import * as fs from 'node:fs';
import { projectRoot } from '../../inference/paths';
import * as path from 'node:path';
import { loadTsvVocab, shippedVocabDir, type MeshVocab } from '../../mesh/vocab';
import { LexicalMatcher } from '../../mesh/lexical';
import { suggestMesh, type Neighbour } from '../../mesh/suggest';
import { readPubmedQaFile } from './pubmedqa-file';

function sharedQa(): string | undefined {
  const p = path.join(projectRoot(), 'data', 'demo', 'pubmedqa-pqal-dev.json');
  return fs.existsSync(p) ? p : undefined;
}

const FALLBACK = `Background: Type 2 diabetes mellitus is associated with an increased risk of cardiovascular disease, chronic kidney
disease and retinopathy. Metformin is the first-line therapy, but many patients need a second agent. Methods: In this
randomised controlled trial, 412 adults aged 40 to 75 years with poorly controlled type 2 diabetes (HbA1c 7.5-10%) were
assigned to sitagliptin or glimepiride added to metformin for 52 weeks. The primary outcome was the change in glycated
haemoglobin; secondary outcomes were body weight, hypoglycaemia, blood pressure and lipid levels. Results: HbA1c fell by
0.8% with sitagliptin and 0.9% with glimepiride. Hypoglycaemia occurred in 5% of patients receiving sitagliptin and 32%
of those receiving glimepiride; body weight decreased by 0.8 kg with sitagliptin and increased by 1.2 kg with
glimepiride. Conclusions: Dipeptidyl peptidase-4 inhibitors give comparable glycaemic control with fewer hypoglycaemic
events in older women and men with diabetes.`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time<T>(f: () => T, runs: number): { ms: number; value: T } {
  let value!: T;
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = f();
    ts.push(performance.now() - t);
  }
  return { ms: median(ts), value };
}

/** Baseline: every term's lower-cased form searched with indexOf (word boundaries checked), no normalisation. */
function naiveScan(text: string, terms: { ui: string; t: string }[]): Set<string> {
  const low = text.toLowerCase();
  const out = new Set<string>();
  for (const { ui, t } of terms) {
    for (let i = low.indexOf(t); i >= 0; i = low.indexOf(t, i + 1)) {
      const before = i === 0 ? ' ' : low[i - 1]!;
      const after = low[i + t.length] ?? ' ';
      if (!/[a-z0-9]/.test(before) && !/[a-z0-9]/.test(after)) {
        out.add(ui);
        break;
      }
    }
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const runsArg = args.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 30;
  const dir = shippedVocabDir();
  const files = fs.readdirSync(dir);
  const desc = path.join(
    dir,
    files.find((f) => f.endsWith('descriptors.tsv.gz'))!,
  );
  const terms = path.join(
    dir,
    files.find((f) => f.endsWith('terms.tsv.gz'))!,
  );

  // vocabulary and matcher (cold, then the median of a few warm loads)
  const t0 = performance.now();
  const vocab: MeshVocab = loadTsvVocab(desc, terms);
  const loadCold = performance.now() - t0;
  const loadWarm = time(() => loadTsvVocab(desc, terms), 3).ms;
  const t1 = performance.now();
  const matcher = new LexicalMatcher(vocab);
  const matcherCold = performance.now() - t1;
  const matcherWarm = time(() => new LexicalMatcher(vocab), 3).ms;

  // a ~300-word paragraph and 20 neighbours taken from real PubMedQA records
  let text = FALLBACK;
  let neighbours: Neighbour[] = [];
  const qa = sharedQa();
  if (qa) {
    const recs = Object.entries(readPubmedQaFile(qa));
    const long = recs
      .map(([p, r]) => ({ p, r, t: `${r.QUESTION}\n${r.CONTEXTS.join('\n')}` }))
      .sort((a, b) => Math.abs(a.t.split(/\s+/).length - 300) - Math.abs(b.t.split(/\s+/).length - 300))[0]!;
    text = long.t;
    neighbours = recs
      .filter(([p]) => p !== long.p)
      .slice(0, 20)
      .map(([p, r], i) => ({
        pmid: p,
        rank: i,
        mesh: (r.MESHES ?? []).map((name) => ({ name, major: false, qualifiers: [] })),
      }));
  }
  const words = text.split(/\s+/).filter(Boolean).length;

  const allTerms: { ui: string; t: string }[] = [];
  for (const d of vocab.descriptors)
    for (const t of [d.name, ...d.terms]) allTerms.push({ ui: d.ui, t: t.toLowerCase() });

  suggestMesh(text, neighbours, vocab, { matcher }); // warm-up
  const sug = time(() => suggestMesh(text, neighbours, vocab, { matcher }), runs);
  const lex = time(() => matcher.match(text), runs);
  const base = time(() => naiveScan(text, allTerms), Math.max(3, Math.min(runs, 10)));

  const f = (x: number) => x.toFixed(1).padStart(8);
  const lines = [
    `MeSH bench (${vocab.version}: ${vocab.size} descriptors, ${allTerms.length} names+terms; ${matcher.termCount} matcher entries); node ${process.version}, ${process.platform}/${process.arch}`,
    `  vocabulary load (TSV gz)      cold ${f(loadCold)} ms   warm ${f(loadWarm)} ms`,
    `  matcher build                 cold ${f(matcherCold)} ms   warm ${f(matcherWarm)} ms`,
    `  paragraph: ${words} words, ${neighbours.length} neighbours; median of ${runs} runs:`,
    `  suggestMesh (all legs)             ${f(sug.ms)} ms   (target ≤ 50 ms) → ${sug.value.length} suggestions`,
    `  lexical match only                 ${f(lex.ms)} ms   → ${lex.value.length} matches`,
    `  baseline: naive indexOf scan       ${f(base.ms)} ms   → ${base.value.size} descriptors`,
    `  speed-up of the matcher vs the baseline: ×${(base.ms / lex.ms).toFixed(0)}; suggestMesh vs baseline: ×${(base.ms / sug.ms).toFixed(1)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
