// Weight-only int8 quantisation for the int8 model variant (what onnxruntime's quantize_dynamic does with
// per_channel=True, weight_type=QInt8): symmetric per output column, zero point 0. Activations are quantised at run
// time by the graph (DynamicQuantizeLinear / DynamicQuantizeMatMul).

/**
 * Quantises a row-major [rows, cols] MatMul weight (cols = output features) per column:
 * scale[c] = max |W[:, c]| / qmax, q = round(W / scale) clamped to [-qmax, qmax].
 * qmax 127 uses the full int8 range; 63 ("reduce range") avoids int16 saturation in AVX2 u8·s8 kernels.
 */
export function quantizePerColumn(
  w: Float32Array,
  rows: number,
  cols: number,
  qmax = 127,
): { q: Int8Array; scale: Float32Array } {
  if (w.length !== rows * cols) throw new Error(`quantize: ${w.length} values for [${rows}, ${cols}]`);
  const absMax = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[base + c]!);
      if (a > absMax[c]!) absMax[c] = a;
    }
  }
  const scale = new Float32Array(cols);
  const inv = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    scale[c] = absMax[c]! > 0 ? absMax[c]! / qmax : 1;
    inv[c] = 1 / scale[c]!;
  }
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      let v = Math.round(w[base + c]! * inv[c]!);
      if (v > qmax) v = qmax;
      else if (v < -qmax) v = -qmax;
      q[base + c] = v;
    }
  }
  return { q, scale };
}

/** Dequantises (for tests): W ≈ q · scale[col]. */
export function dequantizePerColumn(q: Int8Array, scale: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = q[r * cols + c]! * scale[c]!;
  return out;
}
