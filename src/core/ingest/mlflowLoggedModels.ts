// MLflow 3 logged models in a file store. MLflow 3 makes a model a first-class
// entity beside the runs of an experiment:
//   <root>/<experiment id>/models/<model id>/meta.yaml     model_id, name, experiment_id, source_run_id,
//                                                          status, creation_timestamp, last_updated_timestamp,
//                                                          artifact_location, model_type
//   <root>/<experiment id>/models/<model id>/params/<key>  like a run's: the whole file is the value
//   <root>/<experiment id>/models/<model id>/tags/<key>
//   <root>/<experiment id>/models/<model id>/metrics/<key> lines "timestamp value step[ run id dataset...]"
//   <root>/<experiment id>/models/<model id>/artifacts/    the model's files (not read here)
// (and the same under `.trash/` for deleted experiments). A logged model is a
// model linked to its source run, never a run: the MLflow reader skips these
// folders, and this module reads them on their own. Pure: files in, models out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findFileStoreRoots } from './mlflow';
import { parseMetricHistory } from './mlflowMetricFile';
import type { Float64Series } from './series';
import { WarningCollector, describeError, mapWithConcurrency, stripByteOrderMark } from './text';
import type { IngestWarning } from './types';
import { walkFiles } from './walk';
import { isPlainObject, parseYamlTolerant } from './yaml';

const META_FILE = 'meta.yaml';
const TRASH_DIR = '.trash';
const MODELS_DIR = 'models';
/** The model registry sits beside the experiments as `<root>/models`: not an experiment. */
const MODEL_REGISTRY_DIR = 'models';
const DATA_DIRS = ['params', 'tags', 'metrics'] as const;
type DataKind = (typeof DATA_DIRS)[number];
const FILE_READ_CONCURRENCY = 16;

/** LoggedModelStatus as MLflow's protos number it; the file store may also write its name. */
const STATUS_BY_NUMBER: Record<number, LoggedModelStatus> = { 0: 'unknown', 1: 'pending', 2: 'ready', 3: 'failed' };

export type LoggedModelStatus = 'pending' | 'ready' | 'failed' | 'unknown';

export interface LoggedModel {
  /** `model_id` from meta.yaml, else the folder name. */
  id: string;
  name: string;
  experimentId: string;
  /** From the experiment's meta.yaml; undefined when it has none or none is readable. */
  experimentName?: string;
  /** The run the model was logged from; undefined when meta.yaml names none. */
  sourceRunId?: string;
  status: LoggedModelStatus;
  /** Milliseconds since the epoch. */
  createdMs?: number;
  updatedMs?: number;
  modelType?: string;
  artifactLocation?: string;
  /** In `.trash/` or marked `lifecycle_stage: deleted`. */
  deleted: boolean;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Every point of each metric file, in file order (steps, values, wall times in ms). */
  metrics: Record<string, Float64Series>;
  /** The file store's root (the folder holding the experiments), absolute, '/'-separated. */
  storeRoot: string;
  /** The model's folder, absolute, '/'-separated. */
  dir: string;
}

export interface LoggedModelsResult {
  models: LoggedModel[];
  warnings: IngestWarning[];
}

/** Walks `root` (a folder, or a file: then there is nothing to find) and reads every logged model in every file store under it. */
export async function findLoggedModels(root: string, signal?: AbortSignal): Promise<LoggedModelsResult> {
  const walked = await walkFiles(root, { signal });
  return readLoggedModels(walked.files);
}

interface ModelFiles {
  storeRoot: string;
  experimentDir: string;
  deleted: boolean;
  dir: string;
  metaFile?: string;
  data: Record<DataKind, Array<[string, string]>>;
}

/** What a path below a file-store root is to this module: a logged model's file, or undefined. */
export function classifyLoggedModelPath(relative: string): { deleted: boolean; experimentDir: string; modelDir: string; kind: 'meta' | DataKind; key?: string } | undefined {
  let parts = relative.split('/');
  const deleted = parts[0] === TRASH_DIR;
  if (deleted) parts = parts.slice(1);
  const [experimentDir, models, modelDir, what, ...rest] = parts;
  if (!deleted && experimentDir === MODEL_REGISTRY_DIR) return undefined;
  if (models !== MODELS_DIR || !modelDir || !what) return undefined;
  if (what === META_FILE && rest.length === 0) return { deleted, experimentDir, modelDir, kind: 'meta' };
  const kind = DATA_DIRS.find((k) => k === what);
  if (kind && rest.length >= 1 && rest.every((p) => p !== '')) return { deleted, experimentDir, modelDir, kind, key: rest.join('/') };
  return undefined;
}

/** Reads the logged models among `files` (absolute, '/'-separated, as discovery lists them). Never throws for bad files: each problem is a warning naming its file. */
export async function readLoggedModels(files: readonly string[]): Promise<LoggedModelsResult> {
  const warnings = new WarningCollector();
  const roots = findFileStoreRoots(files);
  const byDir = new Map<string, ModelFiles>();
  for (const file of files) {
    const storeRoot = roots.find((root) => file.startsWith(`${root}/`));
    if (!storeRoot) continue;
    const where = classifyLoggedModelPath(file.slice(storeRoot.length + 1));
    if (!where) continue;
    const dir = path.posix.join(storeRoot, where.deleted ? TRASH_DIR : '', where.experimentDir, MODELS_DIR, where.modelDir);
    let model = byDir.get(dir);
    if (!model) {
      model = { storeRoot, experimentDir: where.experimentDir, deleted: where.deleted, dir, data: { params: [], tags: [], metrics: [] } };
      byDir.set(dir, model);
    }
    if (where.kind === 'meta') model.metaFile = file;
    else model.data[where.kind].push([where.key!, file]);
  }

  const experimentNames = new Map<string, string | undefined>();
  const models: LoggedModel[] = [];
  for (const files of [...byDir.values()].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0))) {
    const experimentPath = path.posix.dirname(path.posix.dirname(files.dir));
    if (!experimentNames.has(experimentPath)) experimentNames.set(experimentPath, await experimentNameOf(experimentPath));
    models.push(await readModel(files, experimentNames.get(experimentPath), warnings));
  }
  return { models, warnings: warnings.list() };
}

async function readModel(files: ModelFiles, experimentName: string | undefined, warnings: WarningCollector): Promise<LoggedModel> {
  const folderName = path.posix.basename(files.dir);
  let meta: Record<string, unknown> = {};
  if (files.metaFile) {
    const text = await readText(files.metaFile, warnings);
    if (text !== undefined) {
      const { data, problems } = parseYamlTolerant(text);
      for (const problem of problems) warnings.add(files.metaFile, problem);
      if (isPlainObject(data)) meta = data;
      else if (problems.length === 0) warnings.add(files.metaFile, text.trim() === '' ? 'file is empty' : 'expected a YAML mapping');
    }
  } else {
    warnings.add(files.dir, 'logged model folder has no meta.yaml; listed under its folder name');
  }
  const params = await readKeyValues(files.data.params, warnings);
  const tags = await readKeyValues(files.data.tags, warnings);
  const metrics: Record<string, Float64Series> = {};
  for (const [key, file] of sortByKey(files.data.metrics)) {
    const text = await readText(file, warnings);
    if (text !== undefined) setOwnKey(metrics, key, parseMetricHistory(text, file, warnings));
  }
  return {
    id: nonEmpty(textOf(meta.model_id)) ?? folderName,
    name: nonEmpty(textOf(meta.name)) ?? folderName,
    experimentId: nonEmpty(textOf(meta.experiment_id)) ?? files.experimentDir,
    experimentName,
    sourceRunId: nonEmpty(textOf(meta.source_run_id)),
    status: statusOf(meta.status),
    createdMs: millisOf(meta.creation_timestamp),
    updatedMs: millisOf(meta.last_updated_timestamp),
    modelType: nonEmpty(textOf(meta.model_type)),
    artifactLocation: nonEmpty(textOf(meta.artifact_location)),
    deleted: files.deleted || meta.lifecycle_stage === 'deleted',
    params,
    tags,
    metrics,
    storeRoot: files.storeRoot,
    dir: files.dir,
  };
}

/** The experiment's name, quietly: its meta.yaml's problems are the MLflow reader's to report. */
async function experimentNameOf(experimentPath: string): Promise<string | undefined> {
  try {
    const { data } = parseYamlTolerant(stripByteOrderMark(await fs.promises.readFile(path.posix.join(experimentPath, META_FILE), 'utf8')));
    return isPlainObject(data) ? nonEmpty(textOf(data.name)) : undefined;
  } catch {
    return undefined;
  }
}

async function readText(file: string, warnings: WarningCollector): Promise<string | undefined> {
  try {
    return stripByteOrderMark(await fs.promises.readFile(file, 'utf8'));
  } catch (error) {
    warnings.add(file, `cannot read: ${describeError(error)}`);
    return undefined;
  }
}

async function readKeyValues(entries: Array<[string, string]>, warnings: WarningCollector): Promise<Record<string, string>> {
  const sorted = sortByKey(entries);
  const texts = await mapWithConcurrency(sorted, FILE_READ_CONCURRENCY, ([, file]) => readText(file, warnings));
  const result: Record<string, string> = {};
  sorted.forEach(([key], index) => {
    const text = texts[index];
    if (text !== undefined) setOwnKey(result, key, text);
  });
  return result;
}

function sortByKey(entries: Array<[string, string]>): Array<[string, string]> {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Keys are user text: "__proto__" must become a key, not a prototype. */
function setOwnKey<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A number (the proto enum) or a name (`READY`, `LOGGED_MODEL_READY`, `LOGGED_MODEL_UPLOAD_FAILED`...). */
export function statusOf(raw: unknown): LoggedModelStatus {
  if (typeof raw === 'number') return STATUS_BY_NUMBER[raw] ?? 'unknown';
  if (typeof raw !== 'string') return 'unknown';
  const text = raw.trim();
  if (/^\d+$/.test(text)) return STATUS_BY_NUMBER[Number(text)] ?? 'unknown';
  const name = text.toUpperCase().replace(/^LOGGED_MODEL_/, '');
  if (name === 'PENDING') return 'pending';
  if (name === 'READY') return 'ready';
  if (name === 'FAILED' || name === 'UPLOAD_FAILED') return 'failed';
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
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}
