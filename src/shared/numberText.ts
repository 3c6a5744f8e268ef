// Numbers for people, one set of rules for the tree, the webviews and the
// palette. Two forms:
//   - exact: the shortest text that reads back as the stored value, at the
//     value's own precision. A float32 value (TensorBoard's simple_value, a
//     float32 tensor logged through Python) is printed as float32, as
//     TensorBoard shows it: 0.08434793, not 0.0843479335308075 (both name the
//     same float32; the long form only spells out its float64 widening).
//     For hovers and copies.
//   - short: a few significant digits, for cells and labels; the exact form
//     goes on hover.
// `runlens export` does not use these: an export keeps every double bit for bit.
import { formatValue } from './wireNumbers';

/** Significant digits of the short form. */
export const SHORT_DIGITS = 5;

/** Whether v is exactly a float32 (so it may have been logged as one). */
export function isFloat32(v: number): boolean {
  return Math.fround(v) === v;
}

/**
 * The shortest decimal that reads back as v: as a float32 when v is exactly a
 * float32 (at most 9 significant digits), else as a float64 (String(v)).
 * A double that is exactly a float32 but was not one (0.5, 3) has the same
 * shortest text either way, so only float32-born values get shorter.
 */
export function formatExact(v: number): string {
  if (!Number.isFinite(v)) return formatValue(v);
  if (Object.is(v, -0)) return '-0';
  if (v !== 0 && isFloat32(v)) {
    for (let digits = 1; digits <= 9; digits++) {
      const text = v.toPrecision(digits);
      if (Math.fround(Number(text)) === v) return String(Number(text));
    }
  }
  return String(v);
}

/**
 * A few significant digits (SHORT_DIGITS), exponent form for very large or
 * very small magnitudes; integers up to 1e9 are printed whole (steps,
 * counts). Never longer than the exact form.
 */
export function formatShort(v: number, digits = SHORT_DIGITS): string {
  if (!Number.isFinite(v)) return formatValue(v);
  if (Object.is(v, -0)) return '-0';
  if (v === 0) return '0';
  const exact = formatExact(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e9) return exact;
  let text: string;
  if (a >= 1e6 || a < 1e-4) {
    const [mantissa, exponent] = v.toExponential(digits - 1).split('e');
    text = `${String(Number(mantissa))}e${exponent.replace('+', '')}`;
  } else {
    text = String(Number(v.toPrecision(digits)));
  }
  return text.length < exact.length ? text : exact;
}
