// Types shared by the inference engine, the index, the MeSH engine, the CLI and the extension.
// The only runtime code here is the schema of ModelIdentity (it is read back from index and release files), and
// there is no `vscode` import anywhere under src/inference or src/index.
import * as v from 'valibot';
import { positiveInt } from '../util/json';

export type Device = 'auto' | 'cuda' | 'dml' | 'cpu';
export type Precision = 'auto' | 'fp32' | 'int8' | 'fp16';
export type TextKind = 'query' | 'passage';

/** What the backend chose, reported to the user (CLI output, sidebar, log). */
export interface BackendReport {
  provider: string; // e.g. 'cpu', 'cuda', 'dml'
  requested: Device;
  fallbackReason?: string; // set when a requested provider could not be used
  ortVersion: string;
  threads: number;
  modelFile: string; // absolute path of the .onnx file in use
  precision: Exclude<Precision, 'auto'>;
  notes?: string[]; // informational (e.g. 'auto' found no GPU provider; a precision file was missing)
}

/** The identity of the model that made a set of vectors (recorded in an index, checked on open). */
export const ModelIdentitySchema = v.object({
  /** source repo, e.g. 'LunaLan07/BioHiCL-Base' or 'generated:base' */
  repo: v.string(),
  revision: v.string(),
  /** sha256 of manifest.json */
  manifestHash: v.string(),
  dim: positiveInt,
  pooling: v.literal('cls'),
  /** whether the bge query prefix is applied to queries */
  queryPrefix: v.boolean(),
  /** true when the weights are random (no ranking meaning) */
  generated: v.boolean(),
});
export type ModelIdentity = v.InferOutput<typeof ModelIdentitySchema>;

/** How to open a model folder as an Embedder: the one options type of openEmbedder (./client). */
export interface EmbedderOptions {
  /** A converted model folder (manifest.json, tokenizer, ONNX files). */
  modelDir: string;
  device?: Device;
  precision?: Precision;
  threads?: number;
  /** Prefix queries (kind 'query') with the bge instruction. Default false. */
  queryPrefix?: boolean;
  /** Upper bound on padded tokens (batch × longest) per session run. Default 4096. */
  maxBatchTokens?: number;
  /** Upper bound on texts per session run. Default 32. */
  maxBatchItems?: number;
  /** Run onnxruntime in this thread (the CLI, tools) instead of a worker thread (the extension). Default false. */
  inProcess?: boolean;
  /** Worker: do not start it now (it starts on the first embed). Default false: load now so errors surface here. */
  lazy?: boolean;
  /** Worker: the worker script; default `worker.js` beside this bundle (a `.ts` path runs under tsx). */
  workerPath?: string;
  /** Worker: timeout for loading the model (ms, default 120 000). */
  initTimeoutMs?: number;
  /** Worker: default timeout of an embed request (ms, default 300 000); each progress message restarts it. */
  embedTimeoutMs?: number;
}

export interface EmbedProgress {
  done: number;
  total: number;
  tokens: number;
}

/** The one interface the index, MeSH engine and extension use to get vectors. */
export interface Embedder {
  readonly identity: ModelIdentity;
  readonly report: BackendReport;
  embed(texts: string[], kind: TextKind, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}
