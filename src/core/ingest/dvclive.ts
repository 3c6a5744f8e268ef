// Reader for DVCLive output folders (default name `dvclive`):
//   DVCLive >= 1:  <dir>/metrics.json (summary), <dir>/params.yaml,
//                  <dir>/plots/metrics/<key>.tsv with `step\t<leaf>` (+ `timestamp` if asked)
//   DVCLive 0.x:   <dir>.json beside the folder (summary),
//                  <dir>/scalars/<key>.tsv with `timestamp\tstep\t<full key>`
// A series' key is its TSV path below plots/metrics/ (or scalars/) without
// `.tsv`, so `train/loss.tsv` is `train/loss`, matching the nested summary
// flattened with `/`. Rows are kept as logged, repeats included.
import * as path from 'node:path';
import { classifyChange } from './fileCursor';
import { ByteBudget, SeriesBuilder, type Float64Series } from './series';
import type { FileCursor, FormatReader, ParsedRun, ParsedSource, ReadLimits, SourceCandidate } from './types';
import {
  type DelimitedRow,
  type LineChunk,
  WarningCollector,
  countLines,
  describeError,
  listFilesRecursive,
  parseDelimitedRows,
  parseDelimitedTable,
  parseFiniteToken,
  parseNumberToken,
  parsePythonJson,
  readLinesFrom,
  readWholeTextFile,
  rememberProblems,
  replayProblems,
  splitCompleteLines,
  throwIfAborted,
  unchangedWholeFile,
} from './text';
import { flattenToStrings, flattenToSummaries, isPlainObject, parseYamlTolerant } from './yaml';

const DEFAULT_DIR_NAME = 'dvclive';
const CURRENT_PLOTS_DIR = 'plots/metrics';
const LEGACY_PLOTS_DIR = 'scalars';
const SUMMARY_FILE = 'metrics.json';
const PARAMS_FILE = 'params.yaml';
const DVC_FILE = 'dvc.yaml';
/** Timestamps below this are seconds, above it milliseconds (1e11 ms is 1973; 1e11 s is year 5138). */
const SECONDS_VERSUS_MILLIS = 1e11;

export const dvcliveReader: FormatReader = {
  format: 'dvclive',

  async discover(files: readonly string[]): Promise<SourceCandidate[]> {
    const fileSet = new Set(files);
    const dirs = new Set<string>();
    for (const file of files) {
      const dir = dvcliveDirOf(file, fileSet);
      if (dir) dirs.add(dir);
    }
    const candidates: SourceCandidate[] = [];
    for (const dir of [...dirs].sort()) {
      const dirFiles = files.filter((file) => isReadByDvclive(file, dir));
      candidates.push({ format: 'dvclive', root: dir, files: dirFiles.sort() });
    }
    return candidates;
  },

  async read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>, limits?: ReadLimits): Promise<ParsedSource> {
    const dir = candidate.root;
    const warnings = new WarningCollector();
    const budget = new ByteBudget(limits?.maxBytes);
    const files =
      candidate.files.length > 0
        ? candidate.files
        : [...(await listFilesRecursive(dir)), `${dir}.json`].filter((file) => isReadByDvclive(file, dir));
    const fileSet = new Set(files);
    const tsvFiles = files.filter((file) => seriesKeyOf(file, dir) !== undefined);

    const incremental = previous ? await readAppendedSeries(tsvFiles, dir, fileSet, previous, warnings, signal, budget) : undefined;
    const dirName = path.posix.basename(dir);
    const projectName = path.posix.basename(path.posix.dirname(dir));
    const summaryFile = [`${dir}/${SUMMARY_FILE}`, `${dir}.json`].find((file) => fileSet.has(file));
    const paramsFile = `${dir}/${PARAMS_FILE}`;
    const otherFiles = [summaryFile, fileSet.has(paramsFile) ? paramsFile : undefined].filter((file): file is string => file !== undefined);
    const run: ParsedRun = { key: dirName, name: dirName, path: dir, status: 'unknown', params: {}, tags: {}, metrics: {}, summaries: {} };
    const source: ParsedSource = {
      format: 'dvclive',
      root: dir,
      cursors: [],
      experiments: [{ key: projectName, name: projectName, lifecycle: 'active', runs: [run] }],
      warnings: [],
    };

    let seriesKeys: Set<string>;
    if (incremental) {
      const othersKept = await Promise.all(otherFiles.map((file) => unchangedWholeFile(file, previous!.get(file))));
      const vanished = [...previous!.keys()].some((file) => !fileSet.has(file));
      if (!incremental.changed && !vanished && othersKept.every((cursor) => cursor !== undefined) && !budget.stopped) {
        // Nothing new anywhere: the stored run stays as it is.
        run.update = 'keep';
        for (const cursor of othersKept as FileCursor[]) replayProblems(cursor.state, warnings, cursor.path);
        source.cursors = [...incremental.cursors, ...(othersKept as FileCursor[])];
        source.warnings = warnings.list();
        return source;
      }
      run.update = 'append';
      run.metrics = incremental.metrics;
      source.cursors!.push(...incremental.cursors);
      seriesKeys = incremental.seriesKeys;
    } else {
      // Series: every TSV under plots/metrics (current) or scalars (legacy), up to the budget.
      // The TSVs after it are not reached: no cursor, as the store will hold nothing of them.
      const unread = new Set<string>();
      for (const file of tsvFiles) {
        throwIfAborted(signal);
        const key = seriesKeyOf(file, dir)!;
        if (budget.exhausted) {
          budget.stopped = true;
          unread.add(key);
          continue;
        }
        let chunk: LineChunk;
        try {
          chunk = await readLinesFrom(file, 0, budget.remaining);
        } catch (error) {
          warnings.add(file, `cannot read: ${describeError(error)}`);
          continue;
        }
        budget.take(chunk.completeEnd);
        if (chunk.truncated) budget.stopped = true;
        const parsed = parseDvcliveChunk(chunk.complete, chunk.tail, file, warnings);
        if (parsed.series.values.length > 0) run.metrics[key] = parsed.series;
        const state = parsed.state && rememberProblems(parsed.state, warnings, file);
        source.cursors!.push({ path: file, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state });
      }
      // A TSV not read yet most likely has points: its summary value waits for the slice that reads it.
      seriesKeys = new Set([...Object.keys(run.metrics), ...unread]);
    }

    // Summary and params are small and rewritten whole: read them every time
    // the run is not kept ('append' replaces the stored ones too).
    // The current file inside the folder wins over the legacy sibling.
    if (summaryFile) {
      const summary = await readSummary(summaryFile, warnings);
      for (const [key, value] of Object.entries(summary.values)) {
        // Keys with a series already have their history; keep only summary-only values.
        if (!seriesKeys.has(key)) run.summaries[key] = value;
      }
      // Its problems are kept with its cursor: a later read that keeps the run without parsing it says them again.
      if (summary.cursor) source.cursors!.push({ ...summary.cursor, state: rememberProblems(summary.cursor.state as object, warnings, summaryFile) });
    }
    if (fileSet.has(paramsFile)) {
      const params = await readParams(paramsFile, warnings);
      run.params = params.params;
      if (params.cursor) source.cursors!.push({ ...params.cursor, state: rememberProblems(params.cursor.state as object, warnings, paramsFile) });
    }
    source.warnings = warnings.list();
    if (budget.stopped) source.complete = false;
    return source;
  },
};

/** What a TSV's cursor remembers so appended rows continue the series. */
interface DvcliveTsvState {
  header: string[];
  /** Physical lines consumed, header included, so warnings keep their line numbers. */
  lines: number;
  /** Data rows consumed: the step of the next row when there is no step column. */
  rows: number;
  /** Points stored so far: a key with points is a series, so its summary value is not kept. */
  points: number;
  /** A full read parsed a last line without its line break: any later change re-reads the folder. */
  tailRead: boolean;
  /** Problems reported about the lines before the cursor (the first few, and how many): said again by later reads. */
  problems?: string[];
  problemCount?: number;
}

function isDvcliveTsvState(value: unknown): value is DvcliveTsvState {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v.header) &&
    v.header.every((h) => typeof h === 'string') &&
    typeof v.lines === 'number' &&
    typeof v.rows === 'number' &&
    typeof v.points === 'number' &&
    typeof v.tailRead === 'boolean'
  );
}

/**
 * The points appended to the folder's TSVs since `previous`, or undefined
 * when the run must be read in full: a TSV shrank, was rewritten or
 * vanished, lacks usable state, or two TSVs map to one key.
 * A TSV that is new since then is read whole and its points appended
 * (its series did not exist). Read up to the budget: a TSV cut there, or not
 * reached, goes on in the next slice (one not reached keeps its cursor).
 */
async function readAppendedSeries(
  tsvFiles: readonly string[],
  dir: string,
  fileSet: ReadonlySet<string>,
  previous: ReadonlyMap<string, FileCursor>,
  warnings: WarningCollector,
  signal: AbortSignal | undefined,
  budget: ByteBudget,
): Promise<{ changed: boolean; metrics: Record<string, Float64Series>; seriesKeys: Set<string>; cursors: FileCursor[] } | undefined> {
  for (const [file] of previous) if (seriesKeyOf(file, dir) !== undefined && !fileSet.has(file)) return undefined; // a series vanished
  const keys = tsvFiles.map((file) => seriesKeyOf(file, dir)!);
  if (new Set(keys).size !== keys.length) return undefined; // `plots/metrics/x.tsv` beside legacy `scalars/x.tsv`
  const metrics: Record<string, Float64Series> = {};
  const seriesKeys = new Set<string>();
  const cursors: FileCursor[] = [];
  let changed = false;
  const readLater: Array<{ file: string; key: string; cursor?: FileCursor; state?: DvcliveTsvState }> = [];
  for (const [index, file] of tsvFiles.entries()) {
    const key = keys[index];
    const cursor = previous.get(file);
    if (!cursor) {
      readLater.push({ file, key });
      continue;
    }
    const state = cursor.state;
    if (!isDvcliveTsvState(state)) return undefined;
    let change;
    try {
      ({ change } = await classifyChange(file, cursor));
    } catch {
      return undefined; // vanished or unreadable now: the full read reports it
    }
    if (change === 'unchanged') {
      replayProblems(state, warnings, file);
      cursors.push(cursor);
      if (state.points > 0) seriesKeys.add(key);
    } else if (change === 'appended' && !state.tailRead) {
      readLater.push({ file, key, cursor, state });
    } else {
      return undefined;
    }
  }
  // Only now read, so that a rewrite found late does not waste the reads before it.
  for (const { file, key, cursor, state } of readLater) {
    throwIfAborted(signal);
    if (budget.exhausted) {
      // Not reached in this slice: the store keeps what it holds of the file (nothing, for a new one).
      budget.stopped = true;
      if (cursor && state) {
        replayProblems(state, warnings, file);
        cursors.push(cursor);
        if (state.points > 0) seriesKeys.add(key);
      } else {
        seriesKeys.add(key); // not read yet: most likely a series (see the full read)
      }
      continue;
    }
    let chunk: LineChunk;
    try {
      chunk = await readLinesFrom(file, cursor?.offset ?? 0, budget.remaining);
    } catch {
      return undefined;
    }
    budget.take(chunk.completeEnd - chunk.start);
    if (chunk.truncated) budget.stopped = true;
    let series: Float64Series;
    let next: DvcliveTsvState | undefined;
    if (state) {
      replayProblems(state, warnings, file);
      const table = new DvcliveTable(state.header, file, warnings, state.rows);
      if (table.valueIndex < 0) return undefined; // cannot happen for state a full read wrote; be safe
      table.feed(parseDelimitedRows(chunk.complete, '\t', state.header.length, file, warnings, state.lines));
      series = table.series.finish();
      next = { ...state, lines: state.lines + countLines(chunk.complete), rows: table.rows, points: state.points + series.values.length, tailRead: false };
    } else {
      const parsed = parseDvcliveChunk(chunk.complete, chunk.tail, file, warnings);
      series = parsed.series;
      next = parsed.state;
    }
    if (next) next = rememberProblems(next, warnings, file);
    if (series.values.length > 0) {
      metrics[key] = series;
      changed = true;
    }
    if ((next?.points ?? series.values.length) > 0) seriesKeys.add(key);
    cursors.push({ path: file, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state: next });
  }
  return { changed, metrics, seriesKeys, cursors };
}

/**
 * The DVCLive folder a file belongs to, if the file marks one:
 * `<dir>/plots/metrics/**.tsv` when `<dir>` is named dvclive or has a summary,
 * params or dvc.yaml; `<dir>/scalars/**.tsv` when `<dir>` is named dvclive or
 * has its legacy `<dir>.json`; `dvclive/metrics.json`; a legacy `dvclive.json`.
 */
function dvcliveDirOf(file: string, fileSet: ReadonlySet<string>): string | undefined {
  if (file.endsWith('.tsv')) {
    for (const [marker, legacy] of [[`/${CURRENT_PLOTS_DIR}/`, false], [`/${LEGACY_PLOTS_DIR}/`, true]] as const) {
      const at = file.lastIndexOf(marker);
      if (at <= 0) continue;
      const dir = file.slice(0, at);
      const named = path.posix.basename(dir) === DEFAULT_DIR_NAME;
      const marked = legacy
        ? fileSet.has(`${dir}.json`)
        : [SUMMARY_FILE, PARAMS_FILE, DVC_FILE].some((name) => fileSet.has(`${dir}/${name}`));
      if (named || marked) return dir;
    }
    return undefined;
  }
  const base = path.posix.basename(file);
  const parent = path.posix.dirname(file);
  if (base === SUMMARY_FILE && path.posix.basename(parent) === DEFAULT_DIR_NAME) return parent;
  if (base === `${DEFAULT_DIR_NAME}.json`) return `${parent}/${DEFAULT_DIR_NAME}`;
  return undefined;
}

function isReadByDvclive(file: string, dir: string): boolean {
  if (file === `${dir}.json` || file === `${dir}/${SUMMARY_FILE}` || file === `${dir}/${PARAMS_FILE}`) return true;
  return seriesKeyOf(file, dir) !== undefined;
}

function seriesKeyOf(file: string, dir: string): string | undefined {
  if (!file.endsWith('.tsv')) return undefined;
  for (const plotsDir of [CURRENT_PLOTS_DIR, LEGACY_PLOTS_DIR]) {
    const prefix = `${dir}/${plotsDir}/`;
    if (file.startsWith(prefix)) return file.slice(prefix.length, -'.tsv'.length);
  }
  return undefined;
}

/**
 * One TSV: the value is the column that is neither `step` nor `timestamp`
 * (DVCLive >= 1 names it by the key's last part, 0.x by the full key).
 * Without a step column the row index is the step.
 */
export function parseDvcliveTsv(text: string, file: string, warnings: WarningCollector): Float64Series {
  const [complete, tail] = splitCompleteLines(text);
  return parseDvcliveChunk(complete, tail, file, warnings).series;
}

/**
 * A whole TSV: `complete` is its whole lines, `tail` a last line without a
 * line break, parsed when it is a valid row (a finished file may lack the
 * final line break). The state is taken before the tail.
 */
function parseDvcliveChunk(complete: string, tail: string, file: string, warnings: WarningCollector): { series: Float64Series; state?: DvcliveTsvState } {
  const table = parseDelimitedTable(complete, '\t', file, warnings);
  if (!table) return { series: new SeriesBuilder(0).finish() }; // no whole header yet: no state, so the next read starts over
  const parser = new DvcliveTable(table.header, file, warnings, 0);
  if (parser.valueIndex < 0) {
    warnings.add(file, `no value column in header "${table.header.join('\\t')}"`);
    return { series: parser.series.finish() };
  }
  parser.feed(table.rows);
  const lines = countLines(complete);
  const state: DvcliveTsvState = { header: table.header, lines, rows: parser.rows, points: parser.series.length, tailRead: false };
  if (tail.trim() !== '') parser.feed(parseDelimitedRows(tail, '\t', table.header.length, file, warnings, lines, true));
  state.tailRead = parser.usedUnterminated;
  return { series: parser.series.finish(), state };
}

/** Parses TSV rows into one series, possibly continuing an earlier read. */
class DvcliveTable {
  readonly series = new SeriesBuilder();
  readonly valueIndex: number;
  usedUnterminated = false;
  private readonly stepIndex: number;
  private readonly timestampIndex: number;

  constructor(
    header: readonly string[],
    private readonly file: string,
    private readonly warnings: WarningCollector,
    /** Data rows consumed before: the step of the next row when there is no step column. */
    public rows: number,
  ) {
    const stepIndex = header.indexOf('step');
    const timestampIndex = header.indexOf('timestamp');
    const valueIndex = header.findIndex((_, index) => index !== stepIndex && index !== timestampIndex);
    // A metric whose own name is `step` or `timestamp` (logged as `train/step`, say): DVCLive builds
    // each row as {timestamp: <time>, step: <step>, <name>: <value>}, so the value overwrote the
    // column of that name. The file is named by the metric's last part, which says which one.
    const name = path.posix.basename(file, '.tsv');
    if (valueIndex < 0 && name === 'timestamp' && timestampIndex >= 0) {
      this.stepIndex = stepIndex;
      this.timestampIndex = -1; // the times are not in the file
      this.valueIndex = timestampIndex;
    } else if (valueIndex < 0 && name === 'step' && stepIndex >= 0) {
      this.stepIndex = -1; // the steps are not in the file: the row index stands in
      this.timestampIndex = timestampIndex;
      this.valueIndex = stepIndex;
    } else {
      this.stepIndex = stepIndex;
      this.timestampIndex = timestampIndex;
      this.valueIndex = valueIndex;
    }
  }

  feed(rows: readonly DelimitedRow[]): void {
    const { stepIndex, timestampIndex, valueIndex, series, file, warnings } = this;
    for (const row of rows) {
      const dataIndex = this.rows;
      const valueCell = row.cells[valueIndex].trim();
      const value = parseNumberToken(valueCell);
      const step = stepIndex >= 0 ? parseFiniteToken(row.cells[stepIndex]) : dataIndex;
      const timestamp = timestampIndex >= 0 ? parseFiniteToken(row.cells[timestampIndex]) : undefined;
      const problem =
        value === undefined
          ? `value "${valueCell}" is not a number`
          : step === undefined
            ? `step "${row.cells[stepIndex].trim()}" is not a number`
            : timestampIndex >= 0 && timestamp === undefined
              ? `timestamp "${row.cells[timestampIndex].trim()}" is not a number`
              : undefined;
      if (problem && !row.terminated) continue; // last line still being written
      this.rows++;
      if (value === undefined || step === undefined) {
        warnings.addLine(file, row.lineNumber, `${problem}; row skipped`);
        continue;
      }
      if (problem) warnings.addLine(file, row.lineNumber, problem);
      if (!row.terminated) this.usedUnterminated = true;
      series.push(step, value, timestamp === undefined ? NaN : timestamp < SECONDS_VERSUS_MILLIS ? timestamp * 1000 : timestamp);
    }
  }
}

async function readSummary(file: string, warnings: WarningCollector): Promise<{ values: Record<string, number | string>; cursor?: FileCursor }> {
  let text: string;
  let cursor: FileCursor;
  try {
    ({ text, cursor } = await readWholeTextFile(file));
  } catch (error) {
    warnings.add(file, `cannot read: ${describeError(error)}`);
    return { values: {} };
  }
  if (text.trim() === '') return { values: {}, cursor }; // created, not yet written
  let data: unknown;
  try {
    // DVCLive writes with Python's json, which spells non-finite floats NaN/Infinity.
    data = parsePythonJson(text);
  } catch (error) {
    warnings.add(file, `not valid JSON (${describeError(error)}); summary skipped`);
    return { values: {}, cursor };
  }
  if (!isPlainObject(data)) {
    warnings.add(file, 'expected a JSON object; summary skipped');
    return { values: {}, cursor };
  }
  return { values: flattenToSummaries(data), cursor };
}

async function readParams(file: string, warnings: WarningCollector): Promise<{ params: Record<string, string>; cursor?: FileCursor }> {
  let text: string;
  let cursor: FileCursor;
  try {
    ({ text, cursor } = await readWholeTextFile(file));
  } catch (error) {
    warnings.add(file, `cannot read: ${describeError(error)}`);
    return { params: {} };
  }
  const { data, problems } = parseYamlTolerant(text, { keepNumberText: true });
  for (const problem of problems) warnings.add(file, problem);
  if (data === null || data === undefined) return { params: {}, cursor };
  if (!isPlainObject(data)) warnings.add(file, 'expected a mapping of params; stored under the key "value"');
  const params = flattenToStrings(data, (key) => warnings.add(file, `"${key}" appears twice after flattening nested keys with "/"; the later value is kept`));
  return { params, cursor };
}
