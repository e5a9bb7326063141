// Public API of the weights → ONNX converter (no onnxruntime import here: only src/inference/backend.ts has one).
export { convertModel, MODEL_FILES } from './convert';
export type { ConvertOptions, ConvertPrecision, ConvertProgress } from './convert';
export {
  generateModel,
  randomBertStateDict,
  bertConfigJson,
  bundledTokenizerDir,
  SHAPES,
  TOKENIZER_FILES,
} from './generate';
export type { GenerateOptions, GeneratedShape } from './generate';
export { readSafetensors, readSafetensorsWithMetadata, writeSafetensors } from './safetensors';
export { buildBertGraph, parseBertConfig } from './graph';
export type { BertConfig, GraphOptions, GraphPrecision } from './graph';
export { writeOnnxModel, readOnnxModel } from './onnx-proto';
export type { OnnxModel, WriteResult } from './onnx-proto';
export type { Tensor, StateDict, DType } from './tensor';
export { readManifest, manifestHash, verifyManifestOutputs, sha256File } from '../manifest';
export type { Manifest } from '../manifest';
