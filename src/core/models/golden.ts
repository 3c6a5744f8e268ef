// Golden outputs: one run's output tensors saved as a reference, and a later
// run compared against them with tolerances. The file is JSON with each
// tensor's bytes in base64 (little-endian, as the runtime gave them), so NaN
// and ±Inf survive exactly and the file stays diffable in its metadata.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { OutputTensor } from './smokeProtocol';

export const GOLDEN_FORMAT = 'runlens-golden';
export const GOLDEN_VERSION = 1;

/** Defaults in numpy.allclose's spirit: |actual - expected| <= atol + rtol * |expected|. */
export const DEFAULT_ATOL = 1e-4;
export const DEFAULT_RTOL = 1e-3;

export interface GoldenFile {
  format: typeof GOLDEN_FORMAT;
  version: number;
  createdAt: string;
  model: { file: string; sha256: string };
  /** What produced the outputs: compare only against runs on the same inputs. */
  inputs: { seed: number; shapes: Record<string, number[]> };
  outputs: { name: string; dtype: string; dims: number[]; data: string }[];
}

export interface Tolerances {
  atol: number;
  rtol: number;
}

export interface OutputComparison {
  name: string;
  /** null when the shapes or dtypes differ (nothing to compare element-wise). */
  maxAbsDiff: number | null;
  maxRelDiff: number | null;
  cosine: number | null;
  /** Elements outside the tolerance, NaN where the other side is not NaN included. */
  mismatches: number;
  elements: number;
  problem: string | null;
  pass: boolean;
}

export interface GoldenComparison {
  file: string;
  pass: boolean;
  tolerances: Tolerances;
  outputs: OutputComparison[];
  /** Differences in what was run (model bytes, inputs) that explain a failure. */
  notes: string[];
}

const TYPED: Record<string, { new (buffer: ArrayBuffer): ArrayLike<number | bigint>; BYTES_PER_ELEMENT: number }> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float16: Uint16Array, // compared as decoded halves, see valuesOf
};

export function writeGolden(file: string, golden: Omit<GoldenFile, 'format' | 'version' | 'outputs' | 'createdAt'>, outputs: OutputTensor[]): void {
  const encoded: GoldenFile = {
    format: GOLDEN_FORMAT,
    version: GOLDEN_VERSION,
    createdAt: new Date().toISOString(),
    ...golden,
    outputs: outputs.map((o) => ({ name: o.name, dtype: o.dtype, dims: o.dims, data: encodeData(o) })),
  };
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(encoded, null, 1) + '\n');
  } catch (e) {
    throw new UserError('storage-unwritable', `cannot write golden file ${path.resolve(file)}: ${(e as Error).message}`);
  }
}

export function readGolden(file: string): GoldenFile {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(resolved, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('not-found', `golden file ${resolved} does not exist (write one with --save-golden)`);
    throw new UserError('bad-argument', `cannot read golden file ${resolved}: ${(e as Error).message}`);
  }
  let parsed: GoldenFile;
  try {
    parsed = JSON.parse(text) as GoldenFile;
  } catch {
    throw new UserError('bad-argument', `${resolved} is not a RunLens golden file (not JSON)`);
  }
  if (parsed?.format !== GOLDEN_FORMAT || !Array.isArray(parsed.outputs)) throw new UserError('bad-argument', `${resolved} is not a RunLens golden file (no "format": "${GOLDEN_FORMAT}")`);
  if (parsed.version > GOLDEN_VERSION) throw new UserError('bad-argument', `${resolved} was written by a newer RunLens (golden format ${parsed.version}); update RunLens`);
  return parsed;
}

function encodeData(o: OutputTensor): string {
  const data = o.data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  // Strings (and anything not a typed array) as JSON text.
  return Buffer.from(JSON.stringify(Array.from(data as ArrayLike<unknown>)), 'utf8').toString('base64');
}

/** Decodes a golden tensor into numbers (strings are compared for equality only). */
export function decodeGoldenData(dtype: string, base64: string): ArrayLike<number> | string[] {
  const bytes = Buffer.from(base64, 'base64');
  const ctor = TYPED[dtype];
  if (!ctor) return JSON.parse(bytes.toString('utf8')) as string[];
  // Copy into an aligned buffer: Buffer.from(base64) may start at any offset of a pooled slab.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  return valuesOf(dtype, new ctor(aligned.buffer));
}

/** A runtime output as numbers (int64 and float16 converted), or as strings for string tensors. */
export function tensorValues(tensor: OutputTensor): ArrayLike<number> | string[] {
  return TYPED[tensor.dtype] ? valuesOf(tensor.dtype, tensor.data as ArrayLike<number>) : Array.from(tensor.data as ArrayLike<string>);
}

function valuesOf(dtype: string, data: ArrayLike<number | bigint>): ArrayLike<number> {
  if (dtype === 'float16') return Float64Array.from(data as ArrayLike<number>, halfToNumber);
  if (dtype === 'int64' || dtype === 'uint64') return Float64Array.from(data as ArrayLike<bigint>, (v) => Number(v));
  return data as ArrayLike<number>;
}

export function compareWithGolden(file: string, golden: GoldenFile, actual: OutputTensor[], tolerances: Tolerances = { atol: DEFAULT_ATOL, rtol: DEFAULT_RTOL }): GoldenComparison {
  const outputs = golden.outputs.map((expected) => {
    const got = actual.find((a) => a.name === expected.name);
    const base = { name: expected.name, maxAbsDiff: null, maxRelDiff: null, cosine: null, mismatches: 0, elements: 0 };
    if (!got) return { ...base, problem: 'missing from this run', pass: false };
    if (got.dtype !== expected.dtype) return { ...base, problem: `dtype ${got.dtype}, golden ${expected.dtype}`, pass: false };
    if (got.dims.join('x') !== expected.dims.join('x')) return { ...base, problem: `shape [${got.dims.join(', ')}], golden [${expected.dims.join(', ')}]`, pass: false };
    const want = decodeGoldenData(expected.dtype, expected.data);
    const have = tensorValues(got);
    return compareValues(expected.name, want, have, tolerances);
  });
  for (const a of actual) {
    if (!golden.outputs.some((o) => o.name === a.name)) outputs.push({ name: a.name, maxAbsDiff: null, maxRelDiff: null, cosine: null, mismatches: 0, elements: 0, problem: 'not in the golden file (ignored)', pass: true });
  }
  return { file: path.resolve(file), pass: outputs.every((o) => o.pass), tolerances, outputs, notes: [] };
}

/** Element-wise comparison; NaN matches NaN, an infinity matches the same infinity. */
export function compareValues(name: string, expected: ArrayLike<number> | string[], actual: ArrayLike<number> | string[], t: Tolerances): OutputComparison {
  const n = expected.length;
  if (typeof expected[0] === 'string' || typeof actual[0] === 'string') {
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (expected[i] !== actual[i]) mismatches++;
    return { name, maxAbsDiff: null, maxRelDiff: null, cosine: null, mismatches, elements: n, problem: null, pass: mismatches === 0 };
  }
  const e = expected as ArrayLike<number>;
  const a = actual as ArrayLike<number>;
  let maxAbs = 0;
  let maxRel = 0;
  let mismatches = 0;
  let dot = 0;
  let ee = 0;
  let aa = 0;
  for (let i = 0; i < n; i++) {
    const x = e[i];
    const y = a[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) mismatches++;
      continue;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (x !== y) mismatches++;
      continue;
    }
    const diff = Math.abs(y - x);
    maxAbs = Math.max(maxAbs, diff);
    if (x !== 0) maxRel = Math.max(maxRel, diff / Math.abs(x));
    else if (diff > 0) maxRel = Infinity;
    if (diff > t.atol + t.rtol * Math.abs(x)) mismatches++;
    dot += x * y;
    ee += x * x;
    aa += y * y;
  }
  // Two all-zero vectors point the same way; one zero and one not do not.
  const cosine = ee === 0 && aa === 0 ? 1 : ee === 0 || aa === 0 ? 0 : dot / Math.sqrt(ee * aa);
  return { name, maxAbsDiff: maxAbs, maxRelDiff: maxRel, cosine, mismatches, elements: n, problem: null, pass: mismatches === 0 };
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Where the model card keeps a model's golden outputs: beside it, as MODEL.golden.json. */
export function goldenPathFor(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.golden.json';
}

/** Whether a model has a golden file at the usual place, and when it was written (its own createdAt). */
export function goldenStatus(modelPath: string): { path: string; exists: boolean; createdAt: string | null } {
  const file = goldenPathFor(path.resolve(modelPath));
  if (!fs.existsSync(file)) return { path: file, exists: false, createdAt: null };
  try {
    return { path: file, exists: true, createdAt: readGolden(file).createdAt ?? null };
  } catch {
    return { path: file, exists: true, createdAt: null };
  }
}
