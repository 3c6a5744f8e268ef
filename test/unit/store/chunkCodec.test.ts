import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { chunkStats, decodeChunk, encodeChunk } from '../../../src/core/store/chunkCodec';

function roundTrip(steps: number[], values: number[], walls: number[]) {
  const blob = encodeChunk({ steps, values, walls }, 0, values.length);
  const back = decodeChunk(blob);
  return { blob, back };
}

test('integers, float64 and float32 values round-trip bit-exactly, including NaN, ±Infinity and -0', () => {
  const values = [0.1, NaN, Infinity, -Infinity, -0, 1e-310, 0.17881843447685242, Number.MAX_VALUE];
  const steps = [0, 1, 2, 2, 5, -3, 2 ** 40, 7];
  const walls = [1665035264155, 1665035264156, 1665035264200, NaN, 1665035264300, 1665035264301, 1665035264302, 1665035264303];
  const { back } = roundTrip(steps, values, walls);
  values.forEach((v, i) => assert.ok(Object.is(back.values[i], v), `value ${i}: ${back.values[i]} vs ${v}`));
  steps.forEach((v, i) => assert.ok(Object.is(back.steps[i], v), `step ${i}`));
  walls.forEach((v, i) => assert.ok(Object.is(back.walls[i], v), `wall ${i}`));
});

test('float32-exact values use 4 bytes, other doubles 8, integer steps and walls about 1-2 bytes', () => {
  const n = 1000;
  const steps = Array.from({ length: n }, (_, i) => i);
  const walls = Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 37);
  const f32 = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i)));
  const f64 = Array.from({ length: n }, (_, i) => Math.sin(i));
  const small = roundTrip(steps, f32, walls);
  const big = roundTrip(steps, f64, walls);
  assert.ok(small.blob.length < n * 6.5, `float32 chunk is ${small.blob.length} bytes`);
  assert.ok(big.blob.length < n * 10.5 && big.blob.length > n * 8, `float64 chunk is ${big.blob.length} bytes`);
  f64.forEach((v, i) => assert.equal(big.back.values[i], v));
  f32.forEach((v, i) => assert.equal(small.back.values[i], v));
});

test('fractional wall times (TensorBoard seconds * 1000) are kept exactly', () => {
  const walls = [1665035264155.123, 1665035264155.9, 1665035265000.0001];
  const { back } = roundTrip([1, 2, 3], [1, 2, 3], walls);
  walls.forEach((v, i) => assert.equal(back.walls[i], v));
});

test('stats ignore NaN for min/max but keep a NaN last value', () => {
  const stats = chunkStats({ steps: [3, 1, 2], values: [5, -1, NaN], walls: [0, 0, 0] }, 0, 3);
  assert.equal(stats.stepMin, 1);
  assert.equal(stats.stepMax, 3);
  assert.equal(stats.valueMin, -1);
  assert.equal(stats.valueMax, 5);
  assert.ok(Number.isNaN(stats.lastValue));
  const allNaN = chunkStats({ steps: [1], values: [NaN], walls: [0] }, 0, 1);
  assert.equal(allNaN.valueMin, null);
});

test('a truncated or foreign blob is refused, not misread', () => {
  const { blob } = roundTrip([1, 2, 3], [0.5, 0.25, 0.125], [NaN, NaN, NaN]);
  assert.throws(() => decodeChunk(blob.subarray(0, 4)), /truncated|out of range|outside/i);
  const foreign = Buffer.from(blob);
  foreign[0] = 99;
  assert.throws(() => decodeChunk(foreign), /codec version 99/);
});

/** The double whose 64-bit pattern is (high, low). */
function fromBits(high: number, low: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, low, true);
  view.setUint32(4, high, true);
  return view.getFloat64(0, true);
}

test('TensorBoard wall times (fractional ms) take about 3 bytes each as bit-pattern deltas, bit for bit', () => {
  const n = 4096;
  let noise = 7;
  const rand = () => ((noise = (noise * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const walls = Array.from({ length: n }, (_, i) => (1_716_000_000 + i * 0.0371 + rand() * 0.001) * 1000);
  const steps = Array.from({ length: n }, (_, i) => i);
  const values = Array.from({ length: n }, (_, i) => Math.fround(1 / (i + 1)));
  const { blob, back } = roundTrip(steps, values, walls);
  walls.forEach((v, i) => assert.ok(Object.is(back.walls[i], v), `wall ${i}: ${back.walls[i]} vs ${v}`));
  // 1 (step) + 4 (float32 value) + ~3 (wall) per point, against 13 with float64 walls.
  assert.ok(blob.length < n * 8.5, `${blob.length} bytes for ${n} points`);
  assert.equal(blob[0], 2, 'written in codec version 2');
});

test('bit-pattern deltas are exact across carries, sign changes, -0, subnormals, infinities and big jumps', () => {
  const walls = [
    fromBits(0x4278f5c2, 0xffffffff), // low word about to carry into the high word
    fromBits(0x4278f5c3, 0x00000000),
    fromBits(0x4278f5c3, 0x00000001),
    fromBits(0x4278f5c2, 0xfffffffe), // backwards, borrowing from the high word
    fromBits(0x4278f5c2, 0x7fffffff),
    fromBits(0x4278f5c2, 0x80000000),
    fromBits(0x4278f5c2, 0xd0000000), // low-word jumps of 2^30 and more: beyond 32-bit zigzag
    fromBits(0x4278f5c2, 0x10000000),
    fromBits(0x4278f5c2, 0x80000000),
    fromBits(0x4278f5c3, 0x3fffffff), // a high-word step plus a low-word step: the general path
    fromBits(0x4278f5c1, 0xc0000001),
    fromBits(0x4278f5c1, 0xc0000001) + 0, // the same value again: a zero delta
  ];
  const negative = walls.map((w) => -w); // sign bit set: high words are negative as int32
  const tiny = [5e-324, 1e-323, 0, 1.5e-323, fromBits(0, 0xfffffff0), fromBits(1, 0x10), 5e-324]; // subnormals, across a word
  for (const column of [walls, negative, tiny]) {
    const steps = column.map((_, i) => i);
    const { blob, back } = roundTrip(steps, steps, column);
    column.forEach((v, i) => assert.ok(Object.is(back.walls[i], v), `${i}: ${back.walls[i]} vs ${v}`));
    assert.ok(blob.length < 4 + 1 + column.length * 2 + column.length * 8, `${blob.length} bytes`);
  }
  // Patterns far apart (NaN, infinities, -0 next to ordinary times; random doubles): plain float64, still exact.
  const far = [1665035264155.5, NaN, Infinity, -0, -Infinity, 1665035264155.25, 0.1, -1e300];
  const random = Array.from({ length: 64 }, (_, i) => Math.sin(i) * 10 ** ((i % 40) - 20));
  for (const column of [far, random]) {
    const steps = column.map((_, i) => i);
    const { blob, back } = roundTrip(steps, steps, column);
    column.forEach((v, i) => assert.ok(Object.is(back.walls[i], v), `${i}: ${back.walls[i]} vs ${v}`));
    assert.ok(blob.length >= column.length * 8, 'far-apart doubles stay float64');
  }
});

test('chunks written by codec version 1 (before bit-pattern deltas) still decode', () => {
  // Version 1: one byte of packed encodings (steps VarintDelta = 0, values Float64 = 1, walls Float32-less Float64 = 1).
  const values = [0.1, NaN, -0];
  const walls = [1665035264155.123, 1665035264155.9, NaN];
  const blob = Buffer.alloc(2 + 1 + 3 + 24 + 24);
  let o = 0;
  blob[o++] = 1;
  blob[o++] = 0 | (1 << 2) | (1 << 4);
  blob[o++] = 3;
  for (const zigzagDelta of [2 * 5, 2 * 1, 1]) blob[o++] = zigzagDelta; // steps 5, 6, 5
  for (const v of values) o = blob.writeDoubleLE(v, o);
  for (const w of walls) o = blob.writeDoubleLE(w, o);
  const back = decodeChunk(blob);
  assert.deepEqual(Array.from(back.steps), [5, 6, 5]);
  values.forEach((v, i) => assert.ok(Object.is(back.values[i], v), `value ${i}`));
  walls.forEach((v, i) => assert.ok(Object.is(back.walls[i], v), `wall ${i}`));
});

test('a version-2 chunk with an unknown column encoding is refused', () => {
  const { blob } = roundTrip([1, 2, 3], [0.5, 0.25, 0.125], [1.5, 2.5, 3.5]);
  const odd = Buffer.from(blob);
  odd[3] = 9; // the walls' encoding
  assert.throws(() => decodeChunk(odd), /unknown column encoding 9/);
});

test('integer deltas stay exact at the edges: around 2^53, -0 after 0, int32 limits, huge jumps', () => {
  const columns = [
    [2 ** 53 - 3, 2 ** 53 - 2, 2 ** 53 - 1], // safe integers with small deltas
    [2 ** 53 - 2, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2], // past the safe range: not deltas any more
    [0, -0, 1, 0], // -0 is a delta of 0 from 0, but not the integer 0
    [0, 2 ** 31 - 1, -1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 5], // deltas at and beyond int32
    [-(2 ** 53) + 1, 2 ** 52, -(2 ** 52), 0], // deltas beyond 2^51
  ];
  for (const steps of columns) {
    const { back } = roundTrip(steps, steps.map(() => 1), steps);
    steps.forEach((v, i) => assert.ok(Object.is(back.steps[i], v), `${steps}: step ${i} ${back.steps[i]} vs ${v}`));
    steps.forEach((v, i) => assert.ok(Object.is(back.walls[i], v), `${steps}: wall ${i}`));
  }
});
