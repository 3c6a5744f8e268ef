// Tensors as JSON for the serving server's POST /predict, both ways:
//   {"inputs": {"x": {"dtype": "float32", "dims": [1, 3], "data": [0.5, "NaN", -1]}}}
//   {"outputs": {"y": {"dtype": "float32", "dims": [1, 2], "data": [...]}}, ...}
// Non-finite floats are spelled "NaN", "Infinity", "-Infinity" (and -0 as
// "-0"), as everywhere else in the product (src/shared/wireNumbers.ts); int64
// and uint64 values may be numbers or decimal strings, and are written as
// strings so no digit is lost. One module, used by the server and by the
// product's client, so the two cannot disagree.
import { fromWire, toWire, type WireNumber } from '../../shared/wireNumbers';

export const JSON_DTYPES = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string'] as const;
export type JsonDtype = (typeof JSON_DTYPES)[number];

export type TensorValues = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

export interface DecodedTensor {
  name: string;
  dtype: JsonDtype;
  dims: number[];
  /** bool as Uint8Array of 0/1 (what onnxruntime takes). */
  data: TensorValues;
}

export interface JsonTensor {
  dtype: string;
  dims: number[];
  data: (WireNumber | string | boolean)[];
}

/** A request or response the other side cannot use: the server answers 400 with this message. */
export class TensorFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorFormatError';
  }
}

const INTEGER_RANGES: Partial<Record<JsonDtype, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export function encodeTensor(dtype: string, dims: readonly number[], data: ArrayLike<number | bigint | string | boolean>): JsonTensor {
  const values: (WireNumber | string | boolean)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'bigint') values[i] = v.toString();
    else if (typeof v === 'number') values[i] = dtype === 'bool' ? v !== 0 : toWire(v);
    else values[i] = v;
  }
  return { dtype, dims: [...dims], data: values };
}

/** Reads one tensor of a request or response, naming the tensor and the element in every complaint. */
export function decodeTensor(name: string, value: unknown): DecodedTensor {
  const where = `tensor "${name}"`;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TensorFormatError(`${where}: expected an object {dtype, dims, data}`);
  const { dtype, dims, data } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(JSON_DTYPES as readonly string[]).includes(dtype)) {
    throw new TensorFormatError(`${where}: dtype ${JSON.stringify(dtype)} is not one of ${JSON_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(dims) || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new TensorFormatError(`${where}: dims must be an array of non-negative integers`);
  if (!Array.isArray(data)) throw new TensorFormatError(`${where}: data must be a flat array`);
  const expected = (dims as number[]).reduce((n, d) => n * d, 1);
  if (data.length !== expected) throw new TensorFormatError(`${where}: dims [${(dims as number[]).join(', ')}] need ${expected} values, data has ${data.length}`);
  return { name, dtype: dtype as JsonDtype, dims: dims as number[], data: decodeValues(where, dtype as JsonDtype, data) };
}

function decodeValues(where: string, dtype: JsonDtype, data: unknown[]): TensorValues {
  const bad = (i: number, why: string): never => {
    throw new TensorFormatError(`${where}: data[${i}] = ${JSON.stringify(data[i])} ${why}`);
  };
  switch (dtype) {
    case 'string':
      return data.map((v, i) => (typeof v === 'string' ? v : bad(i, 'is not a string')));
    case 'float32':
    case 'float64': {
      const out = dtype === 'float32' ? new Float32Array(data.length) : new Float64Array(data.length);
      data.forEach((v, i) => {
        if (typeof v === 'number') out[i] = v;
        else if (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || v === '-0') out[i] = fromWire(v);
        else bad(i, 'is not a number (non-finite values are written "NaN", "Infinity", "-Infinity")');
      });
      return out;
    }
    case 'int64':
    case 'uint64': {
      const out = dtype === 'int64' ? new BigInt64Array(data.length) : new BigUint64Array(data.length);
      const [min, max] = dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      data.forEach((v, i) => {
        let big: bigint | undefined;
        if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && /^-?\d+$/.test(v)) big = BigInt(v);
        else bad(i, `is not an integer (${dtype} values are integers, as numbers or decimal strings)`);
        if (big! < min || big! > max) bad(i, `is out of range for ${dtype}`);
        out[i] = big!;
      });
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(data.length);
      data.forEach((v, i) => {
        if (v === true || v === 1) out[i] = 1;
        else if (v === false || v === 0) out[i] = 0;
        else bad(i, 'is not a bool (true/false or 1/0)');
      });
      return out;
    }
    default: {
      const [min, max] = INTEGER_RANGES[dtype]!;
      const ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array }[dtype];
      const out = new ctor(data.length);
      data.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, `is not an integer`);
        if ((v as number) < min || (v as number) > max) bad(i, `is out of range for ${dtype} (${min}..${max})`);
        out[i] = v as number;
      });
      return out;
    }
  }
}

/** Reads `{inputs: {...}}` (or `{outputs: {...}}` with key 'outputs'). */
export function decodeTensorMap(body: unknown, key: 'inputs' | 'outputs'): DecodedTensor[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new TensorFormatError(`expected a JSON object {"${key}": {NAME: {dtype, dims, data}}}`);
  const map = (body as Record<string, unknown>)[key];
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new TensorFormatError(`expected "${key}": an object of tensors by name, {NAME: {dtype, dims, data}}`);
  return Object.entries(map as Record<string, unknown>).map(([name, value]) => decodeTensor(name, value));
}
