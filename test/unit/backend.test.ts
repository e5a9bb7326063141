import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createSession,
  cudaUnavailableReason,
  modelFile,
  ortBinDir,
  ortVersion,
  physicalCores,
  planProviders,
  precisionFor,
  runBatch,
  releaseSession,
} from '../../src/inference/backend';
import { generateModel } from '../../src/inference/convert/generate';
import { WordPieceTokenizer } from '../../src/inference/tokenizer';

let dir = '';
let modelDir = '';
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backend-'));
  modelDir = path.join(dir, 'tiny');
  await generateModel({ shape: 'tiny', outDir: modelDir, seed: 7 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('device → provider table per platform', () => {
  const noCuda = () => 'libs missing';
  const cuda = () => undefined;
  assert.deepEqual(planProviders('cpu', 'linux', 'x64', cuda), { tryOrder: ['cpu'] });
  assert.deepEqual(planProviders('cuda', 'linux', 'x64', cuda), { tryOrder: ['cuda', 'cpu'] });
  assert.deepEqual(planProviders('cuda', 'linux', 'x64', noCuda), { tryOrder: ['cpu'], ruledOut: 'libs missing' });
  assert.match(planProviders('cuda', 'linux', 'arm64', cuda).ruledOut!, /linux-x64 only/);
  assert.match(planProviders('cuda', 'win32', 'x64', cuda).ruledOut!, /linux-x64 only/);
  assert.match(planProviders('cuda', 'darwin', 'arm64', cuda).ruledOut!, /linux-x64 only/);
  assert.deepEqual(planProviders('dml', 'win32', 'x64', cuda), { tryOrder: ['dml', 'cpu'] });
  assert.match(planProviders('dml', 'linux', 'x64', cuda).ruledOut!, /Windows only/);
  assert.deepEqual(planProviders('auto', 'win32', 'x64', cuda).tryOrder, ['dml', 'cpu']);
  assert.deepEqual(planProviders('auto', 'linux', 'x64', cuda).tryOrder, ['cuda', 'cpu']);
  assert.deepEqual(planProviders('auto', 'linux', 'x64', noCuda).tryOrder, ['cpu']);
  assert.deepEqual(planProviders('auto', 'darwin', 'arm64', cuda), { tryOrder: ['cpu'] });
  assert.throws(() => planProviders('tpu' as never, 'linux', 'x64', cuda), /unknown device "tpu"/);
  assert.equal(precisionFor('cpu', 'auto'), 'int8');
  assert.equal(precisionFor('cuda', 'auto'), 'fp16');
  assert.equal(precisionFor('dml', 'auto'), 'fp16');
  assert.equal(precisionFor('cuda', 'fp32'), 'fp32');
  const cores = physicalCores();
  assert.ok(Number.isInteger(cores) && cores >= 1 && cores <= os.availableParallelism(), `physicalCores ${cores}`);
});

test('CUDA libraries: detected by file in a bin folder', () => {
  const bin = fs.mkdtempSync(path.join(dir, 'bin-'));
  assert.match(cudaUnavailableReason(bin)!, /libonnxruntime_providers_cuda\.so.*gpu:setup/);
  fs.writeFileSync(path.join(bin, 'libonnxruntime_providers_shared.so'), '');
  fs.writeFileSync(path.join(bin, 'libonnxruntime_providers_cuda.so'), '');
  assert.equal(cudaUnavailableReason(bin, false), undefined, 'files present: no reason before the runtime probe');
  assert.ok(ortBinDir().includes(path.join('onnxruntime-node', 'bin', 'napi-v6')));
});

test('cpu session: int8 file by default, report filled, a batch runs', async () => {
  const { session, report } = await createSession(modelDir, { device: 'cpu', precision: 'auto', threads: 1 });
  assert.equal(report.provider, 'cpu');
  assert.equal(report.precision, 'int8');
  assert.equal(report.modelFile, modelFile(modelDir, 'int8'));
  assert.equal(report.threads, 1);
  assert.equal(report.ortVersion, ortVersion());
  assert.match(report.ortVersion, /^\d+\.\d+\.\d+/);
  assert.equal(report.fallbackReason, undefined);
  const tok = WordPieceTokenizer.load(modelDir);
  const b = tok.batch(['IL-6 was elevated.', 'TNF-α levels rose in septic mice (p < 0.05).']);
  const h = await runBatch(session, b);
  const hidden = JSON.parse(fs.readFileSync(path.join(modelDir, 'manifest.json'), 'utf8')).dim as number;
  assert.deepEqual(h.dims, [2, b.seqLen, hidden]);
  assert.equal(h.data.length, 2 * b.seqLen * hidden);
  assert.ok(h.data.every(Number.isFinite));
  await releaseSession(session);
});

test('device cuda on a machine without the CUDA provider falls back to CPU with the reason', async (t) => {
  if (process.platform === 'linux' && process.arch === 'x64' && !cudaUnavailableReason()) {
    t.skip('CUDA provider libraries are installed here');
    return;
  }
  const { session, report } = await createSession(modelDir, { device: 'cuda', precision: 'auto' });
  assert.equal(report.provider, 'cpu');
  assert.equal(report.requested, 'cuda');
  assert.equal(report.precision, 'int8', 'CPU fallback uses the CPU precision');
  assert.match(report.fallbackReason!, /cuda requested but not usable.*(not installed|linux-x64 only)/);
  await releaseSession(session);
  const auto = await createSession(modelDir, { device: 'auto', precision: 'auto' });
  assert.equal(auto.report.provider, process.platform === 'win32' ? 'dml' : 'cpu');
  await releaseSession(auto.session);
});

test("a provider that fails to load for real falls back to CPU with onnxruntime's error", async (t) => {
  if (process.platform === 'linux' && process.arch === 'x64' && !cudaUnavailableReason()) {
    t.skip('CUDA provider libraries are installed here');
    return;
  }
  // Bypass the library check: onnxruntime itself tries to load the CUDA provider and fails.
  const { session, report } = await createSession(modelDir, { device: 'cuda', precision: 'fp32', providers: ['cuda'] });
  assert.equal(report.provider, 'cpu');
  assert.equal(report.precision, 'fp32');
  assert.match(report.fallbackReason!, /the cuda execution provider could not be used \(.+\)/);
  await releaseSession(session);
});

test('missing model file: a clear error naming the file', async () => {
  const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
  await assert.rejects(
    createSession(empty, { device: 'cpu', precision: 'fp32' }),
    (e: Error) => e.message.includes(path.join(empty, 'model.onnx')) && /model file not found/.test(e.message),
  );
  // auto precision with the int8 file gone: uses fp32 and says so
  const partial = fs.mkdtempSync(path.join(dir, 'partial-'));
  fs.copyFileSync(path.join(modelDir, 'model.onnx'), path.join(partial, 'model.onnx'));
  const { session, report } = await createSession(partial, { device: 'cpu', precision: 'auto' });
  assert.equal(report.precision, 'fp32');
  assert.ok(report.notes?.some((n) => n.includes('model.int8.onnx is missing')));
  await releaseSession(session);
});
