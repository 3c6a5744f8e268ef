// JSON has no NaN or Infinity (JSON.stringify turns them into null, which a
// chart would draw as 0). Every metric value that crosses a process boundary
// goes through these two functions.

export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export function toWire(v: number): WireNumber {
  // JSON.stringify(-0) is "0": a logged -0.0 would silently change sign.
  if (Object.is(v, -0)) return '-0';
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

export function fromWire(v: WireNumber): number {
  switch (v) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      return v;
  }
}

export function toWireArray(values: ArrayLike<number>): WireNumber[] {
  const out = new Array<WireNumber>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toWire(values[i]);
  return out;
}

/** Formats a value for people: full precision, and NaN/inf spelled out. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

/**
 * A deep copy safe for JSON: non-finite numbers spelled out, bigints as
 * decimal strings, typed arrays as plain arrays. For whole reports (smoke
 * tests, inspections) that would otherwise lose their NaNs on the wire.
 */
export function toWireDeep(value: unknown): unknown {
  if (typeof value === 'number') return toWire(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, (v) => toWireDeep(v));
  if (Array.isArray(value)) return value.map(toWireDeep);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWireDeep(v);
  return out;
}

/** The type of `toWireDeep(value)` for a value of type T. */
export type Wired<T> = T extends number
  ? WireNumber
  : T extends bigint
    ? string
    : T extends readonly (infer U)[]
      ? Wired<U>[]
      : T extends object
        ? { [K in keyof T]: Wired<T[K]> }
        : T;
