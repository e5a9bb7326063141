// Streaming JSON records: the values of a top-level array (CSL-JSON, also `{"items": [...]}`) or the members of a
// top-level object (PubMedQA), cut out of the byte stream one at a time and parsed with JSON.parse.
//
// Why not a streaming JSON parser from npm (stream-json, @streamparser/json, clarinet, jsonparse): they stop at the
// first syntax error, so one damaged item would cost every item after it, and they name neither the byte nor the
// item. This scanner only finds value boundaries (strings, escapes, bracket depth: no number or literal parsing;
// JSON.parse, native and strict, validates each value), in one pass, linear in the input, holding one value at a
// time (at most MAX_RECORD_BYTES of it). It recognises damage as soon as the bytes cannot be JSON (a line break or
// control character inside a string, a byte that cannot stand outside a string, a bracket that closes the wrong
// kind, nesting deeper than `maxDepth`), names the item, byte and line, and resynchronises at the next line that
// starts the way the container's items start (same indentation, same first byte), or, in JSON without line breaks,
// after the next `},`.
import { readBytes, GzipError, countNewlines, decodeText, MAX_RECORD_BYTES } from './source';
import { errorText } from '../../util/errors';

export type JsonEvent =
  | { kind: 'item'; index: number; key?: string; start: number; line: number; value: unknown }
  | {
      kind: 'bad';
      index: number;
      key?: string;
      start: number;
      line: number;
      at: number;
      atLine: number;
      message: string;
    }
  /** Damage that cost no item (between items), or the end of the file before the closing bracket. */
  | { kind: 'note'; index: number; at: number; atLine: number; message: string }
  /** The top-level value is not an array/object (or the file is empty): nothing could be read. */
  | { kind: 'fatal'; at: number; atLine: number; message: string };

export interface JsonScanOptions {
  /** In a top-level object, a member whose array value holds the items (CSL `{"items": [...]}`). */
  descendInto?: string;
  maxDepth?: number;
  maxRecordBytes?: number;
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

const enum S {
  Start,
  ValueOrEnd,
  CommaOrEnd,
  KeyOrEnd,
  Key,
  Colon,
  Value,
  InValue,
  After,
  Resync,
  Done,
}

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
// bytes that may stand outside strings inside a value: digits, sign, point, exponent, the letters of true/false/null
const SCALAR = new Uint8Array(256);
for (const ch of '0123456789-+.eEtrufalsn') SCALAR[ch.charCodeAt(0)] = 1;

const VALUE_START = new Uint8Array(256);
for (const ch of '{["-0123456789tfn') VALUE_START[ch.charCodeAt(0)] = 1;

const show = (c: number) =>
  c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;

interface Container {
  kind: 'array' | 'object';
  items: boolean;
  indent?: number[];
  first?: number;
  sawItem: boolean;
  /**
   * Whether an item-start line inside an item means damage: known once an item has been read whole and well: yes if
   * it had no such line (machine-written, consistently indented), no if it had (the file nests at item indentation).
   */
  splitOk?: boolean;
}

/** Cut a byte stream into JSON records; push() chunks, end() at EOF. */
export class JsonSplitter {
  private st = S.Start;
  private pos = 0; // absolute offset of the next byte
  private line = 1;
  private lineStart = 0; // absolute offset just after the last '\n'
  private indentBytes: number[] = []; // spaces/tabs since lineStart, in container states
  private stack: Container[] = [];
  private index = 0; // items begun in the current item container
  // the current item
  private itemStart = 0;
  private itemLine = 1;
  private itemKey: string | undefined;
  private parts: Buffer[] = [];
  private partFrom = -1; // offset within the current chunk where the item's unsaved bytes start
  private size = 0;
  private oversized = false;
  private depth = 0;
  private types: number[] = [];
  private inStr = false;
  private esc = false;
  private scalar = false;
  private strValue = false;
  // inside an item: the last byte outside strings that was not whitespace, and a line-start matcher for the
  // container's item pattern (an item start at the items' own indentation right after a ',' means the item before
  // never closed: it is rejected there and the new item read)
  private lastSig = 0;
  private sigAtNl = 0;
  private inCol = -1;
  private innerStart = false; // this item had an item-start line inside it
  // the key of an object member
  private keyBytes: number[] = [];
  private keyStart = 0;
  private keyLine = 1;
  private keyEsc = false;
  // resynchronisation
  private rsCol = -1;
  private rsOk = false;
  private rsCompact = 0;
  private readonly maxDepth: number;
  private readonly maxBytes: number;
  private out: JsonEvent[] = [];

  constructor(private readonly opts: JsonScanOptions = {}) {
    this.maxDepth = opts.maxDepth ?? 64;
    this.maxBytes = opts.maxRecordBytes ?? MAX_RECORD_BYTES;
  }

  private top(): Container {
    return this.stack[this.stack.length - 1]!;
  }

  private here(): { at: number; atLine: number } {
    return { at: this.pos, atLine: this.line };
  }

  /** The first item of a container fixes how items start: their first byte and, when they start a line, its indentation. */
  private learn(first: number): void {
    const ct = this.top();
    if (ct.sawItem) return;
    ct.sawItem = true;
    ct.first = first;
    if (this.line > 1 && this.indentBytes.length === this.pos - this.lineStart) ct.indent = this.indentBytes.slice();
  }

  private beginItem(c: number, chunkOff: number, key: string | undefined, start: number, line: number): void {
    this.index++;
    this.itemStart = start;
    this.itemLine = line;
    this.itemKey = key;
    this.parts = [];
    this.partFrom = chunkOff;
    this.size = 0;
    this.oversized = false;
    this.depth = 0;
    this.types = [];
    this.inStr = false;
    this.esc = false;
    this.scalar = false;
    this.strValue = false;
    this.lastSig = c;
    this.inCol = -1;
    this.innerStart = false;
    this.st = S.InValue;
    if (c === 0x22) {
      this.inStr = true;
      this.strValue = true;
    } else if (c === 0x7b || c === 0x5b) {
      this.depth = 1;
      this.types.push(c);
    } else if (SCALAR[c]) this.scalar = true;
    else this.hurt(`unexpected ${show(c)}`);
  }

  private base() {
    return {
      index: this.index,
      start: this.itemStart,
      line: this.itemLine,
      ...(this.itemKey !== undefined ? { key: this.itemKey } : {}),
    };
  }

  private finishItem(chunk: Buffer, endOff: number): void {
    this.st = S.CommaOrEnd;
    if (this.oversized) {
      this.out.push({
        kind: 'bad',
        ...this.base(),
        at: this.itemStart,
        atLine: this.itemLine,
        message: `item is longer than ${this.maxBytes / 2 ** 20} MB; skipped`,
      });
      return;
    }
    if (this.partFrom >= 0) this.parts.push(chunk.subarray(this.partFrom, endOff));
    this.partFrom = -1;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    const d = decodeText(bytes);
    if ('badByte' in d) {
      const at = this.itemStart + d.badByte;
      this.out.push({
        kind: 'bad',
        ...this.base(),
        at,
        atLine: this.itemLine + countNewlines(bytes, 0, d.badByte),
        message: `${d.what} at byte ${at}`,
      });
      return;
    }
    try {
      this.out.push({ kind: 'item', ...this.base(), value: JSON.parse(d.text) });
      const ct = this.top();
      if (ct.items && ct.splitOk === undefined) ct.splitOk = !this.innerStart;
    } catch (e) {
      const msg = errorText(e);
      const p = /position (\d+)/.exec(msg);
      const off = p ? Buffer.byteLength(d.text.slice(0, Number(p[1]))) : 0;
      const at = this.itemStart + off;
      const what = msg.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
      this.out.push({
        kind: 'bad',
        ...this.base(),
        at,
        atLine: this.itemLine + countNewlines(bytes, 0, off),
        message: `invalid JSON at byte ${at}: ${what}`,
      });
    }
  }

  /**
   * Inside an item, at a line start: does this byte complete the container's item pattern (indentation + first byte)
   * right after a ','? Then the item before never closed: reject it and start the new item here.
   */
  private splitHere(c: number, i: number): boolean {
    const ct = this.top();
    const ind = ct.indent;
    if (!ind || !ct.items) {
      this.inCol = -1;
      return false;
    }
    if (this.inCol < ind.length) {
      if (c !== ind[this.inCol]) this.inCol = -1;
      else this.inCol++;
      return false;
    }
    this.inCol = -1;
    if (c !== ct.first || this.sigAtNl !== 0x2c || this.depth < 1) return false;
    if (!ct.splitOk) {
      this.innerStart = true;
      return false;
    }
    this.parts = [];
    this.partFrom = -1;
    this.out.push({
      kind: 'bad',
      ...this.base(),
      ...this.here(),
      message: `not closed before the next item at line ${this.line} (a closing bracket is damaged or missing)`,
    });
    if (ct.kind === 'object') this.startKey();
    else this.beginItem(c, i, undefined, this.pos, this.line);
    return true;
  }

  /** Damage inside the current item: it is rejected; reading resumes at the next item start. */
  private hurt(message: string): void {
    this.parts = [];
    this.partFrom = -1;
    this.out.push({
      kind: 'bad',
      ...this.base(),
      ...this.here(),
      message: `${message} at byte ${this.pos}, line ${this.line}`,
    });
    this.startResync();
  }

  /** Damage where an item should start: that item is lost (rejected); reading resumes at the next item start. */
  private lostItem(c: number): void {
    if (!this.top().items) {
      this.stray(c);
      return;
    }
    this.index++;
    const key = this.st === S.Colon ? { key: this.itemKey! } : {};
    const where =
      this.st === S.Colon || this.st === S.Key
        ? { start: this.keyStart, line: this.keyLine }
        : { start: this.pos, line: this.line };
    this.out.push({
      kind: 'bad',
      index: this.index,
      ...where,
      ...key,
      ...this.here(),
      message: `unexpected ${show(c)} where an item starts, at byte ${this.pos}, line ${this.line}`,
    });
    this.startResync();
  }

  /** A byte that cannot start an item where one should start: noted once per gap, skipped. */
  private junkAt = -1;
  private junk(c: number): void {
    if (this.junkAt !== this.index) {
      this.junkAt = this.index;
      this.out.push({
        kind: 'note',
        index: this.index,
        ...this.here(),
        message: `unexpected ${show(c)} between items at byte ${this.pos}, line ${this.line}; skipped`,
      });
    }
  }

  /** Damage between items: nothing is lost; reading resumes at the next item start. */
  private stray(c: number): void {
    this.out.push({
      kind: 'note',
      index: this.index,
      ...this.here(),
      message: `unexpected ${show(c)} between items at byte ${this.pos}, line ${this.line}; reading resumed at the next item`,
    });
    this.startResync();
  }

  private startResync(): void {
    while (this.stack.length > 1 && !this.top().items) this.stack.pop();
    this.st = S.Resync;
    this.rsCol = -1; // not at a line start until the next '\n'
    this.rsOk = false;
    this.rsCompact = 0;
  }

  private closeContainer(c: number): void {
    const want = this.top().kind === 'array' ? 0x5d : 0x7d;
    if (c !== want) {
      this.stray(c);
      return;
    }
    this.stack.pop();
    this.st = this.stack.length ? S.CommaOrEnd : S.After;
  }

  private startKey(): void {
    this.st = S.Key;
    this.keyBytes = [];
    this.keyStart = this.pos;
    this.keyLine = this.line;
    this.keyEsc = false;
  }

  push(chunk: Buffer): JsonEvent[] {
    this.out = [];
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      switch (this.st) {
        case S.InValue:
          if (this.inStr) {
            if (this.esc) this.esc = false;
            else if (c === 0x5c) this.esc = true;
            else if (c === 0x22) {
              this.inStr = false;
              if (this.strValue) this.finishItem(chunk, i + 1);
            } else if (c < 0x20) {
              this.hurt(
                c === 0x0a
                  ? 'line break inside a string'
                  : `${c === 0 ? 'NUL byte' : 'control character'} (0x${c.toString(16).padStart(2, '0')}) inside a string`,
              );
            }
          } else if (this.scalar) {
            if (WS(c) || c === 0x2c || c === 0x5d || c === 0x7d) {
              this.finishItem(chunk, i);
              i--; // the delimiter is the container's: read it again in that state
              continue;
            }
            if (!SCALAR[c]) this.hurt(`unexpected ${show(c)}`);
          } else if (this.inCol >= 0 && this.splitHere(c, i)) {
            break;
          } else if (c === 0x22) this.inStr = true;
          else if (c === 0x7b || c === 0x5b) {
            this.depth++;
            if (this.depth > this.maxDepth) this.hurt(`nested deeper than ${this.maxDepth} levels`);
            else this.types.push(c);
          } else if (c === 0x7d || c === 0x5d) {
            const open = this.types.pop();
            if (open !== (c === 0x7d ? 0x7b : 0x5b)) this.hurt(`${show(c)} closes ${open === 0x7b ? "'{'" : "'['"}`);
            else if (--this.depth === 0) this.finishItem(chunk, i + 1);
          } else if (!(WS(c) || c === 0x2c || c === 0x3a || SCALAR[c])) this.hurt(`unexpected ${show(c)}`);
          break;
        case S.Start:
          if (WS(c) || (this.pos < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) break;
          if (c === 0x5b) {
            this.stack.push({ kind: 'array', items: true, sawItem: false });
            this.st = S.ValueOrEnd;
          } else if (c === 0x7b) {
            this.stack.push({ kind: 'object', items: !this.opts.descendInto, sawItem: false });
            this.st = S.KeyOrEnd;
          } else {
            this.out.push({
              kind: 'fatal',
              ...this.here(),
              message: `not a JSON array or object: starts with ${show(c)} at byte ${this.pos}, line ${this.line}`,
            });
            this.st = S.Done;
          }
          break;
        case S.ValueOrEnd: // in an array
          if (WS(c) || c === 0x2c) break; // an empty element (',,') is tolerated
          if (c === 0x5d || c === 0x7d) {
            this.closeContainer(c);
            break;
          }
          if (!VALUE_START[c]) {
            this.junk(c);
            break;
          } // a damaged separator: the item may follow
          this.learn(c);
          this.beginItem(c, i, undefined, this.pos, this.line);
          break;
        case S.Value: // an object member's value
          if (WS(c)) break;
          if (!this.top().items && this.itemKey === this.opts.descendInto && c === 0x5b) {
            this.stack.push({ kind: 'array', items: true, sawItem: false });
            this.index = 0;
            this.st = S.ValueOrEnd;
            break;
          }
          this.beginItem(c, i, this.itemKey, this.keyStart, this.keyLine);
          break;
        case S.CommaOrEnd:
          if (WS(c)) break;
          if (c === 0x2c) {
            this.st = this.top().kind === 'array' ? S.ValueOrEnd : S.KeyOrEnd;
            break;
          }
          if (c === 0x5d || c === 0x7d) {
            this.closeContainer(c);
            break;
          }
          this.stray(c);
          break;
        case S.KeyOrEnd:
          if (WS(c) || c === 0x2c) break;
          if (c === 0x7d) {
            this.closeContainer(c);
            break;
          }
          if (c === 0x22) {
            this.learn(c);
            this.startKey();
            break;
          }
          this.junk(c); // a damaged separator or key quote: what follows is read (and rejected if it is no item)
          break;
        case S.Key:
          if (this.keyEsc) {
            this.keyEsc = false;
            this.keyBytes.push(c);
            break;
          }
          if (c === 0x5c) {
            this.keyEsc = true;
            this.keyBytes.push(c);
            break;
          }
          if (c === 0x22) {
            const raw = Buffer.from(this.keyBytes).toString('utf8');
            let key = raw;
            try {
              key = JSON.parse(`"${raw}"`) as string;
            } catch {
              /* keep it raw */
            }
            this.itemKey = key;
            this.st = S.Colon;
            break;
          }
          if (c < 0x20 || this.keyBytes.length >= 4096) {
            this.lostItem(c);
            break;
          }
          this.keyBytes.push(c);
          break;
        case S.Colon:
          if (WS(c)) break;
          if (c === 0x3a) {
            this.st = S.Value;
            break;
          }
          this.lostItem(c);
          break;
        case S.After:
          if (WS(c)) break;
          this.out.push({
            kind: 'note',
            index: this.index,
            ...this.here(),
            message: `data after the end of the JSON value at byte ${this.pos}, line ${this.line}; ignored`,
          });
          this.st = S.Done;
          break;
        case S.Resync: {
          if (c === 0x0a) break; // line starts are tracked below
          const ct = this.top();
          const first = ct.first ?? 0x7b;
          let found = false;
          if (ct.indent) {
            if (this.rsCol >= 0 && this.rsOk) {
              if (this.rsCol < ct.indent.length) {
                if (c !== ct.indent[this.rsCol]) this.rsOk = false;
                this.rsCol++;
              } else {
                found = c === first;
                this.rsOk = false;
              }
            }
          } else if (this.rsCompact === 0) {
            if (c === 0x7d) this.rsCompact = 1;
          } else if (this.rsCompact === 1) {
            if (c === 0x2c) this.rsCompact = 2;
            else if (!WS(c)) this.rsCompact = c === 0x7d ? 1 : 0;
          } else if (c === first) found = true;
          else if (!WS(c)) this.rsCompact = c === 0x7d ? 1 : 0;
          if (found) {
            if (ct.kind === 'object') this.startKey();
            else this.beginItem(c, i, undefined, this.pos, this.line);
          }
          break;
        }
        case S.Done:
          break;
      }
      // bookkeeping for every byte
      if (this.st === S.InValue && !this.inStr) {
        if (c === 0x0a) {
          this.sigAtNl = this.lastSig;
          this.inCol = 0;
        } else if (!WS(c)) {
          this.lastSig = c;
          this.inCol = -1;
        }
      } else if (this.st === S.InValue && c === 0x22) this.lastSig = c;
      if (c === 0x0a) {
        this.line++;
        this.lineStart = this.pos + 1;
        this.indentBytes = [];
        if (this.st === S.Resync) {
          this.rsCol = 0;
          this.rsOk = true;
        }
      } else if (this.st !== S.InValue) {
        if (c === 0x20 || c === 0x09) {
          if (this.indentBytes.length < 64) this.indentBytes.push(c);
        } else this.indentBytes = [];
      }
      this.pos++;
    }
    // an item still open at the end of the chunk keeps its bytes, up to the cap
    if (this.st === S.InValue && !this.oversized) {
      const part = chunk.subarray(Math.max(0, this.partFrom));
      this.size += part.length;
      if (this.size > this.maxBytes) {
        this.oversized = true;
        this.parts = [];
      } else this.parts.push(part);
      this.partFrom = this.oversized ? -1 : 0;
    }
    return this.out;
  }

  /** End of the input: an item still open is cut off. */
  end(cause?: string): JsonEvent[] {
    this.out = [];
    const why = cause ?? 'the file ends';
    if (this.st === S.InValue) {
      this.out.push({
        kind: 'bad',
        ...this.base(),
        ...this.here(),
        message: `${why} inside the item that starts at line ${this.itemLine} (truncated file?)`,
      });
    } else if ((this.st === S.Key || this.st === S.Colon || this.st === S.Value) && this.top().items) {
      const key = this.st === S.Key ? Buffer.from(this.keyBytes).toString('utf8') : this.itemKey;
      this.out.push({
        kind: 'bad',
        index: this.index + 1,
        start: this.keyStart,
        line: this.keyLine,
        ...(key !== undefined ? { key } : {}),
        ...this.here(),
        message: `${why} inside the item that starts at line ${this.keyLine} (truncated file?)`,
      });
    } else if (this.st === S.Start) {
      this.out.push({ kind: 'fatal', ...this.here(), message: 'no JSON value (empty file)' });
    } else if (this.st !== S.After && this.st !== S.Done && this.st !== S.Resync) {
      this.out.push({
        kind: 'note',
        index: this.index,
        ...this.here(),
        message: `${why} before the closing bracket, at byte ${this.pos}, line ${this.line} (truncated file?); every complete item was read`,
      });
    }
    this.st = S.Done;
    return this.out;
  }
}

/** JSON records of a file (plain or gzip). A truncated gzip ends the stream with the cut-off item named. */
export async function* jsonRecords(file: string, opts: JsonScanOptions = {}): AsyncGenerator<JsonEvent> {
  const sp = new JsonSplitter(opts);
  try {
    for await (const chunk of readBytes(file, opts.signal, opts.onProgress)) {
      for (const ev of sp.push(chunk)) yield ev;
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
    for (const ev of sp.end(`${e.message} (compressed byte ${e.compressedByte})`)) yield ev;
    return;
  }
  for (const ev of sp.end()) yield ev;
}
