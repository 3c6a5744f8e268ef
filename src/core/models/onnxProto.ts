// A minimal, strict decoder for the parts of ONNX's ModelProto that inspection
// needs, written against the wire format with protobufjs's low-level Reader.
// Why not a full schema: we only want structure (graph, types, op types, sizes),
// and a full decode would copy every weight into a new buffer. Here tensor
// payloads are skipped by length, so a model is held in memory once (the file's
// own bytes). Field numbers are those of onnx/onnx.proto.
import { Reader, util } from 'protobufjs/minimal';
import { dataTypeInfo } from './dtypes';

/** A dimension as stored: dim_value, dim_param, or neither (unknown). */
export interface DecodedDim {
  value?: number;
  param?: string;
}

export type DecodedType =
  | { kind: 'tensor' | 'sparse_tensor'; elemType: number; /** null: no shape stored (rank unknown) */ shape: DecodedDim[] | null }
  | { kind: 'sequence' | 'map' | 'optional' | 'opaque' | 'none' };

export interface DecodedValueInfo {
  name: string;
  type: DecodedType;
}

export interface StringEntry {
  key: string;
  value: string;
}

export interface DecodedTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** Bytes of the payload kept inside the file (raw_data, or typed fields × element size). */
  inlineBytes: number;
  /** data_location == EXTERNAL: where the payload lives instead. */
  external: StringEntry[] | null;
}

export interface DecodedNode {
  opType: string;
  domain: string;
  name: string;
  /** Graphs held in attributes (If branches, Loop/Scan bodies). */
  subgraphs: DecodedGraph[];
  /** Tensors held in attributes (a Constant node's value): weights that are not initializers. */
  tensors: DecodedTensor[];
}

export interface DecodedGraph {
  name: string;
  nodes: DecodedNode[];
  initializers: DecodedTensor[];
  sparseInitializers: { values: DecodedTensor; indices: DecodedTensor }[];
  inputs: DecodedValueInfo[];
  outputs: DecodedValueInfo[];
}

export interface DecodedModel {
  irVersion: number | null;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  opsetImports: { domain: string; version: number }[];
  metadataProps: StringEntry[];
  graph: DecodedGraph | null;
}

/** Where and why decoding stopped; `offset` is a byte position in the file. */
export class ProtoDecodeError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at byte ${offset}`);
    this.name = 'ProtoDecodeError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32', 'wire type 6', 'wire type 7'];

// Real models nest If/Loop bodies a few levels deep; a limit keeps a malicious
// or corrupt file from overflowing the stack.
const MAX_GRAPH_DEPTH = 64;

type FieldHandler = (r: Reader, wireType: number, fieldStart: number) => void;

/** Decodes a whole ModelProto. Throws ProtoDecodeError on anything malformed. */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const r = Reader.create(bytes);
  try {
    return readModel(r, r.len);
  } catch (e) {
    if (e instanceof ProtoDecodeError) throw e;
    // protobufjs throws RangeError("index out of range …") or Error("invalid varint encoding").
    const reason = e instanceof RangeError ? 'unexpected end of data (truncated?)' : e instanceof Error ? e.message : String(e);
    throw new ProtoDecodeError(reason, Math.min(r.pos, r.len));
  }
}

function readModel(r: Reader, end: number): DecodedModel {
  const model: DecodedModel = {
    irVersion: null,
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    opsetImports: [],
    metadataProps: [],
    graph: null,
  };
  readFields(r, end, {
    1: (r, wt, at) => (model.irVersion = readInt(r, wt, at)),
    2: (r, wt, at) => (model.producerName = readString(r, wt, at)),
    3: (r, wt, at) => (model.producerVersion = readString(r, wt, at)),
    4: (r, wt, at) => (model.domain = readString(r, wt, at)),
    5: (r, wt, at) => (model.modelVersion = readInt(r, wt, at)),
    6: (r, wt, at) => (model.docString = readString(r, wt, at)),
    7: (r, wt, at) => (model.graph = readMessage(r, wt, at, (end) => readGraph(r, end, 0))),
    8: (r, wt, at) => model.opsetImports.push(readMessage(r, wt, at, (end) => readOpset(r, end))),
    14: (r, wt, at) => model.metadataProps.push(readMessage(r, wt, at, (end) => readEntry(r, end))),
  });
  return model;
}

function readOpset(r: Reader, end: number): { domain: string; version: number } {
  const opset = { domain: '', version: 0 };
  readFields(r, end, {
    1: (r, wt, at) => (opset.domain = readString(r, wt, at)),
    2: (r, wt, at) => (opset.version = readInt(r, wt, at)),
  });
  return opset;
}

function readEntry(r: Reader, end: number): StringEntry {
  const entry = { key: '', value: '' };
  readFields(r, end, {
    1: (r, wt, at) => (entry.key = readString(r, wt, at)),
    2: (r, wt, at) => (entry.value = readString(r, wt, at)),
  });
  return entry;
}

function readGraph(r: Reader, end: number, depth: number): DecodedGraph {
  if (depth > MAX_GRAPH_DEPTH) throw new ProtoDecodeError(`subgraphs nested deeper than ${MAX_GRAPH_DEPTH} levels`, r.pos);
  const graph: DecodedGraph = { name: '', nodes: [], initializers: [], sparseInitializers: [], inputs: [], outputs: [] };
  readFields(r, end, {
    1: (r, wt, at) => graph.nodes.push(readMessage(r, wt, at, (end) => readNode(r, end, depth))),
    2: (r, wt, at) => (graph.name = readString(r, wt, at)),
    5: (r, wt, at) => graph.initializers.push(readMessage(r, wt, at, (end) => readTensor(r, end))),
    11: (r, wt, at) => graph.inputs.push(readMessage(r, wt, at, (end) => readValueInfo(r, end))),
    12: (r, wt, at) => graph.outputs.push(readMessage(r, wt, at, (end) => readValueInfo(r, end))),
    15: (r, wt, at) => graph.sparseInitializers.push(readMessage(r, wt, at, (end) => readSparseTensor(r, end))),
  });
  return graph;
}

function readNode(r: Reader, end: number, depth: number): DecodedNode {
  const node: DecodedNode = { opType: '', domain: '', name: '', subgraphs: [], tensors: [] };
  readFields(r, end, {
    3: (r, wt, at) => (node.name = readString(r, wt, at)),
    4: (r, wt, at) => (node.opType = readString(r, wt, at)),
    5: (r, wt, at) => readMessage(r, wt, at, (end) => readAttribute(r, end, depth, node)),
    7: (r, wt, at) => (node.domain = readString(r, wt, at)),
  });
  return node;
}

/**
 * Only an attribute's graphs (g = 6, graphs = 11) and tensors (t = 5,
 * tensors = 10) matter here; names and scalar values are skipped.
 */
function readAttribute(r: Reader, end: number, depth: number, node: DecodedNode): void {
  const graph: FieldHandler = (r, wt, at) => node.subgraphs.push(readMessage(r, wt, at, (end) => readGraph(r, end, depth + 1)));
  const tensor: FieldHandler = (r, wt, at) => node.tensors.push(readMessage(r, wt, at, (end) => readTensor(r, end)));
  readFields(r, end, { 5: tensor, 6: graph, 10: tensor, 11: graph });
}

function readValueInfo(r: Reader, end: number): DecodedValueInfo {
  const info: DecodedValueInfo = { name: '', type: { kind: 'none' } };
  readFields(r, end, {
    1: (r, wt, at) => (info.name = readString(r, wt, at)),
    2: (r, wt, at) => (info.type = readMessage(r, wt, at, (end) => readType(r, end))),
  });
  return info;
}

// TypeProto is a oneof: tensor_type = 1, sequence_type = 4, map_type = 5,
// opaque_type = 7, sparse_tensor_type = 8, optional_type = 9.
function readType(r: Reader, end: number): DecodedType {
  let type: DecodedType = { kind: 'none' };
  const other = (kind: 'sequence' | 'map' | 'optional' | 'opaque'): FieldHandler => (r, wt, at) => {
    skipLengthDelimited(r, wt, at);
    type = { kind };
  };
  readFields(r, end, {
    1: (r, wt, at) => (type = { kind: 'tensor', ...readMessage(r, wt, at, (end) => readTensorType(r, end)) }),
    8: (r, wt, at) => (type = { kind: 'sparse_tensor', ...readMessage(r, wt, at, (end) => readTensorType(r, end)) }),
    4: other('sequence'),
    5: other('map'),
    7: other('opaque'),
    9: other('optional'),
  });
  return type;
}

function readTensorType(r: Reader, end: number): { elemType: number; shape: DecodedDim[] | null } {
  const t: { elemType: number; shape: DecodedDim[] | null } = { elemType: 0, shape: null };
  readFields(r, end, {
    1: (r, wt, at) => (t.elemType = readInt(r, wt, at)),
    2: (r, wt, at) => (t.shape = readMessage(r, wt, at, (end) => readShape(r, end))),
  });
  return t;
}

function readShape(r: Reader, end: number): DecodedDim[] {
  const dims: DecodedDim[] = [];
  readFields(r, end, {
    1: (r, wt, at) =>
      dims.push(
        readMessage(r, wt, at, (end) => {
          const dim: DecodedDim = {};
          readFields(r, end, {
            1: (r, wt, at) => (dim.value = readInt(r, wt, at)),
            2: (r, wt, at) => (dim.param = readString(r, wt, at)),
          });
          return dim;
        }),
      ),
  });
  return dims;
}

// TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5,
// string_data = 6, int64_data = 7, name = 8, raw_data = 9, double_data = 10,
// uint64_data = 11, external_data = 13, data_location = 14 (1 = EXTERNAL).
function readTensor(r: Reader, end: number): DecodedTensor {
  const tensor: DecodedTensor = { name: '', dataType: 0, dims: [], inlineBytes: 0, external: null };
  const entries: StringEntry[] = [];
  let rawBytes: number | null = null;
  let typedElements = 0;
  let stringBytes = 0;
  let dataLocation = 0;
  readFields(r, end, {
    1: (r, wt, at) => tensor.dims.push(...readRepeatedInt(r, wt, at)),
    2: (r, wt, at) => (tensor.dataType = readInt(r, wt, at)),
    4: (r, wt, at) => (typedElements += countRepeated(r, wt, at, FIXED32)),
    5: (r, wt, at) => (typedElements += countRepeated(r, wt, at, VARINT)),
    6: (r, wt, at) => {
      stringBytes += skipLengthDelimited(r, wt, at);
      typedElements += 1;
    },
    7: (r, wt, at) => (typedElements += countRepeated(r, wt, at, VARINT)),
    8: (r, wt, at) => (tensor.name = readString(r, wt, at)),
    9: (r, wt, at) => (rawBytes = (rawBytes ?? 0) + skipLengthDelimited(r, wt, at)),
    10: (r, wt, at) => (typedElements += countRepeated(r, wt, at, FIXED64)),
    11: (r, wt, at) => (typedElements += countRepeated(r, wt, at, VARINT)),
    13: (r, wt, at) => entries.push(readMessage(r, wt, at, (end) => readEntry(r, end))),
    14: (r, wt, at) => (dataLocation = readInt(r, wt, at)),
  });
  if (dataLocation === 1) tensor.external = entries;
  // Typed fields widen small types (float16, int8, bool… travel in int32_data),
  // so the payload's size is elements × the element type's own size.
  const elementBytes = rawBytes ?? (stringBytes > 0 ? stringBytes : Math.ceil(typedElements * dataTypeInfo(tensor.dataType).bytes));
  tensor.inlineBytes = elementBytes;
  return tensor;
}

function readSparseTensor(r: Reader, end: number): { values: DecodedTensor; indices: DecodedTensor } {
  const empty = (): DecodedTensor => ({ name: '', dataType: 0, dims: [], inlineBytes: 0, external: null });
  const sparse = { values: empty(), indices: empty() };
  readFields(r, end, {
    1: (r, wt, at) => (sparse.values = readMessage(r, wt, at, (end) => readTensor(r, end))),
    2: (r, wt, at) => (sparse.indices = readMessage(r, wt, at, (end) => readTensor(r, end))),
  });
  return sparse;
}

// ---- wire-level helpers ------------------------------------------------------

function readFields(r: Reader, end: number, handlers: Record<number, FieldHandler>): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new ProtoDecodeError('invalid field number 0', at);
    const handler = handlers[field];
    if (handler) handler(r, wireType, at);
    else skipField(r, wireType, at);
    if (r.pos > end) throw new ProtoDecodeError('a field runs past the end of its message', at);
  }
}

function skipField(r: Reader, wireType: number, at: number): void {
  switch (wireType) {
    case VARINT:
      r.skip();
      return;
    case FIXED64:
      r.skip(8);
      return;
    case LENGTH_DELIMITED:
      skipLengthDelimited(r, wireType, at);
      return;
    case FIXED32:
      r.skip(4);
      return;
    default:
      // Groups (3, 4) were never used by onnx.proto; 6 and 7 do not exist.
      // Text and other non-protobuf files usually stop here.
      throw new ProtoDecodeError(`unexpected ${WIRE_NAMES[wireType]}`, at);
  }
}

function expectWire(wireType: number, expected: number, at: number): void {
  if (wireType !== expected) {
    throw new ProtoDecodeError(`expected a ${WIRE_NAMES[expected]} field, found ${WIRE_NAMES[wireType]}`, at);
  }
}

/** Length prefix of a length-delimited field, checked against the data that is actually there. */
function readLength(r: Reader, at: number): number {
  const length = r.uint32();
  if (r.pos + length > r.len) {
    throw new ProtoDecodeError(`a field claims ${length} bytes but only ${r.len - r.pos} remain (truncated?)`, at);
  }
  return length;
}

function skipLengthDelimited(r: Reader, wireType: number, at: number): number {
  expectWire(wireType, LENGTH_DELIMITED, at);
  const length = readLength(r, at);
  r.pos += length;
  return length;
}

function readMessage<T>(r: Reader, wireType: number, at: number, decode: (end: number) => T): T {
  expectWire(wireType, LENGTH_DELIMITED, at);
  const length = readLength(r, at);
  const end = r.pos + length;
  const value = decode(end);
  if (r.pos !== end) throw new ProtoDecodeError('a nested message does not end where its length says', r.pos);
  return value;
}

function readString(r: Reader, wireType: number, at: number): string {
  expectWire(wireType, LENGTH_DELIMITED, at);
  const length = readLength(r, at);
  const start = r.pos;
  r.pos += length;
  return util.utf8.read(bufferOf(r), start, start + length);
}

/** int64 fields as JS numbers (exact up to 2^53, far beyond any dim or version). */
function readInt(r: Reader, wireType: number, at: number): number {
  expectWire(wireType, VARINT, at);
  const v = r.int64() as unknown as number | { toNumber(): number };
  return typeof v === 'number' ? v : v.toNumber();
}

/** A repeated int64 field, packed (proto3 default) or not. */
function readRepeatedInt(r: Reader, wireType: number, at: number): number[] {
  if (wireType === VARINT) return [readInt(r, wireType, at)];
  expectWire(wireType, LENGTH_DELIMITED, at);
  const length = readLength(r, at);
  const end = r.pos + length;
  const values: number[] = [];
  while (r.pos < end) values.push(readInt(r, VARINT, r.pos));
  if (r.pos !== end) throw new ProtoDecodeError('a packed field does not end where its length says', r.pos);
  return values;
}

/** Counts the elements of a repeated scalar field without decoding them. */
function countRepeated(r: Reader, wireType: number, at: number, elementWire: number): number {
  if (wireType === elementWire) {
    skipField(r, wireType, at);
    return 1;
  }
  expectWire(wireType, LENGTH_DELIMITED, at);
  const length = readLength(r, at);
  const start = r.pos;
  r.pos += length;
  if (elementWire === FIXED32) return Math.floor(length / 4);
  if (elementWire === FIXED64) return Math.floor(length / 8);
  // Varints: one element per byte without the continuation bit.
  const buf = bufferOf(r);
  let count = 0;
  for (let i = start; i < start + length; i++) if (buf[i] < 0x80) count++;
  return count;
}

/** The Reader's underlying bytes (public in protobufjs's JS, absent from its typings). */
function bufferOf(r: Reader): Uint8Array {
  return (r as unknown as { buf: Uint8Array }).buf;
}
