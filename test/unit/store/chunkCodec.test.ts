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
