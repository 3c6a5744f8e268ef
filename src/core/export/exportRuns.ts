// The JSON export users' scripts and our tests read: every run found under a
// folder, every point kept in file order, non-finite numbers spelled out; and
// the MLflow 3 logged models found there, each linked to its source run.
import * as path from 'node:path';
import type { LoggedModel } from '../ingest/mlflowLoggedModels';
import type { MetricSeriesData } from '../ingest/types';
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

/** An MLflow 3 logged model: a model, linked to the run it was logged from; never a run. */
export interface ExportedModel {
  id: string;
  name: string;
  experiment: { id: string; name: string | null };
  /** The source run's id, and its export `path` when that run is among the exported runs (else null); null when the model names no run. */
  sourceRun: { id: string; path: string | null } | null;
  status: string;
  /** Milliseconds since the epoch, or null when meta.yaml has none. */
  created: number | null;
  updated: number | null;
  modelType: string | null;
  artifactLocation: string | null;
  deleted: boolean;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** key -> [step, value, wall time in ms or null], in file order, as for runs. */
  metrics: Record<string, [WireNumber, WireNumber, number | null][]>;
  /** The model's folder relative to the exported folder, '/'-separated. */
  path: string;
}

export interface RunsExport {
  runs: ExportedRun[];
  models: ExportedModel[];
}


function relativePath(run: RunSummary, root: string): string {
  const rel = path.relative(root, run.path).split(path.sep).join('/') || '.';
  const segment = run.format === 'keras' ? /^segment-(\d+)$/.exec(run.runKey) : null;
  return segment ? `${rel}#${segment[1]}` : rel;
}

function metricRows(points: MetricSeriesData): ExportedRun['metrics'][string] {
  const rows: ExportedRun['metrics'][string] = new Array(points.values.length);
  for (let i = 0; i < points.values.length; i++) {
    const wall = points.walls[i];
    rows[i] = [toWire(points.steps[i]), toWire(points.values[i]), Number.isNaN(wall) ? null : wall];
  }
  return rows;
}

/** An MLflow run's identity across store and models: its file store's root and its run id. */
function mlflowRunKey(storeRoot: string, runId: string): string {
  return `${path.resolve(storeRoot)}\0${runId}`;
}

/** `models`: logged models found under the folder (see mlflowLoggedModels.ts); none by default. */
export function exportRuns(store: RunStore, root: string, models: readonly LoggedModel[] = []): RunsExport {
  const absoluteRoot = path.resolve(root);
  const { runs } = store.listRuns({ includeHidden: true });
  const exported: ExportedRun[] = [];
  const mlflowRunPaths = new Map<string, string>();
  for (const summary of runs) {
    if (!isInside(summary.path, absoluteRoot) && !isInside(summary.sourceRoot, absoluteRoot)) continue;
    const run = store.getRun(summary.id)!;
    const metrics: ExportedRun['metrics'] = {};
    for (const series of run.series) metrics[series.key] = metricRows(store.readSeries(run.id, series.key)!);
    if (run.format === 'mlflow') mlflowRunPaths.set(mlflowRunKey(run.sourceRoot, run.runKey), relativePath(run, absoluteRoot));
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
  const exportedModels = models
    .filter((model) => isInside(model.dir, absoluteRoot))
    .map((model) => exportModel(model, absoluteRoot, mlflowRunPaths))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { runs: exported, models: exportedModels };
}

function exportModel(model: LoggedModel, absoluteRoot: string, mlflowRunPaths: ReadonlyMap<string, string>): ExportedModel {
  const metrics: ExportedModel['metrics'] = {};
  for (const [key, series] of Object.entries(model.metrics)) {
    Object.defineProperty(metrics, key, { value: metricRows(series), enumerable: true, writable: true, configurable: true });
  }
  return {
    id: model.id,
    name: model.name,
    experiment: { id: model.experimentId, name: model.experimentName ?? null },
    sourceRun:
      model.sourceRunId === undefined ? null : { id: model.sourceRunId, path: mlflowRunPaths.get(mlflowRunKey(model.storeRoot, model.sourceRunId)) ?? null },
    status: model.status,
    created: model.createdMs ?? null,
    updated: model.updatedMs ?? null,
    modelType: model.modelType ?? null,
    artifactLocation: model.artifactLocation ?? null,
    deleted: model.deleted,
    params: model.params,
    tags: model.tags,
    metrics,
    path: path.relative(absoluteRoot, path.resolve(model.dir)).split(path.sep).join('/') || '.',
  };
}
