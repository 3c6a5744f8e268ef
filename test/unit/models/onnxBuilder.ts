// Builds small ONNX files byte by byte with protobufjs's Writer, for the cases
// the corpus does not have: external data, older-IR initializer inputs,
// unsupported dtypes, a model that never finishes. Field numbers from onnx.proto.
import { Writer } from 'protobufjs/minimal';

export interface TinyDim {
  value?: number;
  param?: string;
}

export interface TinyValue {
  name: string;
  elemType: number;
  /** null: no shape stored; a number is a fixed dim, a string a symbol, null inside an unknown dim. */
  shape: (number | string | null)[] | null;
}

export interface TinyTensor {
  name: string;
  dataType: number;
  dims: number[];
  raw?: Uint8Array;
  floatData?: number[];
  external?: { location: string; offset?: number; length?: number };
}

export interface TinyAttribute {
  name: string;
  /** AttributeProto.AttributeType: 1 FLOAT, 2 INT, 5 GRAPH, 4 TENSOR. */
  type: number;
  i?: number;
  g?: TinyGraph;
  t?: TinyTensor;
}

export interface TinyNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: TinyAttribute[];
}

export interface TinyGraph {
  name: string;
  nodes: TinyNode[];
  initializers?: TinyTensor[];
  inputs: TinyValue[];
  outputs: TinyValue[];
}

export interface TinyModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  metadata?: Record<string, string>;
  graph: TinyGraph;
}

const LEN = 2;
const VARINT = 0;

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32((field << 3) | wire);
}

function message(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, LEN).fork();
  body(w);
  w.ldelim();
}

function str(w: Writer, field: number, value: string): void {
  tag(w, field, LEN).string(value);
}

function int(w: Writer, field: number, value: number): void {
  tag(w, field, VARINT).int64(value);
}

function entry(w: Writer, field: number, key: string, value: string): void {
  message(w, field, (w) => {
    str(w, 1, key);
    str(w, 2, value);
  });
}

function tensor(w: Writer, t: TinyTensor): void {
  // dims packed, as protobuf 3 writes repeated scalars.
  if (t.dims.length) {
    tag(w, 1, LEN).fork();
    for (const d of t.dims) w.int64(d);
    w.ldelim();
  }
  int(w, 2, t.dataType);
  if (t.floatData) {
    tag(w, 4, LEN).fork();
    for (const f of t.floatData) w.float(f);
    w.ldelim();
  }
  str(w, 8, t.name);
  if (t.raw) tag(w, 9, LEN).bytes(t.raw);
  if (t.external) {
    entry(w, 13, 'location', t.external.location);
    if (t.external.offset !== undefined) entry(w, 13, 'offset', String(t.external.offset));
    if (t.external.length !== undefined) entry(w, 13, 'length', String(t.external.length));
    int(w, 14, 1);
  }
}

function valueInfo(w: Writer, v: TinyValue): void {
  str(w, 1, v.name);
  message(w, 2, (w) =>
    message(w, 1, (w) => {
      int(w, 1, v.elemType);
      if (v.shape) {
        message(w, 2, (w) => {
          for (const d of v.shape!) {
            message(w, 1, (w) => {
              if (typeof d === 'number') int(w, 1, d);
              else if (typeof d === 'string') str(w, 2, d);
            });
          }
        });
      }
    }),
  );
}

function graph(w: Writer, g: TinyGraph): void {
  for (const n of g.nodes) {
    message(w, 1, (w) => {
      for (const i of n.inputs) str(w, 1, i);
      for (const o of n.outputs) str(w, 2, o);
      if (n.name) str(w, 3, n.name);
      str(w, 4, n.opType);
      for (const a of n.attributes ?? []) {
        message(w, 5, (w) => {
          str(w, 1, a.name);
          if (a.i !== undefined) int(w, 3, a.i);
          if (a.t) message(w, 5, (w) => tensor(w, a.t!));
          if (a.g) message(w, 6, (w) => graph(w, a.g!));
          int(w, 20, a.type);
        });
      }
      if (n.domain) str(w, 7, n.domain);
    });
  }
  str(w, 2, g.name);
  for (const t of g.initializers ?? []) message(w, 5, (w) => tensor(w, t));
  for (const v of g.inputs) message(w, 11, (w) => valueInfo(w, v));
  for (const v of g.outputs) message(w, 12, (w) => valueInfo(w, v));
}

export function buildModel(m: TinyModel): Uint8Array {
  const w = Writer.create();
  int(w, 1, m.irVersion);
  if (m.producerName !== undefined) str(w, 2, m.producerName);
  if (m.producerVersion !== undefined) str(w, 3, m.producerVersion);
  message(w, 7, (w) => graph(w, m.graph));
  for (const o of m.opsets) {
    message(w, 8, (w) => {
      if (o.domain) str(w, 1, o.domain);
      int(w, 2, o.version);
    });
  }
  for (const [k, v] of Object.entries(m.metadata ?? {})) entry(w, 14, k, v);
  return w.finish();
}

export const FLOAT = 1;
export const INT64 = 7;
export const BOOL = 9;
export const STRING = 8;
export const BFLOAT16 = 16;

/** Y = X + W with W (float32 [2]) kept in an external file, as large models do. */
export function externalDataModel(location: string): Uint8Array {
  return buildModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 13 }],
    producerName: 'runlens-test',
    graph: {
      name: 'add_external',
      nodes: [{ opType: 'Add', inputs: ['X', 'W'], outputs: ['Y'] }],
      initializers: [{ name: 'W', dataType: FLOAT, dims: [2], external: { location, offset: 0, length: 8 } }],
      inputs: [{ name: 'X', elemType: FLOAT, shape: [2] }],
      outputs: [{ name: 'Y', elemType: FLOAT, shape: [2] }],
    },
  });
}

/** The bytes of the external file for externalDataModel: W = [1.5, -2]. */
export function externalWeights(): Buffer {
  const b = Buffer.alloc(8);
  b.writeFloatLE(1.5, 0);
  b.writeFloatLE(-2, 4);
  return b;
}

/** A model whose Loop runs (practically) forever: for the timeout. */
export function endlessLoopModel(): Uint8Array {
  const tripCount = Buffer.alloc(8);
  tripCount.writeBigInt64LE(2n ** 62n);
  const body: TinyGraph = {
    name: 'body',
    nodes: [
      { opType: 'Identity', inputs: ['cond_in'], outputs: ['cond_out'] },
      { opType: 'Identity', inputs: ['x_in'], outputs: ['x_out'] },
    ],
    inputs: [
      { name: 'i', elemType: INT64, shape: [] },
      { name: 'cond_in', elemType: BOOL, shape: [] },
      { name: 'x_in', elemType: FLOAT, shape: [1] },
    ],
    outputs: [
      { name: 'cond_out', elemType: BOOL, shape: [] },
      { name: 'x_out', elemType: FLOAT, shape: [1] },
    ],
  };
  return buildModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 13 }],
    graph: {
      name: 'endless',
      nodes: [{ opType: 'Loop', inputs: ['M', 'cond', 'X'], outputs: ['Y'], attributes: [{ name: 'body', type: 5, g: body }] }],
      initializers: [
        { name: 'M', dataType: INT64, dims: [], raw: tripCount },
        { name: 'cond', dataType: BOOL, dims: [], raw: Uint8Array.of(1) },
      ],
      inputs: [{ name: 'X', elemType: FLOAT, shape: [1] }],
      outputs: [{ name: 'Y', elemType: FLOAT, shape: [1] }],
    },
  });
}
