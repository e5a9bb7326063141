import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { mergeLora } from '../../src/inference/convert/lora';
import { readSafetensors } from '../../src/inference/convert/safetensors';
import { convertModel } from '../../src/inference/convert/convert';
import type { StateDict, Tensor } from '../../src/inference/convert/tensor';

const FIX = path.join(__dirname, '..', 'fixtures');
const BERT = path.join(FIX, 'tiny-bert');
const LORA = path.join(FIX, 'tiny-lora');
interface Flat {
  shape: number[];
  data: number[];
}
const ref = JSON.parse(fs.readFileSync(path.join(LORA, 'reference.json'), 'utf8')) as {
  input_ids: number[][];
  attention_mask: number[][];
  last_hidden_state: Flat;
  merged_weights: Record<string, Flat>;
};
const baseRef = JSON.parse(fs.readFileSync(path.join(BERT, 'reference.json'), 'utf8')) as { last_hidden_state: Flat };
const adapterConfig = JSON.parse(fs.readFileSync(path.join(LORA, 'adapter_config.json'), 'utf8')) as Record<
  string,
  unknown
>;

const f32 = (shape: number[], data: number[]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(data) });
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('mergeLora reproduces the torch-merged weights of the PEFT fixture and leaves the rest alone', async () => {
  const base = await readSafetensors(path.join(BERT, 'model.safetensors'));
  const adapter = await readSafetensors(path.join(LORA, 'adapter_model.safetensors'));
  const merged = mergeLora(base, adapter, adapterConfig);
  assert.equal(Object.keys(ref.merged_weights).length, 4);
  for (const [k, r] of Object.entries(ref.merged_weights)) {
    const t = merged.get(k)!;
    assert.deepEqual(t.shape, r.shape);
    assert.ok(maxAbsDiff(t.data as Float32Array, r.data) < 1e-6, k);
    assert.ok(maxAbsDiff(t.data as Float32Array, base.get(k)!.data as Float32Array) > 0.1, `${k} unchanged`);
  }
  assert.equal(
    merged.get('encoder.layer.0.attention.self.key.weight'),
    base.get('encoder.layer.0.attention.self.key.weight'),
  );
  assert.equal(merged.size, base.size);
  // The base map is not modified.
  assert.notEqual(
    merged.get('encoder.layer.0.attention.self.query.weight'),
    base.get('encoder.layer.0.attention.self.query.weight'),
  );
});

test('adapter folder → convertModel → onnxruntime matches the torch-merged last_hidden_state (≤ 1e-4)', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-lora-'));
  try {
    await convertModel({
      srcDir: LORA,
      baseDir: BERT,
      outDir: out,
      precisions: ['fp32'],
      source: { repo: 'test/tiny-lora', revision: 'fixture' },
    });
    const s = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
    const [B, T] = [ref.input_ids.length, ref.input_ids[0].length];
    const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, T]);
    const res = await s.run({
      input_ids: i64(ref.input_ids),
      attention_mask: i64(ref.attention_mask),
      token_type_ids: i64(ref.input_ids.map((r) => r.map(() => 0))),
    });
    const lhs = res.last_hidden_state.data as Float32Array;
    assert.deepEqual(res.last_hidden_state.dims, ref.last_hidden_state.shape);
    const err = maxAbsDiff(lhs, ref.last_hidden_state.data);
    assert.ok(err <= 1e-4, `max abs error ${err}`);
    // And it is really the merged model, not the base one.
    assert.ok(maxAbsDiff(lhs, baseRef.last_hidden_state.data) > 0.1);
    await s.release();
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

/** Naive reference for a small synthetic case. */
function naiveDelta(A: number[][], B: number[][], scale: number): number[][] {
  return B.map((brow) => A[0].map((_, j) => scale * brow.reduce((s, bk, k) => s + bk * A[k][j], 0)));
}

test('mergeLora: rsLoRA scaling, fan_in_fan_out, .default. keys, rank_pattern, bert. prefix', () => {
  const A = [
    [1, 2, 3],
    [0.5, -1, 2],
  ]; // r=2, in=3
  const Bm = [
    [1, 0],
    [2, 1],
    [-1, 3],
    [0, 0.5],
  ]; // out=4, r=2
  const W = Array.from({ length: 12 }, (_, i) => i / 10);
  const base: StateDict = new Map([
    ['bert.encoder.q.weight', f32([4, 3], W)],
    ['bert.encoder.k.weight', f32([3, 4], W)],
  ]);
  const adapter: StateDict = new Map([
    ['base_model.model.encoder.q.lora_A.default.weight', f32([2, 3], A.flat())],
    ['base_model.model.encoder.q.lora_B.default.weight', f32([4, 2], Bm.flat())],
  ]);
  // rsLoRA: alpha / sqrt(r)
  const m1 = mergeLora(base, adapter, {
    peft_type: 'LORA',
    r: 2,
    lora_alpha: 3,
    target_modules: ['q'],
    use_rslora: true,
  });
  const d1 = naiveDelta(A, Bm, 3 / Math.sqrt(2)).flat();
  assert.ok(
    maxAbsDiff(
      m1.get('bert.encoder.q.weight')!.data as Float32Array,
      W.map((w, i) => w + d1[i]),
    ) < 1e-6,
  );
  // plain: alpha / r
  const m2 = mergeLora(base, adapter, { r: 2, lora_alpha: 3, target_modules: ['q'] });
  const d2 = naiveDelta(A, Bm, 1.5).flat();
  assert.ok(
    maxAbsDiff(
      m2.get('bert.encoder.q.weight')!.data as Float32Array,
      W.map((w, i) => w + d2[i]),
    ) < 1e-6,
  );
  // fan_in_fan_out: the base weight is [in, out] and receives the transposed delta.
  const adapterK: StateDict = new Map([
    ['base_model.model.encoder.k.lora_A.weight', f32([2, 3], A.flat())],
    ['base_model.model.encoder.k.lora_B.weight', f32([4, 2], Bm.flat())],
  ]);
  const m3 = mergeLora(base, adapterK, {
    r: 4,
    lora_alpha: 2,
    target_modules: ['k'],
    fan_in_fan_out: true,
    rank_pattern: { k: 2 },
  });
  const d3 = naiveDelta(A, Bm, 1); // [4,3]; transposed into [3,4]
  const exp3 = W.map((w, idx) => w + d3[idx % 4][Math.floor(idx / 4)]);
  assert.ok(maxAbsDiff(m3.get('bert.encoder.k.weight')!.data as Float32Array, exp3) < 1e-6);
});

test('mergeLora errors name what is wrong', async () => {
  const base = await readSafetensors(path.join(BERT, 'model.safetensors'));
  const adapter = await readSafetensors(path.join(LORA, 'adapter_model.safetensors'));
  assert.throws(
    () => mergeLora(base, adapter, { ...adapterConfig, target_modules: ['query', 'value', 'gate_proj'] }),
    /target module 'gate_proj' is not present/,
  );
  const noKey = new Map(base);
  noKey.delete('encoder.layer.1.attention.self.value.weight');
  assert.throws(
    () => mergeLora(noKey, adapter, adapterConfig),
    /'encoder\.layer\.1\.attention\.self\.value' has no weight/,
  );
  const half = new Map(adapter);
  half.delete('base_model.model.encoder.layer.0.attention.self.query.lora_B.weight');
  assert.throws(
    () => mergeLora(base, half, adapterConfig),
    /'encoder\.layer\.0\.attention\.self\.query' has lora_A but no lora_B/,
  );
  assert.throws(
    () => mergeLora(base, adapter, { ...adapterConfig, r: 8 }),
    /rank 4 in the weights but 8 in the config/,
  );
  assert.throws(
    () => mergeLora(base, adapter, { ...adapterConfig, target_modules: ['query'] }),
    /which target_modules \["query"\] does not name/,
  );
  assert.throws(
    () => mergeLora(base, adapter, { ...adapterConfig, peft_type: 'IA3' }),
    /adapter_config\.json: peft_type: expected "LORA" \(only LoRA adapters can be merged\), got "IA3"/,
  );
  assert.throws(
    () => mergeLora(base, adapter, { ...adapterConfig, lora_alpha: 'x' }, 'x/adapter_config.json'),
    /x\/adapter_config\.json: lora_alpha: expected a number, got "x"/,
  );
});
