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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyChange, HEAD_BYTES, headHashOf } from './fileCursor';
import { ByteBudget } from './series';
import type { FileCursor, FormatReader, MetricSeriesData, ParsedExperiment, ParsedRun, ParsedSource, ReadLimits, RunStatus, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  listFilesRecursive,
  mapWithConcurrency,
  parseFiniteToken,
  stripByteOrderMark,
  throwIfAborted,
} from './text';
import { isPlainObject, parseYamlTolerant } from './yaml';
import { ProblemLog, metricStateOf, readFully, restoreProblems } from './mlflowMetricFile';
import { readMetricFileInParts } from './mlflowMetricParts';

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
/** Metric files may be large and each read holds a buffer of up to METRIC_CHUNK_BYTES: fewer at a time. */
const METRIC_FILE_CONCURRENCY = 8;
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

  async read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>, limits?: ReadLimits): Promise<ParsedSource> {
    if (path.posix.basename(candidate.root) === MLFLOW_SQLITE_FILE || candidate.root.endsWith('.db')) {
      // Always read in full: SQLite rewrites pages anywhere in the file and
      // keeps recent ones in a WAL beside it, so there is no appended tail to
      // follow; only the database itself could say what changed. For the same
      // reason it is read in one go, whatever the budget (the database's own
      // size bounds it: a point there costs more bytes than in a metric file).
      // Loaded lazily so that merely importing this reader never loads a native module.
      const { readMlflowSqlite } = await import('./mlflowSqlite');
      return readMlflowSqlite(candidate.root, signal);
    }
    return readFileStore(candidate, signal, previous, new ByteBudget(limits?.maxBytes));
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

/** Everything one read of a file store shares. */
interface StoreRead {
  warnings: WarningCollector;
  signal?: AbortSignal;
  /** Cursors of the last read, by path; absent for a full read. */
  previous?: ReadonlyMap<string, FileCursor>;
  /** `<experiment dir>/<run dir>` (with `.trash/` in front when deleted) of runs that lost a file since the last read. */
  runsWithLostFiles: Set<string>;
  /** Cursors this read returns (engine default for the files not listed: read in full). */
  cursors: FileCursor[];
  /** New bytes this read may still take in; once spent, the runs not reached wait for the next slice. */
  budget: ByteBudget;
  /** `<experiment dir key>/<run dir>` of every run this read decided about (read, kept or hidden). */
  reachedRuns: Set<string>;
  /** Experiment dir keys whose meta.yaml this read took in; with `fullExperiments`, those whose runs are all read anew. */
  reachedExperiments: Set<string>;
  fullExperiments: Set<string>;
}

function experimentDirKey(deleted: boolean, experimentDir: string): string {
  return `${deleted ? `${TRASH_DIR}/` : ''}${experimentDir}`;
}

async function readFileStore(candidate: SourceCandidate, signal: AbortSignal | undefined, previous: ReadonlyMap<string, FileCursor> | undefined, budget: ByteBudget): Promise<ParsedSource> {
  const root = candidate.root;
  const warnings = new WarningCollector();
  const files = candidate.files.length > 0 ? candidate.files : await listFilesRecursive(root);
  const read: StoreRead = {
    warnings,
    signal,
    previous,
    runsWithLostFiles: new Set(),
    cursors: [],
    budget,
    reachedRuns: new Set(),
    reachedExperiments: new Set(),
    fullExperiments: new Set(),
  };

  const experimentsByDir = new Map<string, ExperimentFiles>();
  for (const file of files) {
    if (!file.startsWith(`${root}/`)) continue;
    const classified = classifyFileStorePath(file.slice(root.length + 1));
    if (!classified) continue;
    const dirKey = experimentDirKey(classified.deleted, classified.experimentDir);
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

  if (previous) {
    // A run that lost a metric (or any) file cannot be appended to: the store would keep the old series.
    const current = new Set(files);
    for (const known of previous.keys()) {
      if (current.has(known) || !known.startsWith(`${root}/`)) continue;
      const classified = classifyFileStorePath(known.slice(root.length + 1));
      if (classified?.runDir !== undefined) read.runsWithLostFiles.add(`${experimentDirKey(classified.deleted, classified.experimentDir)}/${classified.runDir}`);
    }
  }

  const experiments: ParsedExperiment[] = [];
  const usedKeys = new Set<string>();
  for (const experimentFiles of [...experimentsByDir.values()].sort(compareExperimentDirs)) {
    throwIfAborted(signal);
    if (budget.exhausted) {
      budget.stopped = true; // this experiment and the ones after it wait for the next slice
      break;
    }
    const experiment = await readExperiment(root, experimentFiles, read);
    if (!experiment) continue;
    if (usedKeys.has(experiment.key)) {
      // Two folders claim one id (a copy, or a restored experiment still in .trash): keep both, apart.
      const relativeDir = experimentDirKey(experimentFiles.deleted, experimentFiles.dirName);
      const distinctKey = `${experiment.key} (${relativeDir})`;
      warnings.add(`${root}/${relativeDir}`, `experiment id ${experiment.key} is used by another folder too; this one is listed as "${distinctKey}"`);
      experiment.key = distinctKey;
    }
    usedKeys.add(experiment.key);
    experiments.push(experiment);
  }
  if (budget.stopped) {
    // The problems of runs not reached yet are said again too, so that this slice's warnings are the whole store's so far.
    for (const cursor of passOnUnreached(root, read)) {
      const state = metricStateOf(cursor);
      if (!state?.problemCount) continue;
      const log = new ProblemLog(cursor.path);
      restoreProblems(log, state);
      log.replayInto(warnings);
    }
    return { format: 'mlflow', root, cursors: read.cursors, experiments, warnings: warnings.list(), complete: false };
  }
  return { format: 'mlflow', root, cursors: read.cursors, experiments, warnings: warnings.list() };
}

/**
 * A slice stopped at its budget: the files of runs (and experiments) it did
 * not reach keep their previous cursors, since the store still holds what
 * those describe; vanished files included, so that the next slice still sees
 * that their runs lost a file. The runs of an experiment whose meta.yaml
 * changed get none: they are all read anew, like the ones this slice read.
 */
function passOnUnreached(root: string, read: StoreRead): FileCursor[] {
  const passed: FileCursor[] = [];
  if (!read.previous) return passed;
  const given = new Set(read.cursors.map((c) => c.path));
  for (const [file, cursor] of read.previous) {
    if (given.has(file) || !file.startsWith(`${root}/`)) continue;
    const classified = classifyFileStorePath(file.slice(root.length + 1));
    if (!classified) continue;
    const experimentKey = experimentDirKey(classified.deleted, classified.experimentDir);
    if (classified.kind === 'experiment-meta') {
      if (!read.reachedExperiments.has(experimentKey)) passed.push(cursor);
      continue;
    }
    if (read.reachedRuns.has(`${experimentKey}/${classified.runDir}`) || read.fullExperiments.has(experimentKey)) continue;
    passed.push(cursor);
  }
  read.cursors.push(...passed);
  return passed;
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

/** Size and modification time now, or undefined when the file is gone. */
async function statOf(file: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const st = await fs.promises.stat(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

async function unchangedSince(file: string, cursor: FileCursor | undefined): Promise<boolean> {
  if (!cursor) return false;
  const st = await statOf(file);
  return st !== undefined && st.size === cursor.size && st.mtimeMs === cursor.mtimeMs;
}

async function readExperiment(root: string, files: ExperimentFiles, read: StoreRead): Promise<ParsedExperiment | undefined> {
  const { warnings, previous } = read;
  const experimentPath = path.posix.join(root, files.deleted ? TRASH_DIR : '', files.dirName);
  let meta: Record<string, unknown> = {};
  // The experiment's lifecycle decides which runs are listed (a run deleted on
  // its own is hidden only in an active experiment), so when its meta.yaml
  // changes or appears or vanishes every run of it is read again in full.
  let metaSame = previous !== undefined;
  const dirKey = experimentDirKey(files.deleted, files.dirName);
  read.reachedExperiments.add(dirKey);
  if (files.metaFile) {
    if (previous) metaSame = await unchangedSince(files.metaFile, previous.get(files.metaFile));
    const loaded = await readYamlMapping(files.metaFile, warnings);
    meta = loaded?.data ?? {};
    // Its own cursor (not the engine's default): a slice must say what it read.
    if (loaded) {
      read.cursors.push(loaded.cursor);
      read.budget.take(loaded.cursor.size);
    }
  } else {
    if (previous?.has(`${experimentPath}/${META_FILE}`)) metaSame = false;
    // Without meta.yaml MLflow ignores the folder; keep its runs (data is never
    // thrown away) under the folder name, and say why the name looks raw.
    const runs = [...files.runs.values()];
    if (!runs.some((run) => run.metaFile || run.params.length + run.tags.length + run.metrics.length > 0)) return undefined;
    warnings.add(experimentPath, 'experiment folder has runs but no meta.yaml; listed under its folder name');
  }
  const key = textOf(meta.experiment_id) ?? files.dirName;
  const name = textOf(meta.name) ?? files.dirName;
  const lifecycle = files.deleted || meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active';

  if (!metaSame) read.fullExperiments.add(dirKey);

  const runs: ParsedRun[] = [];
  for (const runFiles of [...files.runs.values()].sort((a, b) => compareIds(a.dirName, b.dirName))) {
    throwIfAborted(read.signal);
    if (read.budget.exhausted) {
      read.budget.stopped = true; // this run and the ones after it wait for the next slice
      break;
    }
    const runKey = `${dirKey}/${runFiles.dirName}`;
    read.reachedRuns.add(runKey);
    const incremental = metaSame && !read.runsWithLostFiles.has(runKey);
    const run = await readRun(path.posix.join(experimentPath, runFiles.dirName), runFiles, lifecycle, read, incremental);
    if (run) runs.push(run);
  }
  return { key, name, lifecycle, runs };
}

/** What the cursor of a run's meta.yaml remembers, so that an unchanged run is kept without parsing it. */
interface RunMetaState {
  v: typeof RUN_META_STATE_VERSION;
  runKey: string;
  /** Deleted on its own in an active experiment: not listed. */
  hidden?: boolean;
}

const RUN_META_STATE_VERSION = 1;

function runMetaStateOf(cursor: FileCursor | undefined): RunMetaState | undefined {
  const state = cursor?.state as Partial<RunMetaState> | undefined;
  return state && state.v === RUN_META_STATE_VERSION && typeof state.runKey === 'string' ? (state as RunMetaState) : undefined;
}

type RunPlan =
  | { kind: 'full' }
  | { kind: 'keep' }
  /** Per metric file: the cursor to continue from (undefined: new file, read from the start), or 'unchanged'. */
  | { kind: 'append'; metrics: Map<string, FileCursor | undefined | 'unchanged'> };

/**
 * Decides from sizes, times and heads how much of a run to read: nothing
 * ('keep'), the appended metric lines ('append': meta, params and tags are
 * small and read again in full, since 'append' replaces them), or all of it
 * (a metric file shrank or was rewritten, or the last read left no usable cursor).
 */
async function planRun(files: RunFiles, previous: ReadonlyMap<string, FileCursor>): Promise<RunPlan> {
  let changed = false;
  if (files.metaFile) {
    const cursor = previous.get(files.metaFile);
    // A run the last read did not know (or left no state for) is read whole: 'replace', not an append to nothing.
    if (!cursor) return { kind: 'full' };
    const state = runMetaStateOf(cursor);
    if (!state || !(await unchangedSince(files.metaFile, cursor))) changed = true;
    else if (state.hidden) return { kind: 'keep' }; // still deleted: its other files do not matter
  } else if (![...files.params, ...files.tags, ...files.metrics].some(([, file]) => previous.has(file))) {
    return { kind: 'full' };
  }
  if (!changed) {
    const small = [...files.params, ...files.tags].map(([, file]) => file);
    const same = await mapWithConcurrency(small, FILE_READ_CONCURRENCY, (file) => unchangedSince(file, previous.get(file)));
    changed = same.includes(false);
  }
  const metrics = new Map<string, FileCursor | undefined | 'unchanged'>();
  for (const [, file] of files.metrics) {
    const cursor = previous.get(file);
    if (!cursor) {
      metrics.set(file, undefined);
      changed = true;
      continue;
    }
    if (!metricStateOf(cursor)) return { kind: 'full' };
    let change;
    try {
      change = (await classifyChange(file, cursor)).change;
    } catch {
      return { kind: 'full' }; // gone meanwhile: the full read reports it
    }
    if (change === 'rewritten') return { kind: 'full' };
    if (change === 'unchanged') metrics.set(file, 'unchanged');
    else {
      metrics.set(file, cursor);
      changed = true;
    }
  }
  return changed ? { kind: 'append', metrics } : { kind: 'keep' };
}

function hasRunData(files: RunFiles): boolean {
  return files.params.length + files.tags.length + files.metrics.length > 0;
}

async function readRun(
  runPath: string,
  files: RunFiles,
  experimentLifecycle: 'active' | 'deleted',
  read: StoreRead,
  incremental: boolean,
): Promise<ParsedRun | undefined> {
  const { warnings, previous } = read;
  const plan = incremental && previous ? await planRun(files, previous) : { kind: 'full' as const };

  if (plan.kind === 'keep') {
    const runFiles = [files.metaFile, ...[...files.params, ...files.tags, ...files.metrics].map(([, file]) => file)];
    for (const file of runFiles) {
      const cursor = file ? previous!.get(file) : undefined;
      if (cursor) read.cursors.push(cursor);
    }
    const metaState = files.metaFile ? runMetaStateOf(previous!.get(files.metaFile)) : undefined;
    if (metaState?.hidden) return undefined;
    if (!files.metaFile) {
      if (!hasRunData(files)) return undefined;
      warnings.add(runPath, 'folder has params/metrics/tags but no meta.yaml; listed under its folder name with status unknown');
    }
    // What the full read reported about the metric lines before the cursors, said again.
    for (const [, file] of files.metrics) {
      const log = new ProblemLog(file);
      restoreProblems(log, metricStateOf(previous!.get(file)));
      log.replayInto(warnings);
    }
    // The store reads only the key of a kept run.
    return { key: metaState?.runKey ?? files.dirName, update: 'keep', name: '', path: runPath, status: 'unknown', params: {}, tags: {}, metrics: {}, summaries: {} };
  }

  let meta: Record<string, unknown> | undefined;
  let metaCursor: FileCursor | undefined;
  let metaClean = false;
  if (files.metaFile) {
    const loaded = await readSmallFile(files.metaFile);
    if (loaded instanceof Error) {
      warnings.add(files.metaFile, `cannot read: ${describeError(loaded)}`);
    } else {
      const parsed = parseYamlMapping(loaded.text, files.metaFile, warnings);
      meta = parsed.data;
      metaClean = parsed.clean;
      metaCursor = loaded.cursor;
    }
  }
  if (!meta) {
    if (!hasRunData(files)) return undefined; // an empty or foreign folder: not a run, nothing to say
    warnings.add(runPath, files.metaFile ? 'run meta.yaml is unreadable; run listed under its folder name with status unknown' : 'folder has params/metrics/tags but no meta.yaml; listed under its folder name with status unknown');
  }
  const runId = textOf(meta?.run_id) ?? textOf(meta?.run_uuid) ?? files.dirName;
  // A run deleted on its own (its experiment still active) is hidden, as in
  // MLflow's UI; runs of a deleted experiment stay, under that experiment.
  const hidden = meta?.lifecycle_stage === 'deleted' && experimentLifecycle === 'active';
  if (metaCursor) {
    // Only a cleanly parsed meta.yaml lets a later read keep the run unread; one with problems is read again, so its warnings stay.
    if (metaClean) metaCursor.state = { v: RUN_META_STATE_VERSION, runKey: runId, ...(hidden ? { hidden: true } : {}) } satisfies RunMetaState;
    read.cursors.push(metaCursor);
  }
  if (hidden) return undefined;

  if (metaCursor) read.budget.take(metaCursor.size);
  let update: 'replace' | 'append' = plan.kind === 'append' ? 'append' : 'replace';
  let metricsRead = await readRunMetrics(files, plan.kind === 'append' ? plan.metrics : undefined, previous, read.signal, read.budget);
  if (metricsRead === 'conflict') {
    // An unfinished line returned by the last read changed: its run's series are read again from the start.
    update = 'replace';
    metricsRead = (await readRunMetrics(files, undefined, previous, read.signal, read.budget)) as RunMetrics;
  }
  for (const log of metricsRead.problems) log.replayInto(warnings);
  read.cursors.push(...metricsRead.cursors);

  const params = await readKeyValueFiles(files.params, read);
  const tags = await readKeyValueFiles(files.tags, read);
  const name = nonEmpty(textOf(meta?.run_name)) ?? nonEmpty(textOf(meta?.name)) ?? nonEmpty(tags['mlflow.runName']) ?? runId;
  return {
    key: runId,
    update,
    name,
    path: runPath,
    status: meta ? statusFromMeta(meta.status) : 'unknown',
    startTime: millisOf(meta?.start_time),
    endTime: millisOf(meta?.end_time),
    params,
    tags,
    metrics: metricsRead.metrics,
    summaries: {},
  };
}

interface RunMetrics {
  metrics: Record<string, MetricSeriesData>;
  cursors: FileCursor[];
  /** Per metric file, in key order. */
  problems: ProblemLog[];
}

/**
 * A run's metric files, each from where the plan says (all from the start
 * without one). 'conflict' when an append finds that the unfinished last
 * line an earlier read returned has changed.
 *
 * With a limited budget, the files' new bytes are handed out in key order
 * before anything is read (sizes from a stat): the first files are read
 * whole, one is cut at the budget (at a line), and the rest are not reached.
 * A file not reached keeps its previous cursor when the run is appended to
 * (the store still holds that much of it) and gets none when it is read
 * anew (the store will hold nothing of it): the next slice goes on from there.
 */
async function readRunMetrics(
  files: RunFiles,
  plan: Map<string, FileCursor | undefined | 'unchanged'> | undefined,
  previous: ReadonlyMap<string, FileCursor> | undefined,
  signal: AbortSignal | undefined,
  budget: ByteBudget,
): Promise<RunMetrics | 'conflict'> {
  const result: RunMetrics = { metrics: {}, cursors: [], problems: [] };
  const sorted = files.metrics.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  /** Bytes each file may read (absent: to its end; 0: not reached). */
  const grants = new Map<string, number>();
  let taken = 0;
  const stoppedBefore = budget.stopped;
  if (budget.limited) {
    for (const [, file] of sorted) {
      const from = plan?.get(file);
      if (from === 'unchanged') continue;
      if (budget.exhausted) {
        grants.set(file, 0);
        budget.stopped = true;
        continue;
      }
      const st = await statOf(file);
      const want = st ? Math.max(0, st.size - (from?.offset ?? 0)) : 0;
      const grant = Math.min(want, budget.remaining);
      if (grant < want) {
        grants.set(file, grant);
        budget.stopped = true;
      }
      budget.take(grant);
      taken += grant;
    }
  }
  // Several files at a time (runs log tens of small metrics); each file's problems
  // are collected apart and merged in key order, so that warnings keep a stable order.
  const reads = await mapWithConcurrency(sorted, METRIC_FILE_CONCURRENCY, async ([, file]) => {
    throwIfAborted(signal);
    const problems = new ProblemLog(file);
    const from = plan?.get(file);
    if (from === 'unchanged') {
      const cursor = previous!.get(file)!;
      restoreProblems(problems, metricStateOf(cursor));
      return { problems, cursor, series: undefined, conflict: false };
    }
    const grant = grants.get(file);
    if (grant === 0) {
      if (from) restoreProblems(problems, metricStateOf(from));
      return { problems, cursor: from, series: undefined, conflict: false };
    }
    try {
      const read = await readMetricFileInParts(file, problems, from, signal, grant);
      return { problems, cursor: read.cursor, series: read.series, conflict: read.conflict };
    } catch (error) {
      if (signal?.aborted) throw error;
      problems.add(`cannot read metric file: ${describeError(error)}`);
      return { problems, cursor: undefined, series: undefined, conflict: false };
    }
  });
  if (reads.some((read) => read.conflict)) {
    // Read again from the start: what this attempt took goes back to the budget.
    budget.take(-taken);
    budget.stopped = stoppedBefore;
    return 'conflict';
  }
  sorted.forEach(([key], index) => {
    const read = reads[index];
    result.problems.push(read.problems);
    if (read.cursor) result.cursors.push(read.cursor);
    if (read.series && read.series.values.length > 0) setOwnKey(result.metrics, key, read.series);
  });
  return result;
}

/** Metric keys are user text: "__proto__" must become a key, not a prototype. */
function setOwnKey<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A small file's text (BOM dropped) with the cursor of having read all of it: one open, one stat. */
async function readSmallFile(file: string): Promise<{ text: string; cursor: FileCursor } | Error> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const st = await handle.stat();
    const bytes = Buffer.allocUnsafe(st.size);
    const got = await readFully(handle, bytes, 0, st.size, 0);
    const content = bytes.subarray(0, got);
    return {
      text: stripByteOrderMark(content.toString('utf8')),
      cursor: { path: file, size: got, mtimeMs: st.mtimeMs, offset: got, headHash: headHashOf(content.subarray(0, HEAD_BYTES)) },
    };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    await handle?.close();
  }
}

async function readYamlMapping(file: string, warnings: WarningCollector): Promise<{ data: Record<string, unknown> | undefined; cursor: FileCursor } | undefined> {
  const loaded = await readSmallFile(file);
  if (loaded instanceof Error) {
    warnings.add(file, `cannot read: ${describeError(loaded)}`);
    return undefined;
  }
  return { data: parseYamlMapping(loaded.text, file, warnings).data, cursor: loaded.cursor };
}

function parseYamlMapping(text: string, file: string, warnings: WarningCollector): { data: Record<string, unknown> | undefined; clean: boolean } {
  const { data, problems } = parseYamlTolerant(text);
  for (const problem of problems) warnings.add(file, problem);
  if (!isPlainObject(data)) {
    if (problems.length === 0) warnings.add(file, text.trim() === '' ? 'file is empty' : 'expected a YAML mapping');
    return { data: undefined, clean: false };
  }
  return { data, clean: problems.length === 0 };
}

/**
 * Params and tags: one file per key, the whole content is the value (no
 * trailing newline by design). Read many at a time (a store can hold tens of
 * thousands); warnings come out in key order. With each file's cursor: a slice
 * must say what it read, and the next one then keeps the run unread.
 */
async function readKeyValueFiles(entries: Array<[string, string]>, read: StoreRead): Promise<Record<string, string>> {
  const sorted = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const loaded = await mapWithConcurrency(sorted, FILE_READ_CONCURRENCY, ([, file]) => readSmallFile(file));
  const result: Record<string, string> = {};
  sorted.forEach(([key, file], index) => {
    const one = loaded[index];
    if (one instanceof Error) {
      read.warnings.add(file, `cannot read: ${describeError(one)}`);
      return;
    }
    result[key] = one.text;
    read.cursors.push(one.cursor);
    read.budget.take(one.cursor.size);
  });
  return result;
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
