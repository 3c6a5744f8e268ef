// A y range that ignores extreme outliers: Tukey's far-out fences
// (quartiles -/+ 3 interquartile ranges), never wider than the data itself.
// One loss spike of 1e6 would otherwise flatten every other curve to a line.
const MAX_SAMPLE = 200_000;

export function robustRange(series: readonly ArrayLike<number | null | undefined>[], options: { positiveOnly?: boolean; fence?: number } = {}): [number, number] | null {
  const fence = options.fence ?? 3;
  let total = 0;
  for (const s of series) total += s.length;
  // Quartiles of a large series are estimated from an even stride through it.
  const stride = Math.max(1, Math.ceil(total / MAX_SAMPLE));
  const sample: number[] = [];
  let seen = 0;
  let dataMin = Infinity;
  let dataMax = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.length; i++) {
      const v = s[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || (options.positiveOnly && v <= 0)) continue;
      if (v < dataMin) dataMin = v;
      if (v > dataMax) dataMax = v;
      if (seen++ % stride === 0) sample.push(v);
    }
  }
  if (sample.length === 0) return null;
  sample.sort((a, b) => a - b);
  const q1 = quantileSorted(sample, 0.25);
  const q3 = quantileSorted(sample, 0.75);
  const iqr = q3 - q1;
  let lo = Math.max(dataMin, q1 - fence * iqr);
  let hi = Math.min(dataMax, q3 + fence * iqr);
  if (options.positiveOnly && lo <= 0) lo = dataMin;
  if (lo === hi) {
    // A flat series (or one value): give it some room instead of a zero-height axis.
    const pad = Math.abs(lo) * 0.05 || 1;
    lo = options.positiveOnly ? lo / 1.1 : lo - pad;
    hi = options.positiveOnly ? hi * 1.1 : hi + pad;
  }
  return [lo, hi];
}

export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const frac = pos - i;
  return i + 1 < sorted.length ? sorted[i] + frac * (sorted[i + 1] - sorted[i]) : sorted[i];
}
