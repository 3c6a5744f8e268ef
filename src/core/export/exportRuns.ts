// The JSON export users' scripts and our tests read: every run found under a
// folder, every point kept in file order, non-finite numbers spelled out.
import * as path from 'node:path';
import type { RunStore, RunSummary } from '../store/types';
import { toWire, type WireNumber } from '../../shared/wireNumbers';
import { isInside } from '../util/paths';

export interface ExportedRun {
  format: string;
  /** The run's directory or file relative to the exported folder, '/'-separated; a Keras segment adds `#N`. */
  path: string;
  name: string;
  status: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** key -> [step, value, wall time in ms or null], in file order. */
  metrics: Record<string, [WireNumber, WireNumber, number | null][]>;
  /** Summary values that have no series. */
  summary: Record<string, WireNumber | string>;
}

export interface RunsExport {
  runs: ExportedRun[];
}


function relativePath(run: RunSummary, root: string): string {
  const rel = path.relative(root, run.path).split(path.sep).join('/') || '.';
  const segment = run.format === 'keras' ? /^segment-(\d+)$/.exec(run.runKey) : null;
  return segment ? `${rel}#${segment[1]}` : rel;
}

export function exportRuns(store: RunStore, root: string): RunsExport {
  const absoluteRoot = path.resolve(root);
  const { runs } = store.listRuns({ includeHidden: true });
  const exported: ExportedRun[] = [];
  for (const summary of runs) {
    if (!isInside(summary.path, absoluteRoot) && !isInside(summary.sourceRoot, absoluteRoot)) continue;
    const run = store.getRun(summary.id)!;
    const metrics: ExportedRun['metrics'] = {};
    for (const series of run.series) {
      const points = store.readSeries(run.id, series.key)!;
      const rows: ExportedRun['metrics'][string] = new Array(points.values.length);
      for (let i = 0; i < points.values.length; i++) {
        const wall = points.walls[i];
        rows[i] = [toWire(points.steps[i]), toWire(points.values[i]), Number.isNaN(wall) ? null : wall];
      }
      metrics[series.key] = rows;
    }
    const summaryValues: ExportedRun['summary'] = {};
    for (const [key, value] of Object.entries(run.summaries)) summaryValues[key] = typeof value === 'number' ? toWire(value) : value;
    exported.push({
      format: run.format,
      path: relativePath(run, absoluteRoot),
      name: run.name,
      status: run.status,
      params: run.params,
      tags: run.tags,
      metrics,
      summary: summaryValues,
    });
  }
  exported.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { runs: exported };
}
