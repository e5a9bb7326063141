// In-memory tensors and state dicts shared by the weight readers (safetensors, PyTorch .bin), the LoRA merge
// and the ONNX converter. Floating tensors are widened to float32 on read; integer tensors keep their values.
import { constants as bufferConstants } from 'node:buffer';

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

/**
 * A weights file that declares more data than it can hold or than is sane (a zip bomb, a safetensors header whose
 * offsets run past the file): refused before anything of that size is allocated. The message names the file and
 * the tensor or zip entry.
 */
export class ModelBoundsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelBoundsError';
  }
}

/** Largest Buffer/typed-array byte length this Node allows (4 GiB on Node 20). */
export const MAX_BUFFER_BYTES: number = bufferConstants.MAX_LENGTH;
