// Public API of the inference engine. Importing this module does not load onnxruntime: the worker-backed embedder
// (createEmbedder / WorkerEmbedder) loads it in its worker thread; LocalEmbedder and the backend load it on use.
export type { BackendReport, Device, EmbedProgress, Embedder, ModelIdentity, Precision, TextKind } from './types';
export { createEmbedder, WorkerEmbedder, EmbedderError, resolveWorker } from './client';
export type { CreateEmbedderOptions, WorkerEmbedderOptions, EmbedRequestOptions } from './client';
export { modelIdentity, BGE_QUERY_PREFIX } from './identity';
export { splitSentences } from './sentences';
export type { Sentence } from './sentences';
export { WordPieceTokenizer } from './tokenizer';
export type { ErrorCode } from './protocol';
