// Chart data without DOM or uPlot (unit-tested in Node): decoding and
// appending the agent's series, which charts exist (filter, groups), and the
// aligned columns uPlot draws, smoothing and log scales applied.
import { EPOCH_KEY } from '../../src/core/compare/epochAxis';
import { debiasedEma } from '../../src/core/compare/smoothing';
import type { WireChartSeries } from '../../src/shared/compareWire';
import { fromWire } from '../../src/shared/wireNumbers';

export interface RunSeries {
  runId: number;
  xs: Float64Array;
  /** NaN and ±Infinity kept: they are drawn as gaps. */
  ys: Float64Array;
  /** Points of the whole series in the agent (sent back as `since` for live updates). */
  total: number;
  downsampled: boolean;
  missing: WireChartSeries['missing'];
}

export function decodeSeries(w: WireChartSeries): RunSeries {
  const ys = new Float64Array(w.ys.length);
  for (let i = 0; i < ys.length; i++) ys[i] = fromWire(w.ys[i]);
  return { runId: w.runId, xs: Float64Array.from(w.xs), ys, total: w.total, downsampled: w.downsampled, missing: w.missing };
}

/**
 * Adds a live update's points after what the chart holds. 'reload' when the
 * update does not follow on (the series was re-read, or points went back in x).
 */
export function appendSeries(prev: RunSeries, update: WireChartSeries): RunSeries | 'reload' {
  if (!update.appended) return 'reload';
  const add = decodeSeries(update);
  if (add.xs.length === 0) return { ...prev, total: update.total };
  if (prev.xs.length && add.xs[0] < prev.xs[prev.xs.length - 1]) return 'reload';
  const xs = new Float64Array(prev.xs.length + add.xs.length);
  xs.set(prev.xs);
  xs.set(add.xs, prev.xs.length);
  const ys = new Float64Array(xs.length);
  ys.set(prev.ys);
  ys.set(add.ys, prev.ys.length);
  return { ...prev, xs, ys, total: update.total, downsampled: prev.downsampled || add.downsampled, missing: null };
}

/** Keys matching the filter: a regular expression, or plain text when it is not a valid one. */
export function filterKeys(keys: readonly string[], filter: string): { keys: string[]; error?: string } {
  const f = filter.trim();
  if (!f) return { keys: [...keys] };
  try {
    const re = new RegExp(f, 'i');
    return { keys: keys.filter((k) => re.test(k)) };
  } catch (e) {
    const needle = f.toLowerCase();
    return { keys: keys.filter((k) => k.toLowerCase().includes(needle)), error: `not a regular expression (${(e as Error).message}); matching as text` };
  }
}

/**
 * The keys that get a chart: those matching the filter. The epoch series is
 * an x axis, not a curve: without a filter it is left out (and said so), a
 * filter that matches it charts it.
 */
export function chartKeys(keys: readonly string[], filter: string): { keys: string[]; error?: string; axisOnly: string[] } {
  const matched = filterKeys(keys, filter);
  if (filter.trim() !== '') return { ...matched, axisOnly: [] };
  const axisOnly = matched.keys.filter((k) => k === EPOCH_KEY);
  return { keys: matched.keys.filter((k) => k !== EPOCH_KEY), axisOnly };
}

/** `train/loss` → `train/`; `val_loss` → `val_`; else no group. */
export function keyPrefix(key: string): string {
  const slash = key.indexOf('/');
  if (slash > 0) return key.slice(0, slash + 1);
  const m = /^(train|training|val|valid|validation|test|eval|evaluation)[_.-]/i.exec(key);
  return m ? m[0] : '';
}

export function groupKeys(keys: readonly string[], byPrefix: boolean): { group: string; keys: string[] }[] {
  if (!byPrefix) return [{ group: '', keys: [...keys] }];
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const g = keyPrefix(k);
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  // Named groups first, alphabetically; the ungrouped keys last.
  return [...groups.entries()].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b))).map(([group, ks]) => ({ group, keys: ks }));
}

export interface PlotOptions {
  smoothing: number;
  logX: boolean;
  logY: boolean;
}

export interface PreparedRun {
  runId: number;
  xs: Float64Array;
  raw: Column;
  smooth: Column | null;
}

/** A series as the chart draws it: x > 0 only on a log x axis, y > 0 only on a log y axis, non-finite y as null (a gap). */
export function prepareRun(s: RunSeries, options: PlotOptions): PreparedRun {
  let xs = s.xs;
  let ys = s.ys;
  if (options.logX) {
    const keep: number[] = [];
    for (let i = 0; i < xs.length; i++) if (xs[i] > 0) keep.push(i);
    if (keep.length !== xs.length) {
      xs = Float64Array.from(keep, (i) => s.xs[i]);
      ys = Float64Array.from(keep, (i) => s.ys[i]);
    }
  }
  const raw = drawableColumn(ys, options.logY);
  const smooth = options.smoothing > 0 ? drawableColumn(debiasedEma(ys, options.smoothing), options.logY) : null;
  return { runId: s.runId, xs, raw, smooth };
}

/** The typed array itself when every value can be drawn (no copy for a million clean points), else a copy with nulls. */
function drawableColumn(ys: Float64Array, logY: boolean): Column {
  const ok = (v: number) => Number.isFinite(v) && (!logY || v > 0);
  let clean = true;
  for (let i = 0; i < ys.length && clean; i++) clean = ok(ys[i]);
  return clean ? ys : Array.from(ys, (v) => (ok(v) ? v : null));
}

export type Column = ArrayLike<number | null | undefined>;

/**
 * One shared x column and, per run, its raw and smoothed columns (uPlot's
 * aligned data). Runs logged at different x are merged; a run has
 * `undefined` where only another run has a point, which uPlot draws across,
 * and `null` at its own gaps, which it does not. An x repeated within a run
 * (a step logged twice) stays repeated.
 */
export function alignRuns(runs: readonly PreparedRun[]): { xs: Float64Array; columns: Column[] } {
  const withSmooth = (r: PreparedRun): Column[] => (r.smooth ? [r.raw, r.smooth] : [r.raw]);
  if (runs.length === 0) return { xs: new Float64Array(0), columns: [] };
  // The common case for runs of one script (and for a million points): identical x.
  const first = runs[0].xs;
  if (runs.every((r) => sameArray(r.xs, first))) return { xs: first, columns: runs.flatMap(withSmooth) };

  let total = 0;
  for (const r of runs) total += r.xs.length;
  const xs = new Float64Array(total);
  const slotsOf: Int32Array[] = runs.map((r) => new Int32Array(r.xs.length));
  const heads = new Int32Array(runs.length);
  let n = 0;
  for (;;) {
    let v = Infinity;
    for (let i = 0; i < runs.length; i++) if (heads[i] < runs[i].xs.length && runs[i].xs[heads[i]] < v) v = runs[i].xs[heads[i]];
    if (v === Infinity) break;
    let width = 0;
    for (let i = 0; i < runs.length; i++) {
      let c = 0;
      while (heads[i] < runs[i].xs.length && runs[i].xs[heads[i]] === v) {
        slotsOf[i][heads[i]] = n + c;
        heads[i]++;
        c++;
      }
      width = Math.max(width, c);
    }
    for (let c = 0; c < width; c++) xs[n + c] = v;
    n += width;
  }
  const columns: Column[] = [];
  runs.forEach((r, i) => {
    for (const values of r.smooth ? [r.raw, r.smooth] : [r.raw]) {
      const col = new Array<number | null | undefined>(n).fill(undefined);
      for (let j = 0; j < values.length; j++) col[slotsOf[i][j]] = values[j];
      columns.push(col);
    }
  });
  return { xs: xs.slice(0, n), columns };
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Index of the point nearest to x in an ascending array, or -1 when empty. */
export function nearestIndex(xs: ArrayLike<number>, x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(xs[lo - 1] - x) <= Math.abs(xs[lo] - x)) return lo - 1;
  return lo;
}
