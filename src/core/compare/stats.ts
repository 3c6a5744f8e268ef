// Last and best values of a series, and how a run compares with a baseline.
// Pure functions over the store's columns; the agent computes the stats (it
// has every point), the panel picks best and deltas (the user can flip the
// direction without asking the agent again).
import type { Direction } from './direction';

export interface MetricStats {
  key: string;
  count: number;
  /** The last point in file order: NaN is a legitimate last value. */
  last: number;
  lastStep: number;
  /** Over finite values only; null when there is none. */
  min: number | null;
  minStep: number | null;
  max: number | null;
  maxStep: number | null;
  /** Points that are NaN or infinite. */
  nonFinite: number;
}

export function metricStats(key: string, steps: ArrayLike<number>, values: ArrayLike<number>): MetricStats {
  const n = values.length;
  let min: number | null = null;
  let max: number | null = null;
  let minStep: number | null = null;
  let maxStep: number | null = null;
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    // Strict comparisons: the first step that reached the best value wins a tie.
    if (min === null || v < min) {
      min = v;
      minStep = steps[i];
    }
    if (max === null || v > max) {
      max = v;
      maxStep = steps[i];
    }
  }
  return { key, count: n, last: n ? values[n - 1] : NaN, lastStep: n ? steps[n - 1] : NaN, min, minStep, max, maxStep, nonFinite };
}

export interface Best {
  value: number;
  step: number;
}

export function bestOf(stats: Pick<MetricStats, 'min' | 'minStep' | 'max' | 'maxStep'>, direction: Direction): Best | null {
  const value = direction === 'min' ? stats.min : stats.max;
  const step = direction === 'min' ? stats.minStep : stats.maxStep;
  return value === null || step === null ? null : { value, step };
}

export type Verdict = 'better' | 'worse' | 'same' | 'unknown';

export interface Delta {
  absolute: number;
  /** Relative to the baseline's magnitude; null when the baseline is 0 or not finite. */
  relative: number | null;
  verdict: Verdict;
}

/** `value` against `baseline`: a non-finite side makes the delta NaN and the verdict unknown. */
export function deltaAgainst(value: number, baseline: number, direction: Direction): Delta {
  if (!Number.isFinite(value) || !Number.isFinite(baseline)) return { absolute: NaN, relative: null, verdict: 'unknown' };
  const absolute = value - baseline;
  const relative = baseline === 0 ? null : absolute / Math.abs(baseline);
  const verdict: Verdict = absolute === 0 ? 'same' : (absolute < 0) === (direction === 'min') ? 'better' : 'worse';
  return { absolute, relative, verdict };
}
