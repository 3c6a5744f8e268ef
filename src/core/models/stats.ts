// Latency statistics over timed runs.

/** The q-quantile (0..1) of samples, interpolating between the two nearest ranks. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface LatencySummary {
  runs: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export function summarizeLatency(samplesMs: readonly number[]): LatencySummary {
  const n = samplesMs.length;
  return {
    runs: n,
    meanMs: n ? samplesMs.reduce((a, b) => a + b, 0) / n : NaN,
    minMs: n ? samplesMs.reduce((a, b) => Math.min(a, b)) : NaN,
    maxMs: n ? samplesMs.reduce((a, b) => Math.max(a, b)) : NaN,
    p50Ms: percentile(samplesMs, 0.5),
    p95Ms: percentile(samplesMs, 0.95),
    p99Ms: percentile(samplesMs, 0.99),
  };
}
