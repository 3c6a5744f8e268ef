// The corpus' expected.json files as checks that run against any view of the
// parsed runs: the readers' ParsedSource (in process) or `runlens export`
// output (through the real CLI and the store). Both are first turned into the
// same neutral RunView, so one checker serves both paths. The expectations
// are the corpus' own (computed by independent scripts from the raw files);
// where expected.json is silent, a check reads the raw file itself, never the
// reader's code.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ParsedSource } from '../../src/core/ingest/types';
import { flattenExpected } from '../unit/ingest/helpers';
import { corpusDir } from './fixtures';

// --- the neutral view -------------------------------------------------------------

export interface SeriesView {
  steps: number[];
  values: number[];
  /** Milliseconds since the epoch; NaN where the format records none. */
  walls: number[];
}

export interface RunView {
  format: string;
  /** Relative to the case folder, '/'-separated; a Keras segment adds `#N` (N from 1), as `runlens export` documents. */
  path: string;
  name: string;
  status: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, SeriesView>;
  summary: Record<string, number | string>;
}

const WIRE_SPECIALS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** A JSON number, or one of the three strings the export uses for non-finite ones. */
export function decodeWire(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value in WIRE_SPECIALS) return WIRE_SPECIALS[value];
  assert.fail(`${what}: ${JSON.stringify(value)} is neither a number nor "NaN"/"Infinity"/"-Infinity"`);
}

interface ExportedRunJson {
  format: string;
  path: string;
  name: string;
  status: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, unknown[][]>;
  summary: Record<string, unknown>;
}

/** `runlens export --json` output as RunViews. Call assertExportShape first: this trusts the shape. */
export function runsFromExport(exported: unknown): RunView[] {
  return (exported as { runs: ExportedRunJson[] }).runs.map((run) => {
    const metrics: Record<string, SeriesView> = {};
    for (const [key, rows] of Object.entries(run.metrics)) {
      const series: SeriesView = { steps: [], values: [], walls: [] };
      rows.forEach((row, i) => {
        series.steps.push(decodeWire(row[0], `${run.path} ${key}[${i}] step`));
        series.values.push(decodeWire(row[1], `${run.path} ${key}[${i}] value`));
        series.walls.push(row[2] === null ? NaN : (row[2] as number));
      });
      metrics[key] = series;
    }
    const summary: Record<string, number | string> = {};
    for (const [key, value] of Object.entries(run.summary)) summary[key] = typeof value === 'number' ? value : decodeWireOrText(value as string);
    return { format: run.format, path: run.path, name: run.name, status: run.status, params: run.params, tags: run.tags, metrics, summary };
  });
}

function decodeWireOrText(value: string): number | string {
  return value in WIRE_SPECIALS ? WIRE_SPECIALS[value] : value;
}

/** The readers' output as RunViews, paths relative to `caseRoot` the way the export writes them. */
export function runsFromParsedSources(sources: readonly ParsedSource[], caseRoot: string): RunView[] {
  const views: RunView[] = [];
  for (const source of sources) {
    for (const experiment of source.experiments) {
      for (const run of experiment.runs) {
        const relative = path.relative(caseRoot, run.path).split(path.sep).join('/') || '.';
        const segment = source.format === 'keras' ? /^segment-(\d+)$/.exec(run.key) : null;
        const metrics: Record<string, SeriesView> = {};
        for (const [key, series] of Object.entries(run.metrics)) metrics[key] = { steps: Array.from(series.steps), values: Array.from(series.values), walls: Array.from(series.walls) };
        views.push({
          format: source.format,
          path: segment ? `${relative}#${segment[1]}` : relative,
          name: run.name,
          status: run.status,
          params: run.params,
          tags: run.tags,
          metrics,
          summary: { ...run.summaries },
        });
      }
    }
  }
  return views;
}

/** Two views hold the same runs, every point equal under Object.is (NaN = NaN, 0 ≠ -0), wall times included. */
export function assertSameRuns(actual: readonly RunView[], expected: readonly RunView[], label: string): void {
  const byPath = (runs: readonly RunView[]) => new Map(runs.map((r) => [`${r.path}\u0000${r.name}`, r]));
  const a = byPath(actual);
  const e = byPath(expected);
  assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort(), `${label}: the same runs`);
  for (const [id, want] of e) {
    const got = a.get(id)!;
    const where = `${label} ${want.path}`;
    assert.deepEqual(
      { format: got.format, name: got.name, status: got.status, params: got.params, tags: got.tags },
      { format: want.format, name: want.name, status: want.status, params: want.params, tags: want.tags },
      where,
    );
    assert.deepEqual(Object.keys(got.metrics).sort(), Object.keys(want.metrics).sort(), `${where}: metric keys`);
    for (const [key, series] of Object.entries(want.metrics)) {
      for (const column of ['steps', 'values', 'walls'] as const) assertSameNumbers(got.metrics[key][column], series[column], `${where} ${key} ${column}`);
    }
    assert.deepEqual(Object.keys(got.summary).sort(), Object.keys(want.summary).sort(), `${where}: summary keys`);
    for (const [key, value] of Object.entries(want.summary)) assert.ok(Object.is(got.summary[key], value), `${where} summary ${key}: ${String(got.summary[key])} vs ${String(value)}`);
  }
}

/** Element-wise Object.is equality, reporting the first difference. */
export function assertSameNumbers(actual: readonly number[], expected: readonly number[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${label}[${i}]: expected ${expected[i]}, got ${actual[i]}`);
  }
}

// --- the export's documented shape -------------------------------------------------

const RUN_KEYS = ['format', 'metrics', 'name', 'params', 'path', 'status', 'summary', 'tags'];
const FORMATS = ['mlflow', 'tensorboard', 'lightning', 'keras', 'dvclive'];
const STATUSES = ['running', 'finished', 'failed', 'killed', 'scheduled', 'unknown'];

function isWireNumber(value: unknown): boolean {
  return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value in WIRE_SPECIALS);
}

function assertStringRecord(value: unknown, what: string): void {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is an object`);
  for (const [key, v] of Object.entries(value as object)) assert.equal(typeof v, 'string', `${what}.${key} is a string`);
}

/**
 * What README's CLI section promises about `runlens export --json`:
 * `{"runs": [...]}`, each run with format, path (relative to PATH,
 * '/'-separated, Keras segments `#N` with N from 1), name, status, params
 * (strings), tags, metrics (key → [step, value, wall_ms or null]) and summary;
 * non-finite numbers as "NaN", "Infinity", "-Infinity". `root` is the folder
 * that was exported: every path must exist under it.
 */
export function assertExportShape(exported: unknown, root: string): void {
  assert.ok(exported !== null && typeof exported === 'object' && !Array.isArray(exported), 'export is a JSON object');
  assert.deepEqual(Object.keys(exported as object), ['runs', 'models'], 'export has exactly the keys "runs" and "models"');
  assertModelsShape((exported as { models: unknown }).models, root);
  const runs = (exported as { runs: unknown }).runs;
  assert.ok(Array.isArray(runs), 'runs is an array');
  const kerasSegments = new Map<string, number[]>();
  for (const [index, run] of (runs as Record<string, unknown>[]).entries()) {
    const where = `runs[${index}]`;
    assert.deepEqual(Object.keys(run).sort(), RUN_KEYS, `${where} has exactly the documented keys`);
    assert.ok(FORMATS.includes(run.format as string), `${where}.format "${String(run.format)}"`);
    assert.ok(STATUSES.includes(run.status as string), `${where}.status "${String(run.status)}"`);
    assert.ok(typeof run.name === 'string' && run.name !== '', `${where}.name is a non-empty string`);
    const runPath = run.path;
    assert.ok(typeof runPath === 'string' && runPath !== '', `${where}.path is a non-empty string`);
    assert.ok(!path.posix.isAbsolute(runPath) && !/^[A-Za-z]:/.test(runPath), `${where}.path "${runPath}" is relative`);
    assert.ok(!runPath.includes('\\'), `${where}.path "${runPath}" is '/'-separated`);
    let filePart = runPath;
    if (run.format === 'keras') {
      const m = /^(.*)#([1-9]\d*)$/.exec(runPath);
      assert.ok(m, `${where}: a Keras path ends in #N, N from 1 ("${runPath}")`);
      filePart = m[1];
      kerasSegments.set(filePart, [...(kerasSegments.get(filePart) ?? []), Number(m[2])]);
    }
    if (filePart !== '.') assert.ok(filePart.split('/').every((part) => part !== '' && part !== '.' && part !== '..'), `${where}.path "${runPath}" is normalized`);
    assert.ok(fs.existsSync(path.join(root, ...filePart.split('/'))), `${where}.path "${runPath}" names something under the exported folder`);
    assertStringRecord(run.params, `${where}.params`);
    assertStringRecord(run.tags, `${where}.tags`);
    assert.ok(run.metrics !== null && typeof run.metrics === 'object' && !Array.isArray(run.metrics), `${where}.metrics is an object`);
    for (const [key, rows] of Object.entries(run.metrics as object)) {
      assert.ok(Array.isArray(rows), `${where}.metrics["${key}"] is a list`);
      for (const [i, row] of (rows as unknown[]).entries()) {
        // Checked point by point but asserted only on failure: series have thousands of points.
        const ok =
          Array.isArray(row) &&
          row.length === 3 &&
          isWireNumber(row[0]) &&
          isWireNumber(row[1]) &&
          (row[2] === null || (typeof row[2] === 'number' && Number.isFinite(row[2])));
        if (!ok) assert.fail(`${where}.metrics["${key}"][${i}] is not [step, value, wall_ms|null]: ${JSON.stringify(row)}`);
      }
    }
    assert.ok(run.summary !== null && typeof run.summary === 'object' && !Array.isArray(run.summary), `${where}.summary is an object`);
    for (const [key, value] of Object.entries(run.summary as object)) {
      assert.ok(isWireNumber(value) || typeof value === 'string', `${where}.summary["${key}"] is a number or text`);
    }
  }
  for (const [file, numbers] of kerasSegments) {
    assert.deepEqual([...numbers].sort((a, b) => a - b), numbers.map((_, i) => i + 1), `${file}: segments numbered 1..${numbers.length}`);
  }
}

const MODEL_KEYS = [
  'artifactLocation',
  'created',
  'deleted',
  'experiment',
  'id',
  'metrics',
  'modelType',
  'name',
  'params',
  'path',
  'sourceRun',
  'status',
  'tags',
  'updated',
];
const MODEL_STATUSES = ['pending', 'ready', 'failed', 'unknown'];

/** `models` of `runlens export`: MLflow 3 logged models, each with exactly the documented keys. */
export function assertModelsShape(models: unknown, root: string): void {
  assert.ok(Array.isArray(models), 'models is an array');
  for (const [index, model] of (models as Record<string, unknown>[]).entries()) {
    const where = `models[${index}]`;
    assert.deepEqual(Object.keys(model).sort(), MODEL_KEYS, `${where} has exactly the documented keys`);
    assert.ok(typeof model.id === 'string' && model.id !== '', `${where}.id is a non-empty string`);
    assert.ok(typeof model.name === 'string' && model.name !== '', `${where}.name is a non-empty string`);
    assert.ok(MODEL_STATUSES.includes(model.status as string), `${where}.status "${String(model.status)}"`);
    const experiment = model.experiment as { id?: unknown; name?: unknown };
    assert.ok(typeof experiment?.id === 'string', `${where}.experiment.id is a string`);
    assert.ok(experiment.name === null || typeof experiment.name === 'string', `${where}.experiment.name is a string or null`);
    const source = model.sourceRun as { id?: unknown; path?: unknown } | null;
    if (source !== null) {
      assert.deepEqual(Object.keys(source).sort(), ['id', 'path'], `${where}.sourceRun has id and path`);
      assert.ok(typeof source.id === 'string' && source.id !== '', `${where}.sourceRun.id is a non-empty string`);
      assert.ok(source.path === null || typeof source.path === 'string', `${where}.sourceRun.path is a string or null`);
    }
    for (const key of ['created', 'updated'] as const) assert.ok(model[key] === null || Number.isFinite(model[key]), `${where}.${key} is ms or null`);
    assert.equal(typeof model.deleted, 'boolean', `${where}.deleted is a boolean`);
    assertStringRecord(model.params, `${where}.params`);
    assertStringRecord(model.tags, `${where}.tags`);
    assert.ok(model.metrics !== null && typeof model.metrics === 'object' && !Array.isArray(model.metrics), `${where}.metrics is an object`);
    for (const [key, rows] of Object.entries(model.metrics as object)) {
      assert.ok(Array.isArray(rows), `${where}.metrics["${key}"] is a list`);
      for (const row of rows as unknown[]) {
        assert.ok(Array.isArray(row) && row.length === 3 && isWireNumber(row[0]) && isWireNumber(row[1]), `${where}.metrics["${key}"]: [step, value, wall_ms|null]`);
      }
    }
    const modelPath = model.path;
    assert.ok(typeof modelPath === 'string' && modelPath !== '' && !path.posix.isAbsolute(modelPath) && !modelPath.includes('\\'), `${where}.path is relative, '/'-separated`);
    assert.ok(fs.existsSync(path.join(root, ...modelPath.split('/'))), `${where}.path "${modelPath}" names something under the exported folder`);
  }
}

// --- the corpus cases --------------------------------------------------------------

/** Files that describe a case; everything else in its folder is the log itself. */
const DESCRIPTION_FILES = new Set(['EXPECTED.md', 'expected.json']);

/** Corpus folder name → the format RunLens reports for it. */
const FORMAT_OF_DIR: Record<string, string> = {
  mlflow: 'mlflow',
  tensorboard: 'tensorboard',
  'lightning-csv': 'lightning',
  'keras-csv': 'keras',
  dvclive: 'dvclive',
};

export interface CorpusLogCase {
  /** `logs/<format dir>/<case>`, for copyCorpus and readExpected. */
  relative: string;
  formatDir: string;
  /** What `runlens export` should report as `format`; undefined for a corpus folder RunLens has no checker for. */
  format: string | undefined;
  /** The case's log files, relative to the case folder, '/'-separated, sorted. */
  logFiles: string[];
  hasExpectedJson: boolean;
  /** Why the case cannot be checked (reported as a skip), or undefined. */
  skipReason: string | undefined;
}

function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(path.join(dir, entry.name), relative));
    else out.push(relative);
  }
  return out.sort();
}

/** Every case folder under corpus/logs/<format>/<case>, discovered, not listed by hand. */
export function listCorpusLogCases(): CorpusLogCase[] {
  const logs = path.join(corpusDir(), 'logs');
  const cases: CorpusLogCase[] = [];
  for (const formatDir of fs.readdirSync(logs).sort()) {
    if (!fs.statSync(path.join(logs, formatDir)).isDirectory()) continue;
    for (const name of fs.readdirSync(path.join(logs, formatDir)).sort()) {
      const dir = path.join(logs, formatDir, name);
      if (!fs.statSync(dir).isDirectory()) continue;
      const logFiles = filesUnder(dir).filter((file) => !DESCRIPTION_FILES.has(file));
      const hasExpectedJson = fs.existsSync(path.join(dir, 'expected.json'));
      const described = ['EXPECTED.md', 'expected.json'].filter((f) => fs.existsSync(path.join(dir, f))).join(' and ');
      cases.push({
        relative: `logs/${formatDir}/${name}`,
        formatDir,
        format: FORMAT_OF_DIR[formatDir],
        logFiles,
        hasExpectedJson,
        skipReason: logFiles.length === 0 ? `the corpus case has only ${described || 'no files'}: its log file is missing` : undefined,
      });
    }
  }
  return cases;
}

/**
 * Asserts that `runs` (every run found in a copy of the case at `caseRoot`)
 * reproduce the case's expected.json: run counts, paths, names, statuses where
 * given, params, tags, metric keys, point counts, first/last (step, value),
 * summaries, with Object.is on every number.
 */
export function assertMatchesExpected(corpusCase: CorpusLogCase, expected: unknown, runs: readonly RunView[], caseRoot: string): void {
  const checker = CHECKERS[corpusCase.formatDir];
  assert.ok(checker, `no expected.json checker for corpus folder logs/${corpusCase.formatDir}: add one to test/support/corpusExpectations.ts`);
  for (const run of runs) assert.equal(run.format, corpusCase.format, `${run.path}: format`);
  checker(expected, runs, caseRoot, corpusCase);
}

type Checker = (expected: unknown, runs: readonly RunView[], caseRoot: string, corpusCase: CorpusLogCase) => void;

function runAt(runs: readonly RunView[], runPath: string): RunView {
  const found = runs.filter((r) => r.path === runPath);
  assert.equal(found.length, 1, `one run at "${runPath}" (runs: ${runs.map((r) => r.path).join(', ')})`);
  return found[0];
}

function seriesOf(run: RunView, key: string): SeriesView {
  const series = run.metrics[key];
  assert.ok(series, `${run.path} has no metric "${key}" (has ${Object.keys(run.metrics).join(', ')})`);
  assert.equal(series.values.length, series.steps.length, `${run.path} ${key}: steps and values differ in length`);
  assert.equal(series.walls.length, series.steps.length, `${run.path} ${key}: steps and walls differ in length`);
  return series;
}

function assertPoint(series: SeriesView, index: number, step: number, value: number, where: string): void {
  assert.ok(Object.is(series.steps[index], step), `${where}: step ${series.steps[index]}, expected ${step}`);
  assert.ok(Object.is(series.values[index], value), `${where}: value ${series.values[index]}, expected ${value}`);
}

const sorted = (keys: Iterable<string>) => [...keys].sort();
const minOf = (xs: number[]) => xs.reduce((a, b) => (b < a ? b : a), Infinity);
const maxOf = (xs: number[]) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);

// MLflow FileStore -------------------------------------------------------------------

interface MlflowPoint { ts: number; value: number; step: number }
interface MlflowMetric {
  n: number;
  last_line: MlflowPoint;
  'mlflow_latest(max step,ts,value)': MlflowPoint;
  step_min: number;
  step_max: number;
  distinct_steps: number;
  nonfinite_values: number;
}
interface MlflowRun {
  run_id: string;
  dir: string;
  meta_run_name: string | null;
  status: string;
  tag_runName: string | null;
  tag_keys: string[];
  params: Record<string, string>;
  metrics: Record<string, MlflowMetric>;
}
interface MlflowExpected { experiments: { dir: string; experiment_id: string; n_runs: number; runs: MlflowRun[] }[] }

/** The folder under the case that holds the experiment folders (`mlruns`, as copied). */
function findMlflowStore(caseRoot: string, experimentDirs: string[]): string {
  const candidates = filesUnder(caseRoot)
    .filter((file) => file.endsWith('/meta.yaml'))
    .map((file) => path.posix.dirname(path.posix.dirname(file)))
    .filter((dir, i, all) => all.indexOf(dir) === i)
    .filter((dir) => experimentDirs.every((e) => fs.existsSync(path.join(caseRoot, dir, e, 'meta.yaml'))));
  assert.equal(candidates.length, 1, `one folder holding experiments ${experimentDirs.join(', ')} (found ${candidates.join(', ') || 'none'})`);
  return candidates[0];
}

const checkMlflow: Checker = (raw, runs, caseRoot) => {
  const expected = raw as MlflowExpected;
  const store = findMlflowStore(caseRoot, expected.experiments.map((e) => e.dir));
  const expectedRuns = expected.experiments.flatMap((e) => {
    assert.equal(e.runs.length, e.n_runs, `expected.json experiment ${e.experiment_id} is consistent`);
    return e.runs.map((run) => ({ run, path: `${store}/${e.dir}/${run.dir}` }));
  });
  assert.equal(runs.length, expectedRuns.length, 'run count');
  assert.deepEqual(sorted(runs.map((r) => r.path)), sorted(expectedRuns.map((r) => r.path)), 'run paths');
  for (const { run: want, path: runPath } of expectedRuns) {
    const run = runAt(runs, runPath);
    const label = `run ${want.run_id}`;
    assert.equal(run.name, want.meta_run_name || want.tag_runName || want.run_id, `${label} name`);
    assert.equal(run.status, want.status.toLowerCase(), `${label} status`);
    assert.deepEqual(run.params, want.params, `${label} params`);
    assert.deepEqual(sorted(Object.keys(run.tags)), sorted(want.tag_keys), `${label} tag keys`);
    if (want.tag_runName !== null) assert.equal(run.tags['mlflow.runName'], want.tag_runName, `${label} tag mlflow.runName`);
    assert.deepEqual(sorted(Object.keys(run.metrics)), sorted(Object.keys(want.metrics)), `${label} metric keys`);
    assert.deepEqual(run.summary, {}, `${label}: every MLflow value has a series`);
    for (const [key, metric] of Object.entries(want.metrics)) {
      const series = seriesOf(run, key);
      const where = `${label} ${key}`;
      const last = series.steps.length - 1;
      assert.equal(series.steps.length, metric.n, `${where} points`);
      assertPoint(series, last, metric.last_line.step, metric.last_line.value, `${where} last line`);
      assert.equal(series.walls[last], metric.last_line.ts, `${where} last wall time`);
      assert.equal(minOf(series.steps), metric.step_min, `${where} min step`);
      assert.equal(maxOf(series.steps), metric.step_max, `${where} max step`);
      assert.equal(new Set(series.steps).size, metric.distinct_steps, `${where} distinct steps`);
      assert.equal(series.values.filter((v) => !Number.isFinite(v)).length, metric.nonfinite_values, `${where} non-finite values`);
      // MLflow's "latest" = the point with the largest (step, timestamp, value).
      let latest = 0;
      for (let i = 1; i < series.steps.length; i++) {
        const better = series.steps[i] - series.steps[latest] || series.walls[i] - series.walls[latest] || series.values[i] - series.values[latest];
        if (better > 0) latest = i;
      }
      const want = metric['mlflow_latest(max step,ts,value)'];
      assertPoint(series, latest, want.step, want.value, `${where} latest`);
      assert.equal(series.walls[latest], want.ts, `${where} latest wall time`);
    }
  }
};

// TensorBoard -----------------------------------------------------------------------

interface TbScalar { points: number; 'first(step,value)': [number, number]; 'last(step,value)': [number, number]; min_step: number; max_step: number }
interface TbFile { name: string; scalar_tags: Record<string, number> }
type TbExpected = Record<string, { files: TbFile[]; scalars_merged: Record<string, TbScalar> }>;

const checkTensorBoard: Checker = (raw, runs, caseRoot) => {
  const expected = raw as TbExpected;
  assert.equal(runs.length, Object.keys(expected).length, 'run count (one per run folder)');
  assert.deepEqual(sorted(runs.map((r) => r.path)), sorted(Object.keys(expected)), 'run folders');
  for (const [runDir, want] of Object.entries(expected)) {
    const run = runAt(runs, runDir);
    // The run is named by its folder relative to the log dir: a tail of its path.
    assert.ok(run.name === runDir || runDir.endsWith(`/${run.name}`), `${runDir}: name "${run.name}" is its folder relative to the log dir`);
    // hparams.yaml beside the event file (Lightning's TensorBoardLogger) is what the hparams plugin recorded.
    const hparamsFile = path.join(caseRoot, runDir, 'hparams.yaml');
    const yamlParams = fs.existsSync(hparamsFile) ? ((parseYaml(fs.readFileSync(hparamsFile, 'utf8')) ?? {}) as Record<string, unknown>) : {};
    assert.deepEqual(run.params, Object.fromEntries(Object.entries(yamlParams).map(([k, v]) => [k, String(v)])), `${runDir} params`);
    assert.deepEqual(sorted(Object.keys(run.metrics)), sorted(Object.keys(want.scalars_merged)), `${runDir} scalar tags`);
    for (const [tag, scalar] of Object.entries(want.scalars_merged)) {
      const series = seriesOf(run, tag);
      const where = `${runDir} ${tag}`;
      const n = series.steps.length;
      assert.equal(n, scalar.points, `${where} points`);
      const perFile = want.files.reduce((sum, f) => sum + (f.scalar_tags[tag] ?? 0), 0);
      assert.equal(n, perFile, `${where} points = sum over its event files`);
      assertPoint(series, 0, ...scalar['first(step,value)'], `${where} first`);
      assertPoint(series, n - 1, ...scalar['last(step,value)'], `${where} last`);
      assert.equal(minOf(series.steps), scalar.min_step, `${where} min step`);
      assert.equal(maxOf(series.steps), scalar.max_step, `${where} max step`);
      series.values.forEach((v, i) => Object.is(Math.fround(v), v) || assert.fail(`${where}[${i}] = ${v} is not a float32 (simple_value is one)`));
      series.walls.forEach((w, i) => Number.isFinite(w) || assert.fail(`${where} wall[${i}] = ${w}: every event has a wall time`));
    }
    assert.deepEqual(run.summary, {}, `${runDir}: no summary-only values`);
  }
};

// Lightning CSVLogger ---------------------------------------------------------------

interface LightningColumn { non_empty: number; last: number; last_at_step: number; last_at_epoch: number }
type LightningExpected = Record<string, { columns: string[]; rows: number; per_column: Record<string, LightningColumn>; hparams: unknown }>;

const checkLightning: Checker = (raw, runs) => {
  const expected = raw as LightningExpected;
  assert.equal(runs.length, Object.keys(expected).length, 'run count (one per version folder)');
  assert.deepEqual(sorted(runs.map((r) => r.path)), sorted(Object.keys(expected)), 'version folders');
  for (const [versionDir, version] of Object.entries(expected)) {
    const run = runAt(runs, versionDir);
    assert.equal(run.name, path.posix.basename(versionDir), `${versionDir} name`);
    assert.deepEqual(run.params, flattenExpected(version.hparams), `${versionDir} params (hparams.yaml)`);
    assert.deepEqual(sorted(Object.keys(run.metrics)), sorted(version.columns.filter((c) => c !== 'step')), `${versionDir} series (every column but step)`);
    for (const column of version.columns) {
      if (column === 'step') continue;
      const want = version.per_column[column];
      const series = seriesOf(run, column);
      const where = `${versionDir} ${column}`;
      // Every non-empty cell is a point (the epoch cell of both rows of an epoch end too).
      assert.equal(series.steps.length, want.non_empty, `${where} points`);
      assertPoint(series, series.steps.length - 1, want.last_at_step, want.last, `${where} last`);
      assert.ok(series.walls.every((w) => Number.isNaN(w)), `${where}: CSVLogger records no wall times`);
      const epoch = seriesOf(run, 'epoch');
      const epochAtLast = epoch.steps.lastIndexOf(want.last_at_step);
      assert.ok(epochAtLast >= 0 && Object.is(epoch.values[epochAtLast], want.last_at_epoch), `${where}: epoch ${want.last_at_epoch} at step ${want.last_at_step}`);
    }
    assert.deepEqual(run.summary, {}, `${versionDir}: no summary-only values`);
  }
};

// Keras CSVLogger -------------------------------------------------------------------

interface KerasExpected {
  header: string[];
  data_rows: number;
  'segments(epoch resets)': Array<{ rows: number; epochs: [number, number] }>;
  last_row: Record<string, string>;
  'last values per segment': Array<Record<string, number>>;
}

const checkKeras: Checker = (raw, runs, _caseRoot, corpusCase) => {
  const expected = raw as KerasExpected;
  assert.equal(corpusCase.logFiles.length, 1, 'a Keras case is one log file');
  const logFile = corpusCase.logFiles[0];
  const segments = expected['segments(epoch resets)'];
  assert.equal(runs.length, segments.length, 'run count (one per training session)');
  assert.deepEqual(runs.map((r) => r.path).sort(), segments.map((_, i) => `${logFile}#${i + 1}`).sort(), 'segment paths');
  const metricColumns = expected.header.filter((c) => c !== 'epoch');
  let rows = 0;
  segments.forEach((segment, index) => {
    const run = runAt(runs, `${logFile}#${index + 1}`);
    const where = `${logFile} segment ${index + 1}`;
    assert.ok(run.name.startsWith(path.posix.basename(logFile)), `${where}: name "${run.name}" is the file's`);
    assert.deepEqual(run.params, {}, `${where} params`);
    assert.deepEqual(sorted(Object.keys(run.metrics)), sorted(metricColumns), `${where} series`);
    for (const column of metricColumns) {
      const series = seriesOf(run, column);
      const n = series.steps.length;
      assert.equal(n, segment.rows, `${where} ${column} rows`);
      assert.equal(series.steps[0], segment.epochs[0], `${where} ${column} first epoch`);
      assertPoint(series, n - 1, segment.epochs[1], expected['last values per segment'][index][column], `${where} ${column} last`);
      assert.ok(series.walls.every((w) => Number.isNaN(w)), `${where}: CSVLogger records no wall times`);
    }
    rows += segment.rows;
  });
  assert.equal(rows, expected.data_rows, 'data rows');
  const lastRun = runAt(runs, `${logFile}#${segments.length}`);
  for (const column of metricColumns) {
    const values = seriesOf(lastRun, column).values;
    assert.ok(Object.is(values[values.length - 1], Number(expected.last_row[column])), `last row ${column} = "${expected.last_row[column]}"`);
  }
};

// DVCLive ---------------------------------------------------------------------------

interface DvcliveSeries { file: string; header: string[]; rows: number; distinct_steps: number; step_range: [number, number]; 'last(step,value)': [number, number]; duplicate_rows: number }
interface DvcliveExpected { tsv_series: Record<string, DvcliveSeries>; 'metrics.json flattened': Record<string, number>; 'params.yaml top-level keys'?: string[] }

const checkDvclive: Checker = (raw, runs) => {
  const expected = raw as DvcliveExpected;
  // The run is the DVCLive folder: the part of each series' file before plots/metrics/ (or legacy scalars/).
  const runDirs = new Set(Object.values(expected.tsv_series).map((s) => s.file.replace(/\/(plots\/metrics|scalars)\/.*$/, '')));
  assert.equal(runDirs.size, 1, 'expected.json describes one DVCLive folder');
  assert.equal(runs.length, 1, 'run count');
  const run = runAt(runs, [...runDirs][0]);
  assert.deepEqual(sorted(Object.keys(run.metrics)), sorted(Object.keys(expected.tsv_series)), 'series');
  for (const [key, want] of Object.entries(expected.tsv_series)) {
    const series = seriesOf(run, key);
    const last = series.steps.length - 1;
    assert.equal(series.steps.length, want.rows, `${key}: every row kept, repeats included`);
    assert.equal(new Set(series.steps).size, want.distinct_steps, `${key} distinct steps`);
    assert.equal(minOf(series.steps), want.step_range[0], `${key} min step`);
    assert.equal(maxOf(series.steps), want.step_range[1], `${key} max step`);
    assertPoint(series, last, ...want['last(step,value)'], `${key} last`);
    const pairs = series.steps.map((step, i) => `${step}|${series.values[i]}`);
    assert.equal(pairs.length - new Set(pairs).size, want.duplicate_rows, `${key} duplicate rows`);
    const hasTimestamp = want.header.includes('timestamp');
    assert.ok(series.walls.every((w) => (hasTimestamp ? w > 1.5e12 && w < 2e12 : Number.isNaN(w))), `${key} wall times`);
  }
  // Summary values with a series live in the series; the rest stay summaries.
  const flattened = expected['metrics.json flattened'];
  assert.deepEqual(run.summary, Object.fromEntries(Object.entries(flattened).filter(([key]) => !(key in expected.tsv_series))), 'summary');
  for (const [key, value] of Object.entries(flattened)) {
    const series = run.metrics[key];
    if (series) assert.ok(Object.is(series.values[series.values.length - 1], value), `${key}: last TSV value equals the summary`);
  }
  for (const topKey of expected['params.yaml top-level keys'] ?? []) {
    assert.ok(Object.keys(run.params).some((key) => key === topKey || key.startsWith(`${topKey}/`)), `params has ${topKey}`);
  }
};

const CHECKERS: Record<string, Checker> = {
  mlflow: checkMlflow,
  tensorboard: checkTensorBoard,
  'lightning-csv': checkLightning,
  'keras-csv': checkKeras,
  dvclive: checkDvclive,
};
