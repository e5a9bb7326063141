// Public API of the inference engine. Importing this module does not load onnxruntime: openEmbedder's worker loads
// it in its worker thread; an in-process embedder (inProcess) loads it on use.
export type {
  BackendReport,
  Device,
  EmbedProgress,
  Embedder,
  EmbedderOptions,
  ModelIdentity,
  Precision,
  TextKind,
} from './types';
export { openEmbedder, EmbedderError, resolveWorker, type WorkerEmbedder } from './client';
export type { EmbedRequestOptions } from './client';
export { modelIdentity, BGE_QUERY_PREFIX } from './identity';
export { splitSentences } from './sentences';
export type { Sentence } from './sentences';
export { WordPieceTokenizer } from './tokenizer';
export type { ErrorCode } from './protocol';
