// IEEE 754 binary16 ("half") <-> number. TensorProto stores DT_HALF values as
// uint16 bit patterns (in `half_val` int32 slots or in `tensor_content`).
// Every half is exactly representable as a double, so decoding is exact;
// encoding rounds to nearest, ties to even, like a hardware conversion.

const MANTISSA_BITS = 10;
const EXPONENT_BIAS = 15;
const SMALLEST_SUBNORMAL = 2 ** -24;
const SMALLEST_NORMAL = 2 ** -14;
/** Halfway between the largest half (65504) and the next step (65536): from here on, rounding overflows. */
const OVERFLOW_THRESHOLD = 65520;

export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> MANTISSA_BITS) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  // Subnormals (and zeros, keeping -0) have no implicit leading 1.
  if (exponent === 0) return sign * mantissa * SMALLEST_SUBNORMAL;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - EXPONENT_BIAS);
}

function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function numberToFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const signBit = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= OVERFLOW_THRESHOLD) return signBit | 0x7c00;
  if (magnitude < SMALLEST_NORMAL) {
    // Subnormal range: a fixed step of 2^-24; rounding up into 1024 lands exactly on the smallest normal's bits.
    return signBit | roundHalfToEven(magnitude / SMALLEST_SUBNORMAL);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 can be off by one near powers of two; correct it exactly.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  let mantissa = roundHalfToEven((magnitude / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent++;
  }
  return signBit | ((exponent + EXPONENT_BIAS) << MANTISSA_BITS) | mantissa;
}
