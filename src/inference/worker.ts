// Inference worker (worker_threads entry, bundled to dist/worker.js). Owns the onnxruntime session through
// LocalEmbedder, serves the protocol in ./protocol.ts: one embed at a time in arrival order, exactly one response per
// request id, errors as data, progress messages for batches, superseding of stale queued requests per channel.
import { parentPort } from 'node:worker_threads';
import { LocalEmbedder } from './embedder';
import type {
  EmbedParams,
  ErrorCode,
  InitParams,
  Method,
  RequestMessage,
  ResponseMessage,
  Result,
  WireError,
  WorkerMessage,
} from './protocol';
import { errorText } from '../util/errors';

interface Queued {
  id: number;
  params: EmbedParams;
}

const port = parentPort;
let embedder: LocalEmbedder | null = null;
let initKey = '';
let initializing: Promise<LocalEmbedder> | null = null;
const queue: Queued[] = [];
let running = false;

class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function reply<M extends Method>(id: number, result: Result<M>, transfer: ArrayBuffer[] = []): void {
  const msg: ResponseMessage = { type: 'response', id, ok: true, result };
  post(msg, transfer);
}

function fail(id: number, e: unknown, code: ErrorCode = 'internal'): void {
  const err: WireError =
    e instanceof CodedError
      ? { code: e.code, message: e.message }
      : { code, message: errorText(e), stack: e instanceof Error ? e.stack : undefined };
  post({ type: 'response', id, ok: false, error: err });
}

async function init(p: InitParams): Promise<LocalEmbedder> {
  if (!p || typeof p.modelDir !== 'string' || !p.modelDir)
    throw new CodedError('bad-request', 'init: modelDir must be a non-empty string');
  const key = JSON.stringify(p);
  if (embedder && key === initKey) return embedder;
  if (initializing && key === initKey) return initializing;
  const old = embedder;
  embedder = null;
  initKey = key;
  initializing = (async () => {
    if (old) await old.dispose();
    try {
      return await LocalEmbedder.load(p);
    } catch (e) {
      throw new CodedError('load', errorText(e));
    }
  })();
  try {
    embedder = await initializing;
    return embedder;
  } catch (e) {
    initKey = '';
    throw e;
  } finally {
    initializing = null;
  }
}

async function current(): Promise<LocalEmbedder> {
  if (embedder) return embedder;
  if (initializing) return initializing;
  throw new CodedError('not-initialized', 'the worker has no model: send init first');
}

async function runEmbed(q: Queued): Promise<void> {
  const e = await current();
  const vecs = await e.embed(q.params.texts, q.params.kind, (progress) =>
    post({ type: 'progress', id: q.id, progress }),
  );
  const dim = e.identity.dim;
  const flat = new Float32Array(vecs.length * dim);
  vecs.forEach((v, i) => flat.set(v, i * dim));
  reply<'embed'>(q.id, { vectors: flat, dim, count: vecs.length }, [flat.buffer]);
}

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let q = queue.shift(); q; q = queue.shift()) {
      try {
        await runEmbed(q);
      } catch (e) {
        fail(q.id, e);
      }
    }
  } finally {
    running = false;
  }
}

function validateEmbed(p: EmbedParams): void {
  if (!p || !Array.isArray(p.texts) || p.texts.some((t) => typeof t !== 'string')) {
    throw new CodedError('bad-request', 'embed: texts must be an array of strings');
  }
  if (p.kind !== 'query' && p.kind !== 'passage')
    throw new CodedError('bad-request', `embed: kind must be 'query' or 'passage', got ${JSON.stringify(p.kind)}`);
  if (p.channel !== undefined && typeof p.channel !== 'string')
    throw new CodedError('bad-request', 'embed: channel must be a string');
}

function handle(msg: RequestMessage): void {
  switch (msg.method) {
    case 'init':
      init(msg.params).then(
        (e) => reply<'init'>(msg.id, { identity: e.identity, report: e.report }),
        (e) => fail(msg.id, e, 'load'),
      );
      return;
    case 'embed': {
      try {
        validateEmbed(msg.params);
      } catch (e) {
        fail(msg.id, e, 'bad-request');
        return;
      }
      const ch = msg.params.channel;
      if (ch !== undefined) {
        for (let i = queue.length - 1; i >= 0; i--) {
          const q = queue[i]!;
          if (q.params.channel === ch) {
            queue.splice(i, 1);
            fail(q.id, new CodedError('superseded', `superseded by a newer request on channel "${ch}"`));
          }
        }
      }
      queue.push({ id: msg.id, params: msg.params });
      void pump();
      return;
    }
    case 'ping': {
      const delay = Math.max(0, Number(msg.params?.delayMs) || 0);
      setTimeout(() => reply<'ping'>(msg.id, { pong: true, pid: process.pid }), delay);
      return;
    }
    case 'cancel': {
      const i = queue.findIndex((q) => q.id === msg.params.target);
      if (i >= 0) {
        const [q] = queue.splice(i, 1);
        fail(q!.id, new CodedError('cancelled', 'cancelled by the client before it started'));
      }
      reply<'cancel'>(msg.id, { cancelled: i >= 0 });
      return;
    }
    default: {
      const m = msg as { id?: unknown; method?: unknown };
      if (typeof m.id === 'number')
        fail(m.id, new CodedError('bad-request', `unknown method ${JSON.stringify(m.method)}`));
    }
  }
}

if (port) {
  port.on('message', (msg: RequestMessage) => {
    if (!msg || msg.type !== 'request' || typeof msg.id !== 'number') return;
    try {
      handle(msg);
    } catch (e) {
      fail(msg.id, e);
    }
  });
} else if (require.main === module) {
  process.stderr.write('worker.js is the BioHiCL inference worker; it runs inside a worker thread, not on its own\n');
  process.exitCode = 2;
}
