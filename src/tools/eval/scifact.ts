// `npm run eval -- scifact [beirDir] [--model DIR] [--modes fts,dense,hybrid] [--index DIR] [--limit-queries N] [--fts-terms 4,8,16,all] [--paragraphs N]`
// Retrieval quality of the index's legs on any BEIR-layout folder (corpus.jsonl[.gz], queries*.jsonl, qrels*.tsv),
// default ../shared/data/beir-scifact-dev. Prints nDCG@10, Recall@100 and MRR@10 per mode (standard definitions,
// src/index/metrics.ts). The corpus is indexed with the same code as PubMed citations (title + text).
// --fts-terms: rerun the full-text and hybrid modes with the full-text query cut to each number of distinct terms
// (the rarest in the index; `all` = none dropped; default: the shipped FTS_MAX_TERMS), one row each.
// --paragraphs N: long queries made of N consecutive claims each, judged by the union of their judgements.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as readline from 'node:readline';
import { projectRoot } from '../../inference/paths';
import type { Embedder, ModelIdentity } from '../../inference/types';
import { evaluateRuns, type Qrels } from '../../index/metrics';
import { IndexStore, type ArticleRow } from '../../index/store';
import { ftsQueryText, search, type SearchMode } from '../../index/search';
import { FTS_MAX_TERMS, distinctTerms } from '../../index/query-terms';
import { errorText } from '../../util/errors';

interface Doc {
  id: string;
  title: string;
  text: string;
}

async function* jsonLines(file: string): AsyncGenerator<Record<string, unknown>> {
  let input: NodeJS.ReadableStream = fs.createReadStream(file);
  if (file.endsWith('.gz')) input = input.pipe(zlib.createGunzip());
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}:${n}: bad JSON (${errorText(e)})`);
    }
  }
}

export async function loadBeir(
  dir: string,
): Promise<{ docs: Doc[]; queries: Map<string, string>; qrels: Map<string, Qrels> }> {
  const files = fs.readdirSync(dir);
  const corpus = files.find((f) => /^corpus\.jsonl(\.gz)?$/.test(f));
  if (!corpus)
    throw Object.assign(new Error(`${dir}: no corpus.jsonl[.gz] (not a BEIR data set folder)`), { exitCode: 2 });
  const qfile = files.filter((f) => /^queries.*\.jsonl(\.gz)?$/.test(f)).sort();
  const rfile = files.filter((f) => /^qrels.*\.tsv$/.test(f)).sort();
  const qrelDir = fs.existsSync(path.join(dir, 'qrels'))
    ? fs
        .readdirSync(path.join(dir, 'qrels'))
        .filter((f) => f.endsWith('.tsv'))
        .map((f) => path.join('qrels', f))
    : [];
  const qrelFiles = [...rfile, ...qrelDir];
  if (!qfile.length) throw new Error(`${dir}: no queries*.jsonl`);
  if (!qrelFiles.length) throw new Error(`${dir}: no qrels*.tsv`);
  const docs: Doc[] = [];
  for await (const o of jsonLines(path.join(dir, corpus)))
    docs.push({ id: String(o._id), title: String(o.title ?? ''), text: String(o.text ?? '') });
  const queries = new Map<string, string>();
  for (const f of qfile) for await (const o of jsonLines(path.join(dir, f))) queries.set(String(o._id), String(o.text));
  const qrels = new Map<string, Qrels>();
  // BEIR ships several splits (qrels/test.tsv, qrels/dev.tsv): use the last one named, with queries in the query file.
  const qf = qrelFiles[qrelFiles.length - 1];
  const lines = fs.readFileSync(path.join(dir, qf), 'utf8').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const p = line.split('\t');
    if (i === 0 && /query/i.test(p[0])) return; // header
    if (p.length < 3) throw new Error(`${qf}:${i + 1}: expected query-id, corpus-id, score`);
    const [qid, did, s] = p.length >= 4 ? [p[0], p[2], p[3]] : [p[0], p[1], p[2]];
    if (!qrels.has(qid)) qrels.set(qid, new Map());
    qrels.get(qid)!.set(did, Number(s));
  });
  for (const q of qrels.keys()) if (!queries.has(q)) qrels.delete(q);
  return { docs, queries, qrels };
}

const NO_MODEL: ModelIdentity = {
  repo: 'none:fts-only',
  revision: '-',
  manifestHash: '-',
  dim: 1,
  pooling: 'cls',
  queryPrefix: false,
  generated: true,
};

function parseArgs(args: string[]): {
  dir: string;
  model?: string;
  modes: SearchMode[];
  index?: string;
  limit?: number;
  ftsTerms: number[];
  paragraphs: number;
} {
  let dir = path.resolve(projectRoot(), '..', 'shared', 'data', 'beir-scifact-dev');
  let model: string | undefined;
  let modes: SearchMode[] | undefined;
  let index: string | undefined;
  let limit: number | undefined;
  let ftsTerms = [FTS_MAX_TERMS];
  let paragraphs = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--model') model = args[++i];
    else if (a === '--modes') modes = args[++i].split(',').map((m) => m.trim()) as SearchMode[];
    else if (a === '--index') index = args[++i];
    else if (a === '--limit-queries') limit = Number(args[++i]);
    else if (a === '--paragraphs') {
      paragraphs = Number(args[++i]);
      if (!Number.isInteger(paragraphs) || paragraphs < 1)
        throw Object.assign(new Error('--paragraphs needs a whole number of claims ≥ 1'), { exitCode: 2 });
    } else if (a === '--fts-terms')
      ftsTerms = (args[++i] ?? '').split(',').map((x) => {
        const n = x.trim() === 'all' ? 0 : Number(x);
        if (!Number.isInteger(n) || n < 0)
          throw Object.assign(new Error(`--fts-terms: ${x} is not a number of terms or 'all'`), { exitCode: 2 });
        return n;
      });
    else if (!a.startsWith('--')) dir = path.resolve(a);
    else throw Object.assign(new Error(`unknown option ${a}`), { exitCode: 2 });
  }
  for (const m of modes ?? [])
    if (!['fts', 'dense', 'hybrid'].includes(m))
      throw Object.assign(new Error(`unknown mode ${m} (fts, dense or hybrid)`), { exitCode: 2 });
  return {
    dir,
    model,
    modes: modes ?? (model ? ['fts', 'dense', 'hybrid'] : ['fts']),
    index,
    limit,
    ftsTerms,
    paragraphs,
  };
}

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const t0 = Date.now();
  if (!o.model && o.modes.some((m) => m !== 'fts')) {
    throw Object.assign(new Error('dense and hybrid modes need --model DIR (a converted model folder)'), {
      exitCode: 2,
    });
  }
  if (!fs.existsSync(o.dir)) {
    throw Object.assign(
      new Error(
        `no BEIR data set at ${o.dir}. SciFact (CC BY-NC 2.0, benchmark use only, never shipped) is not in the ` +
          `repository: get BEIR's scifact (corpus.jsonl, queries.jsonl, qrels/*.tsv, e.g. from the BEIR benchmark's download page) and pass its folder: ` +
          `npm run eval -- scifact <folder>`,
      ),
      { exitCode: 2 },
    );
  }
  const { docs, queries, qrels } = await loadBeir(o.dir);
  console.log(`BEIR set ${o.dir}: ${docs.length} documents, ${qrels.size} judged queries`);
  let embedder: Embedder | undefined;
  if (o.model) {
    const { openEmbedder } = await import('../../inference/client');
    embedder = await openEmbedder({ inProcess: true, modelDir: o.model });
    console.log(
      `model ${embedder.identity.repo} (${embedder.report.provider}, ${embedder.report.precision})${embedder.identity.generated ? ' — GENERATED weights: dense/hybrid numbers below are MEANINGLESS' : ''}`,
    );
  } else if (o.modes.some((m) => m !== 'fts')) {
    throw Object.assign(new Error('dense and hybrid modes need --model DIR (a converted model folder)'), {
      exitCode: 2,
    });
  }
  const identity = embedder?.identity ?? NO_MODEL;
  const indexDir = o.index ?? fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-beir-'));
  const store = await IndexStore.open(indexDir, identity, { create: true });
  try {
    if ((await store.articles.countRows()) !== docs.length) {
      const te = Date.now();
      const B = 64;
      for (let i = 0; i < docs.length; i += B) {
        const part = docs.slice(i, i + B);
        const vecs = embedder
          ? await embedder.embed(
              part.map((d) => `${d.title}\n${d.text}`),
              'passage',
            )
          : part.map(() => new Float32Array([1]));
        const rows: ArticleRow[] = part.map((d, j) => ({
          pmid: d.id,
          title: d.title,
          abstract: d.text,
          text: `${d.title}\n${d.text}`,
          sections: '[]',
          authors: [],
          journal: '',
          year: null,
          doi: null,
          pmcid: null,
          publication_types: [],
          language: null,
          mesh: '[]',
          has_abstract: d.text.length > 0,
          source: 'beir',
          hash: '-',
          n_sentences: 0,
          vector: vecs[j],
        }));
        await store.upsert(rows, []);
        if (embedder && process.stderr.isTTY)
          process.stderr.write(`\rembedded ${Math.min(i + B, docs.length)}/${docs.length}`);
      }
      if (embedder && process.stderr.isTTY) process.stderr.write('\n');
      await store.ensureIndexes();
      console.log(`indexed in ${((Date.now() - te) / 1000).toFixed(1)} s at ${indexDir}`);
    }
    let qids = [...qrels.keys()];
    if (o.limit) qids = qids.slice(0, o.limit);
    let sub = new Map(qids.map((q) => [q, qrels.get(q)!]));
    let qtext = queries;
    if (o.paragraphs > 1) {
      // A selected paragraph that makes several claims: N consecutive claims joined, judged by the union of their
      // judgements (a document relevant to any of them is relevant to the paragraph).
      const groups: string[][] = [];
      for (let i = 0; i + o.paragraphs <= qids.length; i += o.paragraphs) groups.push(qids.slice(i, i + o.paragraphs));
      qtext = new Map(groups.map((g, i) => [`p${i}`, g.map((q) => queries.get(q)!).join(' ')]));
      sub = new Map(
        groups.map((g, i) => {
          const u = new Map<string, number>();
          for (const q of g) for (const [d, rel] of qrels.get(q)!) u.set(d, Math.max(rel, u.get(d) ?? 0));
          return [`p${i}`, u];
        }),
      );
      qids = [...sub.keys()];
      const words = qids.map((q) => qtext.get(q)!.split(/\s+/).length).sort((a, b) => a - b);
      console.log(
        `paragraph queries: ${o.paragraphs} claims each, ${qids.length} of them, median ${words[Math.floor(words.length / 2)]} words`,
      );
    }
    const nTerms = qids.map((q) => distinctTerms(ftsQueryText(qtext.get(q)!))).sort((a, b) => a - b);
    console.log(
      `queries: distinct terms (stop words aside) median ${nTerms[Math.floor(nTerms.length / 2)]}, max ${nTerms[nTerms.length - 1]}`,
    );
    console.log(
      `\n${'mode'.padEnd(14)} ${'nDCG@10'.padStart(8)} ${'R@100'.padStart(8)} ${'MRR@10'.padStart(8)}  queries  ms/query  queries cut`,
    );
    const runsOf = o.modes.flatMap((mode): { mode: SearchMode; terms: number }[] =>
      mode === 'dense' ? [{ mode, terms: 0 }] : o.ftsTerms.map((terms) => ({ mode, terms })),
    );
    for (const { mode, terms } of runsOf) {
      const runs = new Map<string, string[]>();
      const tq = Date.now();
      for (const q of qids) {
        const r = await search(store, embedder, qtext.get(q)!, {
          k: 100,
          mode,
          noWhy: true,
          candidates: 100,
          ftsMaxTerms: terms,
        });
        runs.set(
          q,
          r.hits.map((h) => h.pmid),
        );
      }
      const m = evaluateRuns(runs, sub);
      const label =
        mode === 'dense' && identity.generated
          ? '  (GENERATED weights: meaningless)'
          : mode === 'hybrid' && identity.generated
            ? '  (GENERATED weights: dense leg at weight 0 = full-text)'
            : '';
      const name = mode === 'dense' ? mode : `${mode} ${terms ? `K=${terms}` : 'all'}`;
      const cut = terms ? nTerms.filter((n) => n > terms).length : 0;
      console.log(
        `${name.padEnd(14)} ${m.ndcg10.toFixed(4).padStart(8)} ${m.recall100.toFixed(4).padStart(8)} ${m.mrr10.toFixed(4).padStart(8)}  ${String(m.queries).padStart(7)}  ${((Date.now() - tq) / qids.length).toFixed(1).padStart(8)}  ${String(mode === 'dense' ? '-' : cut).padStart(11)}${label}`,
      );
    }
    console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    store.close();
    await embedder?.dispose();
    if (!o.index) fs.rmSync(indexDir, { recursive: true, force: true });
  }
}
