import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BGE_QUERY_PREFIX, planBatches } from '../../src/inference/embedder';
import { openEmbedder } from '../../src/inference/client';
import { convertModel } from '../../src/inference/convert/convert';
import { manifestHash } from '../../src/inference/manifest';
import type { EmbedProgress } from '../../src/inference/types';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'tiny-bert');
const ref = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')) as {
  sentences: string[];
  cls: { shape: [number, number]; data: number[] };
};
let dir = '';
let modelDir = '';

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedder-'));
  modelDir = path.join(dir, 'tiny-bert');
  await convertModel({ srcDir: FIXTURE, outDir: modelDir, source: { repo: 'fixture:tiny-bert', revision: 'test' } });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function refCls(i: number): Float32Array {
  const d = ref.cls.shape[1];
  const v = Float32Array.from(ref.cls.data.slice(i * d, (i + 1) * d));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('planBatches: sorted by length, bounded by items and padded tokens, every index once', () => {
  const lengths = [50, 3, 400, 7, 7, 600, 20, 3];
  const batches = planBatches(lengths, 1024, 3);
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    lengths.map((_, i) => i),
  );
  for (const b of batches) {
    assert.ok(b.length <= 3);
    const longest = Math.max(...b.map((i) => lengths[i]!));
    assert.ok(b.length === 1 || b.length * longest <= 1024);
  }
  const flatLens = batches.flat().map((i) => lengths[i]!);
  assert.deepEqual(
    flatLens,
    [...flatLens].sort((a, b) => a - b),
  );
  assert.deepEqual(planBatches([], 100, 4), []);
});

test('fp32 CLS embeddings equal the torch reference (L2-normalised), in input order', async () => {
  const e = await openEmbedder({ inProcess: true, modelDir, device: 'cpu', precision: 'fp32', maxBatchItems: 2 });
  const progress: EmbedProgress[] = [];
  const v = await e.embed(ref.sentences, 'passage', (p) => progress.push(p));
  assert.equal(v.length, ref.sentences.length);
  for (let i = 0; i < v.length; i++) {
    assert.equal(v[i]!.length, ref.cls.shape[1]);
    const r = refCls(i);
    for (let j = 0; j < r.length; j++)
      assert.ok(Math.abs(v[i]![j]! - r[j]!) <= 1e-4, `sentence ${i} dim ${j}: ${v[i]![j]} vs ${r[j]}`);
    assert.ok(Math.abs(Math.hypot(...v[i]!) - 1) < 1e-5);
  }
  assert.ok(progress.length >= Math.ceil(ref.sentences.length / 2));
  assert.deepEqual(progress.at(-1)!.done, ref.sentences.length);
  assert.ok(progress.every((p, k) => p.total === ref.sentences.length && (k === 0 || p.done > progress[k - 1]!.done)));
  assert.equal(e.identity.repo, 'fixture:tiny-bert');
  assert.equal(e.identity.revision, 'test');
  assert.equal(e.identity.manifestHash, manifestHash(modelDir));
  assert.equal(e.identity.dim, ref.cls.shape[1]);
  assert.equal(e.identity.pooling, 'cls');
  assert.equal(e.identity.generated, false);
  assert.equal(e.identity.queryPrefix, false);
  await e.dispose();
});

test('int8 and fp16 stay within cosine 0.999 of the reference', async () => {
  for (const precision of ['int8', 'fp16'] as const) {
    const e = await openEmbedder({ inProcess: true, modelDir, device: 'cpu', precision });
    assert.equal(e.report.precision, precision);
    const v = await e.embed(ref.sentences, 'passage');
    for (let i = 0; i < v.length; i++)
      assert.ok(dot(v[i]!, refCls(i)) >= 0.999, `${precision} sentence ${i}: ${dot(v[i]!, refCls(i))}`);
    await e.dispose();
  }
});

test('length bucketing does not change results: batched == one at a time, order restored', async () => {
  const e = await openEmbedder({
    inProcess: true,
    modelDir,
    device: 'cpu',
    precision: 'fp32',
    maxBatchTokens: 200,
    maxBatchItems: 4,
  });
  const texts = [...ref.sentences, 'IL-6.', ref.sentences.join(' '), 'p53', ''];
  const batched = await e.embed(texts, 'passage');
  for (let i = 0; i < texts.length; i++) {
    const [single] = await e.embed([texts[i]!], 'passage');
    assert.ok(dot(single!, batched[i]!) > 0.99999, `text ${i}`);
  }
  assert.deepEqual(await e.embed([], 'passage'), []);
  await assert.rejects(e.embed([1 as unknown as string], 'passage'), /texts must be an array of strings/);
  await e.dispose();
  await assert.rejects(e.embed(['x'], 'passage'), /disposed/);
});

test('bge query prefix: applied to queries only, and only when on', async () => {
  const q = 'Does IL-6 predict sepsis mortality?';
  const on = await openEmbedder({ inProcess: true, modelDir, device: 'cpu', precision: 'fp32', queryPrefix: true });
  const off = await openEmbedder({ inProcess: true, modelDir, device: 'cpu', precision: 'fp32', queryPrefix: false });
  assert.equal(on.identity.queryPrefix, true);
  const [qOn] = await on.embed([q], 'query');
  const [pOn] = await on.embed([q], 'passage');
  const [prefixed] = await off.embed([BGE_QUERY_PREFIX + q], 'passage');
  const [qOff] = await off.embed([q], 'query');
  assert.ok(dot(qOn!, prefixed!) > 0.99999, 'query with the setting on = prefixed text');
  assert.ok(dot(qOff!, pOn!) > 0.99999, 'setting off: query = passage');
  assert.ok(dot(qOn!, pOn!) < 0.9999, 'the prefix changes the query vector');
  await on.dispose();
  await off.dispose();
});

test('openEmbedder: a folder without manifest.json is refused with how to make a model (exit code 4), both ways', async () => {
  const empty = path.join(dir, 'no-model');
  fs.mkdirSync(empty, { recursive: true });
  for (const inProcess of [true, false]) {
    await assert.rejects(openEmbedder({ modelDir: empty, inProcess }), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 4);
      assert.match(e.message, /no-model: no model there \(no manifest\.json\); make one with `biohicl model fetch`/);
      return true;
    });
  }
});
