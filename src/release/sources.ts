// Where a release is pulled from: an HTTP(S) URL (the project's one downloader, src/net/download.ts: Range resume
// into `<file>.partial`, retries, stall timeout, sha256 while writing), an `s3://bucket/prefix` URI (objects read with
// @aws-sdk/client-s3, which signs the requests; credentials and endpoint from the AWS_* variables as for index
// locations, src/index/location.ts), or a folder (a mounted share, a copied release).
//
// S3 and folder reads cannot go through download() (it speaks unsigned HTTP GET), so they share one small resumable
// reader below with the same conventions: `<dest>.partial` grows from where it stopped (an S3 Range request or a read
// from that offset), the bytes already there are hashed first, the sha256 is checked before the rename into place,
// and a mismatch deletes the partial and throws the downloader's own HashMismatchError.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ConnectionPool, DownloadError, HashMismatchError, download, fetchText, sleep } from '../net/download';
import { newHash } from '../util/hash';
import { parseLocation, s3 } from '../index/location';
import { RELEASE_FILE, ReleaseError, type ReleaseFile } from './manifest';
import { under } from './fsutil';
import { errorText } from '../util/errors';

export interface FetchOptions {
  signal?: AbortSignal;
  /** Bytes received over the network (or read from the source) since the last call. */
  onBytes?: (n: number) => void;
  onLog?: (line: string) => void;
  retries?: number;
  retryDelayMs?: number;
  stallTimeoutMs?: number;
}

export interface ReleaseSource {
  kind: 'http' | 's3' | 'folder';
  /** For messages: the URL, URI or folder. */
  where: string;
  readRelease(): Promise<string>;
  /** Fetch one file of the release into `dest` (resuming `<dest>.partial`), its size and sha256 checked. */
  fetch(f: ReleaseFile, dest: string, o?: FetchOptions): Promise<{ received: number; resumedFrom: number }>;
  close(): void;
}

const MAX_RELEASE_JSON = 256 << 20;

export function openSource(spec: string, opts: { connections?: number; env?: NodeJS.ProcessEnv } = {}): ReleaseSource {
  if (/^https?:\/\//i.test(spec)) return httpSource(spec, opts.connections ?? 4);
  if (/^s3:\/\//i.test(spec)) return s3Source(spec, opts.env);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) && !/^file:\/\//i.test(spec)) {
    throw new ReleaseError(`${spec}: a release is pulled from https://…, s3://bucket/prefix or a folder`, 2);
  }
  const dir = path.resolve(spec.replace(/^file:\/\//i, ''));
  const root = fs.existsSync(dir) && fs.statSync(dir).isFile() ? path.dirname(dir) : dir;
  if (!fs.existsSync(path.join(root, RELEASE_FILE)))
    throw new ReleaseError(`${spec}: no ${RELEASE_FILE} there (not a release folder)`, 4);
  return folderSource(root);
}

function checkSize(f: ReleaseFile, dest: string): void {
  const size = fs.statSync(dest).size;
  if (size !== f.size) {
    fs.rmSync(dest, { force: true });
    throw new ReleaseError(
      `${f.path}: ${size} bytes, release.json says ${f.size}; the release does not match its manifest (file removed, nothing switched)`,
    );
  }
}

function httpSource(spec: string, connections: number): ReleaseSource {
  const base = new URL(
    spec.endsWith(RELEASE_FILE) ? spec.slice(0, -RELEASE_FILE.length) : spec.endsWith('/') ? spec : `${spec}/`,
  );
  const pool = new ConnectionPool(connections);
  const urlOf = (rel: string): string => new URL(rel.split('/').map(encodeURIComponent).join('/'), base).href;
  return {
    kind: 'http',
    where: base.href,
    async readRelease() {
      try {
        return (await fetchText(urlOf(RELEASE_FILE), { label: RELEASE_FILE, pool, maxBytes: MAX_RELEASE_JSON })).text;
      } catch (e) {
        if (e instanceof DownloadError && e.kind === 'not-found')
          throw new ReleaseError(`${base.href}: no ${RELEASE_FILE} there (not a release)`, 4);
        throw e;
      }
    },
    async fetch(f, dest, o = {}) {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      let last = 0;
      const r = await download(urlOf(f.path), dest, {
        label: f.path,
        expected: f.sha256,
        pool,
        signal: o.signal,
        retries: o.retries ?? 5,
        retryDelayMs: o.retryDelayMs ?? 1000,
        stallTimeoutMs: o.stallTimeoutMs,
        onLog: o.onLog,
        fsync: true,
        onProgress: (p) => {
          o.onBytes?.(p.received - last);
          last = p.received;
        },
      });
      o.onBytes?.(r.received - last);
      checkSize(f, dest);
      return { received: r.received, resumedFrom: r.resumedFrom };
    },
    close() {
      pool.destroy();
    },
  };
}

/**
 * Copy a stream into `<dest>.partial` from its current length, hash the whole file, rename on a match. `open(offset)`
 * gives the bytes from `offset` on. A failure while reading keeps the partial and is retried from where it stopped.
 */
async function resumableCopy(
  f: ReleaseFile,
  dest: string,
  open: (offset: number) => Promise<Readable>,
  what: string,
  o: FetchOptions,
): Promise<{ received: number; resumedFrom: number }> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const retries = o.retries ?? 5;
  let received = 0;
  let resumedFrom = 0;
  for (let attempt = 0; ; attempt++) {
    let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
    if (have > f.size) {
      fs.rmSync(partial, { force: true });
      have = 0;
    }
    if (attempt === 0) resumedFrom = have;
    if (have > 0 && attempt === 0) o.onLog?.(`${f.path}: resuming at ${have} bytes`);
    try {
      if (have < f.size) {
        const stream = await open(have);
        const fh = await fs.promises.open(partial, 'a');
        try {
          for await (const c of stream) {
            if (o.signal?.aborted) {
              stream.destroy();
              throw new DownloadError(
                `${f.path}: cancelled at ${have} bytes; run again to resume`,
                'cancelled',
                what,
                f.path,
                undefined,
                have,
              );
            }
            const chunk = c as Buffer;
            let off = 0;
            while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
            have += chunk.length;
            received += chunk.length;
            o.onBytes?.(chunk.length);
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      if (have !== f.size)
        throw new DownloadError(
          `${f.path}: got ${have} of ${f.size} bytes from ${what}`,
          'incomplete',
          what,
          f.path,
          undefined,
          have,
        );
      const h = newHash('sha256');
      for await (const c of fs.createReadStream(partial, { highWaterMark: 1 << 22 })) h.update(c as Buffer);
      const digest = h.digest('hex');
      if (digest !== f.sha256) {
        fs.rmSync(partial, { force: true });
        throw new HashMismatchError(f.path, f.sha256, digest);
      }
      fs.renameSync(partial, dest);
      return { received, resumedFrom };
    } catch (e) {
      if (e instanceof HashMismatchError || (e instanceof DownloadError && e.kind === 'cancelled')) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (
        code === 'ENOSPC' ||
        code === 'EDQUOT' ||
        code === 'EROFS' ||
        code === 'EACCES' ||
        code === 'ENOENT' ||
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        throw e;
      if (attempt >= retries || o.signal?.aborted) throw e;
      o.onLog?.(
        `${f.path}: ${errorText(e)}; retrying from ${fs.existsSync(partial) ? fs.statSync(partial).size : 0} bytes`,
      );
      await sleep(o.retryDelayMs ?? 1000, o.signal).catch(() => undefined);
    }
  }
}

function folderSource(root: string): ReleaseSource {
  return {
    kind: 'folder',
    where: root,
    async readRelease() {
      return fs.readFileSync(path.join(root, RELEASE_FILE), 'utf8');
    },
    async fetch(f, dest, o = {}) {
      const src = under(root, f.path);
      if (!fs.existsSync(src))
        throw new ReleaseError(
          `${f.path}: listed in release.json but not in ${root}; the release does not match its manifest`,
        );
      return resumableCopy(
        f,
        dest,
        async (offset) => fs.createReadStream(src, { start: offset, highWaterMark: 1 << 22 }),
        root,
        o,
      );
    },
    close() {
      /* nothing held */
    },
  };
}

function s3Source(spec: string, env: NodeJS.ProcessEnv = process.env): ReleaseSource {
  const loc = parseLocation(spec.replace(/\/release\.json$/, ''), {}, env);
  const get = (): ReturnType<typeof s3> => s3(loc);
  const key = (rel: string): string => (loc.prefix ? `${loc.prefix}/${rel}` : rel);
  const notFound = (e: unknown): boolean =>
    (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404 ||
    (e as Error)?.name === 'NoSuchKey';
  return {
    kind: 's3',
    where: loc.uri,
    async readRelease() {
      const { client: c, sdk: s } = await get();
      try {
        const r = await c.send(new s.GetObjectCommand({ Bucket: loc.bucket, Key: key(RELEASE_FILE) }));
        if ((r.ContentLength ?? 0) > MAX_RELEASE_JSON)
          throw new ReleaseError(`${loc.uri}/${RELEASE_FILE}: larger than ${MAX_RELEASE_JSON} bytes`);
        return await r.Body!.transformToString('utf8');
      } catch (e) {
        if (notFound(e)) throw new ReleaseError(`${loc.uri}: no ${RELEASE_FILE} there (not a release)`, 4);
        throw e;
      }
    },
    async fetch(f, dest, fo = {}) {
      const { client: c, sdk: s } = await get();
      try {
        return await resumableCopy(
          f,
          dest,
          async (offset) => {
            const r = await c.send(
              new s.GetObjectCommand({
                Bucket: loc.bucket,
                Key: key(f.path),
                Range: offset > 0 ? `bytes=${offset}-` : undefined,
              }),
              { abortSignal: fo.signal },
            );
            if (offset > 0 && r.ContentRange && !r.ContentRange.startsWith(`bytes ${offset}-`))
              throw new Error(`the store answered the range request with ${r.ContentRange}`);
            return r.Body as Readable;
          },
          `${loc.uri}/${f.path}`,
          fo,
        );
      } catch (e) {
        if (notFound(e))
          throw new ReleaseError(
            `${f.path}: listed in release.json but not in ${loc.uri}; the release does not match its manifest`,
          );
        throw e;
      }
    },
    close() {
      /* the client is shared per location (src/index/location.ts) */
    },
  };
}
