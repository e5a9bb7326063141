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
      throw new GzipError(
        `${what} (${err.message}) at compressed byte ${gunzip.bytesWritten}`,
        gunzip.bytesWritten,
        delivered,
      );
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
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
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
    .split(/[\s.-]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase())
    .join('');
}

/** A record that grows past this without ending is rejected (and skipped, not buffered) by every reader. */
export const MAX_RECORD_BYTES = 32 * 2 ** 20;

/**
 * First byte of `b` that makes it unfit as text: the start of an invalid UTF-8 sequence, or a C0 control character
 * other than TAB, LF and CR (NUL included; the characters XML 1.0 forbids). -1 when the bytes are fine.
 */
export function firstBadTextByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
      const u = firstInvalidUtf8(b.subarray(0, i));
      return u >= 0 ? u : i;
    }
  }
  return firstInvalidUtf8(b);
}

/** Decode strictly as text (see firstBadTextByte); on failure, the offset of the bad byte and a description. */
export function decodeText(b: Uint8Array): { text: string } | { badByte: number; what: string } {
  const d = decodeUtf8(b);
  if ('text' in d) {
    // the common case: valid UTF-8; one native regex pass for control characters
    const m = RAW_CONTROL.exec(d.text);
    if (!m) return d;
    const at = Buffer.byteLength(d.text.slice(0, m.index));
    return { badByte: at, what: describeByte(b, at) };
  }
  const bad = firstBadTextByte(b);
  return { badByte: bad, what: describeByte(b, bad) };
}

const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

function describeByte(b: Uint8Array, i: number): string {
  const c = b[i]!;
  const hex = `0x${c.toString(16).padStart(2, '0')}`;
  if (c === 0) return `NUL byte (0x00)`;
  if (c < 0x20) return `control character (byte ${hex})`;
  return `invalid UTF-8 (byte ${hex})`;
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]+/g;

/**
 * Remove control characters that came in through escapes (JSON `\u0000`, decoded entities) from every text field of
 * a citation, in place. Returns the names of the fields that had any (for a note); raw control bytes never get here
 * (the readers reject them, naming the byte).
 */
export function stripControlChars(c: Record<string, unknown>): string[] {
  const changed: string[] = [];
  const fix = (s: string) => s.replace(CONTROLS, ' ').replace(/ {2,}/g, ' ').trim();
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'string') {
      if (CONTROL.test(v)) {
        c[k] = fix(v);
        changed.push(k);
      }
    } else if (Array.isArray(v)) {
      let hit = false;
      v.forEach((x, i) => {
        if (typeof x === 'string') {
          if (CONTROL.test(x)) {
            v[i] = fix(x);
            hit = true;
          }
        } else if (x && typeof x === 'object') {
          const o = x as Record<string, unknown>;
          for (const [k2, v2] of Object.entries(o)) {
            if (typeof v2 === 'string' && CONTROL.test(v2)) {
              o[k2] = fix(v2);
              hit = true;
            } else if (Array.isArray(v2))
              for (const q of v2)
                if (q && typeof q === 'object') {
                  for (const [k3, v3] of Object.entries(q as Record<string, unknown>)) {
                    if (typeof v3 === 'string' && CONTROL.test(v3)) {
                      (q as Record<string, unknown>)[k3] = fix(v3);
                      hit = true;
                    }
                  }
                }
          }
        }
      });
      if (hit) changed.push(k);
    }
  }
  return changed;
}

/** Remove HTML/XML tags ('<i>', '</sup>', '<jats:p xml:lang="en">') in linear time; a bare '<' (p < 0.05) stays. */
export function stripTags(s: string): string {
  return clean(s.replace(/<\/?[A-Za-z][^<>]*>/g, ''));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Month 1–12 of a date string: '2017 Apr 19' → 4, '1998 Dec-1999 Jan' → 12, '2019-05' → 5, 'Spring' → undefined. */
export function firstMonth(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const name = /(?:^|[^a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?![a-z])/i.exec(s);
  if (name) return MONTHS.indexOf(name[1]!.toLowerCase()) + 1;
  const iso = /^\s*(?:1[89]|20)\d\d[-/ ](\d{1,2})(?:\D|$)/.exec(s);
  if (iso) return monthNumber(iso[1]);
  return undefined;
}

/** '5', '05', 'May', 'may.' → 5; anything else → undefined. */
export function monthNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 12 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (/^\d{1,2}$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= 12 ? n : undefined;
  }
  const i = MONTHS.indexOf(t.slice(0, 3).toLowerCase());
  return i >= 0 && /^[a-z]+\.?$/i.test(t) ? i + 1 : undefined;
}

/**
 * An append-only byte buffer with amortised O(1) appends (capacity doubles) and O(1) consumption from the front:
 * a record that spans many chunks costs one copy per byte, not one per chunk.
 */
export class ByteQueue {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  get length(): number {
    return this.end - this.start;
  }
  /** The unconsumed bytes (a view, valid until the next append). */
  view(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }
  append(chunk: Uint8Array): void {
    const need = this.length + chunk.length;
    if (this.end + chunk.length > this.buf.length) {
      if (need <= this.buf.length / 2 || (need <= this.buf.length && this.start > 0)) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const nb = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 64 * 1024));
        this.buf.copy(nb, 0, this.start, this.end);
        this.buf = nb;
      }
      this.end -= this.start;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
  consume(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    // after a long record, give the big buffer back
    if (this.buf.length > 4 * 2 ** 20 && this.length < this.buf.length / 16) {
      const nb = Buffer.allocUnsafe(Math.max(64 * 1024, this.length * 2));
      this.buf.copy(nb, 0, this.start, this.end);
      this.buf = nb;
      this.end -= this.start;
      this.start = 0;
    }
  }
  /** Drop everything and release a large buffer. */
  reset(): void {
    this.start = 0;
    this.end = 0;
    if (this.buf.length > 4 * 2 ** 20) this.buf = Buffer.alloc(0);
  }
}

export interface TextLine {
  /** The line without its '\n' (and '\r'); undefined when it is not text (see badByte) or too long. */
  text: string | undefined;
  /** Absolute offset of the first bad byte (invalid UTF-8 or a control character), and what it is. */
  badByte?: number;
  /** A bad line decoded leniently (U+FFFD for bad bytes), to see what kind of line it was. */
  lossy?: string;
  what?: string;
  /** The line is longer than MAX_RECORD_BYTES: its bytes were skipped, not kept. */
  tooLong?: number;
  no: number; // 1-based line number
  byte: number; // absolute offset of the line start
  /** false for a last line with no '\n' after it */
  ended?: boolean;
}

/**
 * Lines of a file (plain or gzip) as strictly decoded text, one at a time, in memory bounded by the longest line
 * kept (MAX_RECORD_BYTES; a longer line is skipped and reported as tooLong). A GzipError is rethrown after the last
 * complete line; `partial` then holds the line that was cut off.
 */
export async function* textLines(
  file: string,
  signal?: AbortSignal,
  onProgress?: (read: number, total: number) => void,
  maxLine = MAX_RECORD_BYTES,
): AsyncGenerator<TextLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let lineStart = 0;
  let pos = 0;
  let no = 0;
  const mk = (b: Buffer, start: number): TextLine => {
    no++;
    let end = b.length;
    if (end > 0 && b[end - 1] === 0x0d) end--;
    const start0 = no === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // UTF-8 BOM
    const d = decodeText(b.subarray(start0, end));
    return 'text' in d
      ? { text: d.text, no, byte: start }
      : {
          text: undefined,
          badByte: start + start0 + d.badByte,
          what: d.what,
          lossy: b.subarray(start0, end).toString('utf8'),
          no,
          byte: start,
        };
  };
  const flush = (last?: Buffer): TextLine => {
    if (tooLong) {
      no++;
      const l: TextLine = { text: undefined, tooLong: size + (last?.length ?? 0), no, byte: lineStart };
      parts = [];
      size = 0;
      tooLong = false;
      return l;
    }
    if (last) parts.push(last);
    const b = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    size = 0;
    return mk(b, lineStart);
  };
  for await (const chunk of readBytes(file, signal, onProgress)) {
    let i = 0;
    for (;;) {
      const j = chunk.indexOf(0x0a, i);
      if (j < 0) break;
      const l = flush(tooLong ? undefined : chunk.subarray(i, j));
      l.ended = true;
      if (l.tooLong !== undefined) l.tooLong += j - i;
      yield l;
      i = j + 1;
      lineStart = pos + i;
    }
    if (i < chunk.length && !tooLong) {
      const rest = chunk.subarray(i);
      size += rest.length;
      if (size > maxLine) {
        tooLong = true;
        parts = [];
      } else parts.push(rest);
    } else if (tooLong) size += chunk.length - i;
    pos += chunk.length;
  }
  if (size > 0 || tooLong) {
    const l = flush();
    l.ended = false;
    yield l;
  }
}
