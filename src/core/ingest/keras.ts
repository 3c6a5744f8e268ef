// Reader for Keras' CSVLogger: one CSV per training script, header `epoch,<metric>,...`
// (metric names sorted), one row per epoch, CRLF line ends on every OS
// (Python's csv default). With `append=True` later sessions append rows
// under the one header and `epoch` starts again at 0: each such restart is a
// separate run (a segment) of the file. File names vary (`training.log`,
// `history.csv`, ...), so discovery sniffs the first line of likely files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyChange } from './fileCursor';
import { ByteBudget, SeriesBuilder, type Float64Series } from './series';
import type { FileCursor, FormatReader, ParsedRun, ParsedSource, ReadLimits, RunUpdate, SourceCandidate } from './types';
import {
  type DelimitedRow,
  type LineChunk,
  WarningCollector,
  countLines,
  describeError,
  mapWithConcurrency,
  parseDelimitedRows,
  parseDelimitedTable,
  parseFiniteToken,
  parseNumberToken,
  readFileHead,
  readLinesFrom,
  rememberProblems,
  replayProblems,
  splitCompleteLines,
  splitDelimitedRow,
  throwIfAborted,
} from './text';
import { isLightningMetricsFile } from './lightning';

const SNIFF_BYTES = 4096;
const SNIFF_CONCURRENCY = 16;
const CANDIDATE_EXTENSIONS = new Set(['.csv', '.log', '.tsv', '.txt']);
/** Separators CSVLogger can be given; `,` is the default. */
const SEPARATORS = [',', '\t', ';'] as const;
/** Keras writes this for a metric missing from an epoch's logs. */
const MISSING_CELL = 'NA';
/** Folders whose tables belong to other formats' readers. */
const OTHER_FORMAT_DIRS = /\/(?:mlruns|plots\/metrics|scalars)\//;

interface SniffResult { mtimeMs: number; size: number; separator: string | undefined }
/** Discovery runs on every change; re-read a header only when the file changed. */
const sniffCache = new Map<string, SniffResult>();
/** Forget everything past this many entries, so deleted files cannot grow the cache forever. */
const SNIFF_CACHE_LIMIT = 100_000;

/**
 * The separator if `headerLine` is a Keras CSVLogger header: first column
 * `epoch`, at least one metric column, and no `step` column (a Lightning
 * metrics.csv may also start with `epoch`, but always has `step`).
 */
export function kerasHeaderSeparator(headerLine: string): string | undefined {
  for (const separator of SEPARATORS) {
    if (!headerLine.startsWith(`epoch${separator}`)) continue;
    const columns = splitDelimitedRow(headerLine, separator).map((name) => name.trim());
    if (columns.length < 2 || columns.includes('step')) return undefined;
    return separator;
  }
  return undefined;
}

async function sniffSeparator(file: string): Promise<string | undefined> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    return undefined;
  }
  const cached = sniffCache.get(file);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.separator;
  let separator: string | undefined;
  try {
    const head = await readFileHead(file, SNIFF_BYTES);
    const lineEnd = head.search(/[\r\n]/);
    // No line break yet: the header is still being written (or the file is not a table).
    separator = lineEnd < 0 ? undefined : kerasHeaderSeparator(head.slice(0, lineEnd));
  } catch {
    separator = undefined;
  }
  if (sniffCache.size >= SNIFF_CACHE_LIMIT) sniffCache.clear();
  sniffCache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, separator });
  return separator;
}

export const kerasReader: FormatReader = {
  format: 'keras',

  async discover(files: readonly string[]): Promise<SourceCandidate[]> {
    const fileSet = new Set(files);
    const likely = files.filter(
      (file) =>
        CANDIDATE_EXTENSIONS.has(path.posix.extname(file).toLowerCase()) &&
        !OTHER_FORMAT_DIRS.test(file) &&
        !isLightningMetricsFile(file, fileSet),
    );
    const separators = await mapWithConcurrency(likely, SNIFF_CONCURRENCY, sniffSeparator);
    return likely.filter((_, index) => separators[index] !== undefined).map((file) => ({ format: 'keras', root: file, files: [file] }));
  },

  async read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>, limits?: ReadLimits): Promise<ParsedSource> {
    const file = candidate.root;
    const warnings = new WarningCollector();
    const fileName = path.posix.basename(file);
    const budget = new ByteBudget(limits?.maxBytes);
    const source: ParsedSource = { format: 'keras', root: file, experiments: [], warnings: [] };
    const nameOf = (index: number, total: number): string => (total === 1 ? fileName : `${fileName} #${index}`);
    const runOf = (index: number, total: number, metrics: Record<string, Float64Series>, update?: RunUpdate): ParsedRun => ({
      key: `segment-${index}`,
      ...(update ? { update } : {}),
      name: nameOf(index, total),
      path: file,
      status: 'unknown',
      params: {},
      tags: {},
      metrics,
      summaries: {},
    });

    const cursor = previous?.get(file);
    const appended = cursor ? await readAppendedRows(file, cursor, warnings, budget) : undefined;
    throwIfAborted(signal);
    // Read only up to the budget: the next slice appends the rest.
    if (budget.stopped) source.complete = false;
    if (appended) {
      // Earlier sessions are complete and stay as stored; the session that was
      // open may have grown; sessions that started since are new runs.
      const { before, table } = appended;
      const total = table.segmentCount;
      const touched = new Map(table.touched.map((segment) => [segment.index, segment.metrics()]));
      const runs: ParsedRun[] = [];
      for (let index = 1; index <= before; index++) {
        const metrics = touched.get(index);
        // A lone session is named after the file, the first of several "#1": when a second appears the first must be renamed.
        const renamed = before === 1 && total > 1;
        runs.push(runOf(index, total, metrics ?? {}, metrics || renamed ? 'append' : 'keep'));
      }
      for (let index = before + 1; index <= total; index++) runs.push(runOf(index, total, touched.get(index) ?? {}, 'replace'));
      source.cursors = [appended.cursor];
      source.experiments = [{ key: fileName, name: fileName, lifecycle: 'active', runs }];
      source.warnings = warnings.list();
      return source;
    }

    let chunk: LineChunk;
    try {
      chunk = await readLinesFrom(file, 0, budget.remaining);
    } catch (error) {
      warnings.add(file, `cannot read: ${describeError(error)}`);
      source.warnings = warnings.list();
      return source;
    }
    throwIfAborted(signal);
    if (chunk.truncated) source.complete = false;
    const parsed = parseKerasChunk(chunk.complete, chunk.tail, file, warnings);
    const segments = parsed.segments;
    const state = parsed.state && rememberProblems(parsed.state, warnings, file);
    source.cursors = [{ path: file, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state }];
    source.experiments = [{ key: fileName, name: fileName, lifecycle: 'active', runs: segments.map((metrics, index) => runOf(index + 1, segments.length, metrics)) }];
    source.warnings = warnings.list();
    return source;
  },
};

/**
 * What a Keras log's cursor remembers so appended rows continue the right
 * session: the table's layout and where the last session stands.
 */
interface KerasState {
  separator: string;
  header: string[];
  /** Physical lines consumed, header included, so warnings keep their line numbers. */
  lines: number;
  /** Sessions so far; the last one is `segment-<segments>`. */
  segments: number;
  /** Whether the next row may continue the last session (false before any row and after a repeated header). */
  open: boolean;
  /** Epoch of the last row of the open session. */
  lastEpoch: number | null;
  /** A full read parsed a last line without its line break: any later change re-reads the file. */
  tailRead: boolean;
  /** Problems reported about the lines before the cursor (the first few, and how many): said again by later reads. */
  problems?: string[];
  problemCount?: number;
}

function isKerasState(value: unknown): value is KerasState {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.separator === 'string' &&
    Array.isArray(v.header) &&
    v.header.every((h) => typeof h === 'string') &&
    typeof v.lines === 'number' &&
    typeof v.segments === 'number' &&
    typeof v.open === 'boolean' &&
    (v.lastEpoch === null || typeof v.lastEpoch === 'number') &&
    typeof v.tailRead === 'boolean'
  );
}

/**
 * The rows appended since `cursor` (up to the budget), or undefined when the
 * file must be read in full (rewritten, shrunk, unchanged without usable
 * state, or its last read took in a line that may have been cut short). What
 * the cursor remembers about earlier lines is said again.
 */
async function readAppendedRows(
  file: string,
  cursor: FileCursor,
  warnings: WarningCollector,
  budget: ByteBudget,
): Promise<{ before: number; table: KerasTable; cursor: FileCursor } | undefined> {
  const state = cursor.state;
  if (!isKerasState(state)) return undefined;
  let chunk: LineChunk;
  try {
    const { change } = await classifyChange(file, cursor);
    if (change === 'unchanged') {
      replayProblems(state, warnings, file);
      return { before: state.segments, table: new KerasTable(state.header, file, warnings, state), cursor };
    }
    if (change !== 'appended' || state.tailRead) return undefined;
    chunk = await readLinesFrom(file, cursor.offset, budget.remaining);
  } catch {
    return undefined; // vanished or unreadable now: the full read reports it
  }
  budget.take(chunk.completeEnd - chunk.start);
  if (chunk.truncated) budget.stopped = true;
  replayProblems(state, warnings, file);
  const table = new KerasTable(state.header, file, warnings, state);
  table.feed(parseDelimitedRows(chunk.complete, state.separator, state.header.length, file, warnings, state.lines));
  const next = rememberProblems<KerasState>({ ...state, ...table.continuation(), lines: state.lines + countLines(chunk.complete), tailRead: false }, warnings, file);
  return {
    before: state.segments,
    table,
    cursor: { path: file, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state: next },
  };
}

/**
 * Splits the log into training sessions and returns one metric map per
 * session. A session ends where `epoch` fails to increase. Step = epoch.
 * `NA` and empty cells are "not logged"; anything else that is not a number
 * is reported and skipped, keeping the rest of the row.
 */
export function parseKerasLog(text: string, file: string, warnings: WarningCollector): Array<Record<string, Float64Series>> {
  const [complete, tail] = splitCompleteLines(text);
  return parseKerasChunk(complete, tail, file, warnings).segments;
}

/**
 * A whole log: `complete` is its whole lines, `tail` a last line without a
 * line break. The tail is parsed when it is a valid row (a finished file may
 * lack the final line break); the state is taken before it.
 */
function parseKerasChunk(complete: string, tail: string, file: string, warnings: WarningCollector): { segments: Array<Record<string, Float64Series>>; state?: KerasState } {
  const text = complete + tail;
  const firstLineEnd = text.search(/[\r\n]/);
  const separator = kerasHeaderSeparator(firstLineEnd < 0 ? text : text.slice(0, firstLineEnd));
  if (!separator) {
    if (text.trim() !== '') warnings.add(file, 'first line is not a Keras CSVLogger header (epoch,...)');
    return { segments: [] };
  }
  const table = parseDelimitedTable(complete, separator, file, warnings);
  if (!table) return { segments: [] }; // no whole header yet: no state, so the next read starts over
  const parser = new KerasTable(table.header, file, warnings);
  parser.feed(table.rows);
  const lines = countLines(complete);
  const continuation = parser.continuation();
  if (tail.trim() !== '') parser.feed(parseDelimitedRows(tail, separator, table.header.length, file, warnings, lines, true));
  const state: KerasState = { separator, header: table.header, lines, ...continuation, tailRead: parser.usedUnterminated };
  return { segments: parser.touched.map((segment) => segment.metrics()), state };
}

/** Parses Keras rows into sessions, possibly continuing the sessions an earlier read found. */
class KerasTable {
  /** Sessions that got rows in this parse, by 1-based index: the continued one (if any) first, then new ones. */
  readonly touched: Array<{ index: number; metrics: () => Record<string, Float64Series> }> = [];
  /** Whether a row without its line break was taken in. */
  usedUnterminated = false;
  private readonly headerText: string;
  private segments: number;
  private current: Map<string, SeriesBuilder> | undefined;
  /** The session continued from an earlier read, created on its first new row. */
  private continuable: boolean;
  private previousEpoch: number | undefined;

  constructor(
    private readonly header: string[],
    private readonly file: string,
    private readonly warnings: WarningCollector,
    from?: Pick<KerasState, 'segments' | 'open' | 'lastEpoch'>,
  ) {
    this.headerText = header.join('\u0000');
    this.segments = from?.segments ?? 0;
    this.continuable = from?.open ?? false;
    this.previousEpoch = from?.open && from.lastEpoch !== null ? from.lastEpoch : undefined;
  }

  get segmentCount(): number {
    return this.segments;
  }

  feed(rows: readonly DelimitedRow[]): void {
    const { header, file, warnings } = this;
    for (const row of rows) {
      const cells = row.cells.map((cell) => cell.trim());
      // A repeated header (files concatenated, or a logger restarted without append) starts a new session.
      if (cells.join('\u0000') === this.headerText) {
        if (!row.terminated) continue; // may still grow into a data row
        this.current = undefined;
        this.continuable = false;
        this.previousEpoch = undefined;
        continue;
      }
      const epoch = parseFiniteToken(cells[0]);
      const problems: string[] = [];
      if (epoch === undefined) problems.push(`epoch "${cells[0]}" is not a number`);
      const values: Array<[string, number]> = [];
      for (let column = 1; column < header.length; column++) {
        const cell = cells[column];
        if (cell === '' || cell === MISSING_CELL) continue;
        const value = parseNumberToken(cell);
        if (value === undefined) problems.push(`column "${header[column]}": "${cell}" is not a number`);
        else values.push([header[column], value]);
      }
      if (problems.length > 0 && !row.terminated) continue; // still being written
      if (epoch === undefined) {
        warnings.addLine(file, row.lineNumber, `${problems.join('; ')}; row skipped`);
        continue;
      }
      for (const problem of problems) warnings.addLine(file, row.lineNumber, problem);
      if (!row.terminated) this.usedUnterminated = true;

      const restarts = this.previousEpoch !== undefined && epoch <= this.previousEpoch;
      if (!this.current && this.continuable && !restarts) {
        // The first new row continues the session the earlier read left open.
        this.current = new Map();
        this.touched.push({ index: this.segments, metrics: seriesOf(this.current) });
      } else if (!this.current || restarts) {
        this.current = new Map();
        this.segments++;
        this.touched.push({ index: this.segments, metrics: seriesOf(this.current) });
      }
      this.continuable = false;
      this.previousEpoch = epoch;
      for (const [name, value] of values) {
        let series = this.current.get(name);
        if (!series) this.current.set(name, (series = new SeriesBuilder()));
        series.push(epoch, value, NaN); // CSVLogger records no wall time
      }
    }
  }

  /** Where the next read continues. */
  continuation(): Pick<KerasState, 'segments' | 'open' | 'lastEpoch'> {
    const open = this.current !== undefined || this.continuable;
    return { segments: this.segments, open, lastEpoch: open && this.previousEpoch !== undefined ? this.previousEpoch : null };
  }
}

/** A session's series as the run's metrics, in the order their columns first got a value. */
function seriesOf(builders: Map<string, SeriesBuilder>): () => Record<string, Float64Series> {
  return () => {
    const metrics: Record<string, Float64Series> = {};
    for (const [name, series] of builders) Object.defineProperty(metrics, name, { value: series.finish(), enumerable: true, writable: true, configurable: true });
    return metrics;
  };
}
