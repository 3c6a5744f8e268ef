// Canonical JSON: one text for one value, whatever the key order it was built
// with. Object keys sorted by UTF-16 code units, no whitespace, numbers as
// ECMAScript prints them (the rules of RFC 8785 for the values we store).
// Hashes are computed over this text, so it must never change.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // NaN and ±Infinity have no JSON form; callers spell them "NaN"/"Infinity" (wireNumbers) first.
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${where} is ${value}, which JSON cannot hold`);
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => write(v === undefined ? null : v, `${where}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new TypeError(`canonical JSON: ${where} is a ${proto?.constructor?.name ?? 'non-plain object'}, not a plain object`);
      const keys = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write((value as Record<string, unknown>)[k], `${where}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: ${where} is a ${typeof value}`);
  }
}
