import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { readTorchBin, UnsafePickleError } from '../../src/inference/convert/pickle';
import type { StateDict, Tensor } from '../../src/inference/convert/tensor';

const FIX = path.join(__dirname, '..', 'fixtures', 'tiny-bert');

/** Independent minimal safetensors parse (header + raw little-endian), so this test does not lean on the converter. */
function readSafetensorsPlain(file: string): StateDict {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n)) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: StateDict = new Map();
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const raw = buf.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]);
    const copy = new Uint8Array(raw).buffer;
    if (v.dtype === 'F32') out.set(k, { dtype: 'float32', shape: v.shape, data: new Float32Array(copy) });
    else if (v.dtype === 'I64') out.set(k, { dtype: 'int64', shape: v.shape, data: new BigInt64Array(copy) });
    else throw new Error(`unexpected dtype ${v.dtype}`);
  }
  return out;
}

test('readTorchBin: the torch.save fixture holds exactly the safetensors tensors (views, offsets, int64 included)', () => {
  const bin = readTorchBin(path.join(FIX, 'pytorch_model.bin'));
  const st = readSafetensorsPlain(path.join(FIX, 'model.safetensors'));
  assert.deepEqual([...bin.keys()].sort(), [...st.keys()].sort());
  for (const [k, a] of st) {
    const b = bin.get(k) as Tensor;
    assert.deepEqual(b.shape, a.shape, k);
    assert.equal(b.dtype, a.dtype, k);
    assert.equal(b.data.constructor, a.data.constructor, k);
    assert.deepEqual(b.data, a.data, k);
  }
  // The fixture stores this weight as a transposed view and these biases in one storage at an offset.
  assert.ok(bin.has('encoder.layer.0.attention.self.query.weight'));
  assert.notDeepEqual(
    bin.get('encoder.layer.1.attention.self.key.bias')!.data,
    bin.get('encoder.layer.1.attention.self.value.bias')!.data,
  );
});

test('readTorchBin: every storage dtype, parameters, permuted and strided views', () => {
  const sd = readTorchBin(path.join(FIX, 'pickle', 'dtypes.bin'));
  const expected = JSON.parse(fs.readFileSync(path.join(FIX, 'pickle', 'dtypes.json'), 'utf8')) as Record<
    string,
    { shape: number[]; values: unknown[]; dtype: string }
  >;
  const dtypeName: Record<string, string> = {
    float32: 'float32',
    float16: 'float16',
    bfloat16: 'bfloat16',
    float64: 'float64',
    int64: 'int64',
    int32: 'int32',
    int8: 'int8',
    uint8: 'uint8',
    bool: 'bool',
  };
  for (const [k, e] of Object.entries(expected)) {
    const t = sd.get(k);
    assert.ok(t, `missing ${k}`);
    assert.deepEqual(t.shape, e.shape, k);
    assert.equal(t.dtype, dtypeName[e.dtype], k);
    if (t.data instanceof Float32Array) {
      assert.equal(t.data.length, e.values.length, k);
      // float64 narrows to float32; others are exact in float32.
      const tol = e.dtype === 'float64' ? 1e-6 : 0;
      t.data.forEach((v, i) =>
        assert.ok(Math.abs(v - (e.values[i] as number)) <= tol * Math.abs(v), `${k}[${i}] ${v} vs ${e.values[i]}`),
      );
    } else if (t.data instanceof BigInt64Array) {
      assert.deepEqual([...t.data].map(String), e.values, k);
    } else if (e.dtype === 'bool') {
      assert.deepEqual([...t.data].map(Boolean), e.values, k);
    } else {
      assert.deepEqual([...t.data], e.values, k);
    }
  }
});

test('readTorchBin refuses a pickle that would call os.system, naming the global and the file', () => {
  const file = path.join(FIX, 'pickle', 'malicious-os-system.bin');
  assert.throws(
    () => readTorchBin(file),
    (err: Error) => {
      assert.ok(err instanceof UnsafePickleError, String(err));
      assert.match(err.message, /GLOBAL 'posix\.system' is not allowed/);
      assert.ok(err.message.includes(file), err.message);
      return true;
    },
  );
});

test('readTorchBin refuses builtins.eval and unknown opcodes', () => {
  assert.throws(
    () => readTorchBin(path.join(FIX, 'pickle', 'malicious-eval.bin')),
    /GLOBAL 'builtins\.eval' is not allowed/,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-pickle-'));
  try {
    // INST opcode (protocol 0 class instantiation) and an allowed-looking STACK_GLOBAL of subprocess.Popen.
    const inst = Buffer.concat([Buffer.from([0x80, 0x02, 0x28]), Buffer.from('iposix\nsystem\n'), Buffer.from('.')]);
    const stackGlobal = Buffer.concat([
      Buffer.from([0x80, 0x04, 0x8c, 10]),
      Buffer.from('subprocess'),
      Buffer.from([0x8c, 5]),
      Buffer.from('Popen'),
      Buffer.from([0x93, 0x2e]),
    ]);
    for (const [name, pkl, re] of [
      ['inst', inst, /opcode INST \(0x69\) is not allowed/],
      ['sg', stackGlobal, /GLOBAL 'subprocess\.Popen' is not allowed/],
    ] as const) {
      const f = path.join(dir, `${name}.bin`);
      fs.writeFileSync(f, zipSync({ 'archive/data.pkl': [new Uint8Array(pkl), { level: 0 }] }));
      assert.throws(() => readTorchBin(f), re);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readTorchBin explains the legacy (non-zip) format and non-checkpoints', () => {
  assert.throws(
    () => readTorchBin(path.join(FIX, 'pickle', 'legacy.bin')),
    /legacy \(pre-1\.6, non-zip\) serialization/,
  );
  assert.throws(() => readTorchBin(path.join(FIX, 'config.json')), /not a PyTorch zip checkpoint/);
});

test('readTorchBin: the same checkpoint re-zipped with deflate reads the same tensors (bounded, step-wise inflate)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-pickle-'));
  try {
    const entries = unzipSync(fs.readFileSync(path.join(FIX, 'pytorch_model.bin')));
    const f = path.join(dir, 'deflated.bin');
    fs.writeFileSync(f, zipSync(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [v, { level: 6 }]]))));
    assert.ok(fs.statSync(f).size < fs.statSync(path.join(FIX, 'pytorch_model.bin')).size);
    const a = readTorchBin(path.join(FIX, 'pytorch_model.bin'));
    const b = readTorchBin(f);
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, k);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readTorchBin refuses a storage whose zip entry is shorter or longer than the pickle declares, before reading it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-pickle-'));
  try {
    const entries = unzipSync(fs.readFileSync(path.join(FIX, 'pytorch_model.bin')));
    const key = Object.keys(entries).find((k) => k.endsWith('/data/1'))!;
    for (const [name, data] of [
      ['short', entries[key]!.subarray(4)],
      ['long', Buffer.concat([entries[key]!, Buffer.alloc(1 << 20)])],
    ] as const) {
      const f = path.join(dir, `${name}.bin`);
      fs.writeFileSync(
        f,
        zipSync({
          ...Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [v, { level: 0 }]])),
          [key]: [new Uint8Array(data), { level: 0 }],
        }),
      );
      assert.throws(
        () => readTorchBin(f),
        (e: Error) => {
          assert.ok(
            e.message.includes(f) &&
              e.message.includes(`zip entry '${key}'`) &&
              /storage of tensor '[\w.]+'\) declares \d+ bytes, but the pickle declares/.test(e.message),
            e.message,
          );
          return true;
        },
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
