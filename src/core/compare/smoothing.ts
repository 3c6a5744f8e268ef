// Exponential moving average with TensorBoard's debiasing: the plain EMA
// starts at 0 and creeps up to the data; dividing by (1 - w^n) removes that
// start-up bias, so the smoothed line starts on the first point.
// Non-finite values are not mixed in: they stay where they are (the chart
// draws them as gaps) and the average carries on past them.
export function debiasedEma(values: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  const w = Math.min(Math.max(weight, 0), 0.999);
  let acc = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    n++;
    out[i] = w === 0 ? v : acc / (1 - Math.pow(w, n));
  }
  return out;
}
