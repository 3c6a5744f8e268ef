// The agent's side of the comparison panel. The agent holds every point, so
// it does the work that needs them all: downsampling a series to the chart's
// width, last/min/max with their steps, divergence between runs. Only what
// a chart can show crosses the process boundary.
import { downsampleMinMax } from '../core/compare/downsample';
import { EPOCH_KEY, epochXs } from '../core/compare/epochAxis';
import { findDivergence } from '../core/compare/divergence';
import { metricStats } from '../core/compare/stats';
import type { RunStore, SeriesPoints, StepRange } from '../core/store/types';
import type {
  ChartXAxis,
  CompareSummaryResult,
  DivergenceParams,
  DivergenceResult,
  DownsampledSeriesParams,
  DownsampledSeriesResult,
  WireChartSeries,
  WireDivergence,
} from '../shared/compareWire';
import { toWire, toWireArray } from '../shared/wireNumbers';
import { runDisplayNames } from './runLabels';
import { runDetailToWire } from './wire';

const MIN_WIDTH = 16;
const MAX_WIDTH = 8192;
const MAX_RUNS = 50;

export function downsampledSeries(store: RunStore, params: DownsampledSeriesParams): DownsampledSeriesResult {
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(params.width) || MIN_WIDTH));
  const runIds = params.runIds.slice(0, MAX_RUNS);
  // On the step axis a zoom reads only the chunks whose steps overlap the range.
  const stepRange: StepRange | undefined =
    params.xAxis === 'step' && (params.xMin !== undefined || params.xMax !== undefined) && params.since === undefined
      ? { min: params.xMin ?? -Infinity, max: params.xMax ?? Infinity }
      : undefined;
  const series = runIds.map((runId): WireChartSeries => {
    const points = store.readSeries(runId, params.key, stepRange);
    if (!points) return empty(runId, 'series');
    // When the series is read in part, `total` must still be the whole count.
    const total = stepRange ? (store.lastValues([runId]).get(runId)?.find((s) => s.key === params.key)?.pointCount ?? points.values.length) : points.values.length;
    let xs: Float64Array;
    let origin: number | null = null;
    if (params.xAxis === 'epoch') {
      const epochs = store.readSeries(runId, EPOCH_KEY);
      if (!epochs) return { ...empty(runId, 'epoch'), total };
      xs = epochXs(points.steps, epochs.steps, epochs.values);
    } else {
      const time = xValues(points, params.xAxis);
      if (time.origin === undefined) return { ...empty(runId, 'wallTime'), total };
      ({ xs, origin } = time);
    }
    // On the epoch axis a point's x moves when the next epoch begins: the whole series again, never an append.
    const since = params.xAxis === 'epoch' ? undefined : params.since?.[String(runId)];
    const appended = since !== undefined && since <= total;
    const from = appended ? since : 0;
    const sampled = downsampleMinMax(xs.subarray(from), points.values.subarray(from), { buckets: width, xMin: params.xMin, xMax: params.xMax });
    return {
      runId,
      xs: Array.from(sampled.xs),
      ys: toWireArray(sampled.ys),
      total,
      inRange: sampled.inRange,
      downsampled: sampled.downsampled,
      appended,
      origin,
      missing: null,
    };
  });
  return { key: params.key, xAxis: params.xAxis, series };
}

function empty(runId: number, missing: NonNullable<WireChartSeries['missing']>): WireChartSeries {
  return { runId, xs: [], ys: [], total: 0, inRange: 0, downsampled: false, appended: false, origin: null, missing };
}

/**
 * x values for an axis. Time axes are in seconds (what the chart's time
 * scale expects); a point without a wall time gets NaN and is left out.
 * `origin` is undefined when a time axis was asked of a series with no wall time at all.
 */
function xValues(points: SeriesPoints, axis: Exclude<ChartXAxis, 'epoch'>): { xs: Float64Array; origin: number | null | undefined } {
  if (axis === 'step') return { xs: points.steps, origin: null };
  let first = Infinity;
  for (let i = 0; i < points.walls.length; i++) if (points.walls[i] < first) first = points.walls[i];
  if (!Number.isFinite(first)) return { xs: new Float64Array(0), origin: undefined };
  const base = axis === 'relative' ? first : 0;
  const xs = new Float64Array(points.walls.length);
  for (let i = 0; i < xs.length; i++) xs[i] = (points.walls[i] - base) / 1000;
  return { xs, origin: axis === 'relative' ? first : null };
}

export function compareSummary(store: RunStore, params: { runIds: number[] }): CompareSummaryResult {
  const runs: CompareSummaryResult['runs'] = [];
  const details = params.runIds.slice(0, MAX_RUNS).flatMap((id) => store.getRun(id) ?? []);
  // Labels once per experiment, not once per run.
  const names = runDisplayNames(store, details);
  for (const run of details) {
    const id = run.id;
    const metrics = run.series.map((s) => {
      const points = store.readSeries(id, s.key);
      const st = metricStats(s.key, points?.steps ?? [], points?.values ?? []);
      return { ...st, last: toWire(st.last), lastStep: toWire(st.lastStep) };
    });
    runs.push({ run: runDetailToWire(run, names.get(run.id)), metrics });
  }
  return { runs };
}

export function compareDivergence(store: RunStore, params: DivergenceParams): DivergenceResult {
  const baseline = store.getRun(params.baselineRunId);
  if (!baseline) return { results: [] };
  const wanted = params.keys ? new Set(params.keys) : undefined;
  // The epoch is an x axis: runs that read a different number of steps per epoch are not diverging.
  const keys = baseline.series.map((s) => s.key).filter((k) => (wanted ? wanted.has(k) : k !== EPOCH_KEY));
  const results: WireDivergence[] = [];
  for (const key of keys) {
    const base = store.readSeries(baseline.id, key);
    if (!base) continue;
    for (const runId of params.runIds.slice(0, MAX_RUNS)) {
      if (runId === baseline.id) continue;
      const other = store.readSeries(runId, key);
      if (!other) continue;
      const d = findDivergence(base, other);
      if (d) results.push({ key, runId, baselineRunId: baseline.id, step: d.step, direction: d.direction, threshold: d.threshold, noiseBaseline: d.noiseA, noiseRun: d.noiseB });
    }
  }
  return { results };
}
