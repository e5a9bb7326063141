// safetensors reader/writer (https://huggingface.co/docs/safetensors): 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets:[begin, end]}, __metadata__?}, then the tensor bytes. Tensors are read
// one at a time from the file descriptor, so a 1.3 GB file never sits in memory twice. The header is checked whole
// before any tensor is read: offsets and shapes that run past the file, or an absurd header length, are refused.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ModelBoundsError, numel, type DType, type StateDict, type Tensor } from './tensor';
import { bfloat16ToFloat32, halfToFloat32 } from './fp16';
import { jsonObject, parseJson } from '../../util/json';

const ST_DTYPES: Record<string, { dtype: DType; size: number }> = {
  F32: { dtype: 'float32', size: 4 },
  F16: { dtype: 'float16', size: 2 },
  BF16: { dtype: 'bfloat16', size: 2 },
  F64: { dtype: 'float64', size: 8 },
  I64: { dtype: 'int64', size: 8 },
  I32: { dtype: 'int32', size: 4 },
  I8: { dtype: 'int8', size: 1 },
  U8: { dtype: 'uint8', size: 1 },
  BOOL: { dtype: 'bool', size: 1 },
};

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function readExact(fd: number, buf: Uint8Array, pos: number, file: string): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, Math.min(buf.length - off, 1 << 28), pos + off);
    if (n === 0) throw new Error(`${file}: unexpected end of file at byte ${pos + off}`);
    off += n;
  }
}

export interface SafetensorsFile {
  tensors: StateDict;
  metadata: Record<string, string>;
}

/** Reads a .safetensors file. Floating tensors are widened to float32 (Tensor.dtype keeps the stored dtype). */
export async function readSafetensors(file: string): Promise<StateDict> {
  return (await readSafetensorsWithMetadata(file)).tensors;
}

/** Headers are a few hundred bytes per tensor; the safetensors library itself refuses more than 100 MB. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export async function readSafetensorsWithMetadata(file: string): Promise<SafetensorsFile> {
  if (os.endianness() !== 'LE') throw new Error('safetensors reading needs a little-endian machine');
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new Error(`${file}: not a safetensors file (${size} bytes)`);
    const lenBuf = Buffer.alloc(8);
    readExact(fd, lenBuf, 0, file);
    const hlen64 = lenBuf.readBigUInt64LE(0);
    if (hlen64 < 2n || hlen64 > BigInt(MAX_HEADER_BYTES) || 8n + hlen64 > BigInt(size)) {
      throw new ModelBoundsError(
        `${file}: bad safetensors header length ${hlen64} (file is ${size} bytes; a header is 2 bytes to ` +
          `${MAX_HEADER_BYTES} bytes and lies inside the file); refusing it`,
      );
    }
    const hlen = Number(hlen64);
    const hbuf = Buffer.alloc(hlen);
    readExact(fd, hbuf, 8, file);
    // a JSON object (its entries are checked one by one below, naming the tensor)
    const header = parseJson(hbuf.toString('utf8'), jsonObject, `${file}: safetensors header`);
    const dataStart = 8 + hlen;
    const dataBytes = size - dataStart;
    // Every entry is checked (dtype, shape, offsets inside the file, no two tensors sharing bytes) before any tensor
    // is read, so a header that promises more than the file holds allocates nothing.
    let metadata: Record<string, string> = {};
    const plan: { name: string; begin: number; end: number; n: number; dtype: DType; shape: number[] }[] = [];
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const e = raw as HeaderEntry;
      const info = ST_DTYPES[e?.dtype];
      if (!info) throw new Error(`${file}: tensor ${name} has unsupported dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new Error(`${file}: tensor ${name} has a bad shape ${JSON.stringify(e.shape)}`);
      }
      const n = numel(e.shape);
      if (!Number.isSafeInteger(n * info.size) || n * info.size > dataBytes) {
        throw new ModelBoundsError(
          `${file}: tensor ${name} has shape [${e.shape}] ${e.dtype} (${n * info.size} bytes), ` +
            `more than the file's ${dataBytes} bytes of tensor data; refusing it`,
        );
      }
      const [b, en] = Array.isArray(e.data_offsets) ? e.data_offsets : [];
      if (!Number.isSafeInteger(b) || !Number.isSafeInteger(en) || b! < 0 || en! < b!) {
        throw new Error(`${file}: tensor ${name} has bad data_offsets ${JSON.stringify(e.data_offsets)}`);
      }
      if (en! > dataBytes) {
        throw new ModelBoundsError(
          `${file}: tensor ${name} has data_offsets ${JSON.stringify(e.data_offsets)} past the end of the file ` +
            `(its tensor data is ${dataBytes} bytes); refusing it`,
        );
      }
      if (en! - b! !== n * info.size) {
        throw new Error(
          `${file}: tensor ${name} has bad data_offsets ${JSON.stringify(e.data_offsets)} for shape [${e.shape}] ${e.dtype} ` +
            `(${en! - b!} bytes for ${n * info.size})`,
        );
      }
      plan.push({ name, begin: b!, end: en!, n, dtype: info.dtype, shape: e.shape });
    }
    let last: (typeof plan)[number] | undefined; // the non-empty tensor reaching furthest so far
    for (const c of [...plan].filter((t) => t.end > t.begin).sort((x, y) => x.begin - y.begin)) {
      if (last && c.begin < last.end) {
        throw new ModelBoundsError(
          `${file}: tensors ${last.name} [${last.begin}, ${last.end}) and ${c.name} [${c.begin}, ${c.end}) overlap; refusing it`,
        );
      }
      if (!last || c.end > last.end) last = c;
    }
    const tensors: StateDict = new Map();
    for (const t of plan) tensors.set(t.name, readTensor(fd, file, dataStart + t.begin, t.n, t.dtype, t.shape));
    return { tensors, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

function readTensor(fd: number, file: string, pos: number, n: number, dtype: DType, shape: number[]): Tensor {
  switch (dtype) {
    case 'float32': {
      const a = new Float32Array(n);
      readExact(fd, new Uint8Array(a.buffer), pos, file);
      return { dtype, shape, data: a };
    }
    case 'float16':
    case 'bfloat16': {
      const a = new Uint16Array(n);
      readExact(fd, new Uint8Array(a.buffer), pos, file);
      return { dtype, shape, data: dtype === 'float16' ? halfToFloat32(a) : bfloat16ToFloat32(a) };
    }
    case 'float64': {
      const a = new Float64Array(n);
      readExact(fd, new Uint8Array(a.buffer), pos, file);
      return { dtype, shape, data: Float32Array.from(a) };
    }
    case 'int64': {
      const a = new BigInt64Array(n);
      readExact(fd, new Uint8Array(a.buffer), pos, file);
      return { dtype, shape, data: a };
    }
    case 'int32': {
      const a = new Int32Array(n);
      readExact(fd, new Uint8Array(a.buffer), pos, file);
      return { dtype, shape, data: a };
    }
    case 'int8': {
      const a = new Int8Array(n);
      readExact(fd, new Uint8Array(a.buffer), pos, file);
      return { dtype, shape, data: a };
    }
    default: {
      const a = new Uint8Array(n);
      readExact(fd, a, pos, file);
      return { dtype, shape, data: a };
    }
  }
}

function stDtype(t: Tensor): { code: string; bytes: Uint8Array } {
  const d = t.data;
  if (d instanceof Float32Array) return { code: 'F32', bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
  if (d instanceof BigInt64Array) return { code: 'I64', bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
  if (d instanceof Int32Array) return { code: 'I32', bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
  if (d instanceof Int8Array) return { code: 'I8', bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
  return { code: t.dtype === 'bool' ? 'BOOL' : 'U8', bytes: d };
}

/** Writes tensors (float32 written as F32, whatever their source dtype) as a .safetensors file, atomically. */
export async function writeSafetensors(
  file: string,
  tensors: StateDict,
  metadata: Record<string, string> = {},
): Promise<void> {
  if (os.endianness() !== 'LE') throw new Error('safetensors writing needs a little-endian machine');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    if (numel(t.shape) !== t.data.length)
      throw new Error(`tensor ${name}: shape [${t.shape}] does not match ${t.data.length} values`);
    const { code, bytes } = stDtype(t);
    header[name] = { dtype: code, shape: t.shape, data_offsets: [off, off + bytes.byteLength] };
    parts.push(bytes);
    off += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8); // align data start to 8 bytes
  const hbuf = Buffer.from(json, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(hbuf.length));
  const tmp = `${file}.partial`;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const p of [lenBuf, hbuf, ...parts]) {
      let o = 0;
      while (o < p.length) o += fs.writeSync(fd, p, o, Math.min(p.length - o, 1 << 26));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
