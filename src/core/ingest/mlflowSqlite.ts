// Reader for MLflow's SQL backend stored in SQLite (`mlflow.db`), opened
// read-only so a running MLflow keeps sole ownership of writes.
//
// Tables and columns used (MLflow's SQLAlchemy models, unchanged from 1.x to 3.x
// for these columns):
//   experiments(experiment_id INTEGER, name, lifecycle_stage)
//   runs(run_uuid, name, status TEXT 'RUNNING'|'SCHEDULED'|'FINISHED'|'FAILED'|'KILLED',
//        start_time, end_time, lifecycle_stage, experiment_id)
//   params(key, value, run_uuid), tags(key, value, run_uuid)
//   metrics(key, value, timestamp, step, is_nan, run_uuid)
// The SQL store cannot hold NaN or ±Infinity: it writes NaN as value 0 with
// is_nan = 1, and ±Infinity as ±1.7976931348623157e308 (the largest double).
// Both are turned back into what was logged.
import type { ParsedExperiment, ParsedRun, ParsedSource } from './types';
import { SeriesBuilder } from './series';
import { WarningCollector, describeError, throwIfAborted } from './text';
import { statusFromMeta } from './mlflow';

const LARGEST_DOUBLE = 1.7976931348623157e308;

interface ExperimentRow { experiment_id: number | string; name: string | null; lifecycle_stage: string | null }
interface RunRow {
  run_uuid: string;
  name: string | null;
  status: string | null;
  start_time: number | null;
  end_time: number | null;
  lifecycle_stage: string | null;
  experiment_id: number | string | null;
}
interface KeyValueRow { run_uuid: string; key: string; value: string | null }
interface MetricRow { run_uuid: string; key: string; value: number; timestamp: number | null; step: number | null; is_nan: number | null }

export async function readMlflowSqlite(dbPath: string, signal?: AbortSignal): Promise<ParsedSource> {
  const warnings = new WarningCollector();
  const source: ParsedSource = { format: 'mlflow', root: dbPath, experiments: [], warnings: [] };
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    // A writer may hold the lock for a moment; wait briefly rather than fail.
    db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 2000 });
  } catch (error) {
    warnings.add(dbPath, `cannot open as SQLite: ${describeError(error)}`);
    source.warnings = warnings.list();
    return source;
  }
  try {
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((row) => row.name),
    );
    if (!tables.has('experiments') || !tables.has('runs')) {
      warnings.add(dbPath, 'not an MLflow tracking database (no experiments/runs tables)');
      return source;
    }

    const experiments = new Map<string, ParsedExperiment>();
    for (const row of db.prepare('SELECT experiment_id, name, lifecycle_stage FROM experiments ORDER BY experiment_id').all() as ExperimentRow[]) {
      const key = String(row.experiment_id);
      experiments.set(key, { key, name: row.name ?? key, lifecycle: row.lifecycle_stage === 'deleted' ? 'deleted' : 'active', runs: [] });
    }

    const runs = new Map<string, ParsedRun>();
    for (const row of db
      .prepare('SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, experiment_id FROM runs ORDER BY start_time, run_uuid')
      .all() as RunRow[]) {
      const experiment = experiments.get(String(row.experiment_id));
      if (!experiment) {
        warnings.add(dbPath, `run ${row.run_uuid} belongs to missing experiment ${String(row.experiment_id)}; skipped`);
        continue;
      }
      // As in the file store: a run deleted on its own is hidden.
      if (row.lifecycle_stage === 'deleted' && experiment.lifecycle === 'active') continue;
      const run: ParsedRun = {
        key: row.run_uuid,
        name: row.name ?? '',
        path: dbPath,
        status: statusFromMeta(row.status ?? ''),
        startTime: row.start_time ?? undefined,
        endTime: row.end_time ?? undefined,
        params: {},
        tags: {},
        metrics: {},
        summaries: {},
      };
      runs.set(row.run_uuid, run);
      experiment.runs.push(run);
    }
    throwIfAborted(signal);

    for (const table of ['params', 'tags'] as const) {
      if (!tables.has(table)) continue;
      for (const row of db.prepare(`SELECT run_uuid, key, value FROM ${table}`).iterate() as IterableIterator<KeyValueRow>) {
        const run = runs.get(row.run_uuid);
        if (run) run[table][row.key] = row.value ?? '';
      }
    }
    for (const run of runs.values()) {
      if (run.name.trim() === '') run.name = run.tags['mlflow.runName']?.trim() ? run.tags['mlflow.runName'] : run.key;
    }
    throwIfAborted(signal);

    if (tables.has('metrics')) {
      // Builders by run and key, in the order keys first appear; turned into the runs' series at the end.
      const builders = new Map<ParsedRun, Map<string, SeriesBuilder>>();
      for (const row of iterateMetricsInLoggedOrder(db)) {
        const run = runs.get(row.run_uuid);
        if (!run) continue;
        let ofRun = builders.get(run);
        if (!ofRun) builders.set(run, (ofRun = new Map()));
        let series = ofRun.get(row.key);
        if (!series) ofRun.set(row.key, (series = new SeriesBuilder()));
        series.push(row.step ?? 0, loggedValue(row), row.timestamp ?? NaN);
      }
      for (const [run, ofRun] of builders) for (const [key, series] of ofRun) run.metrics[key] = series.finish();
    }
    source.experiments = [...experiments.values()];
    return source;
  } catch (error) {
    if (signal?.aborted) throw error;
    warnings.add(dbPath, `cannot read MLflow tables: ${describeError(error)}`);
    return source;
  } finally {
    db.close();
    source.warnings = warnings.list();
  }
}

/**
 * Insertion order (rowid) is the order the points were logged. A table
 * created WITHOUT ROWID has none; then fall back to timestamp order.
 */
function iterateMetricsInLoggedOrder(db: import('better-sqlite3').Database): IterableIterator<MetricRow> {
  const columns = 'run_uuid, key, value, timestamp, step, is_nan';
  try {
    return db.prepare(`SELECT ${columns} FROM metrics ORDER BY rowid`).iterate() as IterableIterator<MetricRow>;
  } catch {
    return db.prepare(`SELECT ${columns} FROM metrics ORDER BY run_uuid, key, timestamp, step`).iterate() as IterableIterator<MetricRow>;
  }
}

function loggedValue(row: MetricRow): number {
  if (row.is_nan) return NaN;
  if (row.value === LARGEST_DOUBLE) return Infinity;
  if (row.value === -LARGEST_DOUBLE) return -Infinity;
  return row.value;
}
