// The project's one downloader: URL → file over HTTPS (plain http only for loopback hosts: tests, local mirrors),
// redirects checked before they are followed, resumable through HTTP Range into `<file>.partial`, retries that resume
// where the connection dropped, a stall timeout, an expected-hash check while the bytes are written (src/util/hash.ts),
// an optional content check that also sees the bytes as they arrive (e.g. "is this really gzip"), progress with
// bytes/total/rate, an AbortSignal, and an atomic rename on success. A hash mismatch or a failed content check deletes
// the partial and names the file. Users: model weights (src/inference/hub.ts), the CUDA provider package
// (src/inference/gpu.ts), PubMed files from NLM (src/pubmed/fetch.ts).
//
// Built on node:http/https rather than fetch(): a ConnectionPool caps the sockets per host exactly (NLM asks for at
// most 3 connections), and each redirect target is checked before any request goes to it.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { newHash, type HashAlgorithm } from '../util/hash';
import { errorText } from '../util/errors';

export interface DownloadProgress {
  /** The name used in messages (DownloadOptions.label). */
  label: string;
  /** Bytes of the file so far, a resumed partial included. */
  bytes: number;
  /** Total bytes when the server said, else undefined. */
  total?: number;
  /** Bytes per second since this attempt's transfer started. */
  rate: number;
  /** Bytes received over the network by this call so far (all attempts). */
  received: number;
}

/** Sees every byte of the file in order (a resumed partial first); throws to reject the content. */
export interface ContentCheck {
  update(chunk: Buffer): void | Promise<void>;
  /** Called once after the last byte; throws (an Error whose message says what is wrong) to reject the file. */
  finish(): Promise<void>;
}

export interface DownloadOptions {
  /** Name in messages and progress (default: the destination's file name). */
  label?: string;
  /** Hash algorithm computed over the file (default sha256, or md5/sha512). */
  algo?: HashAlgorithm;
  /** Expected hex digest of `algo`; a mismatch deletes the partial and throws HashMismatchError. */
  expected?: string | null;
  /** A fresh content check per attempt (fed the resumed partial first); a rejection deletes the partial. */
  check?: () => ContentCheck;
  /** Attempts after a dropped/stalled connection or a 5xx answer (each resumes with Range). Default 3. */
  retries?: number;
  retryDelayMs?: number;
  /** A connection that sends nothing for this long is dropped (and retried). Default 60 s. */
  stallTimeoutMs?: number;
  /** Sockets to use (caps connections per host). Default: Node's global agents. */
  pool?: ConnectionPool;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Log lines: resumed at, retrying, server ignored the range. */
  onLog?: (line: string) => void;
  /** fsync the file before the rename (default true: a verified file survives a power cut as what was verified). */
  fsync?: boolean;
}

export interface DownloadResult {
  /** Hex digest (`algo`) of the whole file. */
  digest: string;
  algo: HashAlgorithm;
  bytes: number;
  /** Bytes taken from an earlier partial instead of downloaded in the last attempt. */
  resumedFrom: number;
  /** Bytes received over the network by this call (all attempts). */
  received: number;
  /** The URL the bytes finally came from (after redirects). */
  url: string;
  /** The last response's headers. */
  headers: http.IncomingHttpHeaders;
  attempts: number;
}

export type DownloadErrorKind = 'not-found' | 'http' | 'network' | 'incomplete' | 'cancelled' | 'refused';

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly kind: DownloadErrorKind,
    readonly url: string,
    readonly label: string,
    /** HTTP status for not-found/http. */
    readonly status?: number,
    /** Bytes of the file on disk when it stopped (network, incomplete, cancelled). */
    readonly bytes?: number,
    /** The underlying error's message (network). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export class HashMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    readonly algo: HashAlgorithm = 'sha256',
  ) {
    super(`${file}: ${algo} mismatch: expected ${expected}, got ${actual}; the partial download was deleted`);
    this.name = 'HashMismatchError';
  }
}

/** The content check rejected the file (message: `<label>: <why>; the partial download was deleted`). */
export class ContentError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}; the partial download was deleted`);
    this.name = 'ContentError';
  }
}

/** Keep-alive agents for http and https that never open more than `maxSockets` connections per host. */
export class ConnectionPool {
  readonly http: http.Agent;
  readonly https: https.Agent;
  constructor(readonly maxSockets: number) {
    const o = {
      keepAlive: true,
      maxSockets,
      maxTotalSockets: maxSockets,
      maxFreeSockets: maxSockets,
      scheduling: 'lifo' as const,
    };
    this.http = new http.Agent(o);
    this.https = new https.Agent(o);
  }
  agentFor(u: URL): http.Agent {
    return u.protocol === 'https:' ? this.https : this.http;
  }
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** HTTPS everywhere; plain http only to a loopback host. Throws naming `what`. */
export function assertAllowedUrl(u: URL, what: string): void {
  if (u.protocol === 'https:') return;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return;
  throw new DownloadError(
    `${what}: refusing ${u.protocol}//${u.host} (downloads must use HTTPS)`,
    'refused',
    u.href,
    what,
  );
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

class NetworkError extends Error {}

interface Opened {
  res: http.IncomingMessage;
  url: URL;
  req: http.ClientRequest;
}

/** One GET, following redirects (each target checked first). Rejects with NetworkError on socket problems. */
async function open(
  start: URL,
  label: string,
  o: { headers?: Record<string, string>; signal?: AbortSignal; pool?: ConnectionPool; stallTimeoutMs?: number },
): Promise<Opened> {
  let url = start;
  for (let hop = 0; ; hop++) {
    assertAllowedUrl(url, label);
    const lib = url.protocol === 'https:' ? https : http;
    const opened = await new Promise<Opened>((resolve, reject) => {
      const req = lib.get(url, {
        headers: { 'user-agent': 'biohicl-writer', ...o.headers },
        agent: o.pool?.agentFor(url),
        signal: o.signal,
      });
      req.setTimeout(o.stallTimeoutMs ?? 60_000, () =>
        req.destroy(new Error(`no data for ${Math.round((o.stallTimeoutMs ?? 60_000) / 1000)} s`)),
      );
      req.once('response', (res) => {
        req.on('error', () => {
          /* after the response, errors surface on the body stream */
        });
        resolve({ res, url, req });
      });
      req.once('error', (e) => reject(o.signal?.aborted ? e : new NetworkError(e.message)));
    });
    const { res } = opened;
    if (!REDIRECT.has(res.statusCode ?? 0) || !res.headers.location) return opened;
    discard(res);
    if (hop >= MAX_REDIRECTS)
      throw new DownloadError(
        `${label}: more than ${MAX_REDIRECTS} redirects from ${start.href}`,
        'http',
        start.href,
        label,
        res.statusCode,
      );
    url = new URL(res.headers.location, url);
  }
}

/** Drop a response body we do not read (so the socket can be reused or closed). */
function discard(res: http.IncomingMessage): void {
  res.resume();
  res.on('error', () => {
    /* ignored: the body is not wanted */
  });
}

async function feedFile(file: string, sinks: ((c: Buffer) => void | Promise<void>)[]): Promise<number> {
  let n = 0;
  for await (const c of fs.createReadStream(file, { highWaterMark: 1 << 22 })) {
    const b = c as Buffer;
    n += b.length;
    for (const s of sinks) await s(b);
  }
  return n;
}

/**
 * GETs `url` into `dest`: resumes `${dest}.partial` with a Range request when it exists, retries a dropped
 * connection from where it stopped, verifies `expected` and the content check, then renames the partial to `dest`.
 * Throws DownloadError (kind 'not-found' on 404), HashMismatchError or ContentError; a cancelled or failed transfer
 * keeps its partial for the next call to resume.
 */
export async function download(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const label = opts.label ?? path.basename(dest);
  const algo = opts.algo ?? 'sha256';
  const partial = `${dest}.partial`;
  const retries = opts.retries ?? 3;
  const delay = opts.retryDelayMs ?? 1000;
  const start = new URL(url);
  assertAllowedUrl(start, label);
  let received = 0;
  let restarted = false;
  const cancelled = (bytes: number): DownloadError =>
    new DownloadError(
      `${label}: download cancelled${bytes ? ` at ${bytes} bytes` : ''}; run again to resume`,
      'cancelled',
      url,
      label,
      undefined,
      bytes,
    );
  /** Waits and returns when another attempt is allowed, else throws `err`. `what` is the log line's reason. */
  const retryOr = async (attempt: number, err: DownloadError, what: string): Promise<void> => {
    if (opts.signal?.aborted) throw cancelled(err.bytes ?? 0);
    if (attempt >= retries) throw err;
    opts.onLog?.(`${label}: ${what}; retrying`);
    try {
      await sleep(delay, opts.signal);
    } catch {
      throw cancelled(err.bytes ?? 0);
    }
  };

  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw cancelled(fs.existsSync(partial) ? fs.statSync(partial).size : 0);
    let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
    let opened: Opened;
    try {
      opened = await open(start, label, {
        headers: { ...opts.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
        signal: opts.signal,
        pool: opts.pool,
        stallTimeoutMs: opts.stallTimeoutMs,
      });
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      if (opts.signal?.aborted) throw cancelled(have);
      const why = errorText(e);
      await retryOr(
        attempt,
        new DownloadError(
          `${label}: download failed (${why}); run again to resume`,
          'network',
          url,
          label,
          undefined,
          undefined,
          why,
        ),
        `download failed (${why})`,
      );
      continue;
    }
    const { res } = opened;
    const status = res.statusCode ?? 0;
    const finalUrl = opened.url.href;
    if (status === 404) {
      discard(res);
      throw new DownloadError(`${label}: not found (${finalUrl})`, 'not-found', finalUrl, label, 404);
    }
    let total: number | undefined;
    let append = false;
    if (status === 416 && have > 0) {
      // The partial is already as long as the file (a run stopped before the rename): check it as it is.
      discard(res);
      const m = /^bytes \*\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      total = m ? Number(m[1]) : undefined;
      if (total !== undefined && have !== total) {
        opts.onLog?.(
          `${label}: the partial (${have} bytes) is longer than the file (${total} bytes); downloading from the start`,
        );
        fs.rmSync(partial, { force: true });
        continue;
      }
    } else if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== have) {
        // The server resumed from somewhere else: start over.
        opened.req.destroy();
        opts.onLog?.(
          `${label}: the server answered the range request with ${res.headers['content-range'] ?? 'no Content-Range'}; downloading from the start`,
        );
        fs.rmSync(partial, { force: true });
        continue;
      }
      total = m[3] === '*' ? undefined : Number(m[3]);
      append = true;
      opts.onLog?.(`${label}: resuming at ${have} bytes`);
    } else if (status === 200) {
      if (have > 0) opts.onLog?.(`${label}: server ignored the range request; downloading from the start`);
      have = 0;
      const len = res.headers['content-length'];
      total = len !== undefined ? Number(len) : undefined;
    } else {
      discard(res);
      const err = new DownloadError(
        `${label}: HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd() + ` from ${finalUrl}`,
        'http',
        finalUrl,
        label,
        status,
      );
      if (RETRYABLE_STATUS.has(status)) {
        await retryOr(attempt, err, `HTTP ${status}`);
        continue;
      }
      throw err;
    }

    const h = newHash(algo);
    const check = opts.check?.();
    let bytes = have;
    const resumedFrom = have;
    const rejectContent = async (e: unknown): Promise<never> => {
      fs.rmSync(partial, { force: true });
      throw new ContentError(label, errorText(e));
    };
    /** A partial from an earlier call may belong to an older version of the file: one fresh start before giving up. */
    const restartAfterResume = (why: string): boolean => {
      if (resumedFrom === 0 || restarted) return false;
      restarted = true;
      fs.rmSync(partial, { force: true });
      opts.onLog?.(`${label}: ${why} after resuming at ${resumedFrom} bytes; downloading from the start`);
      return true;
    };
    const rejectOrRestart = async (e: unknown): Promise<void> => {
      if (restartAfterResume(errorText(e))) return;
      await rejectContent(e);
    };
    // Bytes already on disk go through the hash and the check first.
    if (have > 0) {
      let bad: unknown;
      try {
        await feedFile(partial, [
          (c) => {
            h.update(c);
          },
          ...(check ? [(c: Buffer) => check.update(c)] : []),
        ]);
      } catch (e) {
        bad = e;
      }
      if (bad !== undefined) {
        opened.req.destroy();
        await rejectOrRestart(bad);
        continue;
      }
    }
    if (status === 200 || status === 206) {
      const fh = await fs.promises.open(partial, append ? 'a' : 'w');
      const t0 = Date.now();
      let lastReport = 0;
      let failure: DownloadError | undefined;
      let contentFailure: unknown;
      try {
        for await (const c of res) {
          const chunk = c as Buffer;
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          h.update(chunk);
          bytes += chunk.length;
          received += chunk.length;
          if (check) {
            try {
              await check.update(chunk);
            } catch (e) {
              contentFailure = e;
              break;
            }
          }
          const now = Date.now();
          if (now - lastReport >= 100) {
            lastReport = now;
            opts.onProgress?.({ label, bytes, total, rate: ((bytes - have) * 1000) / Math.max(1, now - t0), received });
          }
        }
      } catch (e) {
        failure = new DownloadError(
          `${label}: connection lost at ${bytes} bytes (${errorText(e)}); run again to resume`,
          'network',
          finalUrl,
          label,
          undefined,
          bytes,
          errorText(e),
        );
      }
      if (contentFailure !== undefined) {
        opened.req.destroy();
        await fh.close();
        await rejectOrRestart(contentFailure);
        continue;
      }
      if (!failure && (opts.fsync ?? true)) await fh.sync();
      await fh.close();
      opts.onProgress?.({
        label,
        bytes,
        total,
        rate: ((bytes - have) * 1000) / Math.max(1, Date.now() - t0),
        received,
      });
      if (failure) {
        if (opts.signal?.aborted) throw cancelled(bytes);
        await retryOr(attempt, failure, `connection lost at ${bytes} bytes`);
        continue;
      }
      if (total !== undefined && bytes < total) {
        await retryOr(
          attempt,
          new DownloadError(
            `${label}: got ${bytes} of ${total} bytes; run again to resume`,
            'incomplete',
            finalUrl,
            label,
            undefined,
            bytes,
          ),
          `got ${bytes} of ${total} bytes`,
        );
        continue;
      }
    }
    if (check) {
      let bad: unknown;
      try {
        await check.finish();
      } catch (e) {
        bad = e;
      }
      if (bad !== undefined) {
        await rejectOrRestart(bad);
        continue;
      }
    }
    const digest = h.digest('hex');
    if (opts.expected && digest !== opts.expected.toLowerCase()) {
      if (restartAfterResume(`${algo} mismatch`)) continue;
      fs.rmSync(partial, { force: true });
      throw new HashMismatchError(label, opts.expected.toLowerCase(), digest, algo);
    }
    fs.renameSync(partial, dest);
    return { digest, algo, bytes, resumedFrom, received, url: finalUrl, headers: res.headers, attempts: attempt + 1 };
  }
}

export interface TextResult {
  text: string;
  url: string;
  status: number;
  headers: http.IncomingHttpHeaders;
}

/**
 * GETs a small text resource (a listing page, an .md5 file) with the same URL rules, pool and retries as download().
 * 404 throws DownloadError kind 'not-found'; a body over maxBytes is refused.
 */
export async function fetchText(
  url: string,
  opts: Pick<
    DownloadOptions,
    'label' | 'retries' | 'retryDelayMs' | 'stallTimeoutMs' | 'pool' | 'signal' | 'headers' | 'onLog'
  > & { maxBytes?: number } = {},
): Promise<TextResult> {
  const label = opts.label ?? url;
  const retries = opts.retries ?? 3;
  const max = opts.maxBytes ?? 16 << 20;
  const start = new URL(url);
  for (let attempt = 0; ; attempt++) {
    let err: DownloadError;
    try {
      const { res, url: at } = await open(start, label, opts);
      const status = res.statusCode ?? 0;
      if (status === 404) {
        discard(res);
        throw new DownloadError(`${label}: not found (${at.href})`, 'not-found', at.href, label, 404);
      }
      if (status !== 200) {
        discard(res);
        err = new DownloadError(
          `${label}: HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd() + ` from ${at.href}`,
          'http',
          at.href,
          label,
          status,
        );
        if (!RETRYABLE_STATUS.has(status)) throw err;
      } else {
        const parts: Buffer[] = [];
        let n = 0;
        for await (const c of res) {
          n += (c as Buffer).length;
          if (n > max) {
            res.destroy();
            throw new DownloadError(`${label}: larger than ${max} bytes (${at.href})`, 'http', at.href, label, status);
          }
          parts.push(c as Buffer);
        }
        return { text: Buffer.concat(parts).toString('utf8'), url: at.href, status, headers: res.headers };
      }
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      if (opts.signal?.aborted) throw new DownloadError(`${label}: cancelled`, 'cancelled', url, label);
      err = new DownloadError(
        `${label}: GET ${url} failed (${errorText(e)})`,
        'network',
        url,
        label,
        undefined,
        undefined,
        errorText(e),
      );
    }
    if (attempt >= retries) throw err;
    opts.onLog?.(`${err.message}; retrying`);
    await sleep(opts.retryDelayMs ?? 1000, opts.signal);
  }
}
