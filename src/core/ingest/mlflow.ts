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
import { ByteBudget, emptySeries, giveReadBuffer, SeriesBuilder, takeReadBuffer, type Float64Series } from './series';
import type { FileCursor, FormatReader, MetricSeriesData, ParsedExperiment, ParsedRun, ParsedSource, ReadLimits, RunStatus, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  listFilesRecursive,
  mapWithConcurrency,
  parseFiniteToken,
  parseNumberToken,
  scanDecimalBytes,
  scannedDecimal,
  stripByteOrderMark,
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
      const read = await readMetricFile(file, problems, from, signal, grant);
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

/**
 * One file's problems: the first few messages and how many there were. Metric
 * files are read several at a time; their logs are handed to the source's
 * WarningCollector afterwards, in key order, exactly as if each problem had
 * been added there. A cursor keeps the log, so that later reads, which see
 * only appended bytes, still report what the earlier bytes had.
 */
class ProblemLog {
  messages: string[] = [];
  count = 0;

  constructor(readonly file: string) {}

  add(message: string): void {
    this.count++;
    if (this.messages.length < MAX_REMEMBERED_PROBLEMS) this.messages.push(message);
  }

  addLine(lineNumber: number, message: string): void {
    this.add(`line ${lineNumber}: ${message}`);
  }

  /** Into `warnings`, as if each problem had been added there (it caps each file at fewer messages than are kept here). */
  replayInto(warnings: WarningCollector): void {
    for (const message of this.messages) warnings.add(this.file, message);
    const last = this.messages[this.messages.length - 1] ?? '';
    for (let i = this.messages.length; i < this.count; i++) warnings.add(this.file, last);
  }
}

/** WarningCollector's cap per file: a log keeps that many messages, and counts the rest. */
const MAX_REMEMBERED_PROBLEMS = 20;

/**
 * One metric's history, in file order (MLflow repeats steps legitimately).
 * Columns: timestamp (ms), value, step, then whatever MLflow 3 appends (run
 * id, dataset name and digest), which is ignored. MLflow 0.x wrote two
 * columns; their step is 0. Bad lines become warnings; a last line without a
 * newline that does not parse, or that has fewer columns than the lines
 * before it, is a write in progress and is skipped quietly.
 */
export function parseMetricHistory(text: string, file: string, warnings: WarningCollector): Float64Series {
  const log = new ProblemLog(file);
  const parser = new MetricLineParser(log);
  const bytes = Buffer.from(stripByteOrderMark(text), 'utf8');
  const stop = parser.parseLines(bytes, 0, bytes.length);
  parser.finish(bytes, stop, bytes.length);
  log.replayInto(warnings);
  return parser.points.finish();
}

/** What a metric file's cursor remembers between reads (FileCursor.state). */
interface MetricCursorState {
  v: typeof METRIC_STATE_VERSION;
  /** Column count of the first complete line (0 before one): a shorter unterminated last line is still being written. */
  columns: number;
  /** Line breaks before the cursor, so that warnings name the right line. */
  lines: number;
  /** The bytes before the cursor end with CR: an LF right at the cursor completes that CRLF. */
  cr: boolean;
  /** The unterminated last line (as latin1) whose point was already returned; it starts at the cursor. */
  tail?: string;
  /** Problems reported for the bytes before the cursor (the first few, and how many): repeated on later reads, which do not see those bytes. */
  problems?: string[];
  problemCount?: number;
}

const METRIC_STATE_VERSION = 1;
/** Read size for metric files: big enough for few system calls, small enough that eight files read at once hold little. */
const METRIC_CHUNK_BYTES = 2 * 1024 * 1024;

/** What the last read of a file reported, back into `log`. */
function restoreProblems(log: ProblemLog, state: MetricCursorState | undefined): void {
  log.messages = [...(state?.problems ?? [])];
  log.count = Math.max(state?.problemCount ?? 0, log.messages.length);
}

function metricStateOf(cursor: FileCursor | undefined): MetricCursorState | undefined {
  const state = cursor?.state as Partial<MetricCursorState> | undefined;
  if (!state || state.v !== METRIC_STATE_VERSION || typeof state.columns !== 'number' || typeof state.lines !== 'number') return undefined;
  return state as MetricCursorState;
}

const enum Byte {
  Tab = 9,
  LineFeed = 10,
  VerticalTab = 11,
  FormFeed = 12,
  CarriageReturn = 13,
  Space = 32,
}

/**
 * Timestamps and steps are plain integers nearly always: 1 to 15 digits (so
 * exact) not followed by a point or an exponent. Those are read here, in a
 * loop small enough to inline, into scannedDecimal[0]; returns the index
 * after them, or -1 for anything else (scanDecimalBytes decides that).
 */
function scanInteger(bytes: Uint8Array, start: number, limit: number): number {
  let i = start;
  let value = 0;
  while (i < limit) {
    const digit = bytes[i] - 0x30;
    if (digit >>> 0 > 9) break;
    value = value * 10 + digit;
    i++;
  }
  if (i === start || i - start > 15 || i >= limit) return -1;
  const next = bytes[i];
  if (next === 0x2e || next === 0x65 || next === 0x45) return -1; // ".", "e", "E": more number follows
  decimalOut[0] = value;
  return i;
}

/** scannedDecimal under a module-local name: an imported name is a property lookup on every use. */
const decimalOut = scannedDecimal;

/** The whitespace String.prototype.trim and /\s/ know, restricted to ASCII (anything else takes the text path). */
function isBlank(c: number): boolean {
  return c === Byte.Space || c === Byte.Tab || c === Byte.VerticalTab || c === Byte.FormFeed;
}

/**
 * Turns metric-file bytes into points. Lines made of plain ASCII decimals
 * (nearly all of them) are parsed straight from the bytes; any other line
 * (nan, inf, non-ASCII blanks, errors) goes through the text functions, so
 * both paths agree on every value and every warning.
 */
class MetricLineParser {
  readonly points: SeriesBuilder;
  /** Column count of the first complete line parsed (0: none yet). */
  columns = 0;
  /** Line breaks consumed so far. */
  lines = 0;
  /** The last byte consumed was a CR: an LF next completes it. */
  cr = false;

  constructor(
    readonly problems: ProblemLog,
    /** Points expected (a hint for the first allocation). */
    expected = 0,
  ) {
    this.points = new SeriesBuilder(expected);
  }

  /**
   * Parses every complete line in bytes[start, limit) and returns where the
   * first incomplete one starts (limit when none is left).
   */
  parseLines(bytes: Uint8Array, start: number, limit: number): number {
    const points = this.points;
    // Local names: imports compile to property lookups on the module object.
    const decoded = scannedDecimal;
    const scanDecimal = scanDecimalBytes;
    let i = start;
    if (this.cr && i < limit) {
      if (bytes[i] === Byte.LineFeed) i++;
      this.cr = false;
    }
    while (i < limit) {
      const lineStart = i;
      // The fast path: "timestamp value[ step[ more...]]" between optional blanks, then a line break.
      let c = bytes[i];
      while (isBlank(c) && ++i < limit) c = bytes[i];
      if (i >= limit) return lineStart;
      if (c === Byte.LineFeed || c === Byte.CarriageReturn) {
        i = this.endLine(bytes, i, limit);
        continue;
      }
      let slow = false;
      let columns = 0;
      let timestamp = 0;
      let value = 0;
      let step = 0;
      let end = scanInteger(bytes, i, limit);
      if (end < 0) end = scanDecimal(bytes, i, limit);
      if (end >= limit) return lineStart;
      if (end >= 0) {
        timestamp = decoded[0];
        columns = 1;
        i = end;
        c = bytes[i];
        while (isBlank(c) && ++i < limit) c = bytes[i];
        if (i >= limit) return lineStart;
        if (i > end && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
          end = scanDecimal(bytes, i, limit);
          if (end >= limit) return lineStart;
          if (end >= 0) {
            value = decoded[0];
            columns = 2;
            i = end;
            c = bytes[i];
            while (isBlank(c) && ++i < limit) c = bytes[i];
            if (i >= limit) return lineStart;
            if (i > end && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
              end = scanInteger(bytes, i, limit);
              if (end < 0) end = scanDecimal(bytes, i, limit);
              if (end >= limit) return lineStart;
              if (end >= 0) {
                step = decoded[0];
                columns = 3;
                i = end;
                c = bytes[i];
                // Then blanks, maybe MLflow 3's extra columns (counted, as long as they are plain ASCII).
                let inField = !isBlank(c) && c !== Byte.LineFeed && c !== Byte.CarriageReturn;
                if (inField) slow = true; // the step runs into something that is not a number
                while (!slow && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
                  if (c >= 0x80) slow = true;
                  else if (isBlank(c)) inField = false;
                  else if (!inField) {
                    inField = true;
                    columns++;
                  }
                  if (++i >= limit) return lineStart;
                  c = bytes[i];
                }
              } else slow = true;
            } else if (c !== Byte.LineFeed && c !== Byte.CarriageReturn) slow = true;
          } else slow = true;
        } else if (c !== Byte.LineFeed && c !== Byte.CarriageReturn) slow = true;
      } else slow = true;
      if (!slow && columns >= 2) {
        if (this.columns === 0) this.columns = columns;
        points.push(step, value, timestamp);
        if (c === Byte.LineFeed) {
          this.lines++;
          i++;
        } else {
          i = this.endLine(bytes, i, limit);
        }
        continue;
      }
      // The text path for this one line (nan, inf, non-ASCII, a problem to report): find its end first.
      let lineEnd = i;
      while (lineEnd < limit && bytes[lineEnd] !== Byte.LineFeed && bytes[lineEnd] !== Byte.CarriageReturn) lineEnd++;
      if (lineEnd >= limit) return lineStart;
      this.textLine(bytes, lineStart, lineEnd, true, true);
      i = this.endLine(bytes, lineEnd, limit);
    }
    return i;
  }

  /** Consumes the line break at bytes[i]; a CR at the very end may be the first half of a CRLF. */
  private endLine(bytes: Uint8Array, i: number, limit: number): number {
    this.lines++;
    if (bytes[i] === Byte.CarriageReturn) {
      if (i + 1 >= limit) {
        this.cr = true;
        return i + 1;
      }
      if (bytes[i + 1] === Byte.LineFeed) return i + 2;
    }
    return i + 1;
  }

  /**
   * One line through the text functions. Returns whether it gave a point.
   * `emit` false re-parses a line whose point was returned by an earlier read.
   */
  textLine(bytes: Uint8Array, start: number, end: number, terminated: boolean, emit: boolean): boolean {
    const lineNumber = this.lines + 1;
    const trimmed = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8').trim();
    if (trimmed === '') return false;
    const fields = trimmed.split(/\s+/);
    const parsed = parseMetricFields(fields);
    if (typeof parsed === 'string') {
      if (terminated) this.problems.addLine(lineNumber, parsed);
      return false;
    }
    if (!terminated && this.columns !== 0 && fields.length < this.columns) return false;
    if (terminated && this.columns === 0) this.columns = fields.length;
    if (emit) this.points.push(parsed.step, parsed.value, parsed.timestamp);
    return true;
  }

  /**
   * The unterminated rest bytes[start, end) of a file: a line still being
   * written. Its point is returned when it parses with all its columns (a
   * cut-off step would be caught on the next read: see MetricCursorState.tail).
   * Returns the tail to remember, if a point was returned.
   */
  finish(bytes: Uint8Array, start: number, end: number): string | undefined {
    if (start >= end) return undefined;
    return this.textLine(bytes, start, end, false, true) ? Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1') : undefined;
  }
}

interface MetricFileRead {
  series: Float64Series;
  cursor: FileCursor;
  /**
   * The unterminated last line whose point an earlier read returned is now
   * different (it was cut inside its step): the stored series is wrong, so
   * the run must be read in full.
   */
  conflict: boolean;
}

/**
 * Reads a metric file from `resume` (a cursor of an earlier read, with its
 * state) or from the start, in bounded chunks, to the size the file had when
 * it was opened; or, with `maxBytes`, to the last whole line within about
 * that many bytes (on to the end of the first line when none ends within
 * them, so every call makes progress). A read cut there returns a cursor
 * whose size is its offset: the next read sees the rest as appended.
 */
async function readMetricFile(
  file: string,
  problems: ProblemLog,
  resume: FileCursor | undefined,
  signal: AbortSignal | undefined,
  maxBytes = Infinity,
): Promise<MetricFileRead> {
  const resumeState = metricStateOf(resume);
  const handle = await fs.promises.open(file, 'r');
  // From the read-buffer pool; nothing returned refers to its bytes (strings and heads are copies).
  let buffer: Buffer | undefined;
  // The read of the next chunk, started before this one is parsed.
  let ahead: { buffer: Buffer; position: number; length: number; read: Promise<number> } | undefined;
  const settleAhead = async () => {
    if (!ahead) return;
    const pending = ahead;
    ahead = undefined;
    await pending.read.catch(() => 0);
    giveReadBuffer(pending.buffer);
  };
  try {
    const stat = await handle.stat();
    const size = stat.size;
    let offset = 0;
    if (resume && resumeState) offset = resume.offset;
    // Where this read means to stop; moved on only to finish a first line.
    let limit = maxBytes === Infinity ? size : Math.min(size, offset + Math.max(1, Math.floor(maxBytes)));
    // About 40 bytes a line ("1700000000000 0.123456789 1234\n"): one allocation for most files.
    const parser = new MetricLineParser(problems, Math.min(limit - offset, METRIC_CHUNK_BYTES * 8) / 36);
    if (resume && resumeState) {
      parser.columns = resumeState.columns;
      parser.lines = resumeState.lines;
      parser.cr = resumeState.cr;
      restoreProblems(problems, resumeState);
    }
    buffer = takeReadBuffer(Math.min(METRIC_CHUNK_BYTES, Math.max(limit - offset, 0)) + 1);
    let carried = 0; // bytes at the front of `buffer` that belong to an unfinished line
    let position = offset; // file offset of buffer[0]
    let readTo = offset; // file offset up to which bytes are in hand
    let head: Buffer | undefined;
    let tailChecked = !resumeState?.tail;
    let tailUnchanged = false;
    let cut = false; // stopped at the budget, before the end of the file

    while (readTo < size) {
      throwIfAborted(signal);
      if (readTo >= limit) {
        // The budget is spent. Stop at the last whole line, unless none was consumed yet.
        if (position > offset && tailChecked) {
          cut = true;
          break;
        }
        limit = Math.min(size, readTo + METRIC_CHUNK_BYTES);
      }
      const want = Math.min(METRIC_CHUNK_BYTES, limit - readTo);
      if (buffer.length < carried + want) {
        // A line longer than the chunk (or a small first buffer): grow, keeping the carried bytes.
        const bigger = takeReadBuffer(carried + Math.max(want, METRIC_CHUNK_BYTES));
        buffer.copy(bigger, 0, 0, carried);
        giveReadBuffer(buffer);
        buffer = bigger;
      }
      let got: number;
      if (ahead && ahead.position === readTo && ahead.length === want) {
        // Read while the chunk before was parsed: only a copy from here.
        const next = ahead;
        ahead = undefined;
        got = await next.read;
        next.buffer.copy(buffer, carried, 0, got);
        giveReadBuffer(next.buffer);
      } else {
        await settleAhead();
        got = await readFully(handle, buffer, carried, want, readTo);
      }
      if (got === 0) break; // truncated meanwhile: what is in hand is all there is
      readTo += got;
      // Start reading the next chunk now: the disk (or the page cache copy) works while this one is parsed.
      const nextWant = Math.min(METRIC_CHUNK_BYTES, limit - readTo);
      if (got === want && nextWant > 0) {
        const aheadBuffer = takeReadBuffer(nextWant);
        ahead = { buffer: aheadBuffer, position: readTo, length: nextWant, read: readFully(handle, aheadBuffer, 0, nextWant, readTo) };
      }
      let available = carried + got;
      if (position === 0 && head === undefined) {
        head = Buffer.from(buffer.subarray(0, Math.min(available, HEAD_BYTES)));
        // A UTF-8 byte-order mark (Windows editors) is not part of the first line.
        if (available >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
          buffer.copy(buffer, 0, 3, available);
          available -= 3;
          position = 3;
        }
      }
      let start = 0;
      if (!tailChecked) {
        // The line at the cursor was returned already: it must still be the same, now maybe finished.
        const tail = Buffer.from(resumeState!.tail!, 'latin1');
        if (available < tail.length && readTo < size) {
          carried = available;
          continue;
        }
        tailChecked = true;
        const same = available >= tail.length && buffer.subarray(0, tail.length).equals(tail);
        const next = available > tail.length ? buffer[tail.length] : -1;
        if (!same || (next !== -1 && next !== Byte.LineFeed && next !== Byte.CarriageReturn)) {
          return { series: emptySeries(), cursor: resume!, conflict: true };
        }
        if (next === -1) {
          // Still unfinished and unchanged: nothing new.
          tailUnchanged = true;
          carried = available;
          break;
        }
        parser.textLine(buffer, 0, tail.length, true, false);
        parser.lines++;
        start = tail.length + 1;
        if (next === Byte.CarriageReturn) {
          if (start < available) {
            if (buffer[start] === Byte.LineFeed) start++;
          } else {
            parser.cr = true;
          }
        }
      }
      const stop = parser.parseLines(buffer, start, available);
      // Keep the unfinished line for the next chunk.
      carried = available - stop;
      buffer.copy(buffer, 0, stop, available);
      position += stop;
    }

    // Fewer bytes at the cursor than the remembered tail: it was rewritten, not appended to.
    if (!tailChecked) return { series: emptySeries(), cursor: resume!, conflict: true };
    // What is left is a line without its line break: maybe still being written,
    // unless this read stopped at its budget, which cut it (the next read has it whole).
    let tail: string | undefined;
    if (tailUnchanged) tail = resumeState!.tail;
    else if (carried > 0 && !cut) tail = parser.finish(buffer, 0, carried);
    const state: MetricCursorState = { v: METRIC_STATE_VERSION, columns: parser.columns, lines: parser.lines, cr: parser.cr };
    if (tail !== undefined) state.tail = tail;
    if (problems.count > 0) {
      state.problems = problems.messages;
      state.problemCount = problems.count;
    }
    // A cut read describes the file as if it ended at the cursor (see FormatReader.read).
    const cursorSize = cut ? position : Math.max(readTo, offset);
    const headLength = Math.min(cursorSize, HEAD_BYTES);
    const headHash =
      resume && resumeState && resume.size >= HEAD_BYTES
        ? resume.headHash
        : head && head.length >= headLength
          ? headHashOf(head.subarray(0, headLength))
          : await headHashOfHandle(handle, cursorSize);
    return {
      series: parser.points.finish(),
      cursor: { path: file, size: cursorSize, mtimeMs: stat.mtimeMs, offset: position, headHash, state },
      conflict: false,
    };
  } finally {
    await settleAhead();
    if (buffer) giveReadBuffer(buffer);
    await handle.close();
  }
}

/** Reads until `length` bytes or the end of the file (it may have been truncated meanwhile). */
async function readFully(handle: fs.promises.FileHandle, into: Buffer, at: number, length: number, position: number): Promise<number> {
  let total = 0;
  while (total < length) {
    const { bytesRead } = await handle.read(into, at + total, length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}

async function headHashOfHandle(handle: fs.promises.FileHandle, size: number): Promise<string> {
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  const got = await readFully(handle, head, 0, head.length, 0);
  return headHashOf(head.subarray(0, got));
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
