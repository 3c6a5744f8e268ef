// Store records -> protocol records. Non-finite numbers go through toWire.
import type { RunDetail, RunSummary, SeriesChange, SeriesPoints } from '../core/store/types';
import type { WireRunDetail, WireRunSummary, WireSeries, WireSeriesChange } from '../shared/protocol';
import { toWire, toWireArray } from '../shared/wireNumbers';

export type Headline = WireRunSummary['headline'];

/** `displayName`: the run's label within its experiment (runLabels.ts); its name where none was made. */
export function runSummaryToWire(r: RunSummary, headline: Headline = [], displayName = r.name): WireRunSummary {
  return {
    id: r.id,
    uid: r.uid,
    name: r.name,
    displayName,
    format: r.format,
    sourceRoot: r.sourceRoot,
    experimentKey: r.experimentKey,
    experimentName: r.experimentName,
    path: r.path,
    status: r.status,
    startTime: r.startTime,
    endTime: r.endTime,
    lastWrite: r.lastWrite,
    seriesCount: r.seriesCount,
    paramCount: r.paramCount,
    pointCount: r.pointCount,
    label: r.label,
    starred: r.starred,
    hidden: r.hidden,
    headline,
  };
}

export function runDetailToWire(r: RunDetail, displayName = r.name): WireRunDetail {
  return {
    ...runSummaryToWire(r, [], displayName),
    note: r.note,
    params: r.params,
    tags: r.tags,
    summaries: Object.fromEntries(Object.entries(r.summaries).map(([k, v]) => [k, typeof v === 'number' ? toWire(v) : v])),
    series: r.series.map((s) => ({
      key: s.key,
      pointCount: s.pointCount,
      stepMin: s.stepMin,
      stepMax: s.stepMax,
      valueMin: s.valueMin === null ? null : toWire(s.valueMin),
      valueMax: s.valueMax === null ? null : toWire(s.valueMax),
      lastValue: toWire(s.lastValue),
      lastStep: toWire(s.lastStep),
    })),
  };
}

export function seriesToWire(runId: number, key: string, points: SeriesPoints): WireSeries {
  return { runId, key, steps: toWireArray(points.steps), values: toWireArray(points.values), walls: toWireArray(points.walls) };
}

export function seriesChangeToWire(c: SeriesChange): WireSeriesChange {
  return { ...c, lastStep: toWire(c.lastStep), lastValue: toWire(c.lastValue) };
}
