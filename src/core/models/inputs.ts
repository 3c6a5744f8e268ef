// Deterministic synthetic inputs for a smoke test, planned from the model's
// declared inputs. Planning (shapes, fill rules, why each value was chosen) is
// pure and recorded in the report; materializing the data happens in the
// worker, so large inputs are never copied between processes.
import { UserError } from '../errors';
import type { Dim, TensorSpec } from './inspect';

/** The generator: Numerical Recipes' 32-bit LCG (the same one the demo data uses). */
export const LCG_MULTIPLIER = 1664525;
export const LCG_INCREMENT = 1013904223;
export const DEFAULT_SEED = 42;

/** The first non-fixed dim of an input is taken as its batch dim. */
export const BATCH_DEFAULT = 1;
/** Height and width of image-like inputs (rank 4 with 1, 3 or 4 channels fixed, NCHW or NHWC). */
export const SPATIAL_DEFAULT = 224;
/** Every other unknown dim: a typical audio frame / token sequence length. */
export const OTHER_DEFAULT = 512;
/** A default that makes a tensor bigger than this is refused (with a hint to pass --shape). */
export const MAX_ELEMENTS = 64 * 1024 * 1024;

export type SupportedDtype = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';
const SUPPORTED: readonly string[] = ['float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool'];

export type DimSource = 'declared' | 'override' | 'batch' | 'symbol' | 'spatial-default' | 'default';

export interface PlannedDim {
  value: number;
  source: DimSource;
  declared: Dim;
  /** Scaled with the batch size in throughput runs. */
  batch: boolean;
}

export type FillRule =
  | { kind: 'uniform' } // LCG uniform in [-1, 1] (floats) or [0, 255] (uint8)
  | { kind: 'constant'; value: number; why: string };

export interface PlannedInput {
  name: string;
  dtype: SupportedDtype;
  dims: PlannedDim[];
  fill: FillRule;
}

export interface InputPlan {
  seed: number;
  inputs: PlannedInput[];
  /** Some input has a dim that follows the batch size, so batches 8 and 32 can be tried. */
  batchDynamic: boolean;
}

/**
 * Parses `--shape` values: `name=1x3x224x224`, several separated by commas
 * (`a=1x3,b=2`). A scalar is `name=` or `name=scalar`. Names may contain `:`
 * and `.`; the last `=` separates name from shape.
 */
export function parseShapeOverrides(text: string | undefined): Map<string, number[]> {
  const overrides = new Map<string, number[]>();
  if (!text) return overrides;
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw new UserError('bad-argument', `--shape "${item}": expected NAME=DIMS, e.g. x=1x3x224x224`);
    const name = item.slice(0, eq);
    const spec = item.slice(eq + 1).trim();
    const dims = spec === '' || spec === 'scalar' ? [] : spec.split(/[x×]/).map((d) => d.trim());
    if (dims.some((d) => !/^\d+$/.test(d) || Number(d) === 0 || !Number.isSafeInteger(Number(d)))) {
      throw new UserError('bad-argument', `--shape ${name}=${spec}: dims must be positive integers separated by "x", e.g. 1x3x224x224`);
    }
    overrides.set(name, dims.map(Number));
  }
  return overrides;
}

/**
 * What a smoke-test prompt offers: `value`, as `--shape` text, each input
 * with a dim the model leaves open and the dims the test would use for it
 * (`x=1x3x224x224`), and `unshaped`, the inputs that declare no shape at all
 * (the user must give those; they are left out of `value`, where `name=`
 * would read as a scalar). A model whose inputs are all static gives
 * nothing to ask. Inputs are planned together (a symbol shared by two inputs
 * gets one value), and one by one when that fails, so one input the
 * generator cannot make does not blank the others.
 */
export function dynamicShapeDefaults(specs: readonly TensorSpec[]): { value: string; unshaped: string[] } {
  const open = specs.filter((s) => s.shape !== null && s.shape.some((d) => d.kind !== 'fixed'));
  const unshaped = specs.filter((s) => s.shape === null).map((s) => s.name);
  const planned = new Map<string, number[]>();
  const plan = (group: readonly TensorSpec[]) => planInputs(group).inputs.forEach((i) => planned.set(i.name, i.dims.map((d) => d.value)));
  try {
    plan(open);
  } catch {
    for (const spec of open) {
      try {
        plan([spec]);
      } catch {
        // This input cannot be made with defaults: the smoke test says why.
      }
    }
  }
  const value = open.filter((s) => planned.has(s.name)).map((s) => `${s.name}=${planned.get(s.name)!.join('x')}`).join(',');
  return { value, unshaped };
}

/**
 * The entries of an edited prompt that differ from what it offered: only
 * those are passed on, so a symbol the user fixed in one input still
 * decides the others (an unchanged entry would pin them to the default).
 */
export function changedShapeOverrides(entered: string, offered: string): string {
  const before = parseShapeOverrides(offered);
  return [...parseShapeOverrides(entered)]
    .filter(([name, dims]) => before.get(name)?.join('x') !== dims.join('x'))
    .map(([name, dims]) => `${name}=${dims.join('x') || 'scalar'}`)
    .join(',');
}

/** Decides every input's shape and contents. Throws UserError for what the generator cannot make. */
export function planInputs(specs: readonly TensorSpec[], overrides: ReadonlyMap<string, number[]> = new Map(), seed = DEFAULT_SEED): InputPlan {
  for (const name of overrides.keys()) {
    if (!specs.some((s) => s.name === name)) {
      throw new UserError('bad-argument', `--shape names "${name}", which is not an input of this model (inputs: ${specs.map((s) => s.name).join(', ')})`);
    }
  }
  const symbols = new Map<string, number>();
  // Overrides first, so a symbol they fix has the same value in every other input.
  for (const spec of specs) {
    const override = overrides.get(spec.name);
    if (!override || !spec.shape || spec.shape.length !== override.length) continue;
    spec.shape.forEach((d, i) => d.kind === 'symbol' && !symbols.has(d.name) && symbols.set(d.name, override[i]));
  }
  const inputs = specs.map((spec) => planOne(spec, overrides.get(spec.name), symbols));
  return { seed, inputs, batchDynamic: inputs.some((i) => i.dims.some((d) => d.batch)) };
}

function planOne(spec: TensorSpec, override: number[] | undefined, symbols: Map<string, number>): PlannedInput {
  const dtype = checkDtype(spec);
  if (spec.shape === null && !override) {
    throw new UserError('bad-argument', `input "${spec.name}" declares no shape (its rank is unknown): give one with --shape ${spec.name}=DIMS`);
  }
  const declared: Dim[] = spec.shape ?? override!.map(() => ({ kind: 'unknown' }) as Dim);
  if (override && override.length !== declared.length) {
    throw new UserError('bad-argument', `--shape ${spec.name}=${override.join('x') || 'scalar'} has ${override.length} dims; the model declares ${declared.length}: ${formatDeclared(declared)}`);
  }
  const batchAxis = declared.findIndex((d) => d.kind !== 'fixed');
  const image = imageAxes(declared);
  const dims = declared.map((d, i): PlannedDim => {
    const batch = i === batchAxis;
    if (override) {
      if (d.kind === 'fixed' && d.value !== override[i]) {
        throw new UserError('bad-argument', `--shape ${spec.name}: dim ${i} is fixed at ${d.value} by the model, not ${override[i]}`);
      }
      return { value: override[i], source: d.kind === 'fixed' ? 'declared' : 'override', declared: d, batch };
    }
    if (d.kind === 'fixed') return { value: d.value, source: 'declared', declared: d, batch: false };
    if (d.kind === 'symbol' && symbols.has(d.name)) return { value: symbols.get(d.name)!, source: 'symbol', declared: d, batch };
    const [value, source]: [number, DimSource] = batch ? [BATCH_DEFAULT, 'batch'] : image.includes(i) ? [SPATIAL_DEFAULT, 'spatial-default'] : [OTHER_DEFAULT, 'default'];
    if (d.kind === 'symbol') symbols.set(d.name, value);
    return { value, source, declared: d, batch };
  });
  const elements = dims.reduce((n, d) => n * d.value, 1);
  if (elements > MAX_ELEMENTS) {
    throw new UserError('bad-argument', `input "${spec.name}" would get ${elements} elements from default dims ${dims.map((d) => d.value).join('x')}; give a smaller shape with --shape ${spec.name}=DIMS`);
  }
  return { name: spec.name, dtype, dims, fill: fillRule(spec.name, dtype) };
}

function checkDtype(spec: TensorSpec): SupportedDtype {
  if (spec.kind !== 'tensor') {
    throw new UserError('bad-argument', `input "${spec.name}" is a ${spec.kind}, not a tensor; the smoke test can only feed dense tensors`);
  }
  if (!SUPPORTED.includes(spec.dtype)) {
    throw new UserError('bad-argument', `input "${spec.name}" has dtype ${spec.dtype}, which the synthetic input generator cannot make (it makes ${SUPPORTED.join(', ')})`);
  }
  return spec.dtype as SupportedDtype;
}

/** Spatial axes of an NCHW or NHWC image input, recognised by a fixed channel count of 1, 3 or 4. */
function imageAxes(shape: Dim[]): number[] {
  if (shape.length !== 4) return [];
  const channels = (d: Dim) => d.kind === 'fixed' && [1, 3, 4].includes(d.value);
  if (channels(shape[1])) return [2, 3];
  if (channels(shape[3])) return [1, 2];
  return [];
}

// Name rules come from real models: recurrent state starts at zero (silero's
// `state`), a sample rate must be one the model knows (silero accepts 8000 or
// 16000), and masks are all ones (attend to everything).
const STATE_NAME = /(^|[^a-z])(state|states|hidden|cache|past|memory|h0|c0)([^a-z]|$)/i;
const SAMPLE_RATE_NAME = /^(sr|sample_?rate|sampling_?rate)$/i;
const MASK_NAME = /mask/i;

function fillRule(name: string, dtype: SupportedDtype): FillRule {
  const float = dtype.startsWith('float');
  if (float && STATE_NAME.test(name)) return { kind: 'constant', value: 0, why: 'state: zeros' };
  if (float) return { kind: 'uniform' };
  if (SAMPLE_RATE_NAME.test(name)) return { kind: 'constant', value: 16000, why: 'sample rate: 16000' };
  if (MASK_NAME.test(name)) return { kind: 'constant', value: 1, why: 'mask: ones' };
  if (dtype === 'uint8') return { kind: 'uniform' };
  return { kind: 'constant', value: 0, why: 'integers: zeros' };
}

export function describeFill(fill: FillRule, dtype: SupportedDtype): string {
  if (fill.kind === 'constant') return fill.why;
  return dtype === 'uint8' ? 'LCG uniform 0..255' : 'LCG uniform [-1, 1]';
}

export function formatDeclared(shape: Dim[]): string {
  return `[${shape.map((d) => (d.kind === 'fixed' ? String(d.value) : d.kind === 'symbol' ? d.name : '?')).join(', ')}]`;
}

// ---- materializing --------------------------------------------------------------

export type TensorData = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface InputTensor {
  name: string;
  dtype: SupportedDtype;
  dims: number[];
  /** bool tensors are Uint8Array (0/1), as onnxruntime takes them. */
  data: TensorData;
}

/** The LCG as a stream of uniform numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, LCG_MULTIPLIER) + LCG_INCREMENT) >>> 0;
    return state / 2 ** 32;
  };
}

/** The shape an input gets at a given batch size (undefined: the planned one). */
export function shapeAt(input: PlannedInput, batch?: number): number[] {
  return input.dims.map((d) => (batch !== undefined && d.batch ? batch : d.value));
}

/**
 * Makes the tensors. One generator, seeded once, is drawn in input order, so
 * the same plan always gives the same bytes.
 */
export function materializeInputs(plan: InputPlan, batch?: number): InputTensor[] {
  const random = lcg(plan.seed);
  return plan.inputs.map((input) => {
    const dims = shapeAt(input, batch);
    const n = dims.reduce((a, b) => a * b, 1);
    return { name: input.name, dtype: input.dtype, dims, data: fillData(input, n, random) };
  });
}

function fillData(input: PlannedInput, n: number, random: () => number): TensorData {
  const { dtype, fill } = input;
  if (dtype === 'bool') return new Uint8Array(n).fill(fill.kind === 'constant' && fill.value !== 0 ? 1 : 0);
  if (fill.kind === 'constant') {
    if (dtype === 'int64') return new BigInt64Array(n).fill(BigInt(fill.value));
    if (dtype === 'uint64') return new BigUint64Array(n).fill(BigInt(fill.value));
    if (dtype === 'float16') return new Uint16Array(n).fill(toHalfBits(fill.value));
    return new (arrayType(dtype))(n).fill(fill.value);
  }
  if (dtype === 'uint8') {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.floor(random() * 256);
    return a;
  }
  if (dtype === 'float16') {
    const a = new Uint16Array(n);
    for (let i = 0; i < n; i++) a[i] = toHalfBits(random() * 2 - 1);
    return a;
  }
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = random() * 2 - 1;
  return a;
}

type NumberArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;

function arrayType(dtype: SupportedDtype): NumberArrayConstructor {
  switch (dtype) {
    case 'float64':
      return Float64Array;
    case 'int8':
      return Int8Array;
    case 'uint8':
      return Uint8Array;
    case 'int16':
      return Int16Array;
    case 'uint16':
      return Uint16Array;
    case 'int32':
      return Int32Array;
    case 'uint32':
      return Uint32Array;
    default:
      return Float32Array;
  }
}

/** IEEE 754 half-precision bits of a number (round to nearest even), for float16 inputs. */
export function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mantissa | 0x800000) >>> (1 - e);
    return sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
  const rounded = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (rounded + (rest > 0x1000 || (rest === 0x1000 && (rounded & 1)) ? 1 : 0));
}
