// The message protocol between the inference client (main thread / extension host) and the inference worker.
// Type-only: no runtime code. Every request carries an id; the worker sends exactly one `response` per request id
// (possibly preceded by `progress` messages). Errors travel as data and are rethrown as Error by the client.
import type { BackendReport, EmbedProgress, EmbedderOptions, ModelIdentity, TextKind } from './types';

/** What the worker loads: the model-side part of EmbedderOptions (the worker's own options stay in the client). */
export type InitParams = Required<Pick<EmbedderOptions, 'modelDir' | 'device' | 'precision' | 'queryPrefix'>> &
  Pick<EmbedderOptions, 'threads' | 'maxBatchTokens' | 'maxBatchItems'>;

export interface EmbedParams {
  texts: string[];
  kind: TextKind;
  /**
   * Supersede channel: a newer request on the same channel makes the worker drop an older one that has not
   * started yet (it is answered with error code 'superseded' without running).
   */
  channel?: string;
}

/** Method name → params and result. */
export interface RequestMap {
  init: { params: InitParams; result: { identity: ModelIdentity; report: BackendReport } };
  /** vectors: all embeddings concatenated, row-major [texts.length, dim] (its buffer is transferred). */
  embed: { params: EmbedParams; result: { vectors: Float32Array; dim: number; count: number } };
  /** Health check; `delayMs` holds the reply that long (used to test timeouts without a slow model). */
  ping: { params: { delayMs?: number }; result: { pong: true; pid: number } };
  /** Ask the worker to drop a queued request (the client gave up on it: timeout). */
  cancel: { params: { target: number }; result: { cancelled: boolean } };
}

export type Method = keyof RequestMap;
export type Params<M extends Method> = RequestMap[M]['params'];
export type Result<M extends Method> = RequestMap[M]['result'];

export type ErrorCode =
  | 'superseded' // a newer request on the same channel replaced this one before it started
  | 'cancelled' // the client cancelled it (after a timeout) before it started
  | 'timeout' // client side: no reply within the request's timeout
  | 'not-initialized' // embed before a successful init
  | 'load' // the model could not be loaded (missing file, bad manifest, onnxruntime error)
  | 'bad-request' // malformed parameters
  | 'internal' // anything else thrown while serving the request
  | 'worker-exit' // client side: the worker died or was disposed with the request pending
  | 'disposed'; // client side: request after dispose()

export interface WireError {
  code: ErrorCode;
  message: string;
  stack?: string;
}

export type RequestMessage = { [M in Method]: { type: 'request'; id: number; method: M; params: Params<M> } }[Method];

export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; result: Result<Method> }
  | { type: 'response'; id: number; ok: false; error: WireError };

export interface ProgressMessage {
  type: 'progress';
  id: number;
  progress: EmbedProgress;
}

export type WorkerMessage = ResponseMessage | ProgressMessage;
