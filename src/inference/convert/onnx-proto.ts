// ONNX protobuf encoding/decoding through protobufjs, with the subset of the ONNX schema (onnx.proto, IR v8) that the
// converter writes. Field numbers follow the ONNX specification. Large models are written streaming: the graph
// skeleton (nodes, inputs, outputs) is encoded by protobufjs, and each initializer's raw bytes are appended to the
// file directly with hand-written length framing, so memory stays at the state dict plus one tensor.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { newHash } from '../../util/hash';
import * as protobuf from 'protobufjs';

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            docString: { type: 'string', id: 12 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
          nested: {
            Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);
export const ModelProto = root.lookupType('onnx.ModelProto');
export const GraphProto = root.lookupType('onnx.GraphProto');
export const TensorProto = root.lookupType('onnx.TensorProto');

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;
export type OnnxDataType = (typeof DataType)[keyof typeof DataType];

export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export type AttrValue = number | string | number[] | { int: number } | { ints: number[] } | { tensor: InlineTensor };
export interface InlineTensor {
  dataType: OnnxDataType;
  dims: number[];
  raw: Uint8Array;
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** number → FLOAT unless wrapped as {int}; integer-valued attributes must use {int}/{ints}. */
  attrs?: Record<string, AttrValue>;
}

export interface ValueInfo {
  name: string;
  elemType: OnnxDataType;
  dims: (number | string)[];
}

/** An initializer whose bytes are produced only when written (lazy, so big models never hold two copies). */
export interface Initializer {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  /** Little-endian raw bytes in ONNX layout. Called once, at write time. */
  bytes: () => Uint8Array;
}

export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Initializer[];
  opsets: { domain: string; version: number }[];
  docString?: string;
  metadata?: Record<string, string>;
}

export const IR_VERSION = 8;

function attrToProto(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') return { name, type: AttrType.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) return { name, type: AttrType.FLOATS, floats: v };
  if ('int' in v) return { name, type: AttrType.INT, i: v.int };
  if ('ints' in v) return { name, type: AttrType.INTS, ints: v.ints };
  return {
    name,
    type: AttrType.TENSOR,
    t: { dims: v.tensor.dims, dataType: v.tensor.dataType, rawData: v.tensor.raw },
  };
}

function valueInfoToProto(v: ValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function nodeToProto(n: OnnxNode, i: number): Record<string, unknown> {
  return {
    input: n.inputs,
    output: n.outputs,
    name: n.name ?? `${n.op}_${i}`,
    opType: n.op,
    domain: n.domain ?? '',
    attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attrToProto(k, v)),
  };
}

function varint(n: number): Buffer {
  const out: number[] = [];
  // lengths here stay far below 2^53, so plain arithmetic is exact
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}
const tag = (field: number, wire: number): Buffer => varint(field * 8 + wire);

export interface WriteResult {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Writes `model` as an ONNX file at `file`, streaming the initializers. Returns size and sha256 of what was written.
 * Throws if the model would pass protobuf's 2 GiB message limit (onnxruntime refuses such files).
 */
export function writeOnnxModel(model: OnnxModel, file: string): WriteResult {
  if (os.endianness() !== 'LE') throw new Error('writing ONNX raw tensors needs a little-endian machine');
  const graphHead = GraphProto.encode(
    GraphProto.fromObject({
      name: model.graphName,
      node: model.nodes.map(nodeToProto),
      input: model.inputs.map(valueInfoToProto),
      output: model.outputs.map(valueInfoToProto),
    }),
  ).finish();
  // Per-initializer header (everything but raw_data) and raw size, to frame lengths before writing any bytes.
  const heads = model.initializers.map((t) => {
    const head = TensorProto.encode(
      TensorProto.fromObject({ name: t.name, dims: t.dims, dataType: t.dataType }),
    ).finish();
    const rawLen = t.dims.reduce((a, b) => a * b, 1) * bytesPerElement(t.dataType);
    const tensorLen = head.length + tag(9, 2).length + varint(rawLen).length + rawLen;
    return { head, rawLen, tensorLen };
  });
  let graphLen = graphHead.length;
  for (const h of heads) graphLen += tag(5, 2).length + varint(h.tensorLen).length + h.tensorLen;
  const modelHead = ModelProto.encode(
    ModelProto.fromObject({
      irVersion: IR_VERSION,
      producerName: 'biohicl-writer',
      producerVersion: '1',
      docString: model.docString ?? '',
      opsetImport: model.opsets,
      metadataProps: Object.entries(model.metadata ?? {}).map(([key, value]) => ({ key, value })),
    }),
  ).finish();
  const total = modelHead.length + tag(7, 2).length + varint(graphLen).length + graphLen;
  if (total >= 2 ** 31) {
    throw new Error(`${file}: the ONNX model would be ${total} bytes, past protobuf's 2 GiB limit`);
  }
  const hash = newHash('sha256');
  const tmp = `${file}.partial`;
  const fd = fs.openSync(tmp, 'w');
  let written = 0;
  const put = (b: Uint8Array): void => {
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off, Math.min(b.length - off, 1 << 26));
    hash.update(b);
    written += b.length;
  };
  try {
    put(modelHead);
    put(tag(7, 2));
    put(varint(graphLen));
    put(graphHead);
    model.initializers.forEach((t, i) => {
      const h = heads[i]!;
      const raw = t.bytes();
      if (raw.byteLength !== h.rawLen) {
        throw new Error(`initializer ${t.name}: ${raw.byteLength} bytes, expected ${h.rawLen} for dims [${t.dims}]`);
      }
      put(tag(5, 2));
      put(varint(h.tensorLen));
      put(h.head);
      put(tag(9, 2));
      put(varint(h.rawLen));
      put(raw);
    });
  } finally {
    fs.closeSync(fd);
  }
  if (written !== total) throw new Error(`internal: wrote ${written} bytes, framed ${total}`);
  fs.renameSync(tmp, file);
  return { path: file, bytes: written, sha256: hash.digest('hex') };
}

export function bytesPerElement(dt: OnnxDataType): number {
  switch (dt) {
    case DataType.FLOAT:
    case DataType.INT32:
      return 4;
    case DataType.INT64:
    case DataType.DOUBLE:
      return 8;
    case DataType.FLOAT16:
      return 2;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    default:
      throw new Error(`unsupported ONNX data type ${dt}`);
  }
}

/** Decodes an ONNX file (for tests and inspection). Returns protobufjs plain objects (longs as numbers). */
export function readOnnxModel(file: string): {
  irVersion: number;
  opsetImport: { domain?: string; version: number }[];
  graph: {
    node: {
      opType: string;
      domain?: string;
      input: string[];
      output: string[];
      attribute?: { name: string; i?: number; f?: number; ints?: number[] }[];
    }[];
    initializer: { name: string; dims: number[]; dataType: number; rawData?: Uint8Array }[];
    input: { name: string }[];
    output: { name: string; type?: { tensorType?: { elemType?: number } } }[];
  };
  metadataProps?: { key: string; value: string }[];
} {
  const msg = ModelProto.decode(fs.readFileSync(file));
  return ModelProto.toObject(msg, { longs: Number, defaults: false, arrays: true }) as never;
}

// ---- small helpers for raw tensor bytes ----

export function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
export function i64Bytes(values: number[]): Uint8Array {
  const a = BigInt64Array.from(values.map((v) => BigInt(v)));
  return new Uint8Array(a.buffer);
}
export function i32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}
