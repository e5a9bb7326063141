// Numeric helpers of the converter: IEEE half conversion (bit patterns from the IEEE 754 binary16 definition),
// reading F16/BF16/F64 safetensors written byte by byte here, and per-column int8 weight quantisation.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { toHalfBits, fromHalfBits } from '../../src/inference/convert/fp16';
import { quantizePerColumn, dequantizePerColumn } from '../../src/inference/convert/quantize';
import { readSafetensors } from '../../src/inference/convert';

test('float32 → binary16 bits: exact values, rounding to nearest even, overflow, subnormals, signs', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [3 * 2 ** -26, 0x0001],
    [0, 0x0000],
    [-0, 0x8000],
    [1 + 2 ** -11, 0x3c00], // tie → even (mantissa 0)
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (mantissa 2)
    [1 + 2 ** -10, 0x3c01],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ];
  for (const [x, bits] of cases)
    assert.equal(toHalfBits(x), bits, `${x} → 0x${toHalfBits(x).toString(16)}, expected 0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  // every finite half value round-trips exactly through float32
  for (let h = 0; h < 0x10000; h++) {
    const x = fromHalfBits(h);
    if (Number.isFinite(x)) assert.equal(toHalfBits(x), h);
  }
});

test('safetensors: F16, BF16 and F64 tensors are widened to float32', async () => {
  const f16 = Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x0001); // 1, -2, 0.333251953125, 2^-24
  const bf16 = Uint16Array.of(0x3f80, 0xc040, 0x4049); // 1, -3, 3.140625
  const f64 = Float64Array.of(0.1, -1e10);
  const header = {
    h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [3], data_offsets: [8, 14] },
    d: { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
  };
  const data = Buffer.alloc(32);
  Buffer.from(f16.buffer).copy(data, 0);
  Buffer.from(bf16.buffer).copy(data, 8);
  Buffer.from(f64.buffer).copy(data, 16);
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-st-')), 'x.safetensors');
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  const sd = await readSafetensors(file);
  assert.equal(sd.get('h')!.dtype, 'float16');
  assert.deepEqual(Array.from(sd.get('h')!.data as Float32Array), [1, -2, 0.333251953125, 2 ** -24]);
  assert.deepEqual(Array.from(sd.get('b')!.data as Float32Array), [1, -3, 3.140625]);
  assert.deepEqual(Array.from(sd.get('d')!.data as Float32Array), [Math.fround(0.1), -1e10]);
  assert.ok(sd.get('d')!.data instanceof Float32Array);

  header.h.dtype = 'F8_E4M3';
  const bad = Buffer.from(JSON.stringify(header));
  len.writeBigUInt64LE(BigInt(bad.length));
  fs.writeFileSync(file, Buffer.concat([len, bad, data]));
  await assert.rejects(readSafetensors(file), /x\.safetensors: tensor h has unsupported dtype "F8_E4M3"/);
});

test('per-column int8 quantisation: symmetric scale per output column, error ≤ scale/2, 7-bit option', () => {
  const rows = 5,
    cols = 3;
  const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * (1 + (i % cols)));
  w[2] = -10; // column 2's max |w|
  for (const qmax of [127, 63]) {
    const { q, scale } = quantizePerColumn(w, rows, cols, qmax);
    for (let c = 0; c < cols; c++) {
      let m = 0;
      for (let r = 0; r < rows; r++) m = Math.max(m, Math.abs(w[r * cols + c]!));
      assert.ok(Math.abs(scale[c]! - m / qmax) < 1e-7);
    }
    assert.equal(q[2], -qmax);
    assert.ok(q.every((v) => v >= -qmax && v <= qmax));
    const back = dequantizePerColumn(q, scale, rows, cols);
    for (let i = 0; i < w.length; i++)
      assert.ok(Math.abs(back[i]! - w[i]!) <= scale[i % cols]! / 2 + 1e-6, `element ${i}`);
  }
  const zeros = quantizePerColumn(new Float32Array(6), 2, 3);
  assert.deepEqual(Array.from(zeros.q), [0, 0, 0, 0, 0, 0]);
  assert.ok(zeros.scale.every((s) => s > 0));
});
