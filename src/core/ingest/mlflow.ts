// Reader for MLflow's file store (`mlruns/`, MLflow 1.x to 3.x) and, through
// ./mlflowSqlite, its SQLite backend (`mlflow.db`).
//
// File-store layout, as MLflow's FileStore writes it:
//   <root>/<experiment id>/meta.yaml                 experiment: name, lifecycle_stage
//   <root>/<experiment id>/<run id>/meta.yaml        run: run_name (2.x) or name (1.x), status (int), times
//   <root>/<experiment id>/<run id>/params/<key>     value, no trailing newline; `/` in a key = subdirectory
//   <root>/<experiment id>/<run id>/tags/<key>       same
//   <root>/<experiment id>/<run id>/metrics/<key>    lines "timestamp value step[ extra columns]"
//   <root>/.trash/<experiment id>/...                deleted experiments, same layout
//   <root>/models/...                                model registry, not an experiment
//   <root>/<experiment id>/{tags,datasets,traces,models}/  experiment-level data, not runs
import * as path from 'node:path';
import type { FormatReader, MetricSeriesData, ParsedExperiment, ParsedRun, ParsedSource, RunStatus, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  emptySeries,
  listFilesRecursive,
  mapWithConcurrency,
  parseFiniteToken,
  parseNumberToken,
  readTextFile,
  splitLines,
  throwIfAborted,
} from './text';
import { isPlainObject, parseYamlTolerant } from './yaml';

const META_FILE = 'meta.yaml';
const TRASH_DIR = '.trash';
/** The model registry lives beside the experiments; MLflow skips it the same way. */
const MODEL_REGISTRY_DIR = 'models';
/** Folders inside an experiment that hold experiment-level data, never runs (MLflow 3 adds `models`). */
const EXPERIMENT_LEVEL_DIRS = new Set(['tags', 'datasets', 'traces', 'models']);
const RUN_DATA_DIRS = ['params', 'tags', 'metrics'] as const;
type RunDataKind = (typeof RUN_DATA_DIRS)[number];
/** The name MLflow's docs use for the SQLite backend (`sqlite:///mlflow.db`). */
export const MLFLOW_SQLITE_FILE = 'mlflow.db';

const FILE_READ_CONCURRENCY = 32;
/** MLflow's RunStatus enum as the file store persists it. */
const STATUS_BY_NUMBER: Record<number, RunStatus> = { 1: 'running', 2: 'scheduled', 3: 'finished', 4: 'failed', 5: 'killed' };

export const mlflowReader: FormatReader = {
  format: 'mlflow',

  async discover(files: readonly string[]): Promise<SourceCandidate[]> {
    const fileSet = new Set(files);
    const candidates: SourceCandidate[] = [];
    for (const file of files) {
      if (path.posix.basename(file) === MLFLOW_SQLITE_FILE) {
        const companions = [`${file}-wal`, `${file}-journal`].filter((f) => fileSet.has(f));
        candidates.push({ format: 'mlflow', root: file, files: [file, ...companions] });
      }
    }
    const roots = findFileStoreRoots(files);
    if (roots.length === 0) return candidates;
    const filesByRoot = new Map<string, string[]>(roots.map((root) => [root, []]));
    for (const file of files) {
      const root = enclosingRoot(file, filesByRoot);
      if (root && classifyFileStorePath(file.slice(root.length + 1))) filesByRoot.get(root)!.push(file);
    }
    for (const [root, rootFiles] of filesByRoot) candidates.push({ format: 'mlflow', root, files: rootFiles });
    return candidates;
  },

  async read(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource> {
    if (path.posix.basename(candidate.root) === MLFLOW_SQLITE_FILE || candidate.root.endsWith('.db')) {
      // Loaded lazily so that merely importing this reader never loads a native module.
      const { readMlflowSqlite } = await import('./mlflowSqlite');
      return readMlflowSqlite(candidate.root, signal);
    }
    return readFileStore(candidate, signal);
  },
};

/**
 * A file-store root is the parent of experiment folders. Recognised as: a
 * folder named `mlruns` holding `<exp>/meta.yaml`, or any folder holding the
 * default experiment `0/meta.yaml`, or a `.trash/<exp>/meta.yaml`. Roots
 * nested in another root (an `mlruns` copied into a run's artifacts) are dropped.
 */
export function findFileStoreRoots(files: readonly string[]): string[] {
  const roots = new Set<string>();
  for (const file of files) {
    if (!file.endsWith(`/${META_FILE}`)) continue;
    const experimentDir = path.posix.dirname(file);
    const parent = path.posix.dirname(experimentDir);
    const experimentName = path.posix.basename(experimentDir);
    const parentName = path.posix.basename(parent);
    if (parentName === TRASH_DIR) roots.add(path.posix.dirname(parent));
    else if (parentName === 'mlruns' && experimentName !== MODEL_REGISTRY_DIR) roots.add(parent);
    else if (experimentName === '0') roots.add(parent);
  }
  const sorted = [...roots].sort();
  return sorted.filter((root) => !sorted.some((other) => other !== root && root.startsWith(`${other}/`)));
}

function enclosingRoot(file: string, roots: Map<string, unknown>): string | undefined {
  let dir = path.posix.dirname(file);
  while (dir.length > 1) {
    if (roots.has(dir)) return dir;
    const parent = path.posix.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

interface FileStorePath {
  deleted: boolean;
  experimentDir: string;
  /** Absent for the experiment's own meta.yaml. */
  runDir?: string;
  kind: 'experiment-meta' | 'run-meta' | RunDataKind;
  /** Key of a param, tag or metric: the path below `params/`, `tags/` or `metrics/`. */
  key?: string;
}

/** What a path relative to the root is to this reader; undefined for everything it does not read. */
export function classifyFileStorePath(relative: string): FileStorePath | undefined {
  let parts = relative.split('/');
  const deleted = parts[0] === TRASH_DIR;
  if (deleted) parts = parts.slice(1);
  if (parts.length < 2) return undefined;
  const [experimentDir, child, ...rest] = parts;
  if (!deleted && experimentDir === MODEL_REGISTRY_DIR) return undefined;
  if (child === META_FILE && rest.length === 0) return { deleted, experimentDir, kind: 'experiment-meta' };
  if (EXPERIMENT_LEVEL_DIRS.has(child)) return undefined;
  if (rest.length === 1 && rest[0] === META_FILE) return { deleted, experimentDir, runDir: child, kind: 'run-meta' };
  const kind = RUN_DATA_DIRS.find((k) => k === rest[0]);
  if (kind && rest.length >= 2) return { deleted, experimentDir, runDir: child, kind, key: rest.slice(1).join('/') };
  return undefined;
}

interface RunFiles {
  dirName: string;
  metaFile?: string;
  params: Array<[string, string]>;
  tags: Array<[string, string]>;
  metrics: Array<[string, string]>;
}

interface ExperimentFiles {
  dirName: string;
  deleted: boolean;
  metaFile?: string;
  runs: Map<string, RunFiles>;
}

async function readFileStore(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource> {
  const root = candidate.root;
  const warnings = new WarningCollector();
  const files = candidate.files.length > 0 ? candidate.files : await listFilesRecursive(root);

  const experimentsByDir = new Map<string, ExperimentFiles>();
  for (const file of files) {
    if (!file.startsWith(`${root}/`)) continue;
    const classified = classifyFileStorePath(file.slice(root.length + 1));
    if (!classified) continue;
    const dirKey = `${classified.deleted ? `${TRASH_DIR}/` : ''}${classified.experimentDir}`;
    let experiment = experimentsByDir.get(dirKey);
    if (!experiment) {
      experiment = { dirName: classified.experimentDir, deleted: classified.deleted, runs: new Map() };
      experimentsByDir.set(dirKey, experiment);
    }
    if (classified.kind === 'experiment-meta') {
      experiment.metaFile = file;
      continue;
    }
    const runDir = classified.runDir!;
    let run = experiment.runs.get(runDir);
    if (!run) {
      run = { dirName: runDir, params: [], tags: [], metrics: [] };
      experiment.runs.set(runDir, run);
    }
    if (classified.kind === 'run-meta') run.metaFile = file;
    else run[classified.kind].push([classified.key!, file]);
  }

  const experiments: ParsedExperiment[] = [];
  const usedKeys = new Set<string>();
  for (const experimentFiles of [...experimentsByDir.values()].sort(compareExperimentDirs)) {
    throwIfAborted(signal);
    const experiment = await readExperiment(root, experimentFiles, warnings, signal);
    if (!experiment) continue;
    if (usedKeys.has(experiment.key)) {
      // Two folders claim one id (a copy, or a restored experiment still in .trash): keep both, apart.
      const relativeDir = `${experimentFiles.deleted ? `${TRASH_DIR}/` : ''}${experimentFiles.dirName}`;
      const distinctKey = `${experiment.key} (${relativeDir})`;
      warnings.add(`${root}/${relativeDir}`, `experiment id ${experiment.key} is used by another folder too; this one is listed as "${distinctKey}"`);
      experiment.key = distinctKey;
    }
    usedKeys.add(experiment.key);
    experiments.push(experiment);
  }
  return { format: 'mlflow', root, experiments, warnings: warnings.list() };
}

function compareExperimentDirs(a: ExperimentFiles, b: ExperimentFiles): number {
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  return compareIds(a.dirName, b.dirName);
}

/** Numeric ids in numeric order, anything else after them in text order. */
function compareIds(a: string, b: string): number {
  const aNumeric = /^\d+$/.test(a);
  const bNumeric = /^\d+$/.test(b);
  if (aNumeric && bNumeric) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readExperiment(
  root: string,
  files: ExperimentFiles,
  warnings: WarningCollector,
  signal: AbortSignal | undefined,
): Promise<ParsedExperiment | undefined> {
  const experimentPath = path.posix.join(root, files.deleted ? TRASH_DIR : '', files.dirName);
  let meta: Record<string, unknown> = {};
  if (files.metaFile) {
    meta = (await readYamlMapping(files.metaFile, warnings)) ?? {};
  } else {
    // Without meta.yaml MLflow ignores the folder; keep its runs (data is never
    // thrown away) under the folder name, and say why the name looks raw.
    const runs = [...files.runs.values()];
    if (!runs.some((run) => run.metaFile || run.params.length + run.tags.length + run.metrics.length > 0)) return undefined;
    warnings.add(experimentPath, 'experiment folder has runs but no meta.yaml; listed under its folder name');
  }
  const key = textOf(meta.experiment_id) ?? files.dirName;
  const name = textOf(meta.name) ?? files.dirName;
  const lifecycle = files.deleted || meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active';

  const runs: ParsedRun[] = [];
  for (const runFiles of [...files.runs.values()].sort((a, b) => compareIds(a.dirName, b.dirName))) {
    throwIfAborted(signal);
    const run = await readRun(path.posix.join(experimentPath, runFiles.dirName), runFiles, lifecycle, warnings);
    if (run) runs.push(run);
  }
  return { key, name, lifecycle, runs };
}

async function readRun(
  runPath: string,
  files: RunFiles,
  experimentLifecycle: 'active' | 'deleted',
  warnings: WarningCollector,
): Promise<ParsedRun | undefined> {
  let meta: Record<string, unknown> | undefined;
  if (files.metaFile) {
    meta = await readYamlMapping(files.metaFile, warnings);
  }
  if (!meta) {
    const hasData = files.params.length + files.tags.length + files.metrics.length > 0;
    if (!hasData) return undefined; // an empty or foreign folder: not a run, nothing to say
    warnings.add(runPath, files.metaFile ? 'run meta.yaml is unreadable; run listed under its folder name with status unknown' : 'folder has params/metrics/tags but no meta.yaml; listed under its folder name with status unknown');
  }
  // A run deleted on its own (its experiment still active) is hidden, as in
  // MLflow's UI; runs of a deleted experiment stay, under that experiment.
  if (meta?.lifecycle_stage === 'deleted' && experimentLifecycle === 'active') return undefined;

  const params = await readKeyValueFiles(files.params, warnings);
  const tags = await readKeyValueFiles(files.tags, warnings);
  const metrics: Record<string, MetricSeriesData> = {};
  const metricFiles = files.metrics.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const texts = await readAllTexts(metricFiles.map(([, file]) => file));
  metricFiles.forEach(([key, file], index) => {
    const text = texts[index];
    if (text instanceof Error) {
      warnings.add(file, `cannot read metric file: ${describeError(text)}`);
      return;
    }
    const series = parseMetricHistory(text, file, warnings);
    if (series.steps.length > 0) metrics[key] = series;
  });

  const runId = textOf(meta?.run_id) ?? textOf(meta?.run_uuid) ?? files.dirName;
  const name = nonEmpty(textOf(meta?.run_name)) ?? nonEmpty(textOf(meta?.name)) ?? nonEmpty(tags['mlflow.runName']) ?? runId;
  return {
    key: runId,
    name,
    path: runPath,
    status: meta ? statusFromMeta(meta.status) : 'unknown',
    startTime: millisOf(meta?.start_time),
    endTime: millisOf(meta?.end_time),
    params,
    tags,
    metrics,
    summaries: {},
  };
}

async function readYamlMapping(file: string, warnings: WarningCollector): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    warnings.add(file, `cannot read: ${describeError(error)}`);
    return undefined;
  }
  const { data, problems } = parseYamlTolerant(text);
  for (const problem of problems) warnings.add(file, problem);
  if (!isPlainObject(data)) {
    if (problems.length === 0) warnings.add(file, text.trim() === '' ? 'file is empty' : 'expected a YAML mapping');
    return undefined;
  }
  return data;
}

/** Params and tags: one file per key, the whole content is the value (no trailing newline by design). */
async function readKeyValueFiles(entries: Array<[string, string]>, warnings: WarningCollector): Promise<Record<string, string>> {
  const sorted = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const texts = await readAllTexts(sorted.map(([, file]) => file));
  const result: Record<string, string> = {};
  sorted.forEach(([key, file], index) => {
    const text = texts[index];
    if (text instanceof Error) warnings.add(file, `cannot read: ${describeError(text)}`);
    else result[key] = text;
  });
  return result;
}

/**
 * Reads many small files concurrently (a store can hold tens of thousands);
 * results keep the input order so warnings come out in a stable order.
 */
async function readAllTexts(files: readonly string[]): Promise<Array<string | Error>> {
  return mapWithConcurrency(files, FILE_READ_CONCURRENCY, async (file) => {
    try {
      return await readTextFile(file);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });
}

/**
 * One metric's history, in file order (MLflow repeats steps legitimately).
 * Columns: timestamp (ms), value, step, then whatever MLflow 3 appends (run
 * id, dataset name and digest), which is ignored. MLflow 0.x wrote two
 * columns; their step is 0. Bad lines become warnings; a last line without a
 * newline that does not parse, or that has fewer columns than the lines
 * before it, is a write in progress and is skipped quietly.
 */
export function parseMetricHistory(text: string, file: string, warnings: WarningCollector): MetricSeriesData {
  const series = emptySeries();
  let establishedColumns: number | undefined;
  for (const line of splitLines(text)) {
    const trimmed = line.text.trim();
    if (trimmed === '') continue;
    const fields = trimmed.split(/\s+/);
    const parsed = parseMetricFields(fields);
    const inProgress = !line.terminated;
    if (typeof parsed === 'string') {
      if (!inProgress) warnings.addLine(file, line.lineNumber, parsed);
      continue;
    }
    if (inProgress && establishedColumns !== undefined && fields.length < establishedColumns) continue;
    establishedColumns ??= fields.length;
    series.steps.push(parsed.step);
    series.values.push(parsed.value);
    series.walls.push(parsed.timestamp);
  }
  return series;
}

function parseMetricFields(fields: string[]): { timestamp: number; value: number; step: number } | string {
  if (fields.length < 2) return `expected "timestamp value step", found only "${fields.join(' ')}"`;
  const timestamp = parseFiniteToken(fields[0]);
  if (timestamp === undefined) return `timestamp "${fields[0]}" is not a number`;
  const value = parseNumberToken(fields[1]);
  if (value === undefined) return `value "${fields[1]}" is not a number`;
  let step = 0;
  if (fields.length >= 3) {
    const parsedStep = parseFiniteToken(fields[2]);
    if (parsedStep === undefined) return `step "${fields[2]}" is not a number`;
    step = parsedStep;
  }
  return { timestamp, value, step };
}

/** The file store writes the enum's number; other writers and the SQL store use its name. */
export function statusFromMeta(raw: unknown): RunStatus {
  // MLflow itself reads a missing status as RUNNING.
  if (raw === undefined || raw === null) return 'running';
  if (typeof raw === 'number') return STATUS_BY_NUMBER[raw] ?? 'unknown';
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (/^\d+$/.test(text)) return STATUS_BY_NUMBER[Number(text)] ?? 'unknown';
    const lower = text.toLowerCase();
    if (lower === 'running' || lower === 'scheduled' || lower === 'finished' || lower === 'failed' || lower === 'killed') return lower;
  }
  return 'unknown';
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

function millisOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') return parseFiniteToken(value);
  return undefined;
}
