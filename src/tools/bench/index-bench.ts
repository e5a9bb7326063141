// `npm run bench -- index [--rows 100000] [--dim 768] [--queries 100] [--ann pq|rq|hnsw] [--model DIR] [--build N] [--skip-build] [--skip-synthetic] [--keep] [--reuse DIR] [--candidates N] [--fts-terms all,8,12,16,24]`
// --keep leaves the generated index (and its queries) in a temp folder; --reuse DIR reruns only the query part on it.
// 1. Build rate: the index build (readers → encoder → LanceDB upserts → FTS/scalar indexes) vs the encoder alone on
//    exactly the same texts, measured in the same run (target ≥ 90 %: the database must not be the bottleneck).
// 2. On `--rows` generated CLUSTERED unit vectors (+ topic-clustered synthetic text): write rate, ANN build time,
//    recall@10 of the ANN index against exact (flat) search at the chosen parameters, query latency p50/p95 for dense,
//    fts and hybrid (encoder excluded), and bytes on disk per citation.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Embedder, EmbedProgress, ModelIdentity } from '../../inference/types';
import { splitSentences } from '../../inference/sentences';
import { abstractText, type Citation } from '../../index/citation';
import { readCitations } from '../../index/readers';
import { abstractSentences, addFiles } from '../../index/build';
import {
  ARTICLES,
  FTS_OPTIONS,
  IndexStore,
  annParamsFor,
  buildVectorIndex,
  type AnnParams,
  type ArticleRow,
} from '../../index/store';
import { search } from '../../index/search';
import { FTS_MAX_TERMS, termSample } from '../../index/query-terms';
import { ensureGeneratedModel } from '../../index/model';
import { openEmbedder } from '../../inference/client';
import { defaultModelsDir, projectRoot } from '../../inference/paths';
import * as lancedb from '@lancedb/lancedb';
import { rng, gauss, normalise } from './synthetic';

interface Args {
  rows: number;
  dim: number;
  queries: number;
  ann: 'pq' | 'rq' | 'hnsw';
  model?: string;
  build: number;
  skipBuild: boolean;
  skipSynthetic: boolean;
  keep: boolean;
  reuse?: string;
  candidates?: number;
  /** --fts-terms: the full-text term limits the long-query part compares (0 = all terms, the baseline) */
  ftsTerms: number[];
}

function parse(args: string[]): Args {
  const a: Args = {
    rows: 100_000,
    dim: 768,
    queries: 100,
    ann: 'rq',
    build: 150,
    skipBuild: false,
    skipSynthetic: false,
    keep: false,
    ftsTerms: [0, 16, 32, FTS_MAX_TERMS, 48],
  };
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    const num = (): number => {
      const n = Number(args[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} needs a positive number`);
      return n;
    };
    if (k === '--rows') a.rows = num();
    else if (k === '--dim') a.dim = num();
    else if (k === '--queries') a.queries = num();
    else if (k === '--ann') a.ann = args[++i] as Args['ann'];
    else if (k === '--model') a.model = args[++i];
    else if (k === '--build') a.build = num();
    else if (k === '--skip-build') a.skipBuild = true;
    else if (k === '--skip-synthetic') a.skipSynthetic = true;
    else if (k === '--keep') a.keep = true;
    else if (k === '--reuse') a.reuse = args[++i];
    else if (k === '--candidates') a.candidates = num();
    else if (k === '--fts-terms')
      a.ftsTerms = (args[++i] ?? '').split(',').map((x) => (x.trim() === 'all' ? 0 : Number(x)));
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

async function buildRate(a: Args): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-'));
  let modelDir = a.model;
  // Default: the BioHiCL-Base-shaped generated model the demo uses (the build rate is shape-bound; a tiny model would
  // make the database look like the bottleneck when, at the real shape, the encoder is).
  if (!modelDir) {
    modelDir = path.join(defaultModelsDir(), 'generated-base');
    await ensureGeneratedModel(modelDir, 'base', (m) => console.log(m));
  }
  const embedder = await openEmbedder({ inProcess: true, modelDir });
  console.log(
    `\n## Build rate vs encoder alone (${a.build} citations of data/demo, model ${embedder.identity.repo}, ${embedder.report.provider} ${embedder.report.precision}, ${embedder.report.threads} threads)`,
  );
  const src = path.join(projectRoot(), 'data', 'demo', 'pubmedqa-pqal-dev.json');
  const cits: Citation[] = [];
  for await (const ev of readCitations(src)) {
    if (ev.type === 'citation') cits.push(ev.citation);
    if (cits.length >= a.build) break;
  }
  const file = path.join(tmp, 'in.jsonl');
  fs.writeFileSync(file, cits.map((c) => JSON.stringify({ type: 'citation', citation: c })).join('\n'));
  // The exact texts a build embeds (mode 'embed': title + abstract, then each sentence), in batches of 32 citations.
  const batches: string[][] = [];
  for (let i = 0; i < cits.length; i += 32) {
    const t: string[] = [];
    for (const c of cits.slice(i, i + 32)) {
      t.push(`${c.title}\n${abstractText(c)}`.trim());
      for (const s of abstractSentences(c, splitSentences)) t.push(s.text);
    }
    batches.push(t);
  }
  await embedder.embed(batches[0].slice(0, 4), 'passage'); // warm-up
  let tokens = 0;
  const t0 = performance.now();
  for (const b of batches) {
    let last = 0;
    await embedder.embed(b, 'passage', (p: EmbedProgress) => {
      last = p.tokens;
    });
    tokens += last;
  }
  const encS = (performance.now() - t0) / 1000;
  const nTexts = batches.reduce((x, b) => x + b.length, 0);
  const store = await IndexStore.open(path.join(tmp, 'idx'), embedder.identity, { create: true });
  const jsonl = {
    read: async function* (f: string) {
      for (const l of fs.readFileSync(f, 'utf8').split('\n')) if (l) yield JSON.parse(l);
    },
    split: splitSentences,
  };
  const t1 = performance.now();
  const s = await addFiles(store, embedder, [file], jsonl, { batchSize: 32 });
  const buildS = (performance.now() - t1) / 1000;
  const bytes = store.diskBytes();
  store.close();
  await embedder.dispose();
  console.log(
    `encoder alone : ${encS.toFixed(1)} s  ${(cits.length / encS).toFixed(1)} citations/s  ${((nTexts - cits.length) / encS).toFixed(1)} sentences/s  ${(tokens / encS).toFixed(0)} tokens/s`,
  );
  console.log(
    `full build    : ${buildS.toFixed(1)} s  ${(cits.length / buildS).toFixed(1)} citations/s  ${(s.sentences / buildS).toFixed(1)} sentences/s  (encoder inside: ${s.encoderSeconds.toFixed(1)} s; store + indexes ${(buildS - s.encoderSeconds).toFixed(1)} s)`,
  );
  console.log(`build rate / encoder-only rate = ${((encS / buildS) * 100).toFixed(1)} %  (target ≥ 90 %)`);
  console.log(
    `on disk: ${(bytes / cits.length / 1024).toFixed(1)} KiB per citation with its sentences (dim ${embedder.identity.dim}, ${(s.sentences / cits.length).toFixed(1)} sentences each)`,
  );
  if (!a.keep) fs.rmSync(tmp, { recursive: true, force: true });
}

class FixedEmbedder implements Embedder {
  readonly report = {
    provider: 'none (precomputed query vectors)',
    requested: 'cpu' as const,
    ortVersion: '-',
    threads: 0,
    modelFile: '-',
    precision: 'fp32' as const,
  };
  constructor(
    readonly identity: ModelIdentity,
    private readonly vecs: Map<string, Float32Array>,
  ) {}
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.vecs.get(t)!);
  }
  async dispose(): Promise<void> {
    /* nothing */
  }
}

interface BenchState {
  rows: number;
  dim: number;
  queries: { text: string; vec: number[] }[];
  exact: string[][];
  ann?: AnnParams;
}
const STATE_FILE = 'bench-state.json';

async function synthetic(a: Args): Promise<void> {
  if (a.reuse) return queryBench(a, a.reuse);
  const { rows, dim } = a;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-syn-'));
  const identity: ModelIdentity = {
    repo: 'bench:clustered',
    revision: '1',
    manifestHash: 'bench',
    dim,
    pooling: 'cls',
    queryPrefix: false,
    generated: false,
  };
  const store = await IndexStore.open(tmp, identity, { create: true });
  const r = rng(7);
  const nClusters = Math.max(10, Math.round(Math.sqrt(rows) * 2));
  const centroids = Array.from({ length: nClusters }, () =>
    normalise(Float32Array.from({ length: dim }, () => gauss(r))),
  );
  const vocab = Array.from({ length: 20000 }, (_, i) => `w${i.toString(36)}`);
  const topicWords = (c: number): string[] =>
    Array.from({ length: 25 }, (_, j) => vocab[(c * 131 + j * 17) % vocab.length]);
  const zipf = (): string => vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(r() * Math.log(vocab.length))))];
  const sigma = 0.75 / Math.sqrt(dim); // noise norm ≈ 0.75: cosine to the centroid ≈ 0.8
  const clusterOf = new Int32Array(rows);
  console.log(
    `\n## ${rows.toLocaleString()} generated clustered vectors (dim ${dim}, ${nClusters} clusters) with topic text`,
  );
  const tw = performance.now();
  const B = 10_000;
  for (let i = 0; i < rows; i += B) {
    const part: ArticleRow[] = [];
    for (let j = i; j < Math.min(rows, i + B); j++) {
      const c = Math.floor(r() * nClusters);
      clusterOf[j] = c;
      const v = new Float32Array(dim);
      const cen = centroids[c];
      for (let d = 0; d < dim; d++) v[d] = cen[d] + gauss(r) * sigma;
      normalise(v);
      const tws = topicWords(c);
      const words = Array.from({ length: 40 }, () => (r() < 0.5 ? tws[Math.floor(r() * tws.length)] : zipf()));
      const text = words.join(' ');
      part.push({
        pmid: String(j + 1),
        title: words.slice(0, 8).join(' '),
        abstract: text,
        text,
        sections: '[]',
        authors: ['Bench A'],
        journal: 'Bench J',
        year: 1980 + (j % 45),
        doi: null,
        pmcid: null,
        publication_types: ['Journal Article'],
        language: 'eng',
        mesh: '[]',
        has_abstract: true,
        source: 'bench',
        hash: '-',
        n_sentences: 0,
        vector: v,
      });
    }
    await store.upsert(part, [], { bulk: true }); // distinct generated PMIDs: append, as a cluster array task does
    process.stderr.write(`\r  written ${Math.min(rows, i + B).toLocaleString()} rows`);
  }
  process.stderr.write('\n');
  const writeS = (performance.now() - tw) / 1000;
  console.log(`write: ${writeS.toFixed(1)} s (${(rows / writeS).toFixed(0)} rows/s)`);
  // `index add` ends with an optimize (compaction): searches run on compacted fragments, so measure them there too
  // (on the 100 fragments of 10k rows a write leaves, the metadata fetch of a hit list costs ~2× as much).
  const tc = performance.now();
  await store.articles.optimize({ cleanupOlderThan: new Date() });
  console.log(`compaction (as index add ends): ${((performance.now() - tc) / 1000).toFixed(1)} s`);
  const tf = performance.now();
  await store.articles.createIndex('pmid', { config: lancedb.Index.btree(), replace: true });
  await store.articles.createIndex('text', { config: lancedb.Index.fts(FTS_OPTIONS), replace: true });
  console.log(`FTS + scalar index build: ${((performance.now() - tf) / 1000).toFixed(1)} s`);

  // queries: perturbed rows, text = topic words of their cluster
  const qr = rng(99);
  const queries: { text: string; vec: Float32Array }[] = [];
  for (let q = 0; q < a.queries; q++) {
    const row = Math.floor(qr() * rows);
    const c = clusterOf[row];
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = centroids[c][d] + gauss(qr) * sigma;
    const tws = topicWords(c);
    queries.push({
      text: `q${q} ` + Array.from({ length: 8 }, () => tws[Math.floor(qr() * tws.length)]).join(' '),
      vec: normalise(v),
    });
  }
  const exact: string[][] = [];
  const flatMs: number[] = [];
  for (const q of queries.slice(0, Math.min(queries.length, 30))) {
    const t = performance.now();
    const res = await store.articles
      .query()
      .nearestTo(q.vec)
      .distanceType('cosine')
      .bypassVectorIndex()
      .select(['pmid', '_distance'])
      .limit(10)
      .toArray();
    flatMs.push(performance.now() - t);
    exact.push(res.map((x: { pmid: string }) => x.pmid));
  }
  console.log(`flat (exact) cosine scan: p50 ${fmt(pct(flatMs, 50))}, p95 ${fmt(pct(flatMs, 95))}`);

  let p: AnnParams | undefined;
  if (rows >= 1000) {
    const base = annParamsFor(rows, dim);
    const ta = performance.now();
    if (a.ann !== 'hnsw')
      p = await buildVectorIndex(store.articles, rows, dim, { type: a.ann === 'pq' ? 'IVF_PQ' : 'IVF_RQ' });
    else {
      await store.articles.createIndex('vector', {
        config: lancedb.Index.hnswSq({
          numPartitions: Math.max(1, Math.round(rows / 100_000)),
          distanceType: 'cosine',
        }),
        replace: true,
      });
      p = {
        ...base,
        type: 'IVF_HNSW_SQ',
        builtAt: new Date().toISOString(),
        buildSeconds: (performance.now() - ta) / 1000,
      };
    }
    store.meta.ann = { articles: p };
    store.saveMeta();
    console.log(
      `ANN index (${p.type} ${p.numPartitions} partitions${p.numSubVectors ? ` × ${p.numSubVectors} sub-vectors` : ''}${p.numBits ? `, ${p.numBits}-bit codes` : ''}) build: ${p.buildSeconds.toFixed(1)} s = ${(p.buildSeconds / (rows / 100_000)).toFixed(1)} s per 100k rows (target ≤ 60)`,
    );
    for (const [nprobes, refine] of [
      [p.nprobes, p.refineFactor],
      [p.nprobes, 1],
      [p.nprobes, 2],
      [Math.max(1, Math.round(p.nprobes / 2)), p.refineFactor],
      [p.nprobes, p.refineFactor * 2],
    ] as const) {
      let hit = 0;
      const ms: number[] = [];
      for (let i = 0; i < exact.length; i++) {
        const t = performance.now();
        let q = store.articles
          .query()
          .nearestTo(queries[i].vec)
          .distanceType('cosine')
          .select(['pmid', '_distance'])
          .limit(10)
          .nprobes(nprobes);
        if (refine > 1) q = q.refineFactor(refine);
        const res = await q.toArray();
        ms.push(performance.now() - t);
        const got = new Set(res.map((x: { pmid: string }) => x.pmid));
        hit += exact[i].filter((id) => got.has(id)).length;
      }
      console.log(
        `  nprobes ${nprobes}, refine ${refine}: recall@10 vs exact ${(hit / (exact.length * 10)).toFixed(3)}, p50 ${fmt(pct(ms, 50))}, p95 ${fmt(pct(ms, 95))}${nprobes === p.nprobes && refine === p.refineFactor ? '  ← chosen' : ''}`,
      );
    }
  }
  store.close();
  const state: BenchState = {
    rows,
    dim,
    queries: queries.map((q) => ({ text: q.text, vec: Array.from(q.vec) })),
    exact,
    ann: p,
  };
  fs.writeFileSync(path.join(tmp, STATE_FILE), JSON.stringify(state));
  await queryBench(a, tmp, true);
  if (a.keep) console.log(`kept ${tmp}: rerun the query part with --reuse ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

/** Query latency (dense / fts / hybrid, with and without `why`) on a generated index, fresh or kept (`--reuse DIR`). */
async function queryBench(a: Args, dir: string, fresh = false): Promise<void> {
  const statePath = path.join(dir, STATE_FILE);
  if (!fs.existsSync(statePath)) throw new Error(`${dir}: no ${STATE_FILE} (make one with --keep)`);
  const st = JSON.parse(fs.readFileSync(statePath, 'utf8')) as BenchState;
  const store = await IndexStore.open(dir, undefined);
  const identity = store.identity;
  const queries = st.queries.map((q) => ({ text: q.text, vec: Float32Array.from(q.vec) }));
  if (!fresh)
    console.log(
      `\n## ${st.rows.toLocaleString()} generated clustered vectors (dim ${st.dim}) kept in ${dir}; ANN ${st.ann ? `${st.ann.type} ${st.ann.numPartitions} partitions${st.ann.numBits ? `, ${st.ann.numBits}-bit codes` : ''}, nprobes ${store.annParams(ARTICLES)?.nprobes}, refine ${store.annParams(ARTICLES)?.refineFactor}` : 'none'}`,
    );
  const emb = new FixedEmbedder(identity, new Map(queries.map((q) => [q.text, q.vec])));
  for (const mode of ['dense', 'fts', 'hybrid'] as const) {
    for (const why of [false, true]) {
      const ms: number[] = [];
      const legs = { dense: [] as number[], fts: [] as number[] };
      for (const q of queries) {
        const t = performance.now();
        const r = await search(store, emb, q.text, { k: 10, mode, noWhy: !why, candidates: a.candidates });
        ms.push(performance.now() - t);
        legs.dense.push(r.ms.dense);
        legs.fts.push(r.ms.fts);
      }
      const legInfo =
        mode === 'hybrid'
          ? `  (legs run together: dense p50 ${fmt(pct(legs.dense, 50))}, fts p50 ${fmt(pct(legs.fts, 50))})`
          : '';
      console.log(
        `search ${mode.padEnd(6)}${why ? ' + why' : '      '}: p50 ${fmt(pct(ms, 50))}, p95 ${fmt(pct(ms, 95))} over ${queries.length} queries (encoder excluded)${legInfo}`,
      );
    }
  }
  // The target is for short queries (a claim, a phrase: the 9 words above). A writer may select a whole paragraph:
  // full-text cost grows with the number of distinct terms, most of all the common ones. Same vectors, longer texts
  // (the query's topic words interleaved with Zipf-distributed background words).
  const vocab = Array.from({ length: 20000 }, (_, i) => `w${i.toString(36)}`);
  const lr = rng(5);
  const zipf = (): string => vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(lr() * Math.log(vocab.length))))];
  // The document-frequency sample long queries are cut with (read once per open table; the first long query, or the
  // sidebar's warm-up, pays for it).
  const sample = await termSample(store.articles);
  console.log(
    `term sample for long queries: ${sample.docs.toLocaleString()} of ${sample.rows.toLocaleString()} rows, ${sample.df.size.toLocaleString()} distinct terms, read and counted in ${fmt(sample.ms)}`,
  );
  for (const words of [30, 150]) {
    const long = queries.map((q) => {
      const base = q.text.split(' ').slice(1);
      return {
        text: [
          ...base,
          ...Array.from({ length: words - base.length }, (_, i) => (i % 2 ? base[i % base.length] : zipf())),
        ].join(' '),
        vec: q.vec,
      };
    });
    const lemb = new FixedEmbedder(identity, new Map(long.map((q) => [q.text, q.vec])));
    // Each term limit in turn over the same queries, the whole list twice (the first round warms the caches of the
    // terms each limit asks for); the second round is reported. Limit 'all' is the baseline, in the same run.
    const res = new Map<number, { ms: number[]; fts: number[]; top: string[][] }>();
    for (let round = 0; round < 2; round++)
      for (const terms of a.ftsTerms) {
        const ms: number[] = [];
        const fts: number[] = [];
        const top: string[][] = [];
        for (const q of long) {
          const t = performance.now();
          const r = await search(store, lemb, q.text, {
            k: 10,
            mode: 'hybrid',
            noWhy: true,
            candidates: a.candidates,
            ftsMaxTerms: terms,
          });
          ms.push(performance.now() - t);
          fts.push(r.ms.fts);
          top.push(r.hits.map((h) => h.pmid));
        }
        res.set(terms, { ms, fts, top });
      }
    const base = res.get(0);
    for (const terms of a.ftsTerms) {
      const r = res.get(terms)!;
      // agreement with the all-terms top 10 (the dense leg is the same; only the full-text query differs)
      const overlap = base
        ? r.top.reduce((n, t, i) => n + t.filter((id) => base.top[i]!.includes(id)).length, 0) / (10 * r.top.length)
        : NaN;
      console.log(
        `search hybrid, ${words}-word queries, full-text ${terms ? `${terms} rarest terms` : 'all terms (baseline)'}${terms === FTS_MAX_TERMS ? ' ← default' : ''}: p50 ${fmt(pct(r.ms, 50))}, p95 ${fmt(pct(r.ms, 95))} (full-text leg p50 ${fmt(pct(r.fts, 50))})` +
          (base && terms
            ? `; ${(pct(base.ms, 50) / pct(r.ms, 50)).toFixed(1)}× faster than all terms, top-10 overlap with it ${overlap.toFixed(2)}`
            : ''),
      );
    }
  }
  const bytes = store.diskBytes();
  console.log(
    `on disk: ${(bytes / 1e6).toFixed(0)} MB = ${(bytes / st.rows).toFixed(0)} bytes per citation (raw vector alone: ${st.dim * 4} bytes)`,
  );
  store.close();
}

export async function run(args: string[]): Promise<void> {
  const a = parse(args);
  console.log(
    `index bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load avg ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  if (!a.skipBuild) await buildRate(a);
  if (!a.skipSynthetic) await synthetic(a);
}
