// When do two runs start to differ for real? Each run's own step-to-step
// noise says how much wiggle is normal for it; the runs have diverged from
// the first step after which their (lightly averaged) difference stays
// beyond that noise, on the same side, until the end.
//
//   noise(run)  = robust standard deviation of the step-to-step differences
//                 (MAD around their median, so a trend or one spike barely
//                 moves it), divided by sqrt 2 (a difference of two noisy
//                 points carries the noise twice)
//   threshold   = k * sqrt(noise(a)^2 + noise(b)^2)
//   difference  = b - a at a's steps, b linearly interpolated, averaged over
//                 at most `maxBuckets` consecutive groups
import { quantileSorted } from './robustRange';

export interface SeriesXY {
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface DivergenceOptions {
  /** How many noise widths count as "different" (default 3). */
  k?: number;
  /** Fewest averaged groups the difference must stay beyond the threshold (default 3). */
  minTail?: number;
  /** The difference is averaged into at most this many groups (default 1000). */
  maxBuckets?: number;
  /** Fewest points each run needs for its noise to mean anything (default 5). */
  minPoints?: number;
}

export interface Divergence {
  /** First step of the lasting difference. */
  step: number;
  /** Where b lies relative to a from then on. */
  direction: 'above' | 'below';
  threshold: number;
  noiseA: number;
  noiseB: number;
  /** Aligned points from `step` to the end. */
  points: number;
}

export function findDivergence(a: SeriesXY, b: SeriesXY, options: DivergenceOptions = {}): Divergence | null {
  const k = options.k ?? 3;
  const minTail = options.minTail ?? 3;
  const maxBuckets = options.maxBuckets ?? 1000;
  const minPoints = Math.max(3, options.minPoints ?? 5);
  const A = cleanSeries(a);
  const B = cleanSeries(b);
  if (A.steps.length < minPoints || B.steps.length < minPoints) return null;

  const noiseA = stepNoise(A.values);
  const noiseB = stepNoise(B.values);
  const scale = Math.max(maxAbs(A.values), maxAbs(B.values));
  // Two noiseless runs (deterministic training, a constant): any real difference counts.
  const threshold = Math.max(k * Math.hypot(noiseA, noiseB), scale * 1e-12);

  // The difference at a's steps inside the overlap of both step ranges.
  const from = Math.max(A.steps[0], B.steps[0]);
  const to = Math.min(A.steps[A.steps.length - 1], B.steps[B.steps.length - 1]);
  const steps: number[] = [];
  const diffs: number[] = [];
  let j = 0;
  for (let i = 0; i < A.steps.length; i++) {
    const s = A.steps[i];
    if (s < from || s > to) continue;
    while (j + 1 < B.steps.length && B.steps[j + 1] < s) j++;
    steps.push(s);
    diffs.push(interpolate(B, j, s) - A.values[i]);
  }
  const n = diffs.length;
  if (n < minTail) return null;

  // Group means, so that a single noisy point cannot break a lasting difference.
  const groups = Math.min(n, maxBuckets);
  const start = new Int32Array(groups + 1);
  const mean = new Float64Array(groups);
  for (let g = 0; g <= groups; g++) start[g] = Math.floor((g * n) / groups);
  for (let g = 0; g < groups; g++) {
    let sum = 0;
    for (let i = start[g]; i < start[g + 1]; i++) sum += diffs[i];
    mean[g] = sum / (start[g + 1] - start[g]);
  }

  const sign = Math.sign(mean[groups - 1]);
  if (sign === 0 || Math.abs(mean[groups - 1]) <= threshold) return null;
  let g = groups - 1;
  while (g > 0 && Math.sign(mean[g - 1]) === sign && Math.abs(mean[g - 1]) > threshold) g--;
  if (groups - g < Math.min(minTail, groups)) return null;

  // Inside the first group of the tail, start at its first point that is already beyond.
  let first = start[g];
  for (let i = start[g]; i < start[g + 1]; i++) {
    if (Math.sign(diffs[i]) === sign && Math.abs(diffs[i]) > threshold) {
      first = i;
      break;
    }
  }
  return { step: steps[first], direction: sign > 0 ? 'above' : 'below', threshold, noiseA, noiseB, points: n - first };
}

/** Finite points sorted by step; of several points at one step the last written wins. */
function cleanSeries(s: SeriesXY): { steps: Float64Array; values: Float64Array } {
  const idx: number[] = [];
  for (let i = 0; i < Math.min(s.steps.length, s.values.length); i++) {
    if (Number.isFinite(s.steps[i]) && Number.isFinite(s.values[i])) idx.push(i);
  }
  idx.sort((x, y) => s.steps[x] - s.steps[y] || x - y);
  const steps: number[] = [];
  const values: number[] = [];
  for (const i of idx) {
    if (steps.length && steps[steps.length - 1] === s.steps[i]) values[values.length - 1] = s.values[i];
    else {
      steps.push(s.steps[i]);
      values.push(s.values[i]);
    }
  }
  return { steps: Float64Array.from(steps), values: Float64Array.from(values) };
}

/** Robust standard deviation of one run's point-to-point noise. */
export function stepNoise(values: ArrayLike<number>): number {
  if (values.length < 3) return 0;
  const d = new Float64Array(values.length - 1);
  for (let i = 1; i < values.length; i++) d[i - 1] = values[i] - values[i - 1];
  d.sort();
  const med = quantileSorted(d, 0.5);
  let meanAbs = 0;
  for (let i = 0; i < d.length; i++) {
    d[i] = Math.abs(d[i] - med);
    meanAbs += d[i] / d.length;
  }
  d.sort();
  // 1.4826 MAD is the standard deviation of normal noise; when more than half
  // the steps change by exactly the median (quantized or very short series)
  // the MAD is 0, and the mean absolute deviation (x 1.2533) stands in.
  const sigma = 1.4826 * quantileSorted(d, 0.5) || 1.2533 * meanAbs;
  return sigma / Math.SQRT2;
}

function interpolate(s: { steps: Float64Array; values: Float64Array }, j: number, step: number): number {
  const s0 = s.steps[j];
  if (s0 >= step || j + 1 >= s.steps.length) return s.values[j];
  const s1 = s.steps[j + 1];
  const t = (step - s0) / (s1 - s0);
  return s.values[j] + t * (s.values[j + 1] - s.values[j]);
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}
