// `npm run bench -- completion [--entries 10000] [--runs 40] [--shape tiny|base] [--model DIR] [--no-pubmed]`: citation completion
// on a 10,000-entry .bib made from real records (the demo corpus's MEDLINE + PubMedQA citations and the Biopython
// PubMed fixtures, repeated with distinct keys and ids), in an index that holds the PubMed records and the .bib
// itself (as "Index this manuscript's bibliography" makes it, so every entry has a vector). Timed: the full completion
// computation as the editor runs it (key slot, cached bibliography, filter, the sentence's relevance query — hybrid
// search + the bibliography's dense similarity, computed even with generated weights so the real-weights path is the
// one timed — and the fused ranking), for a new sentence and while typing a key. Baseline in the same run: the same
// computation re-parsing the .bib on every keystroke (what the cache avoids). Target: p95 ≤ 150 ms on 2 cores.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot, biohiclHome } from '../../inference/paths';
import { readCitations } from '../../index/readers';
import type { Citation } from '../../index/citation';
import { toBibtex } from '../../cite/bibtex';
import { makeCiteKey } from '../../cite/citekey';
import { loadTexEncoder } from '../../cite/texencode';
import { paperMeta } from '../../cite/paper';
import { Engine } from '../../app/engine';
import { CiteCompleter } from '../../app/complete';
import { BibCache } from '../../cite/bibcache';
import { generateModel } from '../../inference/convert';

function opt(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** The real PubMed inputs of the project (the demo corpus and the Biopython fixtures). */
function realFiles(): string[] {
  const root = projectRoot();
  return [
    path.join(root, 'data', 'demo', 'medline16n0902.xml.gz'),
    path.join(root, 'data', 'demo', 'mesh-papers.medline.txt'),
    path.join(root, 'data', 'demo', 'pubmedqa-pqal-dev.json'),
    ...['pubmed1.xml', 'pubmed2.xml', 'pubmed4.xml', 'pubmed5.xml', 'pubmed6.xml', 'pubmed7.xml'].map((f) =>
      path.join(root, 'test', 'fixtures', 'pubmed', 'biopython', f),
    ),
  ].filter((f) => fs.existsSync(f));
}

async function realCitations(): Promise<Citation[]> {
  const files = realFiles();
  const seen = new Set<string>();
  const out: Citation[] = [];
  for (const f of files)
    for await (const ev of readCitations(f))
      if (ev.type === 'citation' && ev.citation.title && !seen.has(ev.citation.pmid)) {
        seen.add(ev.citation.pmid);
        out.push(ev.citation);
      }
  return out;
}

/** A .bib of `n` entries from the real records: each record once with its PMID, then again under new keys and ids. */
async function writeBib(file: string, recs: Citation[], n: number): Promise<void> {
  const encoder = await loadTexEncoder();
  const keys = new Set<string>();
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = recs[i % recs.length]!;
    const copy = Math.floor(i / recs.length);
    const p = paperMeta(c);
    if (copy > 0) {
      p.pmid = String(90_000_000 + i);
      p.doi = undefined;
      p.year = (p.year ?? 2000) - copy; // a different paper by the rules of match.ts (id and year differ)
    }
    const key = makeCiteKey(p, keys);
    keys.add(key.toLowerCase());
    parts.push(toBibtex(p, key, { encoder, encoding: 'utf8', dialect: 'biblatex' }).text);
  }
  fs.writeFileSync(file, parts.join('\n'));
}

const USAGE =
  'usage: npm run bench -- completion [--entries N] [--runs N] [--shape tiny|base] [--model DIR] [--no-pubmed] [--keystroke-ms N]';

function usage(msg: string): Error {
  return Object.assign(new Error(`${msg}\n${USAGE}`), { exitCode: 2 });
}

export async function run(args: string[]): Promise<void> {
  const valued = ['--entries', '--runs', '--shape', '--model', '--keystroke-ms'];
  for (let i = 0; i < args.length; i++) {
    if (valued.includes(args[i]!)) i++;
    else if (args[i] !== '--no-pubmed') throw usage(`unknown option ${args[i]}`);
  }
  const entries = Number(opt(args, '--entries', '10000'));
  const runs = Number(opt(args, '--runs', '40'));
  const shape = opt(args, '--shape', 'tiny') as 'tiny' | 'base';
  for (const [k, v] of [
    ['--entries', entries],
    ['--runs', runs],
    ['--keystroke-ms', Number(opt(args, '--keystroke-ms', '120'))],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw usage(`${k} needs a positive whole number`);
  if (shape !== 'tiny' && shape !== 'base') throw usage('--shape is tiny or base');
  const home = path.join(biohiclHome(), 'bench', 'completion');
  fs.mkdirSync(home, { recursive: true });
  const modelDir = opt(args, '--model', path.join(home, `model-${shape}`));
  if (!fs.existsSync(path.join(modelDir, 'manifest.json'))) {
    process.stderr.write(`generating a ${shape}-shaped model in ${modelDir} …\n`);
    await generateModel({ shape, outDir: modelDir, precisions: shape === 'tiny' ? ['fp32'] : ['int8'] });
  }
  const recs = await realCitations();
  const bibFile = path.join(home, `refs-${entries}.bib`);
  if (!fs.existsSync(bibFile)) await writeBib(bibFile, recs, entries);
  // --no-pubmed: the index holds the .bib only (a base-shaped model embeds 10,000 titles in minutes, not hours)
  const withPubmed = !args.includes('--no-pubmed');
  const indexDir = path.join(home, `index-${entries}-${path.basename(modelDir)}${withPubmed ? '' : '-bib'}`);
  const logger = { info: () => undefined, warn: (m: string) => process.stderr.write(`${m}\n`), error: () => undefined };
  const engine = new Engine({ modelDir, indexDir, device: 'cpu', threads: 0, queryPrefix: true }, logger);
  try {
    if (!fs.existsSync(path.join(indexDir, 'meta.json'))) {
      const t = performance.now();
      process.stderr.write(
        `building the index (${withPubmed ? `${recs.length} real records + ` : ''}the ${entries}-entry .bib) …\n`,
      );
      await engine.buildIndex(
        [...(withPubmed ? realFiles() : []), bibFile],
        () => undefined,
        new AbortController().signal,
      );
      process.stderr.write(`  built in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
    }
    const stats = await engine.statusWithIndex();

    // sentences from real abstracts (not the titles the .bib holds), each followed by a citation being typed
    const sentences = recs
      .flatMap((c) => c.abstract.flatMap((s) => s.text.split(/(?<=\.)\s+(?=[A-Z])/)))
      .filter((s) => s.split(/\s+/).length >= 12 && s.split(/\s+/).length <= 40)
      .filter((_, i) => i % 7 === 0)
      .slice(0, runs)
      .map((s) => s.replace(/([%&#_{}$])/g, '\\$1')); // as a writer types them in LaTeX
    const prefix = 'An earlier sentence of the manuscript, about something else. '.repeat(40);
    const doc = (sentence: string, typed: string): { text: string; offset: number } => {
      const text = `\\documentclass{article}\n\\begin{document}\n${prefix}\n\n${sentence.replace(/\.$/, '')} \\cite{${typed}}.\n\n\\bibliography{refs}\n\\end{document}\n`;
      return { text, offset: text.indexOf(`\\cite{${typed}}`) + 6 + typed.length };
    };
    const typing = ['s', 'sm', 'smi', 'l', 'li', 'w', 'wa', 'wan'];
    const rel = (t: string, o: Parameters<Engine['citeRelevance']>[1]) =>
      engine.citeRelevance(t, { ...o, dense: 'always' });

    // cold: the .bib parsed and prepared, the bibliography's vectors read from the index (once per version)
    const cache = new BibCache();
    const completer = new CiteCompleter(rel, cache);
    const src = [{ path: bibFile, format: 'bibtex' as const }];
    const t0 = performance.now();
    const prepared = cache.get(src);
    const parseMs = performance.now() - t0;
    const warm = doc('Warm-up sentence about statin therapy and muscle pain in older adults', '');
    const t1 = performance.now();
    const first = await completer.complete({ kind: 'latex', ...warm, bibs: src });
    const firstMs = performance.now() - t1;
    const r0 = await rel('another warm-up sentence about hair cells', {
      k: 10,
      bib: {
        signature: `${prepared.signature}#probe`,
        ids: prepared.index.records.map((r) => ({ pmid: r.pmid, doi: r.doi })),
      },
    });

    // the editor's path: a new sentence (relevance asked), then typing a key (relevance kept, the .bib not re-parsed)
    const newSentence: number[] = [];
    const typed: number[] = [];
    const parts = {
      relevance: [] as number[],
      rank: [] as number[],
      embed: [] as number[],
      denseLeg: [] as number[],
      fts: [] as number[],
      bibDense: [] as number[],
    };
    let topHasEvidence = 0;
    for (const s of sentences) {
      const a = (await completer.complete({ kind: 'latex', ...doc(s, ''), bibs: src }))!;
      newSentence.push(a.ms.total);
      parts.relevance.push(a.ms.relevance);
      parts.rank.push(a.ms.rank);
      if (a.relevanceMs) {
        parts.embed.push(a.relevanceMs.embed);
        parts.denseLeg.push(a.relevanceMs.denseLeg);
        parts.fts.push(a.relevanceMs.fts);
        parts.bibDense.push(a.relevanceMs.bibDense);
      }
      if (a.items[0]?.score) topHasEvidence++;
      for (const t of typing.slice(0, 3 + (newSentence.length % 3)))
        typed.push((await completer.complete({ kind: 'latex', ...doc(s, t), bibs: src }))!.ms.total);
    }
    const parsesWhileTyping = cache.parses;

    // as the editor does it: the relevance is asked when `\cit` is typed; the list is asked at `{`, two keystrokes
    // later (120 ms per keystroke: a fast typist, ~100 words a minute)
    const ahead: number[] = [];
    const keystroke = Number(opt(args, '--keystroke-ms', '120'));
    for (const s of sentences) {
      const d = doc(`${s} (again)`, '');
      const pre = d.text.slice(0, d.offset - 6) + '\\cit';
      completer.prefetch({ kind: 'latex', text: pre, offset: pre.length, bibs: src });
      await new Promise((r) => setTimeout(r, 2 * keystroke));
      ahead.push((await completer.complete({ kind: 'latex', ...d, bibs: src }))!.ms.total);
    }

    // baseline: the same, with the .bib read and parsed again on every request (a fresh cache each time)
    const base: number[] = [];
    for (const s of sentences.slice(0, Math.max(5, Math.floor(sentences.length / 4)))) {
      for (const t of ['', ...typing.slice(0, 3)]) {
        const c = new CiteCompleter(rel, new BibCache());
        const t2 = performance.now();
        await c.complete({ kind: 'latex', ...doc(s, t), bibs: src });
        base.push(performance.now() - t2);
      }
    }
    // an edit of the .bib (a new version): parsed again once
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-bib-'));
    const edited = path.join(tmp, 'refs.bib');
    fs.copyFileSync(bibFile, edited);
    const ec = new BibCache();
    let text = fs.readFileSync(edited, 'utf8');
    ec.get([{ path: edited, format: 'bibtex', version: 1, text: () => text }]);
    text = text.replace('@article{', '@article{edited');
    const t3 = performance.now();
    ec.get([{ path: edited, format: 'bibtex', version: 2, text: () => text }]);
    const editMs = performance.now() - t3;
    fs.rmSync(tmp, { recursive: true, force: true });

    const f = (x: number): string => x.toFixed(1).padStart(7);
    const all = [...newSentence, ...typed];
    const lines = [
      `completion bench: ${entries}-entry .bib from ${recs.length} real records; index ${stats.indexSize} rows, model ${path.basename(modelDir)} (${shape}-shaped, generated; dense similarity computed anyway); node ${process.version}, ${os.cpus().length} cores`,
      `  .bib parse + prepare (once per version)     ${f(parseMs)} ms   (an edit of the .bib: ${f(editMs)} ms, then cached)`,
      `  first completion (worker, model, index, bibliography vectors load) ${f(firstMs)} ms; vectors of ${r0.dense?.size ?? 0} entries in the index`,
      `  new sentence (relevance query: embed + hybrid search + ${entries} dense scores) p50 ${f(pct(newSentence, 50))} ms  p95 ${f(pct(newSentence, 95))} ms  (n=${newSentence.length}; relevance p50 ${f(pct(parts.relevance, 50))} ms, ranking p50 ${f(pct(parts.rank, 50))} ms)`,
      `    relevance parts p50: query embedding ${f(pct(parts.embed, 50))} ms, index dense leg ${f(pct(parts.denseLeg, 50))} ms, full-text leg ${f(pct(parts.fts, 50))} ms, ${entries} bibliography dense scores ${f(pct(parts.bibDense, 50))} ms`,
      `  typing a key (filter + rank, relevance kept) p50 ${f(pct(typed, 50))} ms  p95 ${f(pct(typed, 95))} ms  (n=${typed.length}; .bib parsed ${parsesWhileTyping}× in all)`,
      `  new sentence, asked ahead at \\cit (list at {, ${2 * keystroke} ms later) p50 ${f(pct(ahead, 50))} ms  p95 ${f(pct(ahead, 95))} ms  (n=${ahead.length})`,
      `  all completions                              p50 ${f(pct(all, 50))} ms  p95 ${f(pct(all, 95))} ms   (target p95 ≤ 150 ms)`,
      `  baseline: the .bib re-parsed per request     p50 ${f(pct(base, 50))} ms  p95 ${f(pct(base, 95))} ms  (n=${base.length}) → the cache is ×${(pct(base, 50) / pct(all, 50)).toFixed(1)} faster at p50`,
      `  top item with evidence for the sentence: ${topHasEvidence}/${newSentence.length}; first list: ${first?.items.length ?? 0} items`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await engine.dispose();
  }
}
