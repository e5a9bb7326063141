// Byte-level input for the streaming readers: plain or gzip files, read chunk by chunk (constant memory),
// with the helpers every reader shares (UTF-8 validation that names the bad byte, line counting, years).
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/** The compressed input ended early or is corrupt. Everything decompressed before it was already delivered. */
export class GzipError extends Error {
  constructor(
    message: string,
    /** compressed bytes consumed when zlib gave up (0-based offset of the failure in the .gz file) */
    readonly compressedByte: number,
    /** decompressed bytes delivered before the failure */
    readonly decompressedBytes: number,
  ) {
    super(message);
    this.name = 'GzipError';
  }
}

/** True when the file starts with the gzip magic bytes (extension is not trusted). */
export async function isGzipFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Raw (decompressed) bytes of a file, chunk by chunk. A truncated or corrupt gzip stream yields every byte zlib
 * could recover, then throws a GzipError naming the compressed byte offset.
 */
export async function* readBytes(
  file: string,
  signal?: AbortSignal,
  onProgress?: (bytesRead: number, totalBytes: number) => void,
): AsyncGenerator<Buffer> {
  const gz = await isGzipFile(file);
  const total = onProgress ? (await stat(file)).size : 0;
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  let stream: Readable = raw;
  const gunzip = gz ? createGunzip() : undefined;
  if (gunzip) {
    raw.on('error', (e) => gunzip.destroy(e));
    stream = raw.pipe(gunzip);
  }
  let delivered = 0;
  try {
    for await (const chunk of stream) {
      signal?.throwIfAborted();
      const b = chunk as Buffer;
      delivered += b.length;
      onProgress?.(raw.bytesRead, total);
      yield b;
    }
  } catch (e) {
    if (gunzip && !(e instanceof DOMException) && (e as NodeJS.ErrnoException).code !== 'ABORT_ERR') {
      const err = e as NodeJS.ErrnoException;
      const what = err.code === 'Z_BUF_ERROR' ? 'gzip data truncated' : 'gzip data corrupt';
      throw new GzipError(`${what} (${err.message}) at compressed byte ${gunzip.bytesWritten}`, gunzip.bytesWritten, delivered);
    }
    throw e;
  } finally {
    raw.destroy();
    gunzip?.destroy();
  }
}

/** First `n` decompressed bytes of a file (for format detection). */
export async function headBytes(file: string, n = 16 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let len = 0;
  try {
    for await (const b of readBytes(file)) {
      parts.push(b);
      len += b.length;
      if (len >= n) break;
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
  }
  return Buffer.concat(parts).subarray(0, n);
}

const fatal = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8 strictly; on bad bytes return the offset (within `b`) of the first invalid sequence. */
export function decodeUtf8(b: Uint8Array): { text: string } | { badByte: number } {
  try {
    return { text: fatal.decode(b) };
  } catch {
    return { badByte: firstInvalidUtf8(b) };
  }
}

/** Offset of the first byte that starts an invalid UTF-8 sequence, or -1 if `b` is valid. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) { i++; continue; }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= n) return i; // sequence cut off at the end
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Number of '\n' bytes in b[from, to). */
export function countNewlines(b: Uint8Array, from = 0, to = b.length): number {
  let n = 0;
  let i = from;
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (;;) {
    const j = buf.indexOf(0x0a, i);
    if (j < 0 || j >= to) return n;
    n++;
    i = j + 1;
  }
}

/** First plausible 4-digit year (1800–2099) in a date string such as '2007 Spring' or '1998 Dec-1999 Jan'. */
export function firstYear(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /(?:^|\D)(1[89]\d\d|20\d\d)(?!\d)/.exec(s);
  return m ? Number(m[1]) : undefined;
}

/** Collapse runs of whitespace and trim. */
export function clean(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** 'John A.' → 'JA'; 'Jean-Luc' → 'JL'. */
export function initialsOf(given: string): string {
  return given
    .split(/[\s.\-]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase())
    .join('');
}
