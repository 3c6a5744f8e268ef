// How a parity report words a speedup (reference p50 / candidate p50), the
// same in the CLI and the model card: a user must see at a glance whether the
// accelerator is faster or slower for this model.
export function describeSpeedup(speedup: number | null | undefined): string {
  if (speedup === null || speedup === undefined || !Number.isFinite(speedup) || speedup <= 0) return '-';
  if (speedup >= 0.995 && speedup <= 1.005) return 'same speed';
  return speedup > 1 ? `${speedup.toFixed(2)}× faster` : `${(1 / speedup).toFixed(2)}× slower`;
}
