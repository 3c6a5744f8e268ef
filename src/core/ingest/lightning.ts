// Reader for PyTorch Lightning's CSVLogger:
//   <save_dir>/<name>/version_<N>/metrics.csv    one row per log call, sparse
//   <save_dir>/<name>/version_<N>/hparams.yaml   save_hyperparameters() dump
// The logger folder (`<name>`, usually `lightning_logs`) is the experiment,
// each version folder a run. metrics.csv columns are addressed by name: their
// order changes between Lightning versions and even between runs.
import * as path from 'node:path';
import { HEAD_BYTES, classifyChange } from './fileCursor';
import type { FileCursor, FormatReader, MetricSeriesData, ParsedRun, ParsedSource, SourceCandidate } from './types';
import {
  type DelimitedRow,
  WarningCollector,
  countLines,
  decodeStateNumber,
  describeError,
  emptySeries,
  encodeStateNumber,
  listFilesRecursive,
  parseDelimitedRows,
  parseDelimitedTable,
  parseFiniteToken,
  parseNumberToken,
  readFileHead,
  readLinesFrom,
  readWholeTextFile,
  splitCompleteLines,
  splitDelimitedRow,
  splitLines,
  throwIfAborted,
  unchangedWholeFile,
  utf8Length,
} from './text';
import { flattenToStrings, isPlainObject, parseYamlTolerant } from './yaml';

const METRICS_FILE = 'metrics.csv';
const HPARAMS_FILE = 'hparams.yaml';
const VERSION_DIR = /^version_\d+$/;
const STEP_COLUMN = 'step';
const EPOCH_COLUMN = 'epoch';

/**
 * A Lightning metrics.csv sits in a `version_N` folder, or (custom version
 * names) beside an hparams.yaml. TensorBoardLogger also writes hparams.yaml
 * into version folders, so a version folder only counts with its metrics.csv.
 */
export function isLightningMetricsFile(file: string, fileSet: ReadonlySet<string>): boolean {
  if (path.posix.basename(file) !== METRICS_FILE) return false;
  const versionDir = path.posix.dirname(file);
  return VERSION_DIR.test(path.posix.basename(versionDir)) || fileSet.has(`${versionDir}/${HPARAMS_FILE}`);
}

export const lightningReader: FormatReader = {
  format: 'lightning',

  async discover(files: readonly string[]): Promise<SourceCandidate[]> {
    const fileSet = new Set(files);
    const filesByLogger = new Map<string, string[]>();
    for (const file of files) {
      if (!isLightningMetricsFile(file, fileSet)) continue;
      const versionDir = path.posix.dirname(file);
      const loggerDir = path.posix.dirname(versionDir);
      const loggerFiles = filesByLogger.get(loggerDir) ?? [];
      loggerFiles.push(file);
      const hparams = `${versionDir}/${HPARAMS_FILE}`;
      if (fileSet.has(hparams)) loggerFiles.push(hparams);
      filesByLogger.set(loggerDir, loggerFiles);
    }
    return [...filesByLogger].map(([root, rootFiles]) => ({ format: 'lightning', root, files: rootFiles.sort() }));
  },

  async read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>): Promise<ParsedSource> {
    const root = candidate.root;
    const warnings = new WarningCollector();
    const files = candidate.files.length > 0 ? candidate.files : await listFilesRecursive(root);
    const fileSet = new Set(files);
    const versionDirs = files
      .filter((file) => path.posix.dirname(path.posix.dirname(file)) === root && isLightningMetricsFile(file, fileSet))
      .map((file) => path.posix.dirname(file))
      .sort(compareVersionDirs);

    const runs: ParsedRun[] = [];
    const cursors: FileCursor[] = [];
    for (const versionDir of versionDirs) {
      throwIfAborted(signal);
      const version = await readVersion(versionDir, fileSet, warnings, previous);
      runs.push(version.run);
      cursors.push(...version.cursors);
    }
    const loggerName = path.posix.basename(root);
    return {
      format: 'lightning',
      root,
      cursors,
      experiments: [{ key: loggerName, name: loggerName, lifecycle: 'active', runs }],
      warnings: warnings.list(),
    };
  },
};

/** version_2 before version_10; custom names after numbered ones, alphabetically. */
function compareVersionDirs(a: string, b: string): number {
  const numberOf = (dir: string): number => {
    const name = path.posix.basename(dir);
    return VERSION_DIR.test(name) ? Number(name.slice('version_'.length)) : Number.POSITIVE_INFINITY;
  };
  return numberOf(a) - numberOf(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * What a metrics.csv cursor remembers so that appended rows continue the
 * table exactly as a full read would have parsed them.
 */
interface LightningCsvState {
  header: string[];
  /** UTF-8 bytes of the header line: a header longer than the head hash covers is re-checked on append. */
  headerBytes: number;
  /** Physical lines consumed, header included, so warnings keep their line numbers. */
  lines: number;
  /** Data rows consumed: the step of the next row when there is no step column. */
  rows: number;
  /** Raw `step\0epoch` cells of the last consumed row; null when it starts no group (no step column). */
  groupKey: string | null;
  /** Values already logged in that group per column index, encoded (encodeStateNumber), so a row continuing the group across reads does not repeat one. */
  group: Array<[number, string[]]>;
  /** A full read parsed a last line that had no line break: any later change re-reads the file, since that line may have been incomplete. */
  tailRead: boolean;
}

function isLightningCsvState(value: unknown): value is LightningCsvState {
  if (!isPlainObject(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v.header) &&
    v.header.every((h) => typeof h === 'string') &&
    typeof v.headerBytes === 'number' &&
    typeof v.lines === 'number' &&
    typeof v.rows === 'number' &&
    (v.groupKey === null || typeof v.groupKey === 'string') &&
    Array.isArray(v.group) &&
    typeof v.tailRead === 'boolean'
  );
}

/**
 * One version folder. Without `previous`, or when metrics.csv is new, shrank,
 * was rewritten (Lightning rewrites the whole file under a new header when a
 * metric first appears) or has no usable state, the run is read in full
 * ('replace'). When it only grew, only the new whole rows are parsed
 * ('append'). When neither file changed, the run is 'keep'. hparams.yaml is
 * small and re-read whenever the run is not kept, because 'append' replaces
 * the stored params.
 */
async function readVersion(
  versionDir: string,
  fileSet: ReadonlySet<string>,
  warnings: WarningCollector,
  previous: ReadonlyMap<string, FileCursor> | undefined,
): Promise<{ run: ParsedRun; cursors: FileCursor[] }> {
  const versionName = path.posix.basename(versionDir);
  const metricsFile = `${versionDir}/${METRICS_FILE}`;
  const hparamsFile = `${versionDir}/${HPARAMS_FILE}`;
  const hasHparams = fileSet.has(hparamsFile);
  const run: ParsedRun = { key: versionName, name: versionName, path: versionDir, status: 'unknown', params: {}, tags: {}, metrics: {}, summaries: {} };
  const metricsCursor = previous?.get(metricsFile);

  // hparams.yaml is unchanged when its content is as remembered, or it is absent now and was before.
  const keptHparams = hasHparams ? await unchangedWholeFile(hparamsFile, previous?.get(hparamsFile)) : undefined;
  const hparamsSame = previous !== undefined && (hasHparams ? keptHparams !== undefined : !previous.has(hparamsFile));

  const cursors: FileCursor[] = [];
  const appended = metricsCursor ? await readAppendedMetrics(metricsFile, metricsCursor, warnings) : undefined;
  if (appended) {
    // Nothing new (untouched, touched without new bytes, or only part of a line): keep the stored run.
    if (hparamsSame && Object.keys(appended.metrics).length === 0) {
      return { run: { ...run, update: 'keep' }, cursors: [appended.cursor, ...(keptHparams ? [keptHparams] : [])] };
    }
    run.update = 'append';
    run.metrics = appended.metrics;
    cursors.push(appended.cursor);
  } else {
    try {
      const chunk = await readLinesFrom(metricsFile, 0);
      const parsed = parseLightningChunk(chunk.complete, chunk.tail, metricsFile, warnings);
      run.metrics = parsed.metrics;
      cursors.push({ path: metricsFile, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state: parsed.state });
    } catch (error) {
      warnings.add(metricsFile, `cannot read: ${describeError(error)}`);
    }
  }
  if (hasHparams) {
    const hparams = await readHparams(hparamsFile, warnings);
    run.params = hparams.params;
    if (hparams.cursor) cursors.push(hparams.cursor);
  }
  return { run, cursors };
}

/**
 * The rows appended to metrics.csv since `cursor`, or undefined when the file
 * must be read in full instead (rewritten, shrunk, header changed, no state,
 * or its last read took in a line that may have been incomplete).
 */
async function readAppendedMetrics(
  file: string,
  cursor: FileCursor,
  warnings: WarningCollector,
): Promise<{ metrics: Record<string, MetricSeriesData>; cursor: FileCursor } | undefined> {
  const state = cursor.state;
  if (!isLightningCsvState(state)) return undefined;
  try {
    const { change } = await classifyChange(file, cursor);
    if (change === 'unchanged') return { metrics: {}, cursor }; // only hparams.yaml changed
    if (change !== 'appended' || state.tailRead) return undefined;
    // The head hash covers HEAD_BYTES; a longer header could gain a column unseen by it.
    if (state.headerBytes > HEAD_BYTES - HEADER_MARGIN && !(await headerStillIs(file, state))) return undefined;
    const chunk = await readLinesFrom(file, cursor.offset);
    const table = new LightningTable(state.header, file, warnings, state);
    table.feed(parseDelimitedRows(chunk.complete, ',', state.header.length, file, warnings, state.lines));
    const next: LightningCsvState = { ...state, ...table.continuation(), lines: state.lines + countLines(chunk.complete), tailRead: false };
    return {
      metrics: table.result(),
      cursor: { path: file, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state: next },
    };
  } catch {
    return undefined; // vanished or unreadable now: the full read reports it
  }
}

/** Room for a byte-order mark and a CRLF around a header line when comparing it with HEAD_BYTES. */
const HEADER_MARGIN = 8;

async function headerStillIs(file: string, state: LightningCsvState): Promise<boolean> {
  const head = await readFileHead(file, state.headerBytes + HEADER_MARGIN);
  const first = splitLines(head).find((line) => line.text.trim() !== '');
  if (!first || !first.terminated) return false;
  const header = splitDelimitedRow(first.text, ',').map((name) => name.trim());
  return header.length === state.header.length && header.every((name, index) => name === state.header[index]);
}

/**
 * One series per column except `step` (the x axis), `epoch` included. Empty
 * cells mean "not logged in this row". Consecutive rows with the same
 * step and epoch are one logging moment split across rows (Lightning writes
 * validation and epoch-end training metrics separately), so they merge by
 * column: a value repeated across those rows (the `epoch` cell itself) is
 * kept once, while genuinely different values at that step are all kept.
 * Without a `step` column the row index is the step.
 */
export function parseLightningMetrics(text: string, file: string, warnings: WarningCollector): Record<string, MetricSeriesData> {
  const [complete, tail] = splitCompleteLines(text);
  return parseLightningChunk(complete, tail, file, warnings).metrics;
}

/**
 * A whole metrics.csv: `complete` is its whole lines, `tail` a last line
 * without a line break. The tail is parsed when it is a valid row (a finished
 * file may lack the final newline), but the state is taken before it, and
 * `tailRead` tells the next read that this line may have been cut short.
 */
function parseLightningChunk(complete: string, tail: string, file: string, warnings: WarningCollector): { metrics: Record<string, MetricSeriesData>; state?: LightningCsvState } {
  const table = parseDelimitedTable(complete, ',', file, warnings);
  if (!table) return { metrics: {} }; // no whole header yet: no state, so the next read starts over
  const parser = new LightningTable(table.header, file, warnings);
  parser.feed(table.rows);
  const lines = countLines(complete);
  const continuation = parser.continuation();
  if (tail.trim() !== '') parser.feed(parseDelimitedRows(tail, ',', table.header.length, file, warnings, lines, true));
  const headerLine = splitLines(complete).find((line) => line.text.trim() !== '');
  const state: LightningCsvState = {
    header: table.header,
    headerBytes: utf8Length(headerLine?.text ?? ''),
    lines,
    ...continuation,
    tailRead: parser.usedUnterminated,
  };
  return { metrics: parser.result(), state };
}

/** Parses data rows of one metrics.csv, possibly continuing where an earlier read stopped. */
class LightningTable {
  private readonly metrics: Record<string, MetricSeriesData> = {};
  private readonly stepIndex: number;
  private readonly epochIndex: number;
  private readonly seriesColumns: Array<{ name: string; index: number }>;
  private rows: number;
  private groupKey: string | undefined;
  private valuesInGroup: Map<number, number[]>;
  /** Whether a row without its line break gave points. */
  usedUnterminated = false;

  constructor(
    private readonly header: string[],
    private readonly file: string,
    private readonly warnings: WarningCollector,
    from?: Pick<LightningCsvState, 'rows' | 'groupKey' | 'group'>,
  ) {
    this.stepIndex = header.indexOf(STEP_COLUMN);
    this.epochIndex = header.indexOf(EPOCH_COLUMN);
    this.seriesColumns = header.map((name, index) => ({ name, index })).filter(({ index, name }) => index !== this.stepIndex && name !== '');
    this.rows = from?.rows ?? 0;
    this.groupKey = from?.groupKey ?? undefined;
    this.valuesInGroup = new Map((from?.group ?? []).map(([index, values]) => [index, values.map(decodeStateNumber)]));
  }

  feed(rows: readonly DelimitedRow[]): void {
    const { header, stepIndex, epochIndex, file, warnings } = this;
    for (const row of rows) {
      const dataIndex = this.rows;
      const values = new Map<number, number>();
      let unparsable: string | undefined;
      for (const { name, index } of this.seriesColumns) {
        const cell = row.cells[index].trim();
        if (cell === '') continue;
        const value = parseNumberToken(cell);
        if (value === undefined) unparsable ??= `column "${name}": "${cell}" is not a number`;
        else values.set(index, value);
      }
      const stepCell = stepIndex >= 0 ? row.cells[stepIndex].trim() : '';
      const parsedStep = stepIndex >= 0 ? parseFiniteToken(stepCell) : undefined;
      if (stepIndex >= 0 && parsedStep === undefined) unparsable ??= `step "${stepCell}" is not a number`;
      // The last, unterminated row is still being written: wait for it instead of warning.
      if (unparsable && !row.terminated) continue;
      this.rows++;
      if (!row.terminated) this.usedUnterminated = true;
      if (unparsable) warnings.addLine(file, row.lineNumber, unparsable + (parsedStep === undefined && stepIndex >= 0 ? '; row index used as step' : ''));

      const step = parsedStep ?? dataIndex;
      const key = stepIndex >= 0 ? `${stepCell}\u0000${epochIndex >= 0 ? row.cells[epochIndex].trim() : ''}` : undefined;
      if (key === undefined || key !== this.groupKey) this.valuesInGroup = new Map();
      this.groupKey = key;

      for (const [index, value] of values) {
        const seen = this.valuesInGroup.get(index) ?? [];
        if (seen.some((earlier) => Object.is(earlier, value))) continue;
        seen.push(value);
        this.valuesInGroup.set(index, seen);
        const series = (this.metrics[header[index]] ??= emptySeries());
        series.steps.push(step);
        series.values.push(value);
        series.walls.push(NaN); // CSVLogger records no wall time
      }
    }
  }

  /** Where the next read continues: rows so far and the open (step, epoch) group. */
  continuation(): Pick<LightningCsvState, 'rows' | 'groupKey' | 'group'> {
    return {
      rows: this.rows,
      groupKey: this.groupKey ?? null,
      group: [...this.valuesInGroup].map(([index, values]) => [index, values.map(encodeStateNumber)]),
    };
  }

  /** The series that got points, in header order like a full read lists them. */
  result(): Record<string, MetricSeriesData> {
    const ordered: Record<string, MetricSeriesData> = {};
    for (const { name } of this.seriesColumns) if (this.metrics[name]) ordered[name] = this.metrics[name];
    return ordered;
  }
}

async function readHparams(file: string, warnings: WarningCollector): Promise<{ params: Record<string, string>; cursor?: FileCursor }> {
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
  if (!isPlainObject(data)) warnings.add(file, 'expected a mapping of hyperparameters; stored under the key "value"');
  const params = flattenToStrings(data, (key) => warnings.add(file, `"${key}" appears twice after flattening nested keys with "/"; the later value is kept`));
  return { params, cursor };
}
