// In-memory tensors and state dicts shared by the weight readers (safetensors, PyTorch .bin), the LoRA merge
// and the ONNX converter. Floating tensors are widened to float32 on read; integer tensors keep their values.

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export interface Tensor {
  /** dtype as stored in the source file (informational; `data` is already converted). */
  dtype: DType;
  shape: number[];
  /** float32 for floating dtypes; BigInt64Array for int64; Int32Array/Int8Array/Uint8Array otherwise. */
  data: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;
}

/** Parameter name (as in the PyTorch state dict, e.g. `encoder.layer.0.attention.self.query.weight`) → tensor. */
export type StateDict = Map<string, Tensor>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
