// Reader for PyTorch's `torch.save` zip format (`pytorch_model.bin`): a zip archive holding `<name>/data.pkl` (a
// pickle that describes the state dict) and `<name>/data/<key>` (raw little-endian storages).
//
// The pickle is NOT executed. A small, restricted pickle VM interprets only the opcodes a state dict needs and
// only a fixed allow-list of GLOBALs (OrderedDict, torch's tensor/parameter rebuild functions, the typed storage
// classes). Any other opcode or global (os.system, builtins.eval, subprocess.Popen, ...) throws an error that
// names it and the file, before anything is built from it.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { DType, StateDict, Tensor } from './tensor';
import { MAX_BUFFER_BYTES, ModelBoundsError, numel } from './tensor';
import { errorText } from '../../util/errors';

export class UnsafePickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePickleError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Minimal zip reader (stored or deflated entries, zip64), reading only what it needs from the file. Nothing it reads
// can make it allocate more than the file holds or than the caller allows: the central directory and every entry's
// compressed bytes must lie inside the file, a stored entry's size must equal its compressed size, a deflated entry
// may not claim more than deflate can produce from its compressed bytes, and an entry is inflated (by zlib, into one
// buffer of its declared size) only after the caller has checked that size; inflating past it is refused.

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Deflate cannot expand better than ~1032:1 (258-byte matches coded in ~2 bits); a claim beyond that is a lie. */
const DEFLATE_MAX_RATIO = 1032;

class ZipFile {
  private fd: number;
  readonly size: number;
  readonly entries = new Map<string, ZipEntry>();
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
      this.readDirectory();
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
  }
  close(): void {
    fs.closeSync(this.fd);
  }

  private read(pos: number, len: number, into?: Buffer): Buffer {
    if (pos < 0 || len < 0 || pos + len > this.size) {
      throw new ModelBoundsError(
        `${this.file}: truncated or corrupt zip (wanted ${len} bytes at offset ${pos}; the file has ${this.size})`,
      );
    }
    const b = into ?? Buffer.alloc(len);
    let off = 0;
    while (off < len) {
      const n = fs.readSync(this.fd, b, off, len - off, pos + off);
      if (n === 0) throw new Error(`${this.file}: truncated zip (wanted ${len} bytes at offset ${pos})`);
      off += n;
    }
    return b;
  }

  private readDirectory(): void {
    const size = this.size;
    const tailLen = Math.min(size, 22 + 65535 + 20);
    const tail = this.read(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    if (eocd < 0) throw new Error(`${this.file}: not a zip archive (no end-of-central-directory record)`);
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) throw new Error(`${this.file}: zip64 locator missing`);
      const z64Off = Number(tail.readBigUInt64LE(loc + 8));
      const z = this.read(z64Off, 56);
      if (z.readUInt32LE(0) !== 0x06064b50) throw new Error(`${this.file}: bad zip64 end-of-central-directory record`);
      count = Number(z.readBigUInt64LE(32));
      cdSize = Number(z.readBigUInt64LE(40));
      cdOffset = Number(z.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size || count * 46 > cdSize) {
      throw new ModelBoundsError(
        `${this.file}: corrupt zip: the central directory (${count} entries, ${cdSize} bytes at ${cdOffset}) does not fit in the ${size}-byte file`,
      );
    }
    const cd = this.read(cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || cd.readUInt32LE(p) !== 0x02014b50)
        throw new Error(`${this.file}: corrupt zip central directory`);
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let usize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localOffset = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > cdSize)
        throw new Error(`${this.file}: corrupt zip central directory (entry ${i} runs past it)`);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      // zip64 extended information extra field
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const u64 = (): number => {
            if (q + 8 > e + 4 + len) throw new Error(`${this.file}: corrupt zip64 extra field of '${name}'`);
            const v = cd.readBigUInt64LE(q);
            q += 8;
            if (v > BigInt(Number.MAX_SAFE_INTEGER))
              throw new ModelBoundsError(
                `${this.file}: zip entry '${name}' declares an impossible size or offset (${v})`,
              );
            return Number(v);
          };
          if (usize === 0xffffffff) usize = u64();
          if (compressedSize === 0xffffffff) compressedSize = u64();
          if (localOffset === 0xffffffff) localOffset = u64();
        }
        e += 4 + len;
      }
      if (localOffset + 30 + compressedSize > size) {
        throw new ModelBoundsError(
          `${this.file}: zip entry '${name}' declares ${compressedSize} compressed bytes at offset ${localOffset}, past the end of the ${size}-byte file`,
        );
      }
      if (method === 0 && usize !== compressedSize) {
        throw new ModelBoundsError(
          `${this.file}: zip entry '${name}' is stored (not compressed) but declares ${usize} bytes for ${compressedSize} bytes of data`,
        );
      }
      if (method === 8 && usize > compressedSize * DEFLATE_MAX_RATIO + 1024) {
        throw new ModelBoundsError(
          `${this.file}: zip entry '${name}' declares ${usize} bytes from ${compressedSize} compressed bytes, ` +
            `more than deflate can produce (a zip bomb?); refusing it`,
        );
      }
      this.entries.set(name, { name, method, compressedSize, size: usize, localOffset });
      p = eEnd + commentLen;
    }
  }

  /**
   * The bytes of one entry (stored entries are read directly; deflated ones are inflated into a buffer of the
   * declared size). Refused before any read when the declared size is above `maxBytes`, and as soon as the data
   * inflates past the declared size.
   */
  readEntry(name: string, maxBytes: number, what = `zip entry '${name}'`): Buffer {
    const ent = this.entries.get(name);
    if (!ent) throw new Error(`${this.file}: zip entry '${name}' not found`);
    if (ent.size > maxBytes) {
      throw new ModelBoundsError(
        `${this.file}: ${what} declares ${ent.size} bytes, more than the ${maxBytes} it may hold; refusing it before reading`,
      );
    }
    const lh = this.read(ent.localOffset, 30);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`${this.file}: bad local header for '${name}'`);
    const start = ent.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (ent.method === 0) return this.read(start, ent.size);
    if (ent.method !== 8)
      throw new Error(`${this.file}: zip entry '${name}' uses unsupported compression method ${ent.method}`);
    const raw = this.read(start, ent.compressedSize);
    let out: Buffer;
    try {
      // One output buffer one byte longer than declared: a valid entry fills it short of the end; data that would
      // go past the declared size stops zlib there (ERR_BUFFER_TOO_LARGE) before anything larger is allocated.
      out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, ent.size), chunkSize: Math.max(64, ent.size + 1) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ModelBoundsError(
          `${this.file}: ${what} inflates past its declared ${ent.size} bytes (a zip bomb?); refused there`,
        );
      }
      throw new Error(`${this.file}: ${what} is not valid deflate data (${errorText(e)})`);
    }
    if (out.length !== ent.size) {
      throw new Error(
        `${this.file}: ${what} inflates to ${out.length} bytes, but the zip directory declares ${ent.size}`,
      );
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Restricted pickle VM.

const STORAGE_TYPES: Record<string, { dtype: DType | 'int16'; size: number }> = {
  FloatStorage: { dtype: 'float32', size: 4 },
  DoubleStorage: { dtype: 'float64', size: 8 },
  HalfStorage: { dtype: 'float16', size: 2 },
  BFloat16Storage: { dtype: 'bfloat16', size: 2 },
  LongStorage: { dtype: 'int64', size: 8 },
  IntStorage: { dtype: 'int32', size: 4 },
  ShortStorage: { dtype: 'int16', size: 2 },
  CharStorage: { dtype: 'int8', size: 1 },
  ByteStorage: { dtype: 'uint8', size: 1 },
  BoolStorage: { dtype: 'bool', size: 1 },
};

/** Every GLOBAL the VM accepts. Anything else is refused. */
const ALLOWED_GLOBALS = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
]);

class GlobalRef {
  constructor(readonly name: string) {}
}
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType | 'int16',
    readonly elemSize: number,
    readonly numel: number,
  ) {}
}
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}
/** A pickled dict/OrderedDict: keys → values, insertion-ordered. */
class PDict {
  readonly map = new Map<unknown, unknown>();
}
class Mark {}
const MARK = new Mark();

const OPNAMES: Record<number, string> = {
  0x28: 'MARK',
  0x2e: 'STOP',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4c: 'LONG',
  0x4d: 'BININT2',
  0x4e: 'NONE',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x58: 'BINUNICODE',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x7d: 'EMPTY_DICT',
  0x65: 'APPENDS',
  0x67: 'GET',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6a: 'LONG_BINGET',
  0x6c: 'LIST',
  0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x29: 'EMPTY_TUPLE',
  0x75: 'SETITEMS',
  0x47: 'BINFLOAT',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

function opName(op: number): string {
  return `${OPNAMES[op] ?? 'unknown opcode'} (0x${op.toString(16).padStart(2, '0')})`;
}

/**
 * Interprets a pickle with the restricted VM. `persistentLoad` resolves BINPERSID ids (the storages).
 * Exported for tests; `readTorchBin` is the normal entry point.
 */
export function unpickleRestricted(buf: Uint8Array, where: string, persistentLoad: (pid: unknown) => unknown): unknown {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const fail = (msg: string): never => {
    throw new UnsafePickleError(`${where}: refusing to load pickle: ${msg} at byte ${pos}`);
  };
  const need = (n: number): void => {
    if (pos + n > buf.length) fail('unexpected end of data');
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = Buffer.from(buf.subarray(pos, end)).toString('utf8');
    pos = end + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
  const pop = (): unknown => {
    if (!stack.length) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (!stack.length) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] === MARK) {
        const items = stack.slice(i + 1);
        stack.length = i;
        return items;
      }
    }
    return fail('MARK not found');
  };
  const global = (module: string, name: string): GlobalRef => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      fail(
        `GLOBAL '${full}' is not allowed (only tensor rebuild globals are accepted: ${[...ALLOWED_GLOBALS].join(', ')})`,
      );
    }
    return new GlobalRef(full);
  };
  const longFromBytes = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail('integer out of range');
    return Number(v);
  };
  const setItems = (d: unknown, kv: unknown[]): void => {
    if (!(d instanceof PDict)) fail('SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < kv.length; i += 2) (d as PDict).map.set(kv[i], kv[i + 1]);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof GlobalRef)) return fail('REDUCE on a callable that is not an allowed global');
    if (!Array.isArray(args)) return fail(`REDUCE of '${fn.name}' without an argument tuple`);
    switch (fn.name) {
      case 'collections.OrderedDict': {
        const d = new PDict();
        if (args.length > 0) {
          if (!Array.isArray(args[0])) fail('OrderedDict(...) with a non-list argument');
          for (const kv of args[0] as unknown[]) {
            if (!Array.isArray(kv) || kv.length !== 2) fail('OrderedDict(...) item is not a pair');
            d.map.set((kv as unknown[])[0], (kv as unknown[])[1]);
          }
        }
        return d;
      }
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = args as [unknown, unknown, unknown, unknown];
        if (!(storage instanceof StorageRef)) return fail('_rebuild_tensor_v2 without a storage');
        const isInts = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => Number.isInteger(x) && x >= 0);
        if (
          !Number.isInteger(offset) ||
          (offset as number) < 0 ||
          !isInts(size) ||
          !isInts(stride) ||
          size.length !== stride.length
        ) {
          return fail('_rebuild_tensor_v2 with malformed offset/size/stride');
        }
        return new TensorRef(storage, offset as number, size as number[], stride as number[]);
      }
      case 'torch._utils._rebuild_parameter': {
        if (!(args[0] instanceof TensorRef)) return fail('_rebuild_parameter without a tensor');
        return args[0];
      }
      default:
        return fail(`REDUCE on '${fn.name}', which is not a callable the loader accepts`);
    }
  };

  for (;;) {
    need(1);
    const op = buf[pos++];
    switch (op) {
      case 0x80: {
        const proto = u8();
        if (proto > 5) fail(`unsupported pickle protocol ${proto}`);
        break;
      } // PROTO
      case 0x95:
        u64();
        break; // FRAME (length only; frames are contiguous in the buffer)
      case 0x2e: {
        // STOP
        const v = pop();
        return v;
      }
      case 0x28:
        stack.push(MARK);
        break;
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        stack.push(i32());
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(longFromBytes(bytes(u8())));
        break; // LONG1
      case 0x47: {
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      } // BINFLOAT (big-endian)
      case 0x49: {
        // INT (text; protocol 0)
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else {
          const v = Number(s);
          if (!Number.isInteger(v)) fail(`bad INT '${s}'`);
          stack.push(v);
        }
        break;
      }
      case 0x58:
        stack.push(utf8(bytes(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(utf8(bytes(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(utf8(bytes(u64())));
        break; // BINUNICODE8
      case 0x54:
        stack.push(utf8(bytes(u32())));
        break; // BINSTRING (py2 str)
      case 0x55:
        stack.push(utf8(bytes(u8())));
        break; // SHORT_BINSTRING
      case 0x42:
        stack.push(bytes(u32()).slice());
        break; // BINBYTES
      case 0x43:
        stack.push(bytes(u8()).slice());
        break; // SHORT_BINBYTES
      case 0x7d:
        stack.push(new PDict());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE (tuples are arrays)
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85: {
        const a = pop();
        stack.push([a]);
        break;
      }
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x64: {
        const d = new PDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      } // DICT
      case 0x61: {
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail('APPEND to a non-list');
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: {
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('APPENDS to a non-list');
        (l as unknown[]).push(...items);
        break;
      }
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x70: {
        const s = line();
        memo.set(Number(s), top());
        break;
      } // PUT
      case 0x68:
      case 0x6a:
      case 0x67: {
        // BINGET, LONG_BINGET, GET
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(idx)) fail(`memo key ${idx} missing`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        stack.push(persistentLoad(pid));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(reduce(fn, args));
        break;
      }
      case 0x62: {
        // BUILD: only state on an OrderedDict (torch's `_metadata` attribute) is accepted, and ignored
        const state = pop();
        const obj = top();
        if (!(obj instanceof PDict)) fail('BUILD on an object that is not a dict');
        if (!(state instanceof PDict) && state !== null) fail('BUILD with a state that is not a dict');
        break;
      }
      default:
        fail(`opcode ${opName(op)} is not allowed`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Storages → tensors.

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Gathers a (possibly non-contiguous) strided view out of a storage into a dense, row-major tensor. */
function materialise(name: string, t: TensorRef, raw: Buffer, where: string): Tensor {
  const { storage, offset, size, stride } = t;
  const n = numel(size);
  // Bounds: the largest element index the view touches.
  let maxIndex = offset;
  for (let d = 0; d < size.length; d++) if (size[d] > 0) maxIndex += (size[d] - 1) * stride[d];
  if (n > 0 && maxIndex >= storage.numel) {
    throw new Error(`${where}: tensor '${name}' reads past its storage (${maxIndex} ≥ ${storage.numel} elements)`);
  }
  if (raw.length < storage.numel * storage.elemSize) {
    throw new Error(
      `${where}: storage '${storage.key}' has ${raw.length} bytes, expected ${storage.numel * storage.elemSize}`,
    );
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const rank = size.length;
  const idx = new Array<number>(rank).fill(0);
  const dtype = storage.dtype;
  if (dtype === 'int16')
    throw new Error(`${where}: tensor '${name}' has dtype int16, which the converter does not support`);
  let out: Tensor['data'];
  let put: (i: number, e: number) => void;
  const es = storage.elemSize;
  switch (dtype) {
    case 'float32': {
      const a = new Float32Array(n);
      out = a;
      put = (i, e) => {
        a[i] = dv.getFloat32(e * es, true);
      };
      break;
    }
    case 'float64': {
      const a = new Float32Array(n);
      out = a;
      put = (i, e) => {
        a[i] = dv.getFloat64(e * es, true);
      };
      break;
    }
    case 'float16': {
      const a = new Float32Array(n);
      out = a;
      put = (i, e) => {
        a[i] = halfToFloat(dv.getUint16(e * es, true));
      };
      break;
    }
    case 'bfloat16': {
      const a = new Float32Array(n);
      out = a;
      const u = new Uint32Array(a.buffer);
      put = (i, e) => {
        u[i] = dv.getUint16(e * es, true) << 16;
      };
      break;
    }
    case 'int64': {
      const a = new BigInt64Array(n);
      out = a;
      put = (i, e) => {
        a[i] = dv.getBigInt64(e * es, true);
      };
      break;
    }
    case 'int32': {
      const a = new Int32Array(n);
      out = a;
      put = (i, e) => {
        a[i] = dv.getInt32(e * es, true);
      };
      break;
    }
    case 'int8': {
      const a = new Int8Array(n);
      out = a;
      put = (i, e) => {
        a[i] = dv.getInt8(e);
      };
      break;
    }
    case 'uint8':
    case 'bool': {
      const a = new Uint8Array(n);
      out = a;
      put = (i, e) => {
        a[i] = dv.getUint8(e);
      };
      break;
    }
  }
  // Fast path: contiguous row-major float32.
  let contiguous = true;
  for (let d = rank - 1, expect = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) {
      contiguous = false;
      break;
    }
    expect *= size[d];
  }
  if (contiguous && dtype === 'float32') {
    const a = out as Float32Array;
    const src = raw.subarray(offset * 4, (offset + n) * 4);
    new Uint8Array(a.buffer).set(src);
    return { dtype, shape: [...size], data: a };
  }
  for (let i = 0; i < n; i++) {
    let e = offset;
    for (let d = 0; d < rank; d++) e += idx[d] * stride[d];
    put(i, e);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return { dtype, shape: [...size], data: out };
}

/** Bounds on what a checkpoint may expand to (see readTorchBin). */
export interface TorchBinLimits {
  /** Most bytes of tensor storage the checkpoint may declare in all (default 16 GiB). */
  maxBytes?: number;
  /**
   * Most bytes of tensor storage per byte of file (default 16), plus 64 MiB. torch.save stores its entries
   * uncompressed (1:1); a zip that claims far more than it holds is a zip bomb, not a model.
   */
  maxExpansion?: number;
}

/** The pickle of a state dict is a few hundred bytes per tensor (BERT-large: ~50 KB). */
const MAX_PICKLE_BYTES = 64 << 20;
/** A storage entry may be this much longer than its declared element count needs. */
const STORAGE_SLACK = 4096;
const MiB = 1 << 20;

/**
 * Reads a PyTorch `torch.save` zip checkpoint (a state dict) into float32/int tensors without executing it.
 *
 * Memory is bounded by what the pickle declares: every storage's zip entry must be as long as its declared element
 * count needs (plus a few bytes), every tensor view must lie inside its storage, and the total must fit `limits`,
 * all checked from the zip's central directory and the pickle before any tensor data is read or inflated; an entry
 * that inflates past its declared size is refused as soon as it does. Peak memory is about the model size.
 */
export function readTorchBin(file: string, limits: TorchBinLimits = {}): StateDict {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4);
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.readUInt32LE(0) !== 0x04034b50) {
    if (head[0] === 0x80) {
      throw new Error(
        `${file}: this is PyTorch's legacy (pre-1.6, non-zip) serialization format, which is not supported. ` +
          `Re-save it with a current torch.save(), or convert it to model.safetensors.`,
      );
    }
    throw new Error(`${file}: not a PyTorch zip checkpoint (expected a zip archive holding data.pkl)`);
  }
  const maxBytes = limits.maxBytes ?? 16 * 2 ** 30;
  const maxExpansion = limits.maxExpansion ?? 16;
  const zip = new ZipFile(file);
  try {
    const pkl = [...zip.entries.keys()].filter((n) => n.endsWith('/data.pkl') && n.split('/').length === 2);
    if (pkl.length !== 1)
      throw new Error(`${file}: expected exactly one <archive>/data.pkl in the zip, found ${pkl.length}`);
    const prefix = pkl[0].slice(0, -'data.pkl'.length);
    const byteorder = zip.entries.has(`${prefix}byteorder`)
      ? zip.readEntry(`${prefix}byteorder`, 64).toString('utf8').trim()
      : 'little';
    if (byteorder !== 'little')
      throw new Error(`${file}: storages are ${byteorder}-endian; only little-endian checkpoints are supported`);

    const storages = new Map<string, StorageRef>();
    const persistentLoad = (pid: unknown): StorageRef => {
      // ('storage', <storage class>, key, location, numel)
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
        throw new UnsafePickleError(
          `${file}: refusing to load pickle: persistent id is not a tensor storage reference`,
        );
      }
      const [, cls, key, , count] = pid as [string, unknown, unknown, unknown, unknown];
      if (!(cls instanceof GlobalRef) || !cls.name.startsWith('torch.') || !STORAGE_TYPES[cls.name.slice(6)]) {
        throw new UnsafePickleError(`${file}: refusing to load pickle: persistent id names an unknown storage type`);
      }
      if (typeof key !== 'string' || !/^[\w.-]+$/.test(key) || !Number.isSafeInteger(count) || (count as number) < 0) {
        throw new UnsafePickleError(`${file}: refusing to load pickle: malformed storage reference`);
      }
      const st = STORAGE_TYPES[cls.name.slice(6)];
      const existing = storages.get(key);
      if (existing) {
        if (existing.numel !== count || existing.dtype !== st.dtype) {
          throw new UnsafePickleError(
            `${file}: refusing to load pickle: storage '${key}' is declared twice with different types or sizes`,
          );
        }
        return existing;
      }
      const ref = new StorageRef(key, st.dtype, st.size, count as number);
      storages.set(key, ref);
      return ref;
    };
    const pickleMax = Math.min(MAX_PICKLE_BYTES, zip.size * maxExpansion + MiB);
    const root = unpickleRestricted(zip.readEntry(pkl[0], pickleMax), `${file} (${pkl[0]})`, persistentLoad);

    // A plain state dict, or a checkpoint dict wrapping one under 'state_dict' / 'model'.
    let dict = root;
    if (dict instanceof PDict && ![...dict.map.values()].some((v) => v instanceof TensorRef)) {
      dict = dict.map.get('state_dict') ?? dict.map.get('model') ?? dict;
    }
    if (!(dict instanceof PDict)) throw new Error(`${file}: the pickle does not hold a state dict`);

    // Everything the tensors will need, checked against the zip directory before any tensor data is read.
    const tensors: [string, TensorRef][] = [];
    for (const [k, v] of dict.map) {
      if (!(v instanceof TensorRef)) continue; // non-tensor entries (e.g. a version number) are ignored
      if (typeof k !== 'string') throw new Error(`${file}: state dict has a non-string key`);
      tensors.push([k, v]);
    }
    if (tensors.length === 0) throw new Error(`${file}: the state dict holds no tensors`);
    const needed = new Map<string, { ref: StorageRef; tensor: string; entry: ZipEntry }>();
    let storageBytes = 0;
    let tensorBytes = 0;
    for (const [k, v] of tensors) {
      const st = v.storage;
      const n = v.size.reduce((a, b) => a * b, 1);
      if (!Number.isSafeInteger(n) || n * st.elemSize > MAX_BUFFER_BYTES) {
        throw new ModelBoundsError(
          `${file}: tensor '${k}' declares shape [${v.size}] (${n} elements), too large to load`,
        );
      }
      let maxIndex = v.offset;
      for (let d = 0; d < v.size.length; d++) if (v.size[d]! > 0) maxIndex += (v.size[d]! - 1) * v.stride[d]!;
      if (n > 0 && maxIndex >= st.numel) {
        throw new ModelBoundsError(
          `${file}: tensor '${k}' reads past its storage '${st.key}' (${maxIndex} ≥ ${st.numel} elements)`,
        );
      }
      tensorBytes += n * st.elemSize;
      if (needed.has(st.key)) continue;
      const name = `${prefix}data/${st.key}`;
      const entry = zip.entries.get(name);
      if (!entry) throw new Error(`${file}: zip entry '${name}' (storage of tensor '${k}') not found`);
      const want = st.numel * st.elemSize;
      if (want > MAX_BUFFER_BYTES) {
        throw new ModelBoundsError(
          `${file}: storage '${st.key}' of tensor '${k}' declares ${st.numel} elements (${want} bytes), too large to load`,
        );
      }
      if (entry.size < want || entry.size > want + STORAGE_SLACK) {
        throw new ModelBoundsError(
          `${file}: zip entry '${name}' (storage of tensor '${k}') declares ${entry.size} bytes, ` +
            `but the pickle declares ${st.numel} × ${st.elemSize}-byte elements = ${want} bytes; refusing it before reading`,
        );
      }
      needed.set(st.key, { ref: st, tensor: k, entry });
      storageBytes += entry.size;
    }
    const allowed = Math.min(maxBytes, zip.size * maxExpansion + 64 * MiB);
    if (storageBytes > allowed) {
      throw new ModelBoundsError(
        `${file}: the checkpoint declares ${storageBytes} bytes of tensor data in a ${zip.size}-byte file ` +
          `(more than the ${allowed} allowed${allowed === maxBytes ? '' : `: at most ${maxExpansion}× the file size + 64 MiB`}); refusing it before inflating anything`,
      );
    }
    // Views may overlap (tied weights share a storage); tensors that together claim far more than their storages are a bomb.
    if (tensorBytes > 4 * storageBytes + 64 * MiB) {
      throw new ModelBoundsError(
        `${file}: the state dict's tensors declare ${tensorBytes} bytes over ${storageBytes} bytes of storage; refusing it`,
      );
    }

    const out: StateDict = new Map();
    // Each storage is read once and dropped after its last tensor, so peak memory stays near one model copy.
    const uses = new Map<string, number>();
    for (const [, v] of tensors) uses.set(v.storage.key, (uses.get(v.storage.key) ?? 0) + 1);
    const rawCache = new Map<string, Buffer>();
    for (const [k, v] of tensors) {
      const key = v.storage.key;
      let raw = rawCache.get(key);
      if (!raw) {
        const { entry, ref } = needed.get(key)!;
        raw = zip.readEntry(
          entry.name,
          ref.numel * ref.elemSize + STORAGE_SLACK,
          `zip entry '${entry.name}' (storage of tensor '${k}')`,
        );
        rawCache.set(key, raw);
      }
      out.set(k, materialise(k, v, raw, file));
      const left = (uses.get(key) ?? 1) - 1;
      uses.set(key, left);
      if (left === 0) rawCache.delete(key);
    }
    return out;
  } finally {
    zip.close();
  }
}
