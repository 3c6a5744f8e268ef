import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { downsampleMinMax } from '../../../src/core/compare/downsample';

/** A deterministic noisy curve (LCG), so failures reproduce. */
function noisy(n: number, seed = 1): { xs: Float64Array; ys: Float64Array } {
  let s = seed;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = i;
    ys[i] = Math.exp(-i / (n / 5)) + 0.05 * (rnd() - 0.5);
  }
  return { xs, ys };
}

test('a dense series comes back as two points per bucket, sorted by x', () => {
  const { xs, ys } = noisy(100_000);
  const out = downsampleMinMax(xs, ys, { buckets: 500 });
  assert.equal(out.downsampled, true);
  assert.equal(out.inRange, 100_000);
  assert.equal(out.xs.length, 1000, 'min and max of each of 500 buckets');
  for (let i = 1; i < out.xs.length; i++) assert.ok(out.xs[i] >= out.xs[i - 1], `x ascending at ${i}`);
  // Every output point is an input point, exactly.
  for (let i = 0; i < out.xs.length; i++) assert.equal(out.ys[i], ys[out.xs[i]]);
});

test('a single spike survives, up and down', () => {
  const { xs, ys } = noisy(1_000_000, 7);
  ys[123_457] = 1e6;
  ys[876_543] = -42;
  const out = downsampleMinMax(xs, ys, { buckets: 800 });
  assert.ok(out.xs.length <= 1600);
  const at = (x: number) => out.ys[Array.prototype.indexOf.call(out.xs, x)];
  assert.equal(at(123_457), 1e6);
  assert.equal(at(876_543), -42);
  assert.equal(Math.max(...out.ys), 1e6);
  assert.equal(Math.min(...out.ys), -42);
});

test('NaN and infinities stay in as gaps, one per bucket, at their x', () => {
  const { xs, ys } = noisy(10_000, 3);
  for (let i = 5000; i < 5100; i++) ys[i] = NaN;
  ys[8000] = Infinity;
  const out = downsampleMinMax(xs, ys, { buckets: 100 });
  const gaps = Array.from(out.ys.entries()).filter(([, y]) => !Number.isFinite(y));
  assert.ok(gaps.length >= 1 && gaps.length <= 3, `${gaps.length} gap points`);
  assert.equal(out.xs[gaps[0][0]], 5000, 'the first NaN of the run of NaNs marks the gap');
  assert.ok(gaps.some(([i, y]) => y === Infinity && out.xs[i] === 8000));
  assert.ok(out.xs.length <= 3 * 100);
  // Never a zero in place of a NaN.
  assert.ok(!Array.from(out.ys).some((y, i) => y === 0 && out.xs[i] >= 5000 && out.xs[i] < 5100));
});

test('a short series or a narrow range comes back whole, at full resolution', () => {
  const out = downsampleMinMax([0, 1, 2, 3], [1, NaN, 3, 4], { buckets: 100 });
  assert.equal(out.downsampled, false);
  assert.deepEqual(Array.from(out.xs), [0, 1, 2, 3]);
  assert.ok(Number.isNaN(out.ys[1]));
  const { xs, ys } = noisy(100_000);
  const zoom = downsampleMinMax(xs, ys, { buckets: 500, xMin: 1000, xMax: 1999 });
  assert.equal(zoom.downsampled, false);
  assert.equal(zoom.inRange, 1000);
  assert.deepEqual(Array.from(zoom.xs), Array.from(xs.subarray(1000, 2000)));
});

test('unsorted steps (a restart) come out sorted; repeated steps keep their file order', () => {
  const out = downsampleMinMax([3, 4, 5, 1, 2, 3], [30, 40, 50, 10, 20, 31], { buckets: 10 });
  assert.deepEqual(Array.from(out.xs), [1, 2, 3, 3, 4, 5]);
  assert.deepEqual(Array.from(out.ys), [10, 20, 30, 31, 40, 50]);
  const big = downsampleMinMax(
    Float64Array.from({ length: 1000 }, (_, i) => 999 - i),
    Float64Array.from({ length: 1000 }, (_, i) => i),
    { buckets: 10 },
  );
  for (let i = 1; i < big.xs.length; i++) assert.ok(big.xs[i] >= big.xs[i - 1]);
});

test('points without a finite x (no wall time) are left out; one x value is one bucket', () => {
  const out = downsampleMinMax([NaN, 1, NaN, 2], [1, 2, 3, 4], { buckets: 10 });
  assert.deepEqual(Array.from(out.xs), [1, 2]);
  const same = downsampleMinMax(new Float64Array(1000).fill(5), Float64Array.from({ length: 1000 }, (_, i) => i), { buckets: 4 });
  assert.deepEqual(Array.from(same.ys), [0, 999]);
});
