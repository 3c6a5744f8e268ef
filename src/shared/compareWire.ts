// Agent requests behind the comparison panel: chart series downsampled for a
// pixel width, per-metric stats (last, min and max with their steps), and
// divergence against a baseline run. Declared here, listed in protocol.ts.
import type { WireRunDetail } from './protocol';
import type { WireNumber } from './wireNumbers';

/**
 * What a chart's x axis shows: the step, the epoch (the run's `epoch` series,
 * with the progress through it: core/compare/epochAxis.ts), seconds since the
 * run's first point, or wall-clock time (seconds since 1970).
 */
export type ChartXAxis = 'step' | 'epoch' | 'relative' | 'wall';

export const CHART_X_AXES: readonly ChartXAxis[] = ['step', 'epoch', 'relative', 'wall'];

export interface DownsampledSeriesParams {
  runIds: number[];
  key: string;
  /** The chart's plot width in pixels: the answer has about two points per pixel. */
  width: number;
  xAxis: ChartXAxis;
  /** Visible x range in the axis' units (zoom); points outside are left out, points inside come at full resolution when they fit. */
  xMin?: number;
  xMax?: number;
  /** Per run id: how many points the client already holds (live updates); only the points after them are sent. */
  since?: Record<string, number>;
}

export interface WireChartSeries {
  runId: number;
  /** Ascending and finite. */
  xs: number[];
  ys: WireNumber[];
  /** Points in the whole series (what the client passes back as `since`). */
  total: number;
  /** Points in the requested range (or after `since`) before downsampling. */
  inRange: number;
  downsampled: boolean;
  /** True: these points follow the `since` points the client holds. False: they replace them. */
  appended: boolean;
  /** Relative axis: the wall time (ms) that is x = 0. */
  origin: number | null;
  /** Why there is nothing to draw: the run has no such metric, no wall times for a time axis, or no epoch series for the epoch axis. */
  missing: 'series' | 'wallTime' | 'epoch' | null;
}

export interface DownsampledSeriesResult {
  key: string;
  xAxis: ChartXAxis;
  series: WireChartSeries[];
}

export interface WireMetricStats {
  key: string;
  count: number;
  last: WireNumber;
  lastStep: WireNumber;
  /** Over finite values; null when there is none. */
  min: number | null;
  minStep: number | null;
  max: number | null;
  maxStep: number | null;
  nonFinite: number;
}

export interface WireCompareRun {
  run: WireRunDetail;
  metrics: WireMetricStats[];
}

export interface CompareSummaryResult {
  /** In the order asked; runs no longer in the database are left out. */
  runs: WireCompareRun[];
}

export interface DivergenceParams {
  baselineRunId: number;
  runIds: number[];
  /** Default: every metric the baseline shares with each run. */
  keys?: string[];
}

export interface WireDivergence {
  key: string;
  runId: number;
  baselineRunId: number;
  /** First step after which the run stays beyond both runs' noise. */
  step: number;
  /** The run relative to the baseline. */
  direction: 'above' | 'below';
  threshold: number;
  noiseBaseline: number;
  noiseRun: number;
}

export interface DivergenceResult {
  results: WireDivergence[];
}
