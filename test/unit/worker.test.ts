import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openEmbedder, EmbedderError } from '../../src/inference/client';
import { generateModel } from '../../src/inference/convert/generate';
import type { EmbedProgress } from '../../src/inference/types';

const ROOT = path.resolve(__dirname, '..', '..');
let dir = '';
let modelDir = '';
const texts = Array.from(
  { length: 40 },
  (_, i) => `Sentence ${i}: IL-${i} levels rose ${'markedly '.repeat(i % 9)}in septic mice (p < 0.05).`,
);

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-'));
  modelDir = path.join(dir, 'tiny');
  await generateModel({ shape: 'tiny', outDir: modelDir, seed: 3 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const code = (c: string) => (e: unknown) => e instanceof EmbedderError && e.code === c;
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('starts lazily, streams progress, returns the same vectors as in-process', async () => {
  const w = await openEmbedder({ lazy: true, modelDir, device: 'cpu', precision: 'fp32', maxBatchItems: 8 });
  assert.equal(w.running, false);
  assert.equal(w.report.provider, 'not started');
  assert.equal(w.identity.dim, 32); // from the manifest, without the worker
  assert.equal(w.running, false);
  const progress: EmbedProgress[] = [];
  const v = await w.embed(texts, 'passage', (p) => progress.push(p));
  assert.equal(w.running, true);
  assert.equal(w.report.provider, 'cpu');
  assert.equal(w.report.precision, 'fp32');
  assert.ok(progress.length >= 5, `${progress.length} progress messages`);
  assert.equal(progress.at(-1)!.done, texts.length);
  assert.ok(progress.every((p, i) => i === 0 || p.done > progress[i - 1]!.done));
  const local = await openEmbedder({ inProcess: true, modelDir, device: 'cpu', precision: 'fp32' });
  const ref = await local.embed(texts, 'passage');
  await local.dispose();
  assert.equal(v.length, texts.length);
  for (let i = 0; i < v.length; i++) assert.ok(dot(v[i]!, ref[i]!) > 0.99999, `text ${i}`);
  await w.dispose();
  assert.equal(w.running, false);
});

test('timeout: the request rejects once, the late reply is ignored, the worker keeps serving', async () => {
  const w = await openEmbedder({ lazy: true, modelDir, device: 'cpu' });
  await assert.rejects(w.ping(1500, 50), code('timeout'));
  const t0 = Date.now();
  const pong = await w.ping(0, 5000);
  assert.equal(pong.pong, true);
  // the timed-out ping's reply arrives later and must not settle anything else
  await new Promise((r) => setTimeout(r, Math.max(0, 1600 - (Date.now() - t0))));
  const many = Array.from({ length: 300 }, (_, i) => texts[i % texts.length]!.repeat(6));
  await assert.rejects(w.embed(many, 'passage', undefined, { timeoutMs: 1 }), code('timeout'));
  const [v] = await w.embed(['still alive'], 'query');
  assert.equal(v!.length, 32);
  await w.dispose();
});

test('errors come back as data: missing model file, bad request', async () => {
  const broken = path.join(dir, 'broken');
  fs.cpSync(modelDir, broken, { recursive: true });
  fs.rmSync(path.join(broken, 'model.int8.onnx'));
  fs.rmSync(path.join(broken, 'model.onnx'));
  await assert.rejects(
    openEmbedder({ modelDir: broken, device: 'cpu', precision: 'int8' }),
    (e: unknown) => code('load')(e) && (e as Error).message.includes(path.join(broken, 'model.int8.onnx')),
  );
  // a lazy embedder surfaces the same error on first use, and retries the load next time
  const lazy = await openEmbedder({ modelDir: broken, device: 'cpu', precision: 'int8', lazy: true });
  await assert.rejects(lazy.embed(['x'], 'passage'), code('load'));
  fs.copyFileSync(path.join(modelDir, 'model.int8.onnx'), path.join(broken, 'model.int8.onnx'));
  assert.equal((await lazy.embed(['x'], 'passage')).length, 1);
  await assert.rejects(lazy.embed(['x'], 'bogus' as never), code('bad-request'));
  await assert.rejects(lazy.embed([42 as never], 'passage'), code('bad-request'));
  await lazy.dispose();
});

test('a newer request on a channel supersedes a stale queued one; the running one completes', async () => {
  const w = await openEmbedder({ lazy: true, modelDir, device: 'cpu' });
  await w.start();
  const busy = w.embed(texts, 'passage'); // occupies the worker
  const q1 = w.embed(['first query'], 'query', undefined, { channel: 'sidebar' });
  const q2 = w.embed(['second query'], 'query', undefined, { channel: 'sidebar' });
  const other = w.embed(['other channel'], 'query', undefined, { channel: 'mesh' });
  const q3 = w.embed(['third query'], 'query', undefined, { channel: 'sidebar' });
  const r = await Promise.allSettled([busy, q1, q2, other, q3]);
  const outcome = r.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as EmbedderError).code));
  assert.deepEqual(outcome, ['ok', 'superseded', 'superseded', 'ok', 'ok']);
  // without a channel nothing is superseded
  const plain = await Promise.allSettled([w.embed(['a'], 'query'), w.embed(['b'], 'query')]);
  assert.deepEqual(
    plain.map((x) => x.status),
    ['fulfilled', 'fulfilled'],
  );
  await w.dispose();
});

test('dispose terminates the worker and rejects pending and later requests', async () => {
  const w = await openEmbedder({ lazy: true, modelDir, device: 'cpu' });
  await w.start();
  assert.equal(w.running, true);
  const pending = w.ping(5000, 10_000).then(
    () => 'resolved',
    (e: unknown) => e,
  );
  await w.dispose();
  assert.ok(code('disposed')(await pending));
  assert.equal(w.running, false);
  await assert.rejects(w.embed(['x'], 'passage'), code('disposed'));
  await w.dispose(); // idempotent
});

test('the bundled worker (esbuild, as scripts/build.mjs makes dist/worker.js) serves the same protocol', async () => {
  // Bundled here from the current source with the build's settings, so a stale dist/ cannot mask a failure.
  const esbuild = await import('esbuild');
  // Inside the repo so that the external onnxruntime-node resolves from node_modules, as it does for dist/.
  const workerPath = path.join(ROOT, 'node_modules', '.cache', 'biohicl-test', `worker-${process.pid}.js`);
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'src', 'inference', 'worker.ts')],
    outfile: workerPath,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['onnxruntime-node'],
    logLevel: 'warning',
  });
  try {
    const e = await openEmbedder({ modelDir, device: 'cuda', workerPath });
    assert.equal(e.report.requested, 'cuda');
    assert.ok(e.report.provider === 'cuda' || (e.report.provider === 'cpu' && !!e.report.fallbackReason));
    const v = await e.embed(['TNF-α and IL-1β were measured.'], 'query');
    assert.ok(Math.abs(Math.hypot(...v[0]!) - 1) < 1e-5);
    await e.dispose();
  } finally {
    fs.rmSync(workerPath, { force: true });
  }
});
