import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { findDivergence, stepNoise } from '../../../src/core/compare/divergence';

function gaussian(seed: number): () => number {
  let s = seed;
  const u = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 1) / (2 ** 32 + 1);
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function run(n: number, seed: number, noise: number, shape: (step: number) => number, stride = 10) {
  const g = gaussian(seed);
  const steps = Array.from({ length: n }, (_, i) => i * stride);
  return { steps, values: steps.map((s) => shape(s) + noise * g()) };
}

const loss = (s: number) => 2 * Math.exp(-s / 3000) + 0.3;

test("a run's noise is measured from its step-to-step changes, not its trend", () => {
  const r = run(5000, 1, 0.02, loss);
  const sigma = stepNoise(r.values);
  assert.ok(Math.abs(sigma - 0.02) < 0.003, `noise ${sigma}`);
  assert.equal(stepNoise([1, 1, 1, 1]), 0);
});

test('two seeds of the same training never diverge', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const a = run(4000, seed, 0.02, loss);
    const b = run(4000, seed + 100, 0.02, loss);
    assert.equal(findDivergence(a, b), null, `seed ${seed}`);
  }
});

test('a run whose loss jumps at step 12,000 and stays higher is found there, above the baseline', () => {
  const a = run(3000, 11, 0.02, loss);
  const b = run(3000, 12, 0.02, (s) => (s < 12_000 ? loss(s) : loss(s) + 0.3));
  const d = findDivergence(a, b);
  assert.ok(d, 'found');
  assert.equal(d.direction, 'above');
  assert.ok(d.step >= 12_000 && d.step <= 12_100, `diverges from step ${d.step}`);
  assert.ok(d.threshold > 0.05 && d.threshold < 0.12, `threshold ${d.threshold} (3 x the two runs' noise)`);
});

test('a gradual fork is reported where the difference leaves the noise, not before', () => {
  const a = run(3000, 13, 0.02, loss);
  const b = run(3000, 14, 0.02, (s) => (s < 12_000 ? loss(s) : loss(12_000) + (s - 12_000) * 2e-5));
  const d = findDivergence(a, b)!;
  assert.equal(d.direction, 'above');
  // b - a passes 3 x sqrt(2) x 0.02 = 0.085 around step 16,000.
  assert.ok(d.step > 14_000 && d.step < 18_000, `diverges from step ${d.step}`);
});

test('a lasting offset below the baseline is found where it starts; a brief excursion is not', () => {
  const a = run(2000, 21, 0.01, () => 1);
  const b = run(2000, 22, 0.01, (s) => (s >= 8000 ? 0.9 : 1));
  const d = findDivergence(a, b)!;
  assert.equal(d.direction, 'below');
  assert.ok(d.step >= 8000 && d.step <= 8100, `step ${d.step}`);
  const blip = run(2000, 23, 0.01, (s) => (s >= 8000 && s < 9000 ? 0.5 : 1));
  assert.equal(findDivergence(a, blip), null, 'came back within the noise');
});

test('different logging strides are aligned by interpolation; NaN points are skipped', () => {
  const a = run(1000, 31, 0.01, (s) => s / 1000);
  const b = run(500, 32, 0.01, (s) => s / 1000 + (s > 5000 ? 1 : 0), 20);
  b.values[10] = NaN;
  const d = findDivergence(a, b)!;
  assert.equal(d.direction, 'above');
  assert.ok(d.step >= 5000 && d.step <= 5100, `step ${d.step}`);
});

test('identical or noiseless runs: any real difference counts, none is none', () => {
  const a = { steps: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] };
  assert.equal(findDivergence(a, a), null);
  const b = { steps: a.steps, values: a.values.map((v, i) => (i >= 5 ? v + 0.5 : v)) };
  const d = findDivergence(a, b, { minTail: 3 })!;
  assert.deepEqual([d.step, d.direction], [5, 'above']);
  assert.equal(findDivergence({ steps: [0, 1], values: [1, 2] }, { steps: [0, 1], values: [3, 4] }), null, 'too few points to say');
});
