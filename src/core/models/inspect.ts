// `runlens inspect`: what an .onnx file declares, read from its bytes without
// running it (no native runtime needed), plus checks a user would otherwise
// discover only when loading fails: external-data files that are missing.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { dataTypeName } from './dtypes';
import { decodeModel, ProtoDecodeError, type DecodedGraph, type DecodedModel, type DecodedTensor, type DecodedValueInfo, type StringEntry } from './onnxProto';

export type Dim = { kind: 'fixed'; value: number } | { kind: 'symbol'; name: string } | { kind: 'unknown' };

export interface TensorSpec {
  name: string;
  /** Tensors: the element type ('float32', 'int64', …); other values: their kind ('sequence', 'map', …). */
  dtype: string;
  /** ONNX element type number (TensorProto.DataType); 0 for non-tensors. */
  elemType: number;
  kind: 'tensor' | 'sparse_tensor' | 'sequence' | 'map' | 'optional' | 'opaque' | 'none';
  /** null when the model stores no shape (rank unknown); [] is a scalar. */
  shape: Dim[] | null;
}

export interface ExternalDataRef {
  tensor: string;
  /** As written in the model. */
  location: string;
  /** Resolved against the model's folder, as onnxruntime does. */
  path: string;
  offset: number | null;
  length: number | null;
  exists: boolean;
}

export interface OpCount {
  /** The op type, prefixed with its domain when that is not the default one (`com.microsoft:FusedConv`). */
  op: string;
  count: number;
}

export interface ModelInspection {
  file: string;
  fileSize: number;
  sha256: string;
  irVersion: number;
  /** Kept exactly as stored: may be '' or ' ' (paddle2onnx writes a single space). */
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  /** The default-domain opset (stored under '' or 'ai.onnx'); null when the model imports none. */
  opset: number | null;
  /** Every imported opset; the default domain is shown as 'ai.onnx'. */
  opsets: { domain: string; version: number }[];
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  nodes: { topLevel: number; total: number; subgraphs: number };
  /** Op types over the main graph and every subgraph, most frequent first. */
  opHistogram: OpCount[];
  initializers: { count: number; /** bytes stored in the .onnx file */ inlineBytes: number; /** bytes in external files */ externalBytes: number };
  /** Tensors held in node attributes (Constant nodes): weights too, in models exported that way. */
  constants: { count: number; inlineBytes: number };
  externalData: ExternalDataRef[];
  metadata: StringEntry[];
}

export const DEFAULT_DOMAIN = 'ai.onnx';

/** Reads and inspects one model file. Anything wrong with the file is a UserError naming it. */
export function inspectModel(file: string): ModelInspection {
  const resolved = path.resolve(file);
  const bytes = readModelBytes(resolved);
  const decoded = decodeOrExplain(resolved, bytes);
  const graph = decoded.graph!;
  const initializerNames = new Set(graph.initializers.map((t) => t.name));
  const all = collectGraphs(graph);
  const tensors = all.flatMap((g) => [...g.initializers, ...g.sparseInitializers.flatMap((s) => [s.values, s.indices])]);
  const constants = all.flatMap((g) => g.nodes.flatMap((n) => n.tensors));
  const externalData = [...tensors, ...constants].filter((t) => t.external).map((t) => externalRef(resolved, t));
  return {
    file: resolved,
    fileSize: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    irVersion: decoded.irVersion!,
    producerName: decoded.producerName,
    producerVersion: decoded.producerVersion,
    domain: decoded.domain,
    modelVersion: decoded.modelVersion,
    docString: decoded.docString,
    opset: defaultOpset(decoded),
    opsets: decoded.opsetImports.map((o) => ({ domain: o.domain === '' ? DEFAULT_DOMAIN : o.domain, version: o.version })),
    // Before IR 4 every initializer was also listed as a graph input; those are weights, not inputs to feed.
    inputs: graph.inputs.filter((i) => !initializerNames.has(i.name)).map(tensorSpec),
    outputs: graph.outputs.map(tensorSpec),
    nodes: { topLevel: graph.nodes.length, total: all.reduce((n, g) => n + g.nodes.length, 0), subgraphs: all.length - 1 },
    opHistogram: histogram(all),
    initializers: {
      count: all.reduce((n, g) => n + g.initializers.length + g.sparseInitializers.length, 0),
      inlineBytes: tensors.reduce((n, t) => n + t.inlineBytes, 0),
      externalBytes: externalData.reduce((n, e) => n + externalSize(e), 0),
    },
    constants: { count: constants.length, inlineBytes: constants.reduce((n, t) => n + t.inlineBytes, 0) },
    externalData,
    metadata: decoded.metadataProps,
  };
}

function readModelBytes(file: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('not-found', `${file}: no such file`);
    throw new UserError('bad-argument', `${file}: cannot read: ${(e as Error).message}`);
  }
  if (stat.isDirectory()) throw new UserError('bad-argument', `${file}: is a folder, not an .onnx file`);
  if (stat.size === 0) throw new UserError('bad-argument', `${file}: not an ONNX model: the file is empty`);
  // Protobuf itself caps a message at 2 GiB; bigger models keep weights in external files.
  if (stat.size >= 2 ** 31) throw new UserError('bad-argument', `${file}: ${stat.size} bytes is over protobuf's 2 GiB limit; large ONNX models keep their weights in external data files`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError('bad-argument', `${file}: cannot read: ${(e as Error).message}`);
  }
}

function decodeOrExplain(file: string, bytes: Buffer): DecodedModel {
  let model: DecodedModel;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (!(e instanceof ProtoDecodeError)) throw e;
    throw new UserError('bad-argument', `${file}: not an ONNX model: protobuf decoding failed at byte ${e.offset} (${e.reason})${guessWhatItIs(bytes)}`);
  }
  if (model.graph === null || model.irVersion === null) {
    const missing = [model.irVersion === null && 'ir_version', model.graph === null && 'graph'].filter(Boolean).join(' and ');
    throw new UserError('bad-argument', `${file}: not an ONNX model: it decodes as protobuf but has no ${missing}${guessWhatItIs(bytes)}`);
  }
  // IR 3 and later must import an opset. Writers put opset_import after the
  // graph, so a file cut at a field boundary shows up here rather than as a decoding error.
  if (model.irVersion >= 3 && model.opsetImports.length === 0) {
    throw new UserError('bad-argument', `${file}: not a complete ONNX model: it has no opset_import (the file may be truncated)`);
  }
  return model;
}

/** A hint for the files people most often mistake for a model. */
function guessWhatItIs(bytes: Buffer): string {
  const head = bytes.subarray(0, 512).toString('latin1');
  if (head.startsWith('version https://git-lfs')) return '; it is a Git LFS pointer: fetch the real file with `git lfs pull`';
  if (/^[\x09\x0a\x0d\x20-\x7e]*$/.test(head)) return '; it looks like a text file';
  if (head.startsWith('PK\x03\x04')) return '; it is a zip archive (a PyTorch checkpoint or a zipped model?)';
  return '';
}

function collectGraphs(root: DecodedGraph): DecodedGraph[] {
  const out: DecodedGraph[] = [];
  const stack = [root];
  while (stack.length) {
    const g = stack.pop()!;
    out.push(g);
    for (const node of g.nodes) stack.push(...node.subgraphs);
  }
  return out;
}

function histogram(graphs: DecodedGraph[]): OpCount[] {
  const counts = new Map<string, number>();
  for (const g of graphs) {
    for (const n of g.nodes) {
      const op = n.domain && n.domain !== DEFAULT_DOMAIN ? `${n.domain}:${n.opType}` : n.opType;
      counts.set(op, (counts.get(op) ?? 0) + 1);
    }
  }
  return [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

function defaultOpset(model: DecodedModel): number | null {
  const entry = model.opsetImports.find((o) => o.domain === '' || o.domain === DEFAULT_DOMAIN);
  return entry ? entry.version : null;
}

export function tensorSpec(info: DecodedValueInfo): TensorSpec {
  const t = info.type;
  if (t.kind !== 'tensor' && t.kind !== 'sparse_tensor') return { name: info.name, dtype: t.kind, elemType: 0, kind: t.kind, shape: null };
  return {
    name: info.name,
    dtype: dataTypeName(t.elemType),
    elemType: t.elemType,
    kind: t.kind,
    shape: t.shape === null ? null : t.shape.map((d): Dim => (d.value !== undefined ? { kind: 'fixed', value: d.value } : d.param ? { kind: 'symbol', name: d.param } : { kind: 'unknown' })),
  };
}

function externalRef(modelFile: string, t: DecodedTensor): ExternalDataRef {
  const entry = (key: string) => t.external!.find((e) => e.key === key)?.value;
  const location = entry('location') ?? '';
  const resolved = path.resolve(path.dirname(modelFile), location);
  const number = (key: string) => {
    const v = entry(key);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  const exists = location !== '' && fs.existsSync(resolved) && fs.statSync(resolved).isFile();
  return { tensor: t.name, location, path: resolved, offset: number('offset'), length: number('length'), exists };
}

/** The declared length, else the rest of the file from its offset (onnx's rule when length is absent). */
function externalSize(ref: ExternalDataRef): number {
  if (ref.length !== null) return ref.length;
  if (!ref.exists) return 0;
  return Math.max(0, fs.statSync(ref.path).size - (ref.offset ?? 0));
}

/** Text for a dim or a whole shape: `[p2o.DynamicDimension.0, 3, ?, ?]`, `[]` for scalars, `?` for unknown rank. */
export function formatShape(shape: Dim[] | null): string {
  if (shape === null) return '?';
  return `[${shape.map((d) => (d.kind === 'fixed' ? String(d.value) : d.kind === 'symbol' ? d.name : '?')).join(', ')}]`;
}
