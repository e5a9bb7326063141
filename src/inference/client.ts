// The embedder the index, the MeSH engine, the CLI and the extension use: inference runs in a worker thread
// (dist/worker.js), started on first use, spoken to through ./protocol.ts. Every request has an id and a timeout and
// gets exactly one settlement; worker errors arrive as data and are rethrown here as EmbedderError.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackendReport, EmbedProgress, Embedder, EmbedderOptions, ModelIdentity, TextKind } from './types';
import type { ErrorCode, InitParams, Method, Params, RequestMessage, Result, WorkerMessage } from './protocol';
import { modelIdentity } from './identity';
import type { LocalEmbedder } from './embedder';
import { MANIFEST_FILE } from './manifest';

export class EmbedderError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EmbedderError';
  }
}

export interface EmbedRequestOptions {
  /**
   * Supersede channel: a newer request on the same channel drops an older one that has not started yet; the
   * older promise rejects with EmbedderError code 'superseded'. Use one channel per UI surface (e.g. 'sidebar').
   */
  channel?: string;
  timeoutMs?: number;
}

interface Pending {
  method: Method;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  timeoutMs: number;
  onProgress?: (p: EmbedProgress) => void;
}

/** The worker script and the Node flags it needs. */
export function resolveWorker(workerPath?: string): { file: string; typescript: boolean } {
  if (workerPath) return { file: path.resolve(workerPath), typescript: workerPath.endsWith('.ts') };
  const js = path.join(__dirname, 'worker.js');
  if (fs.existsSync(js)) return { file: js, typescript: false };
  const ts = path.join(__dirname, 'worker.ts'); // running from src/ under tsx (tests, tools)
  if (fs.existsSync(ts)) return { file: ts, typescript: true };
  throw new EmbedderError('load', `inference worker not found: ${js} (run the build: node scripts/build.mjs)`);
}

export class WorkerEmbedder implements Embedder {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private started: Promise<{ identity: ModelIdentity; report: BackendReport }> | null = null;
  private _identity: ModelIdentity | null = null;
  private _report: BackendReport | null = null;
  private disposed = false;

  /** @internal use openEmbedder */
  constructor(private readonly opts: EmbedderOptions) {}

  /** From the manifest (read in this thread; no worker needed). */
  get identity(): ModelIdentity {
    this._identity ??= modelIdentity(this.opts.modelDir, this.opts.queryPrefix ?? false);
    return this._identity;
  }

  /** What the worker's backend chose. Before the worker has started, provider is 'not started'. */
  get report(): BackendReport {
    return (
      this._report ?? {
        provider: 'not started',
        requested: this.opts.device ?? 'auto',
        ortVersion: '',
        threads: 0,
        modelFile: '',
        precision: this.opts.precision === undefined || this.opts.precision === 'auto' ? 'fp32' : this.opts.precision,
        notes: ['the inference worker starts on first use'],
      }
    );
  }

  /** Whether the worker thread is running. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Start the worker and load the model (idempotent; a failed start is retried on the next call). */
  start(): Promise<{ identity: ModelIdentity; report: BackendReport }> {
    if (this.disposed) return Promise.reject(new EmbedderError('disposed', 'embedder is disposed'));
    if (!this.started) {
      const p: InitParams = {
        modelDir: path.resolve(this.opts.modelDir),
        device: this.opts.device ?? 'auto',
        precision: this.opts.precision ?? 'auto',
        threads: this.opts.threads,
        queryPrefix: this.opts.queryPrefix ?? false,
        maxBatchTokens: this.opts.maxBatchTokens,
        maxBatchItems: this.opts.maxBatchItems,
      };
      this.started = this.request('init', p, this.opts.initTimeoutMs ?? 120_000).then(
        (r) => {
          this._identity = r.identity;
          this._report = r.report;
          return r;
        },
        (e: Error) => {
          this.started = null;
          throw e;
        },
      );
    }
    return this.started;
  }

  async embed(
    texts: string[],
    kind: TextKind,
    onProgress?: (p: EmbedProgress) => void,
    opts: EmbedRequestOptions = {},
  ): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    await this.start();
    const r = await this.request(
      'embed',
      { texts, kind, channel: opts.channel },
      opts.timeoutMs ?? this.opts.embedTimeoutMs ?? 300_000,
      onProgress,
    );
    const out: Float32Array[] = [];
    for (let i = 0; i < r.count; i++) out.push(r.vectors.slice(i * r.dim, (i + 1) * r.dim));
    return out;
  }

  /** Round trip to the worker (starts it); `delayMs` makes the worker wait before replying. */
  ping(delayMs = 0, timeoutMs = 10_000): Promise<Result<'ping'>> {
    return this.request('ping', { delayMs }, timeoutMs);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failAll(new EmbedderError('disposed', 'embedder disposed with the request pending'));
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { file, typescript } = resolveWorker(this.opts.workerPath);
    if (!fs.existsSync(file)) throw new EmbedderError('load', `inference worker not found: ${file}`);
    // A .ts worker (development, tests) runs through tsx's require hook.
    const w = typescript
      ? new Worker(
          `const r = require('node:module').createRequire(${JSON.stringify(file)}); r('tsx/cjs'); r(${JSON.stringify(file)});`,
          { eval: true },
        )
      : new Worker(file);
    w.on('message', (m: WorkerMessage) => this.onMessage(m));
    w.on('error', (e) => this.onExit(w, `the inference worker failed: ${e.message}`));
    w.on('exit', (code) => this.onExit(w, `the inference worker exited (code ${code})`));
    w.unref();
    this.worker = w;
    return w;
  }

  private onExit(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.started = null;
    this._report = null;
    this.failAll(new EmbedderError('worker-exit', why));
  }

  private failAll(e: EmbedderError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
    this.worker?.unref();
  }

  private arm(id: number, p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (!this.pending.delete(id)) return;
      if (this.pending.size === 0) this.worker?.unref();
      p.reject(new EmbedderError('timeout', `${p.method} request ${id} timed out after ${p.timeoutMs} ms`));
      // Let the worker drop it if it has not started; its late reply (if any) is ignored.
      if (this.worker && p.method !== 'cancel')
        this.post({ type: 'request', id: this.nextId++, method: 'cancel', params: { target: id } });
    }, p.timeoutMs);
  }

  private post(msg: RequestMessage): void {
    this.ensureWorker().postMessage(msg);
  }

  private request<M extends Method>(
    method: M,
    params: Params<M>,
    timeoutMs: number,
    onProgress?: (p: EmbedProgress) => void,
  ): Promise<Result<M>> {
    if (this.disposed) return Promise.reject(new EmbedderError('disposed', 'embedder is disposed'));
    return new Promise<Result<M>>((resolve, reject) => {
      const id = this.nextId++;
      const p: Pending = { method, resolve: resolve as (v: unknown) => void, reject, timeoutMs, onProgress };
      let w: Worker;
      try {
        w = this.ensureWorker();
      } catch (e) {
        reject(e as Error);
        return;
      }
      this.pending.set(id, p);
      this.arm(id, p);
      w.ref();
      w.postMessage({ type: 'request', id, method, params } as RequestMessage);
    });
  }

  private onMessage(m: WorkerMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return; // settled already (timeout) or a cancel's reply
    if (m.type === 'progress') {
      this.arm(m.id, p);
      try {
        p.onProgress?.(m.progress);
      } catch {
        // a throwing progress callback must not break the protocol
      }
      return;
    }
    this.pending.delete(m.id);
    if (p.timer) clearTimeout(p.timer);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.ok) p.resolve(m.result);
    else {
      const e = new EmbedderError(m.error.code, m.error.message);
      if (m.error.stack) e.stack = `${e.name}: ${e.message}\n(worker) ${m.error.stack}`;
      p.reject(e);
    }
  }
}

/**
 * The one way to open a model folder as an Embedder: in a worker thread (default; started now unless `lazy`), or in
 * this thread with `inProcess`. A folder without manifest.json is refused with how to make a model (exit code 4).
 */
export async function openEmbedder(opts: EmbedderOptions & { inProcess: true }): Promise<LocalEmbedder>;
export async function openEmbedder(opts: EmbedderOptions & { inProcess?: false }): Promise<WorkerEmbedder>;
export async function openEmbedder(opts: EmbedderOptions): Promise<LocalEmbedder | WorkerEmbedder>;
export async function openEmbedder(opts: EmbedderOptions): Promise<LocalEmbedder | WorkerEmbedder> {
  if (!fs.existsSync(path.join(opts.modelDir, MANIFEST_FILE))) {
    throw Object.assign(
      new Error(
        `${opts.modelDir}: no model there (no ${MANIFEST_FILE}); make one with \`biohicl model fetch\` or \`biohicl model generate\``,
      ),
      { exitCode: 4 },
    );
  }
  if (opts.inProcess) {
    const { LocalEmbedder } = await import('./embedder');
    return LocalEmbedder.load(opts);
  }
  const e = new WorkerEmbedder(opts);
  if (!opts.lazy) {
    try {
      await e.start();
    } catch (err) {
      await e.dispose();
      throw err;
    }
  }
  return e;
}
