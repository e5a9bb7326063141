// `npm run eval -- mesh [pubmedqa.json] [--k 30] [--tune] [--corpus FILE ...] [--json] [--learn-prior OUT]`
// Each PubMedQA abstract is the query (question + contexts), its own PMID is excluded from the neighbours, and the
// rest of the demo corpus (that file + the MEDLINE XML and MEDLINE text files of data/demo) is the index,
// searched with the index's full-text leg (a real LanceDB table, built in a temp folder with src/index's store).
// Prints micro P/R/F1 and example-based F1 at the cut-off and at top-5/10/15 for lexical only, neighbours only and
// combined. --tune picks weights and the cut-off on the first half (even ordinal) and reports the other half.
import * as fs from 'node:fs';
import { projectRoot } from '../../inference/paths';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Citation } from '../../index/citation';
import { abstractText } from '../../index/citation';
import { readCitations } from '../../index/readers/index';
import { IndexStore, type ArticleRow } from '../../index/store';
import { neighbours as searchNeighbours } from '../../index/search';
import type { ModelIdentity } from '../../inference/types';
import { loadVocab, type MeshVocab } from '../../mesh/vocab';
import { LexicalMatcher, matcherFor, type LexicalMatch } from '../../mesh/lexical';
import { multiLabelScores, type MultiLabelScores } from '../../mesh/metrics';
import { learnPrior } from '../../mesh/prior';
import {
  DEFAULT_CHECK_CUTOFF,
  DEFAULT_CUTOFF,
  DEFAULT_K,
  DEFAULT_WEIGHTS,
  suggestMesh,
  type Neighbour,
  type SuggestOptions,
  type SuggestWeights,
} from '../../mesh/suggest';

/** The real PubMed files of the demo corpus, in the repository (data/demo). */
function sharedDir(): string {
  return path.join(projectRoot(), 'data', 'demo');
}

interface Doc {
  pmid: string;
  text: string;
  gold: string[];
  neighbours: Neighbour[];
  matches: LexicalMatch[];
  naive?: string[];
}

export async function readAll(file: string): Promise<Citation[]> {
  const out: Citation[] = [];
  for await (const ev of readCitations(file)) if (ev.type === 'citation') out.push(ev.citation);
  return out;
}

export function citationText(c: Citation): string {
  return `${c.title}\n${abstractText(c)}`.trim();
}

/** A temp LanceDB index of the corpus for the full-text leg (vectors are zeros: only FTS is used). */
export async function buildFtsIndex(corpus: Citation[], dir: string): Promise<IndexStore> {
  const dim = 8;
  const identity: ModelIdentity = {
    repo: 'eval:fts-only',
    revision: '0',
    manifestHash: '0',
    dim,
    pooling: 'cls',
    queryPrefix: false,
    generated: true,
  };
  const store = await IndexStore.open(dir, identity, { create: true });
  const rows: ArticleRow[] = corpus.map((c) => ({
    pmid: c.pmid,
    title: c.title,
    abstract: abstractText(c),
    text: citationText(c),
    sections: JSON.stringify(c.abstract),
    authors: c.authors,
    journal: c.journal,
    year: c.year ?? null,
    doi: c.doi ?? null,
    pmcid: c.pmcid ?? null,
    publication_types: c.publicationTypes,
    language: c.language ?? null,
    mesh: JSON.stringify(c.mesh),
    has_abstract: c.abstract.length > 0,
    source: c.source,
    hash: '',
    n_sentences: 0,
    vector: new Float32Array(dim),
  }));
  for (let i = 0; i < rows.length; i += 500) await store.upsert(rows.slice(i, i + 500), []);
  await store.ensureIndexes();
  return store;
}

type Predict = (d: Doc) => { ui: string; score: number; check: boolean }[];
interface Cut {
  cutoff: number;
  check: number;
}
const pass = (s: { score: number; check: boolean }, c: Cut) => s.score >= (s.check ? c.check : c.cutoff);

function evaluate(docs: Doc[], predict: Predict, cutoff: Cut): Record<string, MultiLabelScores> {
  const preds = docs.map(predict);
  const gold = docs.map((d) => d.gold);
  const at = (k: number) =>
    multiLabelScores(
      preds.map((p) => p.slice(0, k).map((s) => s.ui)),
      gold,
    );
  return {
    cutoff: multiLabelScores(
      preds.map((p) => p.filter((s) => pass(s, cutoff)).map((s) => s.ui)),
      gold,
    ),
    top5: at(5),
    top10: at(10),
    top15: at(15),
  };
}

function bestCutoff(docs: Doc[], predict: Predict): Cut & { MiF: number } {
  const preds = docs.map(predict);
  const gold = docs.map((d) => d.gold);
  let best = { cutoff: DEFAULT_CUTOFF, check: DEFAULT_CHECK_CUTOFF, MiF: -1 };
  const r = (x: number) => Math.round(x * 1000) / 1000;
  for (let c = 0.05; c <= 0.9; c += 0.025) {
    for (let cc = 0.1; cc <= 0.95; cc += 0.05) {
      const s = multiLabelScores(
        preds.map((p) => p.filter((x) => pass(x, { cutoff: c, check: cc })).map((x) => x.ui)),
        gold,
      );
      if (s.MiF > best.MiF) best = { cutoff: r(c), check: r(cc), MiF: s.MiF };
    }
  }
  return best;
}

function predictor(vocab: MeshVocab, opts: SuggestOptions): Predict {
  return (d) =>
    suggestMesh(d.text, d.neighbours, vocab, {
      ...opts,
      matches: d.matches,
      cutoff: 0,
      checkTagCutoff: 0,
      max: 60,
    }).map((s) => ({ ui: s.ui, score: s.score, check: s.group === 'checktag' }));
}

const f3 = (x: number) => x.toFixed(3);

function table(
  title: string,
  rows: [string, Record<string, MultiLabelScores>][],
  cutoffs: Record<string, Cut>,
): string {
  const lines = [`${title}`, `  ${'part'.padEnd(11)} ${'at'.padEnd(14)}   MiP    MiR    MiF    EBF`];
  for (const [name, r] of rows) {
    for (const [at, s] of Object.entries(r)) {
      const lab = at === 'cutoff' ? `cut ${cutoffs[name]!.cutoff.toFixed(2)}/${cutoffs[name]!.check.toFixed(2)}` : at;
      lines.push(`  ${name.padEnd(11)} ${lab.padEnd(14)} ${f3(s.MiP)}  ${f3(s.MiR)}  ${f3(s.MiF)}  ${f3(s.EBF)}`);
    }
  }
  return lines.join('\n');
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const flag = (name: string): boolean => {
    const i = args.indexOf(name);
    if (i >= 0) args.splice(i, 1);
    return i >= 0;
  };
  const k = Number(opt('--k') ?? DEFAULT_K);
  const tune = flag('--tune');
  const cacheFile = opt('--cache'); // reuse the neighbours of an earlier run (development)
  const json = flag('--json');
  const extra: string[] = [];
  for (let c = opt('--corpus'); c; c = opt('--corpus')) extra.push(c);
  const shared = sharedDir();
  const qaFile = path.resolve(args[0] ?? path.join(shared, 'pubmedqa-pqal-dev.json'));
  const corpusFiles = [
    qaFile,
    ...(extra.length
      ? extra
      : [path.join(shared, 'medline16n0902.xml.gz'), path.join(shared, 'mesh-papers.medline.txt')]),
  ];

  const t0 = Date.now();
  const vocab = await loadVocab();
  const matcher = matcherFor(vocab);
  const queries = await readAll(qaFile);
  const learn = opt('--learn-prior');
  if (learn) {
    // learn P(indexed | matched) from the corpus files other than the query file, never from a query's PMID
    const qp = new Set(queries.map((q) => q.pmid));
    const train: { text: string; mesh: Citation['mesh'] }[] = [];
    for (const f of corpusFiles.slice(1))
      for (const c of await readAll(f))
        if (!qp.has(c.pmid) && c.abstract.length && c.mesh.length) train.push({ text: citationText(c), mesh: c.mesh });
    const prior = learnPrior(
      train,
      vocab,
      matcher,
      `learned from ${train.length} MEDLINE citations with abstracts and MeSH in ${corpusFiles
        .slice(1)
        .map((f) => path.basename(f))
        .join(', ')} (none of them in ${path.basename(qaFile)})`,
    );
    fs.writeFileSync(learn, JSON.stringify(prior));
    process.stdout.write(
      `wrote ${learn}: ${Object.keys(prior.counts).length} descriptors from ${prior.docs} citations\n`,
    );
    return;
  }
  if (!queries.length) throw new Error(`${qaFile}: no citations read`);
  const corpus = new Map<string, Citation>();
  for (const f of corpusFiles)
    for (const c of await readAll(f)) if (c.title || c.abstract.length) corpus.set(c.pmid, c);
  process.stderr.write(
    `eval mesh: ${queries.length} queries, ${corpus.size} citations in the index (${vocab.version}); building a temp full-text index…\n`,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-mesh-eval-'));
  let docs: Doc[];
  let unmapped = 0;
  let goldTotal = 0;
  const cached: Record<string, Neighbour[]> | undefined =
    cacheFile && fs.existsSync(cacheFile) ? JSON.parse(fs.readFileSync(cacheFile, 'utf8')) : undefined;
  try {
    const store = cached ? undefined : await buildFtsIndex([...corpus.values()], dir);
    docs = [];
    for (const q of queries) {
      const text = citationText(q);
      const r = store
        ? await searchNeighbours(store, undefined, text, { k: Math.max(k, 50), excludePmids: [q.pmid], mode: 'fts' })
        : { neighbours: cached![q.pmid]! };
      const gold = q.mesh.map((h) => {
        goldTotal++;
        const d = vocab.resolve(h);
        if (!d) unmapped++;
        return d ? d.ui : `?${h.name}`;
      });
      docs.push({
        pmid: q.pmid,
        text,
        gold: [...new Set(gold)],
        neighbours: r.neighbours.map((n, i) => ({ pmid: n.pmid, rank: i, score: n.score, mesh: n.mesh })),
        matches: matcher.match(text),
      });
    }
    store?.close();
    if (cacheFile && !cached)
      fs.writeFileSync(cacheFile, JSON.stringify(Object.fromEntries(docs.map((d) => [d.pmid, d.neighbours]))));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stderr.write(
    `eval mesh: neighbours and matches ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${unmapped} of ${goldTotal} gold headings not in the vocabulary (counted as misses)\n`,
  );

  const base: SuggestOptions = { k };
  const parts: Record<string, SuggestOptions> = {
    lexical: { ...base, neighbours: false },
    neighbours: { ...base, lexical: false },
    combined: base,
  };
  if (process.env.BIOHICL_MESH_EVAL_DUMP) {
    const p = predictor(vocab, base);
    fs.writeFileSync(
      process.env.BIOHICL_MESH_EVAL_DUMP,
      JSON.stringify(docs.map((d) => ({ pmid: d.pmid, gold: d.gold, pred: p(d) }))),
    );
  }
  const out: Record<string, unknown> = { queries: docs.length, index: corpus.size, k, vocab: vocab.version };
  if (!tune) {
    const cut: Cut = { cutoff: DEFAULT_CUTOFF, check: DEFAULT_CHECK_CUTOFF };
    // reference: naive longest match of names and entry terms (no cue phrases, no prior, no check-tag cues)
    const naive = new LexicalMatcher(vocab, { cues: false });
    const naiveScores = multiLabelScores(
      docs.map((d) => [...new Set(naive.match(d.text).map((m) => m.ui))]),
      docs.map((d) => d.gold),
    );
    const rows: [string, Record<string, MultiLabelScores>][] = [];
    const cutoffs: Record<string, Cut> = {};
    for (const [name, o] of Object.entries(parts)) {
      const c = name === 'combined' ? cut : bestCutoff(docs, predictor(vocab, o));
      cutoffs[name] = c;
      rows.push([name, evaluate(docs, predictor(vocab, o), c)]);
    }
    out.all = Object.fromEntries(rows);
    out.naive = naiveScores;
    out.cutoffs = cutoffs;
    if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      process.stdout.write(
        table(
          `MeSH suggestions on ${path.basename(qaFile)}: ${docs.length} queries, full-text neighbours (k=${k}) from ${corpus.size - 1} other citations`,
          rows,
          cutoffs,
        ) + '\n',
      );
      const halfB = evaluate(
        docs.filter((_, i) => i % 2 === 1),
        predictor(vocab, parts.combined!),
        cut,
      ).cutoff;
      process.stdout.write(
        `  ${'combined'.padEnd(11)} ${'half B only'.padEnd(14)} ${f3(halfB.MiP)}  ${f3(halfB.MiR)}  ${f3(halfB.MiF)}  ${f3(halfB.EBF)}   (the odd-numbered half, not used by --tune)\n`,
      );
      const n = naiveScores;
      process.stdout.write(
        `  ${'naive'.padEnd(11)} ${'all matches'.padEnd(14)} ${f3(n.MiP)}  ${f3(n.MiR)}  ${f3(n.MiF)}  ${f3(n.EBF)}   (reference: every name/entry-term match)\n`,
      );
      process.stdout.write(
        `  (cut a/b: cut-off for topics/check tags; combined uses the shipped defaults; lexical-only and neighbours-only use the cut-off that is best for them on this same set, which flatters them)\n`,
      );
    }
    return;
  }

  // --tune: grid on half A (even positions), report on half B and on all
  const A = docs.filter((_, i) => i % 2 === 0);
  const B = docs.filter((_, i) => i % 2 === 1);
  // coordinate ascent over the weights and k (two passes), each setting scored at its best cut-off on half A
  const space: Record<string, number[]> = {
    k: [10, 20, 30, 50],
    lexical: [0.5, 0.7, 0.85, 1.0],
    neighbours: [0.6, 0.8, 0.9, 1.0],
    agree: [0, 0.25, 0.5],
    minorVote: [0.5, 0.75, 1.0],
    rankDecay: [0, 0.25, 0.5, 1.0],
    scoreSharpness: [0, 2, 5, 10],
    priorStrength: [1, 3, 6, 12],
    checkText: [0.6, 0.85, 1.0],
    checkNeighbours: [0.6, 0.9, 1.0],
  };
  let cur: Record<string, number> = { k, ...DEFAULT_WEIGHTS };
  const score = (c: Record<string, number>) => {
    const { k: kk, ...wts } = c;
    return bestCutoff(A, predictor(vocab, { k: kk, weights: wts as Partial<SuggestWeights> }));
  };
  let best = { ...score(cur), w: cur };
  let tried = 1;
  for (let pass = 0; pass < 2; pass++) {
    for (const [name, values] of Object.entries(space)) {
      for (const val of values) {
        if (cur[name] === val) continue;
        const cand = { ...cur, [name]: val };
        const r = score(cand);
        tried++;
        if (r.MiF > best.MiF + 1e-9) {
          best = { ...r, w: cand };
          cur = cand;
        }
      }
    }
  }
  const { k: bestK, ...bestW } = best.w;
  base.k = bestK;
  process.stderr.write(`eval mesh: tried ${tried} settings\n`);
  const tunedParts: Record<string, SuggestOptions> = {
    lexical: { ...parts.lexical, k: bestK, weights: bestW },
    neighbours: { ...parts.neighbours, k: bestK, weights: bestW },
    combined: { ...base, weights: bestW },
  };
  const cutoffs: Record<string, Cut> = {};
  for (const [name, o] of Object.entries(tunedParts))
    cutoffs[name] =
      name === 'combined' ? { cutoff: best.cutoff, check: best.check } : bestCutoff(A, predictor(vocab, o));
  const rowsB = Object.entries(tunedParts).map(
    ([name, o]) =>
      [name, evaluate(B, predictor(vocab, o), cutoffs[name]!)] as [string, Record<string, MultiLabelScores>],
  );
  const rowsAll = Object.entries(tunedParts).map(
    ([name, o]) =>
      [name, evaluate(docs, predictor(vocab, o), cutoffs[name]!)] as [string, Record<string, MultiLabelScores>],
  );
  out.tuned = { k: bestK, weights: bestW, cutoff: best.cutoff, checkTagCutoff: best.check, MiF_A: best.MiF, cutoffs };
  out.halfB = Object.fromEntries(rowsB);
  out.all = Object.fromEntries(rowsAll);
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    process.stdout.write(
      `tuned on half A (${A.length} queries, ${tried} settings × cut-offs): k=${bestK} ${JSON.stringify(bestW)} cut-offs ${best.cutoff} (topics) / ${best.check} (check tags) (MiF on A ${f3(best.MiF)})\n`,
    );
    process.stdout.write(table(`held-out half B (${B.length} queries)`, rowsB, cutoffs) + '\n');
    process.stdout.write(
      table(`all ${docs.length} queries (half of them were used for tuning)`, rowsAll, cutoffs) + '\n',
    );
  }
}
