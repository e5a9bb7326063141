// `npm run bench -- storage [--rows 200000] [--queries 100] [--parts probe,vectors,text,embed,project]
//   [--embed-queries 10] [--model DIR] [--citations 26000000] [--sentences 250000000] [--keep]`
// What fits on a laptop: bytes on disk per citation / per sentence for each way of storing the vectors, with the
// recall@10 (vs exact cosine on the fp32 vectors) and dense-leg latency each costs, and the projection to all of
// PubMed from the measured bytes per row.
//  probe   — can Lance drop the raw vector column and keep its ANN index? (LanceDB 0.31 / Lance 8: no; shown here)
//  vectors — `--rows` generated CLUSTERED unit vectors (the generator of `bench index`), written once per storage
//            choice: fp32 (today), fp16 (Arrow Float16), 1-bit sign codes (uint8[dim/8], IVF_FLAT hamming) with an
//            optional int8 re-rank table; IVF_RQ with 4, 2 and 1 bits; refine factors 1 (codes only), 2, 5 …
//  text    — the real citations of data/demo through `addFiles` (placeholder vectors): bytes per citation and per
//            sentence with and without the vector column (the full-text-only sentence option), FTS and scalar
//            indexes included.
//  embed   — the "similar sentences" panel without stored sentence vectors: the sentences of the top-k papers of a
//            query embedded at query time with the BioHiCL-Base-shaped int8 model (real PubMedQA abstracts).
//  project — GB for `--citations` citations and `--sentences` sentences for every choice, from the figures above.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../../index/lance-env';
import * as lancedb from '@lancedb/lancedb';
import type { Embedder, EmbedProgress, ModelIdentity } from '../../inference/types';
import type { Citation, ReaderEvent } from '../../index/citation';
import { splitSentences } from '../../inference/sentences';
import { readCitations } from '../../index/readers';
import { abstractSentences, addFiles } from '../../index/build';
import { ARTICLES, FTS_OPTIONS, IndexStore, SENTENCES, annParamsFor, arrow } from '../../index/store';
import { refineFor } from '../../index/search';
import { ensureGeneratedModel } from '../../index/model';
import { defaultModelsDir, projectRoot } from '../../inference/paths';
import { toHalfBits } from '../../inference/convert/fp16';
import { rng, gauss, normalise } from './synthetic';
import { errorText } from '../../util/errors';
import { openEmbedder } from '../../inference/client';

type Part = 'probe' | 'vectors' | 'text' | 'embed' | 'project';
const ALL_PARTS: Part[] = ['probe', 'vectors', 'text', 'embed', 'project'];

interface Args {
  rows: number;
  dim: number;
  queries: number;
  parts: Set<Part>;
  embedQueries: number;
  model?: string;
  citations: number;
  sentences: number;
  keep: boolean;
}

function parse(args: string[]): Args {
  const a: Args = {
    rows: 200_000,
    dim: 768,
    queries: 100,
    parts: new Set(ALL_PARTS),
    embedQueries: 10,
    citations: 26_000_000,
    sentences: 250_000_000,
    keep: false,
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
    else if (k === '--embed-queries') a.embedQueries = num();
    else if (k === '--model') a.model = args[++i];
    else if (k === '--citations') a.citations = num();
    else if (k === '--sentences') a.sentences = num();
    else if (k === '--keep') a.keep = true;
    else if (k === '--parts') {
      const ps = String(args[++i] ?? '')
        .split(',')
        .filter(Boolean) as Part[];
      for (const p of ps)
        if (!ALL_PARTS.includes(p)) throw new Error(`--parts: unknown part ${p} (${ALL_PARTS.join(', ')})`);
      a.parts = new Set(ps);
    } else throw new Error(`unknown option ${k}`);
  }
  if (a.dim % 8) throw new Error('--dim must be a multiple of 8 (sign codes are packed 8 per byte)');
  return a;
}

// ---- helpers ---------------------------------------------------------------------------------------------------------

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms1 = (x: number): string => `${x.toFixed(1)} ms`;
const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/** Bytes of the files under `dir` (optionally only under its sub-folder `sub`). */
function du(dir: string, sub?: string): number {
  const root = sub ? path.join(dir, sub) : dir;
  if (!fs.existsSync(root)) return 0;
  let total = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    }
  };
  walk(root);
  return total;
}

function freeBytes(dir: string): number {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

type AField = import('apache-arrow').Field;
type ADataType = import('apache-arrow').DataType;

/** A record batch from columns given as Arrow Data (no per-row JS objects: 1M × 768 values are written flat). */
function batchOf(
  fields: AField[],
  children: import('apache-arrow').Data[],
  length: number,
): import('apache-arrow').Table {
  const schema = new arrow.Schema(fields);
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length, children, nullCount: 0 });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, data)]);
}
function fslData(
  type: ADataType,
  elt: ADataType,
  length: number,
  listSize: number,
  values: ArrayLike<number> & ArrayBufferView,
): import('apache-arrow').Data {
  // makeData's overloads are typed per DataType subclass; these are built at run time, so go through one untyped call.
  const make = arrow.makeData as unknown as (p: Record<string, unknown>) => import('apache-arrow').Data;
  const child = make({ type: elt, length: length * listSize, data: values });
  return make({ type, length, child, nullCount: 0 });
}
function utf8Data(values: string[]): import('apache-arrow').Data {
  return arrow.vectorFromArray(values, new arrow.Utf8()).data[0];
}
const fsl = (n: number, elt: ADataType): ADataType => new arrow.FixedSizeList(n, new arrow.Field('item', elt, true));

/** float32 → IEEE half bits, as Arrow's Float16 stores them: the one converter (src/inference/convert/fp16.ts). */
const toHalf = toHalfBits;

// ---- probe: can the raw column go while the index stays? -------------------------------------------------------------

async function probe(a: Args, tmp: string): Promise<string[]> {
  const out: string[] = [];
  const log = (s: string): void => {
    console.log(s);
    out.push(s);
  };
  console.log('\n## Probe: can Lance keep the IVF_RQ index (its codes) and drop the raw vector column?');
  const dir = path.join(tmp, 'probe');
  const db = await lancedb.connect(dir);
  const N = 5000;
  const r = rng(3);
  const v = new Float32Array(N * a.dim);
  for (let i = 0; i < N; i++) {
    const row = v.subarray(i * a.dim, (i + 1) * a.dim);
    for (let d = 0; d < a.dim; d++) row[d] = gauss(r);
    normalise(row);
  }
  const F = arrow.Field;
  const fields = [new F('pmid', new arrow.Utf8(), false), new F('vector', fsl(a.dim, new arrow.Float32()), false)];
  const t = await db.createTable(
    'p',
    batchOf(
      fields,
      [
        utf8Data(Array.from({ length: N }, (_, i) => String(i + 1))),
        fslData(fields[1].type, new arrow.Float32(), N, a.dim, v),
      ],
      N,
    ) as never,
  );
  await t.createIndex('vector', {
    config: lancedb.Index.ivfRq({ numPartitions: 16, numBits: 4, distanceType: 'cosine' }),
  });
  const tdir = path.join(dir, 'p.lance');
  const before = du(tdir);
  log(
    `probe: ${N} rows × ${a.dim} fp32 + IVF_RQ 4-bit: ${before} bytes, indices ${JSON.stringify((await t.listIndices()).map((x) => `${x.indexType}(${x.columns})`))}`,
  );
  const q = Array.from(v.subarray(0, a.dim));
  const r0 = await t.query().nearestTo(q).distanceType('cosine').nprobes(4).limit(3).select(['pmid']).toArray();
  log(`probe: ANN query before the drop → ${r0.length} rows`);
  await t.dropColumns(['vector']);
  log(
    `probe: dropColumns(['vector']) accepted; indices now ${JSON.stringify((await t.listIndices()).map((x) => x.indexType))} (the index went with the column); columns ${JSON.stringify((await t.schema()).fields.map((f) => f.name))}`,
  );
  try {
    await t.query().nearestTo(q).distanceType('cosine').nprobes(4).limit(3).toArray();
    log('probe: ANN query after the drop: answered (unexpected)');
  } catch (e) {
    log(`probe: ANN query after the drop fails: ${errorText(e).split('\n')[0].slice(0, 160)}`);
  }
  await t.optimize({ cleanupOlderThan: new Date() });
  log(
    `probe: after optimize + cleanup: ${du(tdir)} bytes on disk (the dropped column's data stays in the data files until they are rewritten)`,
  );
  log(
    'probe: and a vector index needs a float column: IVF_RQ / IVF_PQ / IVF_FLAT refuse Int8 ("cannot be created on … FixedSizeList(768 x Int8)") and UInt8 under cosine ("Normalize only supports float array"); only uint8 codes under hamming take an IVF_FLAT index (choice "sign codes" below).',
  );
  t.close();
  db.close();
  return out;
}

// ---- vectors: the storage choices on clustered synthetic vectors -------------------------------------------------------

interface Measured {
  choice: string;
  /** What a laptop holds for the vectors of one row (vector column(s) + index files), bytes. */
  vectorBytes: number;
  /** The part of it that is index files. */
  indexBytes: number;
  recall: number;
  p50: number;
  p95: number;
  /** The dense leg of hybrid (50 candidates, refineFor). */
  p50c: number;
  p95c: number;
  buildS?: number;
  note?: string;
}

interface VectorResults {
  rows: number;
  dim: number;
  partitions: number;
  nprobes: number;
  measured: Measured[];
  baseBytes: number;
  wallS: number;
  fp32Row: number;
  fp16Row: number;
  rq4Index: number;
  rq2Index: number;
  rq1Index: number;
  signRow: number;
  int8Row: number;
}

async function vectors(a: Args, tmp: string): Promise<VectorResults> {
  const t00 = performance.now();
  const { rows, dim } = a;
  const need = rows * (dim * 4 + dim * 2 + dim + dim / 8 + 1200) * 1.6;
  if (freeBytes(os.tmpdir()) < need)
    throw new Error(
      `${os.tmpdir()}: about ${gb(need)} free needed for ${rows} rows (have ${gb(freeBytes(os.tmpdir()))})`,
    );
  const dir = path.join(tmp, 'vec');
  const db = await lancedb.connect(dir);
  const r = rng(7);
  const nClusters = Math.max(10, Math.round(Math.sqrt(rows) * 2));
  const centroids = Array.from({ length: nClusters }, () =>
    normalise(Float32Array.from({ length: dim }, () => gauss(r))),
  );
  const sigma = 0.75 / Math.sqrt(dim);
  // Queries: a perturbed point of a random cluster (as `bench index`: a row's cluster, plus noise).
  const qr = rng(99);
  const Q = a.queries;
  const qv = new Float32Array(Q * dim);
  for (let q = 0; q < Q; q++) {
    const c = Math.floor(qr() * nClusters);
    const v = qv.subarray(q * dim, (q + 1) * dim);
    for (let d = 0; d < dim; d++) v[d] = centroids[c][d] + gauss(qr) * sigma;
    normalise(v);
  }
  const queries = Array.from({ length: Q }, (_, q) => qv.slice(q * dim, (q + 1) * dim));
  // Exact top-10 (cosine of unit vectors = dot) over the fp32 vectors, kept while writing.
  const topS = new Float32Array(Q * 10).fill(-Infinity);
  const topI = new Int32Array(Q * 10).fill(-1);
  const minOf = new Float32Array(Q).fill(-Infinity);
  const codeBytes = dim / 8;
  const F = arrow.Field;
  const f32 = new arrow.Float32(),
    f16 = new arrow.Float16(),
    u8 = new arrow.Uint8(),
    i8 = new arrow.Int8();
  const pmidF = new F('pmid', new arrow.Utf8(), false);
  const schemas = {
    base: [pmidF],
    f32: [pmidF, new F('vector', fsl(dim, f32), false)],
    f16: [pmidF, new F('vector', fsl(dim, f16), false)],
    sign: [pmidF, new F('code', fsl(codeBytes, u8), false)],
    int8: [pmidF, new F('v8', fsl(dim, i8), false)],
  };
  const tables: Record<keyof typeof schemas, lancedb.Table | undefined> = {
    base: undefined,
    f32: undefined,
    f16: undefined,
    sign: undefined,
    int8: undefined,
  };
  const writeMs: Record<string, number> = { gen: 0, exact: 0, base: 0, f32: 0, f16: 0, sign: 0, int8: 0 };
  console.log(
    `\n## Storage choices on ${rows.toLocaleString()} generated clustered vectors (dim ${dim}, ${nClusters} clusters), ${Q} queries`,
  );
  const B = 20_000;
  for (let i = 0; i < rows; i += B) {
    const n = Math.min(rows, i + B) - i;
    let t = performance.now();
    const v32 = new Float32Array(n * dim);
    for (let j = 0; j < n; j++) {
      const cen = centroids[Math.floor(r() * nClusters)];
      const v = v32.subarray(j * dim, (j + 1) * dim);
      for (let d = 0; d < dim; d++) v[d] = cen[d] + gauss(r) * sigma;
      normalise(v);
    }
    const v16 = new Uint16Array(n * dim);
    for (let x = 0; x < v16.length; x++) v16[x] = toHalf(v32[x]);
    const code = new Uint8Array(n * codeBytes);
    const v8 = new Int8Array(n * dim);
    for (let j = 0; j < n; j++) {
      const v = v32.subarray(j * dim, (j + 1) * dim);
      let mx = 0;
      for (let d = 0; d < dim; d++) {
        const ab = Math.abs(v[d]);
        if (ab > mx) mx = ab;
      }
      const s = mx ? 127 / mx : 0;
      for (let d = 0; d < dim; d++) {
        v8[j * dim + d] = Math.round(v[d] * s);
        if (v[d] > 0) code[j * codeBytes + (d >> 3)] |= 1 << (d & 7);
      }
    }
    const pmids = Array.from({ length: n }, (_, j) => String(i + j + 1));
    writeMs.gen += performance.now() - t;
    t = performance.now();
    for (let q = 0; q < Q; q++) {
      const qq = queries[q];
      let lo = minOf[q];
      for (let j = 0; j < n; j++) {
        const o = j * dim;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        for (let d = 0; d < dim; d += 4) {
          s0 += qq[d] * v32[o + d];
          s1 += qq[d + 1] * v32[o + d + 1];
          s2 += qq[d + 2] * v32[o + d + 2];
          s3 += qq[d + 3] * v32[o + d + 3];
        }
        const s = s0 + s1 + s2 + s3;
        if (s <= lo) continue;
        // replace the minimum of this query's 10
        let mi = q * 10,
          mv = topS[mi];
        for (let k = q * 10 + 1; k < q * 10 + 10; k++)
          if (topS[k] < mv) {
            mv = topS[k];
            mi = k;
          }
        topS[mi] = s;
        topI[mi] = i + j;
        lo = Infinity;
        for (let k = q * 10; k < q * 10 + 10; k++) if (topS[k] < lo) lo = topS[k];
      }
      minOf[q] = lo;
    }
    writeMs.exact += performance.now() - t;
    const pm = utf8Data(pmids);
    const batches: Record<keyof typeof schemas, import('apache-arrow').Table> = {
      base: batchOf(schemas.base, [pm], n),
      f32: batchOf(schemas.f32, [pm, fslData(schemas.f32[1].type, f32, n, dim, v32)], n),
      f16: batchOf(schemas.f16, [pm, fslData(schemas.f16[1].type, f16, n, dim, v16)], n),
      sign: batchOf(schemas.sign, [pm, fslData(schemas.sign[1].type, u8, n, codeBytes, code)], n),
      int8: batchOf(schemas.int8, [pm, fslData(schemas.int8[1].type, i8, n, dim, v8)], n),
    };
    for (const k of Object.keys(batches) as (keyof typeof schemas)[]) {
      t = performance.now();
      if (!tables[k]) tables[k] = await db.createTable(k, batches[k] as never);
      else await tables[k]!.add(batches[k] as never);
      writeMs[k] += performance.now() - t;
    }
    process.stderr.write(`\r  written ${(i + n).toLocaleString()} rows × 5 tables`);
  }
  process.stderr.write('\n');
  const exact = Array.from({ length: Q }, (_, q) => {
    const idx = Array.from({ length: 10 }, (_, k) => q * 10 + k).sort((x, y) => topS[y] - topS[x]);
    return idx.map((k) => String(topI[k] + 1));
  });
  console.log(
    `generate ${(writeMs.gen / 1000).toFixed(1)} s, exact top-10 of ${Q} queries (JS, fp32) ${(writeMs.exact / 1000).toFixed(1)} s; write: ${(['base', 'f32', 'f16', 'sign', 'int8'] as const).map((k) => `${k} ${(writeMs[k] / 1000).toFixed(1)} s`).join(', ')}`,
  );
  const tc = performance.now();
  for (const k of Object.keys(tables) as (keyof typeof schemas)[])
    await tables[k]!.optimize({ cleanupOlderThan: new Date() });
  console.log(`compaction of the 5 tables: ${((performance.now() - tc) / 1000).toFixed(1)} s`);
  const T = tables as Record<keyof typeof schemas, lancedb.Table>;
  const tdir = (k: string): string => path.join(dir, `${k}.lance`);
  const size = Object.fromEntries(Object.keys(schemas).map((k) => [k, du(tdir(k))])) as Record<
    keyof typeof schemas,
    number
  >;
  const perRow = (b: number): number => b / rows;
  const baseRow = perRow(size.base);
  console.log(
    `on disk before vector indexes, per row: pmid-only table ${baseRow.toFixed(1)} B; with fp32 vector ${perRow(size.f32).toFixed(0)} B, fp16 ${perRow(size.f16).toFixed(0)} B, ${dim}-bit sign codes ${perRow(size.sign).toFixed(0)} B, int8 ${perRow(size.int8).toFixed(0)} B (raw values: ${dim * 4} / ${dim * 2} / ${codeBytes} / ${dim} B)`,
  );

  const p = annParamsFor(rows, dim);
  const { numPartitions, nprobes } = p;
  const measured: Measured[] = [];
  const idxBytes: Record<string, number> = {};

  async function build(
    name: string,
    tbl: lancedb.Table,
    k: string,
    column: string,
    config: lancedb.Index,
  ): Promise<{ s: number; bytes: number }> {
    const before = du(tdir(k), '_indices');
    const t = performance.now();
    await tbl.createIndex(column, { config, replace: true });
    const s = (performance.now() - t) / 1000;
    const bytes = du(tdir(k), '_indices') - before;
    idxBytes[name] = bytes;
    console.log(
      `${name}: build ${s.toFixed(1)} s (${(s / (rows / 100_000)).toFixed(1)} s per 100k rows), index files ${(bytes / 1e6).toFixed(1)} MB = ${(bytes / rows).toFixed(0)} B per row`,
    );
    return { s, bytes };
  }

  /** Time a query function over all queries (after a short warm-up): recall@10 vs exact and p50/p95. */
  async function measure(
    fn10: (q: Float32Array) => Promise<string[]>,
    fn50: (q: Float32Array) => Promise<unknown>,
  ): Promise<{ recall: number; p50: number; p95: number; p50c: number; p95c: number }> {
    for (let i = 0; i < Math.min(5, Q); i++) {
      await fn10(queries[i]);
      await fn50(queries[i]);
    }
    let hit = 0;
    const t10: number[] = [],
      t50: number[] = [];
    for (let i = 0; i < Q; i++) {
      let t = performance.now();
      const got = new Set(await fn10(queries[i]));
      t10.push(performance.now() - t);
      hit += exact[i].filter((id) => got.has(id)).length;
      t = performance.now();
      await fn50(queries[i]);
      t50.push(performance.now() - t);
    }
    return { recall: hit / (Q * 10), p50: pct(t10, 50), p95: pct(t10, 95), p50c: pct(t50, 50), p95c: pct(t50, 95) };
  }

  const rqQuery =
    (tbl: lancedb.Table, limit: number, refine: number) =>
    async (q: Float32Array): Promise<string[]> => {
      let x = tbl
        .query()
        .nearestTo(q)
        .distanceType('cosine')
        .select(['pmid', '_distance'])
        .limit(limit)
        .nprobes(nprobes);
      if (refine > 1) x = x.refineFactor(refine);
      return (await x.toArray()).map((row: { pmid: string }) => row.pmid);
    };
  const report = (m: Measured): void => {
    measured.push(m);
    console.log(
      `  ${m.choice.padEnd(44)} ${m.vectorBytes.toFixed(0).padStart(5)} B/row  recall@10 ${m.recall.toFixed(3)}  p50 ${ms1(m.p50)} p95 ${ms1(m.p95)}  (50 candidates: p50 ${ms1(m.p50c)} p95 ${ms1(m.p95c)})${m.note ? `  ${m.note}` : ''}`,
    );
  };

  const rq = async (label: string, k: 'f32' | 'f16', bits: number, refines: number[]): Promise<void> => {
    const name = `${label} IVF_RQ ${bits}-bit`;
    const b = await build(
      name,
      T[k],
      k,
      'vector',
      lancedb.Index.ivfRq({ numPartitions, numBits: bits, distanceType: 'cosine' }),
    );
    for (const rf of refines) {
      const m = await measure(rqQuery(T[k], 10, rf), rqQuery(T[k], 50, rf > 1 ? refineFor(50, rf) : 1));
      report({
        choice: `${label} + RQ${bits}, refine ${rf}${rf === 1 ? ' (codes only)' : ''}`,
        vectorBytes: perRow(size[k] - size.base + b.bytes),
        indexBytes: b.bytes / rows,
        buildS: b.s,
        ...m,
        note:
          rf === 1
            ? `(codes alone would be ${(b.bytes / rows).toFixed(0)} B/row if Lance could drop the raw column)`
            : undefined,
      });
    }
  };
  console.log(
    `IVF parameters (annParamsFor): ${numPartitions} partitions, nprobes ${nprobes}; recall@10 against exact cosine on the fp32 vectors; latency = one dense query (limit 10), and the dense leg of hybrid (limit 50, refineFor)`,
  );
  await rq('fp32 raw', 'f32', 4, [5, 2, 1]);
  await rq('fp16 raw', 'f16', 4, [5, 2, 1]);
  await rq('fp16 raw', 'f16', 2, [1, 2, 5, 10]);
  await rq('fp16 raw', 'f16', 1, [1, 5, 10, 40]);
  // Sign codes: the only compressed column Lance indexes without a float column next to it (IVF_FLAT, hamming).
  const sb = await build(
    'sign codes IVF_FLAT hamming',
    T.sign,
    'sign',
    'code',
    lancedb.Index.ivfFlat({ numPartitions, distanceType: 'hamming' }),
  );
  const packQ = (q: Float32Array): number[] => {
    const c = new Array<number>(codeBytes).fill(0);
    for (let d = 0; d < dim; d++) if (q[d] > 0) c[d >> 3] |= 1 << (d & 7);
    return c;
  };
  const signQuery =
    (limit: number) =>
    async (q: Float32Array): Promise<string[]> =>
      (
        await T.sign
          .query()
          .nearestTo(packQ(q))
          .column('code')
          .distanceType('hamming' as 'l2') /* hamming: accepted by Lance for uint8, not in the SDK's type */
          .select(['pmid', '_distance'])
          .limit(limit)
          .nprobes(nprobes)
          .toArray()
      ).map((row: { pmid: string }) => row.pmid);
  // Re-rank: the candidates' int8 vectors from a second table (same row order: offset = pmid − 1), cosine in JS.
  const rerank =
    (limit: number, factor: number) =>
    async (q: Float32Array): Promise<string[]> => {
      const cand = await signQuery(limit * factor)(q);
      const got = await T.int8
        .takeOffsets(cand.map((x) => Number(x) - 1))
        .select(['pmid', 'v8'])
        .toArray();
      const scored = got
        .map((row: { pmid: string; v8: { toArray(): Int8Array } }) => {
          const v = row.v8.toArray();
          let s = 0,
            n = 0;
          for (let d = 0; d < dim; d++) {
            s += q[d] * v[d];
            n += v[d] * v[d];
          }
          return { pmid: String(row.pmid), s: s / Math.sqrt(n || 1) };
        })
        .sort((x: { s: number }, y: { s: number }) => y.s - x.s);
      return scored.slice(0, limit).map((x: { pmid: string }) => x.pmid);
    };
  {
    const m = await measure(signQuery(10), signQuery(50));
    report({
      choice: `sign codes (${codeBytes} B) + IVF_FLAT hamming, no re-rank`,
      vectorBytes: perRow(size.sign - size.base + sb.bytes),
      indexBytes: sb.bytes / rows,
      buildS: sb.s,
      ...m,
    });
    for (const rf of [5, 10, 20]) {
      const m2 = await measure(rerank(10, rf), rerank(50, Math.max(2, Math.ceil((rf * 10) / 50))));
      report({
        choice: `sign codes + int8 re-rank table, factor ${rf}`,
        vectorBytes: perRow(size.sign - size.base + sb.bytes + size.int8 - size.base),
        indexBytes: sb.bytes / rows,
        buildS: sb.s,
        ...m2,
        note: `(needs a product change: own re-rank)`,
      });
    }
  }
  for (const t of Object.values(T)) t.close();
  db.close();
  const wallS = (performance.now() - t00) / 1000;
  console.log(`vectors part: ${wallS.toFixed(0)} s wall`);
  return {
    rows,
    dim,
    partitions: numPartitions,
    nprobes,
    measured,
    baseBytes: baseRow,
    wallS,
    fp32Row: perRow(size.f32 - size.base),
    fp16Row: perRow(size.f16 - size.base),
    signRow: perRow(size.sign - size.base),
    int8Row: perRow(size.int8 - size.base),
    rq4Index: (idxBytes['fp16 raw IVF_RQ 4-bit'] ?? idxBytes['fp32 raw IVF_RQ 4-bit']) / rows,
    rq2Index: idxBytes['fp16 raw IVF_RQ 2-bit'] / rows,
    rq1Index: idxBytes['fp16 raw IVF_RQ 1-bit'] / rows,
  };
}

// ---- text: real citations, bytes per row with and without vectors ------------------------------------------------------

class RandomEmbedder implements Embedder {
  readonly report = {
    provider: 'none (random placeholder vectors)',
    requested: 'cpu' as const,
    ortVersion: '-',
    threads: 0,
    modelFile: '-',
    precision: 'fp32' as const,
  };
  private r = rng(11);
  constructor(readonly identity: ModelIdentity) {}
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map(() => normalise(Float32Array.from({ length: this.identity.dim }, () => gauss(this.r))));
  }
  async dispose(): Promise<void> {
    /* nothing */
  }
}

interface TextSample {
  name: string;
  citations: number;
  withAbstract: number;
  sentences: number;
  articlesFull: number;
  articlesText: number;
  sentencesFull: number;
  sentencesText: number;
  /** Articles without vectors and without `abstract` (lean1) / without `abstract` and `sections` (lean2). */
  lean1: number;
  lean2: number;
}

async function readAll(file: string): Promise<Citation[]> {
  const out: Citation[] = [];
  for await (const ev of readCitations(file)) if (ev.type === 'citation') out.push(ev.citation);
  return out;
}

/** Copy a table without its vector column (same FTS/scalar indexes): the bytes of everything but the vectors. */
async function copyWithoutVector(src: lancedb.Table, dir: string, name: string, drop: string[] = []): Promise<number> {
  const all = await src.query().toArrow();
  const keep = all.schema.fields.map((f) => f.name).filter((n) => n !== 'vector' && !drop.includes(n));
  const db = await lancedb.connect(dir);
  const t = await db.createTable(name, all.select(keep) as never);
  await t.createIndex('pmid', { config: lancedb.Index.btree(), replace: true });
  await t.createIndex('text', { config: lancedb.Index.fts(FTS_OPTIONS), replace: true });
  await t.optimize({ cleanupOlderThan: new Date() });
  t.close();
  db.close();
  const td = path.join(dir, `${name}.lance`);
  const total = du(td),
    idx = du(td, '_indices');
  console.log(
    `  ${name} without vectors${drop.length ? ` and without ${drop.join(', ')}` : ''}: data files ${du(td, 'data')} B, index files (pmid B-tree + FTS) ${idx} B, other ${total - du(td, 'data') - idx} B`,
  );
  return total;
}

/** Mean UTF-8 bytes per row of string columns (what the text costs before Lance's encoding). */
async function columnBytes(t: lancedb.Table, cols: string[]): Promise<string> {
  const rows = await t.query().select(cols).toArray();
  const n = Math.max(1, rows.length);
  const len = (x: unknown): number =>
    x == null
      ? 0
      : typeof x === 'string'
        ? Buffer.byteLength(x)
        : Array.from((x as { toArray?: () => unknown[] }).toArray?.() ?? []).reduce((s: number, y) => s + len(y), 0);
  return cols
    .map((c) => `${c} ${(rows.reduce((s: number, r: Record<string, unknown>) => s + len(r[c]), 0) / n).toFixed(0)}`)
    .join(', ');
}

async function textPart(a: Args, tmp: string): Promise<TextSample[]> {
  const t0 = performance.now();
  const demo = path.join(projectRoot(), 'data', 'demo');
  const medline = await readAll(path.join(demo, 'medline16n0902.xml.gz'));
  const pqa = await readAll(path.join(demo, 'pubmedqa-pqal-dev.json'));
  const nbib = await readAll(path.join(demo, 'mesh-papers.medline.txt'));
  const samples: [string, Citation[]][] = [
    ['MEDLINE baseline file medline16n0902 (all)', medline],
    ['medline16n0902, citations with an abstract', medline.filter((c) => c.abstract.length)],
    ['PubMedQA PQA-L dev (all with abstracts)', pqa],
    ['all of data/demo', [...medline, ...pqa, ...nbib]],
  ];
  console.log(
    '\n## Real citations (data/demo) through `addFiles`, placeholder vectors: bytes per row with and without the vector column (FTS + scalar indexes included, compacted)',
  );
  const identity: ModelIdentity = {
    repo: 'bench:random',
    revision: '1',
    manifestHash: 'bench',
    dim: a.dim,
    pooling: 'cls',
    queryPrefix: false,
    generated: false,
  };
  const out: TextSample[] = [];
  for (const [name, cits] of samples) {
    const dir = fs.mkdtempSync(path.join(tmp, 'text-'));
    const file = path.join(dir, 'in.jsonl');
    const seen = new Set<string>();
    const uniq = cits.filter((c) => !seen.has(c.pmid) && seen.add(c.pmid));
    fs.writeFileSync(
      file,
      uniq.map((c) => JSON.stringify({ type: 'citation', citation: c } satisfies ReaderEvent)).join('\n'),
    );
    const store = await IndexStore.open(path.join(dir, 'idx'), identity, { create: true });
    const jsonl = {
      read: async function* (f: string) {
        for (const l of fs.readFileSync(f, 'utf8').split('\n')) if (l) yield JSON.parse(l) as ReaderEvent;
      },
      split: splitSentences,
    };
    const s = await addFiles(store, new RandomEmbedder(identity), [file], jsonl, { batchSize: 256 });
    await store.optimize();
    const nA = await store.articles.countRows();
    const nS = await store.sentences.countRows();
    const articlesFull = du(path.join(dir, 'idx', `${ARTICLES}.lance`));
    const sentencesFull = du(path.join(dir, 'idx', `${SENTENCES}.lance`));
    console.log(
      `${name}: mean UTF-8 bytes per citation: ${await columnBytes(store.articles, ['title', 'abstract', 'text', 'sections', 'mesh', 'authors', 'journal', 'publication_types'])}; per sentence: ${await columnBytes(store.sentences, ['text', 'hash'])}`,
    );
    const articlesText = await copyWithoutVector(store.articles, path.join(dir, 'novec'), ARTICLES);
    const sentencesText = await copyWithoutVector(store.sentences, path.join(dir, 'novec'), SENTENCES);
    // The abstract is stored three times (abstract, text = title + abstract for the FTS, sections as JSON): what
    // keeping it once would save (a product change: abstract derived from sections, or sections from text).
    const lean1 = await copyWithoutVector(store.articles, path.join(dir, 'lean1'), ARTICLES, ['abstract']);
    const lean2 = await copyWithoutVector(store.articles, path.join(dir, 'lean2'), ARTICLES, ['abstract', 'sections']);
    store.close();
    const r: TextSample = {
      name,
      citations: nA,
      withAbstract: uniq.filter((c) => c.abstract.length).length,
      sentences: nS,
      articlesFull,
      articlesText,
      sentencesFull,
      sentencesText,
      lean1,
      lean2,
    };
    out.push(r);
    void s;
    console.log(
      `${name}: ${nA} citations (${r.withAbstract} with an abstract), ${nS} sentences (${(nS / nA).toFixed(1)} per citation)\n` +
        `  articles: ${(articlesFull / nA).toFixed(0)} B per citation with its fp32 vector, ${(articlesText / nA).toFixed(0)} B without (vector column ${((articlesFull - articlesText) / nA).toFixed(0)} B)\n` +
        `  articles without the duplicate abstract copies: ${(lean1 / nA).toFixed(0)} B without \`abstract\`, ${(lean2 / nA).toFixed(0)} B without \`abstract\` and \`sections\` (text + FTS kept)\n` +
        `  sentences: ${(sentencesFull / Math.max(1, nS)).toFixed(0)} B per sentence with its fp32 vector, ${(sentencesText / Math.max(1, nS)).toFixed(0)} B text + FTS only (vector column ${((sentencesFull - sentencesText) / Math.max(1, nS)).toFixed(0)} B)`,
    );
    if (!a.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`text part: ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
  return out;
}

// ---- embed: sentences of the top-k papers embedded at query time ------------------------------------------------------

interface EmbedCost {
  k: number;
  cap: number;
  queries: number;
  sentences: number;
  tokens: number;
  p50: number;
  p95: number;
  mean: number;
  tokPerS: number;
  provider: string;
}

async function embedPart(a: Args): Promise<EmbedCost[]> {
  const t0 = performance.now();
  let modelDir = a.model;
  if (!modelDir) {
    modelDir = path.join(defaultModelsDir(), 'generated-base');
    await ensureGeneratedModel(modelDir, 'base', (m) => console.log(m));
  }
  const emb = await openEmbedder({ inProcess: true, modelDir, precision: 'int8' });
  console.log(
    `\n## "Similar sentences" without stored sentence vectors: the sentences of the top-k papers embedded per query (model ${emb.identity.repo}, ${emb.report.provider} ${emb.report.precision}, ${emb.report.threads} threads; load avg ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
  const cits = (await readAll(path.join(projectRoot(), 'data', 'demo', 'pubmedqa-pqal-dev.json'))).filter(
    (c) => c.abstract.length,
  );
  const sents = cits.map((c) => abstractSentences(c, splitSentences).map((s) => s.text));
  await emb.embed(sents[0].slice(0, 4), 'passage'); // warm-up
  const out: EmbedCost[] = [];
  let next = 0;
  const pick = rng(21);
  const configs = [
    [3, 0],
    [5, 0],
    [10, 0],
    [10, 20],
  ] as const;
  const acc = configs.map(() => ({ times: [] as number[], nS: 0, tok: 0 }));
  // Rounds interleave the settings, so that a change in the machine's load (other jobs) hits them all alike.
  for (let q = 0; q < a.embedQueries; q++) {
    for (const [ci, [k, cap]] of configs.entries()) {
      // k papers no query has seen before (no cache: the worst case); with a cap, only `cap` of their sentences (those
      // a lexical pre-filter would keep: the cost depends on their number and length only, so here a random draw)
      let texts: string[] = [];
      for (let j = 0; j < k; j++) texts.push(...sents[next++ % sents.length]);
      if (cap && texts.length > cap) {
        for (let i = texts.length - 1; i > 0; i--) {
          const j = Math.floor(pick() * (i + 1));
          [texts[i], texts[j]] = [texts[j], texts[i]];
        }
        texts = texts.slice(0, cap);
      }
      let last = 0;
      const t = performance.now();
      await emb.embed(texts, 'passage', (p: EmbedProgress) => {
        last = p.tokens;
      });
      acc[ci].times.push(performance.now() - t);
      acc[ci].nS += texts.length;
      acc[ci].tok += last;
    }
  }
  for (const [ci, [k, cap]] of configs.entries()) {
    const { times, nS, tok } = acc[ci];
    const sum = times.reduce((x, y) => x + y, 0);
    const r: EmbedCost = {
      k,
      cap,
      queries: a.embedQueries,
      sentences: nS / a.embedQueries,
      tokens: tok / a.embedQueries,
      p50: pct(times, 50),
      p95: pct(times, 95),
      mean: sum / times.length,
      tokPerS: tok / (sum / 1000),
      provider: `${emb.report.provider} ${emb.report.precision} ${emb.report.threads} threads`,
    };
    out.push(r);
    console.log(
      `top ${String(k).padStart(2)} papers${cap ? `, ${cap} sentences kept by a lexical pre-filter` : ''}: ${r.sentences.toFixed(0)} sentences, ${r.tokens.toFixed(0)} tokens per query → p50 ${ms1(r.p50)}, p95 ${ms1(r.p95)}, mean ${ms1(r.mean)} (${r.tokPerS.toFixed(0)} tok/s) over ${a.embedQueries} queries`,
    );
  }
  console.log(
    `load avg after: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  await emb.dispose();
  console.log(`embed part: ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
  return out;
}

// ---- project: all of PubMed ------------------------------------------------------------------------------------------

function project(
  a: Args,
  v: VectorResults | undefined,
  text: TextSample[] | undefined,
  emb: EmbedCost[] | undefined,
): void {
  console.log(
    `\n## Projection: ${(a.citations / 1e6).toFixed(0)} M citations, ${(a.sentences / 1e6).toFixed(0)} M sentences (from the measured bytes per row)`,
  );
  if (!v || !text) {
    console.log('(needs the vectors and text parts)');
    return;
  }
  // Text per citation: the MEDLINE baseline file's citations with an abstract (the sentence counts are per abstract).
  const ts = text.find((t) => t.name.startsWith('medline16n0902, citations with')) ?? text[0];
  const all = text.find((t) => t.name.startsWith('all of')) ?? ts;
  const artText = ts.articlesText / ts.citations;
  const senText = all.sentencesText / Math.max(1, all.sentences);
  const C = a.citations,
    S = a.sentences;
  const byChoice = (label: string): Measured | undefined => v.measured.find((m) => m.choice.startsWith(label));
  console.log(
    `text + metadata + FTS + pmid index: ${artText.toFixed(0)} B per citation (${ts.name}); ${senText.toFixed(0)} B per sentence (${all.name})`,
  );
  console.log(
    '| articles: storage choice | B/citation (vectors + index) | B/citation whole row | recall@10 | dense p50 / p95 | all of PubMed |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const m of v.measured) {
    console.log(
      `| ${m.choice} | ${m.vectorBytes.toFixed(0)} | ${(m.vectorBytes + artText).toFixed(0)} | ${m.recall.toFixed(3)} | ${m.p50.toFixed(1)} / ${m.p95.toFixed(1)} ms | ${gb(C * (m.vectorBytes + artText))} |`,
    );
  }
  console.log(`| no vectors (full-text only) | 0 | ${artText.toFixed(0)} | – | – | ${gb(C * artText)} |`);
  if (ts.lean2 < 0.95 * ts.articlesText)
    console.log(
      `(keeping the abstract once instead of three times — no \`abstract\` and \`sections\` columns, both derivable from \`text\` — would make the text part ${(ts.lean2 / ts.citations).toFixed(0)} B instead of ${artText.toFixed(0)} B per citation: ${gb(C * (artText - ts.lean2 / ts.citations))} less for all of PubMed)`,
    );
  // Index format 3 (store.ts) keeps the abstract once already: the copies above then hold nothing to drop.
  else
    console.log(`(the index stores the abstract once: index format 3, text part ${artText.toFixed(0)} B per citation)`);
  const today = byChoice('fp32 raw + RQ4, refine 5');
  const half = byChoice('fp16 raw + RQ4, refine 5');
  const sign = byChoice('sign codes (');
  console.log('| sentences: policy | B/sentence | all of PubMed | per query |');
  console.log('|---|---|---|---|');
  if (today)
    console.log(
      `| every sentence, fp32 + RQ4 (today) | ${(senText + today.vectorBytes).toFixed(0)} | ${gb(S * (senText + today.vectorBytes))} | dense ANN (as articles) |`,
    );
  if (half)
    console.log(
      `| every sentence, fp16 + RQ4 | ${(senText + half.vectorBytes).toFixed(0)} | ${gb(S * (senText + half.vectorBytes))} | dense ANN |`,
    );
  if (sign)
    console.log(
      `| every sentence, sign codes only (hamming, recall@10 ${sign.recall.toFixed(2)}) | ${(senText + sign.vectorBytes).toFixed(0)} | ${gb(S * (senText + sign.vectorBytes))} | dense ANN, coarse |`,
    );
  console.log(
    `| every sentence, text + FTS only (no vectors) | ${senText.toFixed(0)} | ${gb(S * senText)} | full-text |`,
  );
  const e10 = emb?.find((e) => e.k === 10 && !e.cap),
    e5 = emb?.find((e) => e.k === 5),
    e10c = emb?.find((e) => e.k === 10 && e.cap);
  console.log(
    `| no sentence table: split the top papers' abstracts (in articles) at query time and embed them | 0 | 0 | ${e10 ? `top 10: p50 ${e10.p50.toFixed(0)} ms; top 5: p50 ${e5?.p50.toFixed(0)} ms; top 10 pre-filtered to ${e10c?.cap} sentences: p50 ${e10c?.p50.toFixed(0)} ms` : '(embed part not run)'} |`,
  );
  if (half)
    for (const scope of [10_000, 1_000_000, 5_000_000]) {
      const perCit = (S / C) * (senText + half.vectorBytes);
      console.log(
        `| vectors (fp16 + RQ4) for a scope of ${scope.toLocaleString()} citations (${(S / C).toFixed(1)} sentences each), nothing stored for the rest | ${(senText + half.vectorBytes).toFixed(0)} | ${gb(scope * perCit)} | dense in scope + on-demand outside |`,
      );
    }
}

export async function run(args: string[]): Promise<void> {
  const a = parse(args);
  const t0 = performance.now();
  console.log(
    `storage bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load avg ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}, parts ${[...a.parts].join(',')}, LanceDB ${lancedbVersion()}`,
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-storage-'));
  try {
    if (a.parts.has('probe')) await probe(a, tmp);
    const v = a.parts.has('vectors') ? await vectors(a, tmp) : undefined;
    const text = a.parts.has('text') || a.parts.has('project') ? await textPart(a, tmp) : undefined;
    const emb = a.parts.has('embed') ? await embedPart(a) : undefined;
    if (a.parts.has('project')) project(a, v, text, emb);
  } finally {
    if (a.keep) console.log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\nstorage bench: ${((performance.now() - t0) / 1000).toFixed(0)} s wall in all`);
}

function lancedbVersion(): string {
  try {
    const main = require.resolve('@lancedb/lancedb');
    let d = path.dirname(main);
    for (let i = 0; i < 4; i++, d = path.dirname(d)) {
      const pj = path.join(d, 'package.json');
      if (fs.existsSync(pj)) {
        const j = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string; version?: string };
        if (j.name === '@lancedb/lancedb') return j.version ?? '?';
      }
    }
  } catch {
    /* unknown */
  }
  return '?';
}
