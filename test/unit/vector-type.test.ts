// float16 vectors as an index option (README "What fits on a laptop"): recorded in meta.json by the writer that
// creates the index and used by every later writer, a writer asking for another type refused, dense search and the
// IVF_RQ index working on float16 columns with the same top-k as float32, and indexes made before the option
// (float32, no vectorType in meta.json) opening and being written as before. Real LanceDB tables in temp folders,
// the real build code, the real CLI on a generated tiny ONNX model.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addFiles } from '../../src/index/build';
import {
  ARTICLES,
  IndexOptionMismatchError,
  IndexStore,
  META_FILE,
  SENTENCES,
  tableVectorType,
  type ArticleRow,
} from '../../src/index/store';
import { denseLeg, search, similarSentences } from '../../src/index/search';
import { ensureGeneratedModel } from '../../src/index/model';
import { verifyIndex } from '../../src/index/verify';
import type { Citation } from '../../src/index/citation';
import { BowEmbedder, deps, makeCitation, tmpDir, writeJsonl, DIM } from './index-helpers';
import { cliRunner, ensureCliBuilt } from './cli-helpers';
import { BIOPYTHON } from '../fixtures/paths';

const cits: Citation[] = Array.from({ length: 60 }, (_, i) => makeCitation(i));
const emb = new BowEmbedder();
let f32: IndexStore;
let f16: IndexStore;
let dir: string;

async function build(vectorType?: 'float32' | 'float16'): Promise<IndexStore> {
  const d = tmpDir();
  const f = path.join(d, 'c.jsonl');
  writeJsonl(
    f,
    cits.map((c) => ({ type: 'citation' as const, citation: c })),
  );
  const s = await IndexStore.open(path.join(d, 'idx'), emb.identity, { create: true, vectorType });
  await addFiles(s, emb, [f], deps, { batchSize: 16 });
  return s;
}

before(async () => {
  dir = tmpDir('biohicl-vt-');
  f32 = await build();
  f16 = await build('float16');
});
after(() => {
  f32.close();
  f16.close();
});

test('meta.json records float16, both tables store Float16 vectors; an index made without the option records nothing', async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(f16.dir, META_FILE), 'utf8'));
  assert.equal(meta.vectorType, 'float16');
  assert.equal(tableVectorType(await f16.articles.schema()), 'float16');
  assert.equal(tableVectorType(await f16.sentences.schema()), 'float16');
  const old = JSON.parse(fs.readFileSync(path.join(f32.dir, META_FILE), 'utf8'));
  assert.equal('vectorType' in old, false, 'the default leaves meta.json as before the option');
  assert.equal(tableVectorType(await f32.articles.schema()), 'float32');
  assert.equal(tableVectorType(await f32.sentences.schema()), 'float32');
  assert.deepEqual(await f16.counts(), await f32.counts());
});

test('float16 vectors are the float32 ones to half precision (decoded, not raw bits)', async () => {
  const a = await f32.articles.query().where(`pmid = '10007'`).select(['vector']).toArray();
  const b = await f16.articles.query().where(`pmid = '10007'`).select(['vector']).toArray();
  const { toFloat32 } = await import('../../src/index/store');
  const va = toFloat32(a[0].vector);
  const vb = toFloat32(b[0].vector);
  assert.equal(vb.length, DIM);
  let maxErr = 0;
  for (let i = 0; i < DIM; i++) maxErr = Math.max(maxErr, Math.abs(va[i] - vb[i]));
  assert.ok(maxErr > 0, 'float16 rounds some component');
  assert.ok(maxErr < 1e-3, `max abs error ${maxErr}`);
});

test('dense, hybrid and sentence search on float16 give the float32 top-k (scores within 1e-3)', async () => {
  const queries = [
    'insulin glucose diabetes beta cells',
    'tumor chemotherapy metastasis survival',
    'influenza vaccine antibody',
    'cardiac troponin arrhythmia',
    'dopamine hippocampus memory cortex',
  ];
  for (const q of queries) {
    for (const mode of ['dense', 'hybrid'] as const) {
      const a = await search(f32, emb, q, { k: 10, mode });
      const b = await search(f16, emb, q, { k: 10, mode });
      assert.equal(a.hits.length, 10);
      // Equal scores may swap under rounding: compare the sets of the top 10 and each PMID's score.
      assert.deepEqual(new Set(b.hits.map((h) => h.pmid)), new Set(a.hits.map((h) => h.pmid)), `${mode}: ${q}`);
      for (const h of b.hits) {
        const o = a.hits.find((x) => x.pmid === h.pmid)!;
        if (mode === 'dense') assert.ok(Math.abs(o.score - h.score) < 1e-3, `${q}: ${o.score} vs ${h.score}`);
        assert.ok(h.why.bestSentence, 'best sentence from the float16 sentence vectors');
      }
    }
    const sa = await similarSentences(f32, emb, q, { k: 5, mode: 'dense' });
    const sb = await similarSentences(f16, emb, q, { k: 5, mode: 'dense' });
    assert.ok(Math.abs(sa.hits[0].score - sb.hits[0].score) < 1e-3);
    assert.equal(sb.hits[0].text, sa.hits[0].text);
  }
});

test('the IVF_RQ index builds on a float16 column and finds the exact top-10', async () => {
  // 400 rows of random unit vectors written through upsert, then the vector index with a low threshold.
  const rnd = mulberry(5);
  const vecs: Float32Array[] = [];
  const rows: ArticleRow[] = Array.from({ length: 400 }, (_, i) => {
    const v = Float32Array.from({ length: DIM }, () => rnd() - 0.5);
    const n = Math.hypot(...v);
    for (let d = 0; d < DIM; d++) v[d] /= n;
    vecs.push(v);
    return {
      pmid: String(i + 1),
      title: `t${i}`,
      abstract: '',
      text: `t${i}`,
      sections: '[]',
      authors: [],
      journal: 'J',
      year: 2000,
      doi: null,
      pmcid: null,
      publication_types: [],
      language: null,
      mesh: '[]',
      has_abstract: false,
      source: 'gen',
      hash: `h${i}`,
      n_sentences: 0,
      vector: v,
    };
  });
  const s = await IndexStore.open(path.join(dir, 'ann16'), emb.identity, { create: true, vectorType: 'float16' });
  try {
    await s.upsert(rows, []);
    await s.ensureIndexes({ annMinRows: 100 });
    const idx = await s.articles.listIndices();
    assert.ok(
      idx.some((i) => i.columns.includes('vector')),
      `a vector index on the float16 column: ${JSON.stringify(idx)}`,
    );
    assert.equal(s.annParams(ARTICLES)?.type, 'IVF_RQ');
    let hit = 0;
    for (let q = 0; q < 20; q++) {
      const qv = vecs[q * 7]!.map((x) => x + (rnd() - 0.5) * 0.05);
      const exact = vecs
        .map((v, i) => ({ i, s: v.reduce((a, x, d) => a + x * qv[d]!, 0) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10)
        .map((x) => String(x.i + 1));
      const got = await denseLeg(s, ARTICLES, Float32Array.from(qv), 10, undefined, ['pmid']);
      hit += exact.filter((p) => got.some((g) => g.pmid === p)).length;
    }
    assert.ok(hit / 200 >= 0.95, `recall@10 ${hit / 200}`);
  } finally {
    s.close();
  }
});

test('every writer uses the index type: one asking for another is refused with the way out; none asked = the index own', async () => {
  await assert.rejects(IndexStore.open(f16.dir, emb.identity, { create: true, vectorType: 'float32' }), (e: Error) => {
    assert.ok(e instanceof IndexOptionMismatchError);
    assert.equal((e as IndexOptionMismatchError).exitCode, 2);
    assert.match(e.message, /stores vector type float16 .*but float32 was asked for/);
    assert.match(e.message, /leave the option out/);
    return true;
  });
  await assert.rejects(IndexStore.open(f32.dir, emb.identity, { create: true, vectorType: 'float16' }), /float32/);
  // A writer that does not ask writes the index's own type.
  const w = await IndexStore.open(f16.dir, emb.identity, { create: true });
  const d = tmpDir();
  const f = path.join(d, 'more.jsonl');
  writeJsonl(f, [{ type: 'citation', citation: makeCitation(100) }]);
  await addFiles(w, emb, [f], deps, { skipIndexes: true });
  assert.equal(tableVectorType(await w.articles.schema()), 'float16');
  const r = await denseLeg(w, ARTICLES, (await emb.embed([makeCitation(100).title], 'query'))[0], 3, undefined, [
    'pmid',
  ]);
  assert.ok(r.some((h) => h.pmid === '10100'));
  w.close();
  // A meta.json that says float16 over float32 tables (replaced by hand) is refused to writers.
  const copy = path.join(tmpDir(), 'idx');
  fs.cpSync(f32.dir, copy, { recursive: true });
  const m = JSON.parse(fs.readFileSync(path.join(copy, META_FILE), 'utf8'));
  fs.writeFileSync(path.join(copy, META_FILE), JSON.stringify({ ...m, vectorType: 'float16' }));
  await assert.rejects(
    IndexStore.open(copy, emb.identity, { create: true }),
    /stores float32 vectors but meta\.json records float16/,
  );
  // … and an unknown type in meta.json is named.
  fs.writeFileSync(path.join(copy, META_FILE), JSON.stringify({ ...m, vectorType: 'bfloat16' }));
  await assert.rejects(
    IndexStore.open(copy, undefined),
    /meta\.json: vectorType: expected \("float32" \| "float16"\), got "bfloat16"/,
  );
});

test('--rebuild with another vector type makes the index again with it', async () => {
  const d = tmpDir();
  const f = path.join(d, 'c.jsonl');
  writeJsonl(
    f,
    cits.slice(0, 5).map((c) => ({ type: 'citation' as const, citation: c })),
  );
  const where = path.join(d, 'idx');
  const a = await IndexStore.open(where, emb.identity, { create: true });
  await addFiles(a, emb, [f], deps, { skipIndexes: true });
  a.close();
  const b = await IndexStore.open(where, emb.identity, { create: true, rebuild: true, vectorType: 'float16' });
  assert.equal(b.meta.vectorType, 'float16');
  assert.equal((await b.counts()).articles, 0, 'dropped');
  assert.equal(tableVectorType(await b.sentences.schema()), 'float16');
  b.close();
});

test(
  'CLI: index setup --vector-type float16, then index add without it writes float16; --vector-type float32 exits 2',
  { timeout: 180_000 },
  async () => {
    ensureCliBuilt();
    const home = path.join(dir, 'home');
    const { run } = cliRunner(() => home);
    const model = path.join(dir, 'tiny');
    await ensureGeneratedModel(model, 'tiny');
    const idx = path.join(dir, 'cli-idx');
    const setup = await run(['index', 'setup', '--index', idx, '--model', model, '--vector-type', 'float16', '--json']);
    assert.equal(setup.code, 0, setup.err);
    assert.equal(JSON.parse(setup.out).vectorType, 'float16');
    const input = path.join(BIOPYTHON, 'pubmed1.xml');
    const add = await run(['index', 'add', input, '--index', idx, '--model', model, '--quiet']);
    assert.equal(add.code, 0, add.err);
    const st = await run(['index', 'stats', '--index', idx, '--json']);
    assert.equal(JSON.parse(st.out).vectorType, 'float16');
    assert.ok(JSON.parse(st.out).articles > 0);
    const bad = await run([
      'index',
      'add',
      input,
      '--index',
      idx,
      '--model',
      model,
      '--quiet',
      '--vector-type',
      'float32',
    ]);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /stores vector type float16/);
    const search = await run(['search', 'protein', '--index', idx, '--model', model, '--json', '--mode', 'dense']);
    assert.equal(search.code, 0, search.err);
    assert.ok(JSON.parse(search.out).hits.length > 0);
    const ver = await verifyIndex(idx);
    assert.equal(ver.ok, true, JSON.stringify(ver.problems));
    const s = await IndexStore.open(idx, undefined);
    assert.equal(tableVectorType(await s.sentences.schema()), 'float16');
    assert.equal(tableVectorType(await s.articles.schema()), 'float16');
    s.close();
    void SENTENCES;
  },
);

function mulberry(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
