// The epoch as a chart's x axis. Lightning, DVCLive and many MLflow scripts
// log `epoch` as a series beside the metrics; it is an x axis, not a curve.
// A point's x is its epoch plus how far through that epoch its step is:
// epoch e runs from the first step logged with e to the first step logged
// with the next epoch, so per-step metrics spread across the epoch instead of
// piling up at one x (where min/max downsampling would keep two points), and
// a metric logged once per epoch sits inside its epoch. The last (or only)
// epoch ends after the run's last step so far: while it trains, its points
// spread over what it has done, and the x of earlier points moves when the
// next epoch begins (the agent sends the whole series again on this axis,
// never only the new points). Steps before the first epoch point have no
// epoch (NaN: left out of the chart).

/** The series key read as the epoch. */
export const EPOCH_KEY = 'epoch';

/** Where each epoch starts: its value and its first step, in step order. */
interface EpochStart {
  epoch: number;
  step: number;
}

function epochStarts(steps: ArrayLike<number>, epochs: ArrayLike<number>): EpochStart[] {
  const order = Array.from({ length: Math.min(steps.length, epochs.length) }, (_, i) => i).filter((i) => Number.isFinite(steps[i]) && Number.isFinite(epochs[i]));
  order.sort((a, b) => steps[a] - steps[b] || a - b);
  const starts: EpochStart[] = [];
  for (const i of order) {
    const last = starts[starts.length - 1];
    if (last === undefined || epochs[i] !== last.epoch) starts.push({ epoch: epochs[i], step: steps[i] });
  }
  return starts;
}

/** The x of each step on the epoch axis (see the module comment). */
export function epochXs(pointSteps: ArrayLike<number>, epochSteps: ArrayLike<number>, epochValues: ArrayLike<number>): Float64Array {
  const starts = epochStarts(epochSteps, epochValues);
  let lastStep = -Infinity;
  for (const steps of [pointSteps, epochSteps]) for (let i = 0; i < steps.length; i++) if (steps[i] > lastStep) lastStep = steps[i];
  const xs = new Float64Array(pointSteps.length);
  for (let i = 0; i < xs.length; i++) {
    const step = pointSteps[i];
    // The last start at or before the step.
    let lo = 0;
    let hi = starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].step <= step) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0) {
      xs[i] = NaN;
      continue;
    }
    const start = starts[at];
    const next = starts[at + 1];
    // Up to the next epoch's first step; the last epoch up to one past the last step (so never a whole epoch).
    const end = next ? next.step : lastStep + 1;
    xs[i] = start.epoch + (step - start.step) / (end - start.step);
  }
  return xs;
}
