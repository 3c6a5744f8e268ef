// Reader for PyTorch Lightning's CSVLogger:
//   <save_dir>/<name>/version_<N>/metrics.csv    one row per log call, sparse
//   <save_dir>/<name>/version_<N>/hparams.yaml   save_hyperparameters() dump
// The logger folder (`<name>`, usually `lightning_logs`) is the experiment,
// each version folder a run. metrics.csv columns are addressed by name: their
// order changes between Lightning versions and even between runs.
//
// metrics.csv files reach millions of rows, so rows are parsed straight from
// the file's bytes: cells are found by their commas and numbers parsed with
// text.ts's exact byte-level parser, with no string per line or cell. A line
// that is not plain ASCII numbers (quotes, non-ASCII bytes, nan/inf, garbage,
// a wrong field count) goes through the text functions instead, so that both
// paths agree on every value and every warning.
import * as path from 'node:path';
import { HEAD_BYTES, classifyChange } from './fileCursor';
import { ByteBudget, type Float64Series } from './series';
import type { FileCursor, FormatReader, ParsedRun, ParsedSource, ReadLimits, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  listFilesRecursive,
  parseDelimitedRows,
  readFileHead,
  readLineBytesFrom,
  readWholeTextFile,
  releaseLineBytes,
  rememberProblems,
  replayProblems,
  splitDelimitedRow,
  splitLines,
  throwIfAborted,
  unchangedWholeFile,
  utf8Length,
} from './text';
import { flattenToStrings, isPlainObject, parseYamlTolerant } from './yaml';
import { feedRowsInParts } from './lightningParts';
import { Byte, LightningTable, type TableContinuation } from './lightningTable';

const METRICS_FILE = 'metrics.csv';
const HPARAMS_FILE = 'hparams.yaml';
const VERSION_DIR = /^version_\d+$/;

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

  async read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>, limits?: ReadLimits): Promise<ParsedSource> {
    const root = candidate.root;
    const warnings = new WarningCollector();
    const files = candidate.files.length > 0 ? candidate.files : await listFilesRecursive(root);
    const fileSet = new Set(files);
    const versionDirs = files
      .filter((file) => path.posix.dirname(path.posix.dirname(file)) === root && isLightningMetricsFile(file, fileSet))
      .map((file) => path.posix.dirname(file))
      .sort(compareVersionDirs);
    const budget = new ByteBudget(limits?.maxBytes);

    const runs: ParsedRun[] = [];
    const cursors: FileCursor[] = [];
    for (const versionDir of versionDirs) {
      throwIfAborted(signal);
      if (budget.exhausted) {
        // Not reached in this slice: the store holds what the previous cursors say; their problems are said again.
        budget.stopped = true;
        for (const file of [`${versionDir}/${METRICS_FILE}`, `${versionDir}/${HPARAMS_FILE}`]) {
          const cursor = previous?.get(file);
          if (!cursor) continue;
          cursors.push(cursor);
          replayProblems(cursor.state, warnings, file);
        }
        continue;
      }
      const version = await readVersion(versionDir, fileSet, warnings, previous, budget);
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
      ...(budget.stopped ? { complete: false } : {}),
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
interface LightningCsvState extends TableContinuation {
  header: string[];
  /** UTF-8 bytes of the header line: a header longer than the head hash covers is re-checked on append. */
  headerBytes: number;
  /** Physical lines consumed, header included, so warnings keep their line numbers. */
  lines: number;
  /** A full read parsed a last line that had no line break: any later change re-reads the file, since that line may have been incomplete. */
  tailRead: boolean;
  /** Problems reported about the lines before the cursor (the first few, and how many): said again by later reads. */
  problems?: string[];
  problemCount?: number;
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
 * the stored params. metrics.csv is read up to the budget; a read cut there
 * continues with 'append' in the next slice.
 */
async function readVersion(
  versionDir: string,
  fileSet: ReadonlySet<string>,
  warnings: WarningCollector,
  previous: ReadonlyMap<string, FileCursor> | undefined,
  budget: ByteBudget,
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
  const appended = metricsCursor ? await readAppendedMetrics(metricsFile, metricsCursor, warnings, budget) : undefined;
  if (appended) {
    // Nothing new (untouched, touched without new bytes, or only part of a line): keep the stored run.
    if (hparamsSame && Object.keys(appended.metrics).length === 0) {
      if (keptHparams) replayProblems(keptHparams.state, warnings, hparamsFile);
      return { run: { ...run, update: 'keep' }, cursors: [appended.cursor, ...(keptHparams ? [keptHparams] : [])] };
    }
    run.update = 'append';
    run.metrics = appended.metrics;
    cursors.push(appended.cursor);
  } else {
    try {
      const chunk = await readLineBytesFrom(metricsFile, 0, budget.remaining);
      budget.take(chunk.completeEnd);
      if (chunk.truncated) budget.stopped = true;
      const parsed = await parseLightningChunk(chunk.complete, chunk.tail.toString('utf8'), metricsFile, warnings);
      releaseLineBytes(chunk);
      run.metrics = parsed.metrics;
      const state = parsed.state && rememberProblems(parsed.state, warnings, metricsFile);
      cursors.push({ path: metricsFile, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state });
    } catch (error) {
      warnings.add(metricsFile, `cannot read: ${describeError(error)}`);
    }
  }
  if (hasHparams) {
    const hparams = await readHparams(hparamsFile, warnings);
    run.params = hparams.params;
    if (hparams.cursor) {
      budget.take(hparams.cursor.size);
      cursors.push(hparams.cursor);
    }
  }
  return { run, cursors };
}

/**
 * The rows appended to metrics.csv since `cursor` (up to the budget), or
 * undefined when the file must be read in full instead (rewritten, shrunk,
 * header changed, no state, or its last read took in a line that may have
 * been incomplete). What the cursor remembers about earlier lines is said again.
 */
async function readAppendedMetrics(
  file: string,
  cursor: FileCursor,
  warnings: WarningCollector,
  budget: ByteBudget,
): Promise<{ metrics: Record<string, Float64Series>; cursor: FileCursor } | undefined> {
  const state = cursor.state;
  if (!isLightningCsvState(state)) return undefined;
  let chunk;
  try {
    const { change } = await classifyChange(file, cursor);
    if (change === 'unchanged') {
      replayProblems(state, warnings, file);
      return { metrics: {}, cursor }; // only hparams.yaml changed
    }
    if (change !== 'appended' || state.tailRead) return undefined;
    // The head hash covers HEAD_BYTES; a longer header could gain a column unseen by it.
    if (state.headerBytes > HEAD_BYTES - HEADER_MARGIN && !(await headerStillIs(file, state))) return undefined;
    chunk = await readLineBytesFrom(file, cursor.offset, budget.remaining);
  } catch {
    return undefined; // vanished or unreadable now: the full read reports it
  }
  budget.take(chunk.completeEnd - chunk.start);
  if (chunk.truncated) budget.stopped = true;
  replayProblems(state, warnings, file);
  const table = new LightningTable(state.header, file, warnings, state);
  const lines = await feedRowsInParts(table, state.header, file, warnings, chunk.complete, 0, chunk.complete.length, state.lines);
  releaseLineBytes(chunk);
  const next = rememberProblems<LightningCsvState>({ ...state, ...table.continuation(), lines: state.lines + lines, tailRead: false }, warnings, file);
  return {
    metrics: table.result(),
    cursor: { path: file, size: chunk.size, mtimeMs: chunk.mtimeMs, offset: chunk.completeEnd, headHash: chunk.headHash, state: next },
  };
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
 * A whole metrics.csv (or its first slice): `complete` is its whole lines (a
 * byte-order mark left out), `tail` a last line without a line break. The
 * tail is parsed when it is a valid row (a finished file may lack the final
 * newline), but the state is taken before it, and `tailRead` tells the next
 * read that this line may have been cut short.
 */
async function parseLightningChunk(complete: Uint8Array, tail: string, file: string, warnings: WarningCollector): Promise<{ metrics: Record<string, Float64Series>; state?: LightningCsvState }> {
  const header = findHeader(complete);
  if (!header) return { metrics: {} }; // no whole header yet: no state, so the next read starts over
  const parser = new LightningTable(header.cells, file, warnings);
  const lines = header.lines + (await feedRowsInParts(parser, header.cells, file, warnings, complete, header.end, complete.length, header.lines));
  const continuation = parser.continuation();
  if (tail.trim() !== '') parser.feed(parseDelimitedRows(tail, ',', header.cells.length, file, warnings, lines, true));
  const state: LightningCsvState = {
    header: header.cells,
    headerBytes: utf8Length(header.text),
    lines,
    ...continuation,
    tailRead: parser.usedUnterminated,
  };
  return { metrics: parser.result(), state };
}

/** The first line of `bytes` that is not blank (whole lines only): the header, its cells, and the lines up to and with it. */
function findHeader(bytes: Uint8Array): { cells: string[]; text: string; end: number; lines: number } | undefined {
  let lines = 0;
  let i = 0;
  while (i < bytes.length) {
    const lineStart = i;
    while (i < bytes.length && bytes[i] !== Byte.LineFeed && bytes[i] !== Byte.CarriageReturn) i++;
    if (i >= bytes.length) return undefined; // not terminated: still being written
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, i - lineStart).toString('utf8');
    i = bytes[i] === Byte.CarriageReturn && bytes[i + 1] === Byte.LineFeed ? i + 2 : i + 1;
    lines++;
    if (text.trim() !== '') return { cells: splitDelimitedRow(text, ',').map((name) => name.trim()), text, end: i, lines };
  }
  return undefined;
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
  // Kept with the cursor: a later read that keeps the run without parsing this file says them again.
  const remembered = () => ({ ...cursor, state: rememberProblems(cursor.state as object, warnings, file) });
  if (data === null || data === undefined) return { params: {}, cursor: remembered() };
  if (!isPlainObject(data)) warnings.add(file, 'expected a mapping of hyperparameters; stored under the key "value"');
  const params = flattenToStrings(data, (key) => warnings.add(file, `"${key}" appears twice after flattening nested keys with "/"; the later value is kept`));
  return { params, cursor: remembered() };
}
