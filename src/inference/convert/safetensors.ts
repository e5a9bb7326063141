// safetensors reader/writer (https://huggingface.co/docs/safetensors): 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets:[begin, end]}, __metadata__?}, then the tensor bytes. Tensors are read
// one at a time from the file descriptor, so a 1.3 GB file never sits in memory twice.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { numel, type DType, type StateDict, type Tensor } from './tensor';
import { bfloat16ToFloat32, halfToFloat32 } from './fp16';

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

interface HeaderEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

function readExact(fd: number, buf: Uint8Array, pos: number, file: string): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, Math.min(buf.length - off, 1 << 28), pos + off);
    if (n === 0) throw new Error(`${file}: unexpected end of file at byte ${pos + off}`);
    off += n;
  }
}

export interface SafetensorsFile { tensors: StateDict; metadata: Record<string, string> }

/** Reads a .safetensors file. Floating tensors are widened to float32 (Tensor.dtype keeps the stored dtype). */
export async function readSafetensors(file: string): Promise<StateDict> {
  return (await readSafetensorsWithMetadata(file)).tensors;
}

export async function readSafetensorsWithMetadata(file: string): Promise<SafetensorsFile> {
  if (os.endianness() !== 'LE') throw new Error('safetensors reading needs a little-endian machine');
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new Error(`${file}: not a safetensors file (${size} bytes)`);
    const lenBuf = Buffer.alloc(8);
    readExact(fd, lenBuf, 0, file);
    const hlen = Number(lenBuf.readBigUInt64LE(0));
    if (hlen <= 1 || 8 + hlen > size || hlen > 100 * 1024 * 1024) {
      throw new Error(`${file}: bad safetensors header length ${hlen} (file is ${size} bytes)`);
    }
    const hbuf = Buffer.alloc(hlen);
    readExact(fd, hbuf, 8, file);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hbuf.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}: safetensors header is not valid JSON (${(e as Error).message})`);
    }
    const dataStart = 8 + hlen;
    const tensors: StateDict = new Map();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const e = raw as HeaderEntry;
      const info = ST_DTYPES[e?.dtype];
      if (!info) throw new Error(`${file}: tensor ${name} has unsupported dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new Error(`${file}: tensor ${name} has a bad shape ${JSON.stringify(e.shape)}`);
      }
      const [b, en] = e.data_offsets ?? [];
      const n = numel(e.shape);
      if (!Number.isInteger(b) || !Number.isInteger(en) || en! - b! !== n * info.size || dataStart + en! > size) {
        throw new Error(`${file}: tensor ${name} has bad data_offsets ${JSON.stringify(e.data_offsets)} for shape [${e.shape}] ${e.dtype}`);
      }
      tensors.set(name, readTensor(fd, file, dataStart + b!, n, info.dtype, e.shape));
    }
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
    case 'float16': case 'bfloat16': {
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
export async function writeSafetensors(file: string, tensors: StateDict, metadata: Record<string, string> = {}): Promise<void> {
  if (os.endianness() !== 'LE') throw new Error('safetensors writing needs a little-endian machine');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    if (numel(t.shape) !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] does not match ${t.data.length} values`);
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
