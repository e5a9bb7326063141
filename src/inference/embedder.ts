// In-process embedder (runs inside the inference worker, or in-process for tools): tokenise, bucket by length,
// run onnxruntime, CLS-pool, L2-normalise. The bge query prefix is added to queries when the setting is on.
import type { BackendReport, EmbedProgress, Embedder, EmbedderOptions, ModelIdentity, TextKind } from './types';
import * as path from 'node:path';
import { createSession, runBatch, releaseSession, type Backend } from './backend';
import { readManifest, supportFiles, verifyModelFiles, type VerifyResult } from './manifest';
import { WordPieceTokenizer } from './tokenizer';
import { modelIdentity } from './identity';

import { BGE_QUERY_PREFIX } from './identity';
export { BGE_QUERY_PREFIX };

export { modelIdentity };

/**
 * Group sequence indices into batches: sorted by length so that each batch pads little, each batch holding at most
 * `maxItems` texts and `maxTokens` padded tokens (a single text longer than maxTokens forms its own batch).
 */
export function planBatches(lengths: readonly number[], maxTokens: number, maxItems: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const len = lengths[i]!; // ascending, so this is the batch's longest
    if (cur.length && (cur.length + 1 > maxItems || (cur.length + 1) * len > maxTokens)) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length) batches.push(cur);
  return batches;
}

export class LocalEmbedder implements Embedder {
  private disposed = false;

  private constructor(
    private readonly backend: Backend,
    readonly tokenizer: WordPieceTokenizer,
    readonly identity: ModelIdentity,
    private readonly opts: Required<Pick<EmbedderOptions, 'queryPrefix' | 'maxBatchTokens' | 'maxBatchItems'>>,
    /** Which model files this load hashed in full and which it accepted from the verification cache. */
    readonly integrity: VerifyResult,
  ) {}

  get report(): BackendReport {
    return this.backend.report;
  }

  /**
   * Loads a model folder in this thread: what openEmbedder (./client, the public entry point) does with `inProcess`,
   * and what the worker does. Every file it reads (config and tokenizer files first, then the ONNX file the backend
   * picks) is checked against manifest.json's hashes (./manifest.ts verifyModelFiles: a full hash the first time, a
   * stat afterwards); a file that differs is refused with a ModelIntegrityError naming it (exit code 4 in the CLI).
   * @internal use openEmbedder
   */
  static async load(opts: EmbedderOptions): Promise<LocalEmbedder> {
    const { modelDir } = opts;
    const queryPrefix = opts.queryPrefix ?? false;
    const manifest = readManifest(modelDir);
    const identity = modelIdentity(modelDir, queryPrefix);
    const integrity: VerifyResult = { hashed: [], cached: [] };
    const check = async (files: string[]): Promise<void> => {
      const r = await verifyModelFiles(modelDir, files, manifest);
      integrity.hashed.push(...r.hashed);
      integrity.cached.push(...r.cached);
    };
    await check(supportFiles(manifest));
    const tokenizer = WordPieceTokenizer.load(modelDir);
    const root = path.resolve(modelDir);
    const backend = await createSession(modelDir, {
      device: opts.device ?? 'auto',
      precision: opts.precision ?? 'auto',
      threads: opts.threads,
      verifyFile: (file) => check([path.relative(root, file).split(path.sep).join('/')]),
    });
    return new LocalEmbedder(
      backend,
      tokenizer,
      identity,
      {
        queryPrefix,
        maxBatchTokens: opts.maxBatchTokens ?? 4096,
        maxBatchItems: opts.maxBatchItems ?? 32,
      },
      integrity,
    );
  }

  /** The text actually tokenised for `kind` (with the query prefix when on). */
  prepare(text: string, kind: TextKind): string {
    return kind === 'query' && this.opts.queryPrefix ? BGE_QUERY_PREFIX + text : text;
  }

  async embed(
    texts: string[],
    kind: TextKind,
    onProgress?: (p: EmbedProgress) => void,
    shouldStop?: () => boolean,
  ): Promise<Float32Array[]> {
    if (this.disposed) throw new Error('embedder is disposed');
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string'))
      throw new Error('embed: texts must be an array of strings');
    if (kind !== 'query' && kind !== 'passage')
      throw new Error(`embed: kind must be 'query' or 'passage', got ${JSON.stringify(kind)}`);
    const seqs = texts.map((t) => this.tokenizer.encode(this.prepare(t, kind)));
    const out: Float32Array[] = new Array(texts.length);
    const batches = planBatches(
      seqs.map((s) => s.length),
      this.opts.maxBatchTokens,
      this.opts.maxBatchItems,
    );
    let done = 0;
    let tokens = 0;
    for (const idx of batches) {
      if (shouldStop?.()) throw new Error('embed: stopped');
      const b = this.tokenizer.pad(idx.map((i) => seqs[i]!));
      const h = await runBatch(this.backend.session, b);
      const [, seq, dim] = h.dims;
      for (let k = 0; k < idx.length; k++) {
        const v = h.data.slice(k * seq * dim, k * seq * dim + dim); // [CLS] is position 0
        let n = 0;
        for (let j = 0; j < dim; j++) n += v[j]! * v[j]!;
        n = Math.sqrt(n) || 1;
        for (let j = 0; j < dim; j++) v[j] = v[j]! / n;
        out[idx[k]!] = v;
      }
      done += idx.length;
      tokens += b.tokens;
      onProgress?.({ done, total: texts.length, tokens });
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await releaseSession(this.backend.session);
  }
}
