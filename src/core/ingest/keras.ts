// Reader for Keras' CSVLogger: one CSV per training script, header `epoch,<metric>,...`
// (metric names sorted), one row per epoch, CRLF line ends on every OS
// (Python's csv default). With `append=True` later sessions append rows
// under the one header and `epoch` starts again at 0: each such restart is a
// separate run (a segment) of the file. File names vary (`training.log`,
// `history.csv`, ...), so discovery sniffs the first line of likely files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FormatReader, MetricSeriesData, ParsedRun, ParsedSource, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  emptySeries,
  mapWithConcurrency,
  parseDelimitedTable,
  parseFiniteToken,
  parseNumberToken,
  readFileHead,
  readTextFile,
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

  async read(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource> {
    const file = candidate.root;
    const warnings = new WarningCollector();
    const fileName = path.posix.basename(file);
    const source: ParsedSource = { format: 'keras', root: file, experiments: [], warnings: [] };
    let text: string;
    try {
      text = await readTextFile(file);
    } catch (error) {
      warnings.add(file, `cannot read: ${describeError(error)}`);
      source.warnings = warnings.list();
      return source;
    }
    throwIfAborted(signal);
    const segments = parseKerasLog(text, file, warnings);
    const runs: ParsedRun[] = segments.map((metrics, index) => ({
      key: `segment-${index + 1}`,
      name: segments.length === 1 ? fileName : `${fileName} #${index + 1}`,
      path: file,
      status: 'unknown',
      params: {},
      tags: {},
      metrics,
      summaries: {},
    }));
    source.experiments = [{ key: fileName, name: fileName, lifecycle: 'active', runs }];
    source.warnings = warnings.list();
    return source;
  },
};

/**
 * Splits the log into training sessions and returns one metric map per
 * session. A session ends where `epoch` fails to increase. Step = epoch.
 * `NA` and empty cells are "not logged"; anything else that is not a number
 * is reported and skipped, keeping the rest of the row.
 */
export function parseKerasLog(text: string, file: string, warnings: WarningCollector): Array<Record<string, MetricSeriesData>> {
  const firstLineEnd = text.search(/[\r\n]/);
  const separator = kerasHeaderSeparator(firstLineEnd < 0 ? text : text.slice(0, firstLineEnd));
  if (!separator) {
    if (text.trim() !== '') warnings.add(file, 'first line is not a Keras CSVLogger header (epoch,...)');
    return [];
  }
  const table = parseDelimitedTable(text, separator, file, warnings);
  if (!table) return [];
  const { header } = table;
  const headerText = header.join('\u0000');

  const segments: Array<Record<string, MetricSeriesData>> = [];
  let current: Record<string, MetricSeriesData> | undefined;
  let previousEpoch: number | undefined;
  for (const row of table.rows) {
    const cells = row.cells.map((cell) => cell.trim());
    // A repeated header (files concatenated, or a logger restarted without append) starts a new session.
    if (cells.join('\u0000') === headerText) {
      current = undefined;
      previousEpoch = undefined;
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

    if (!current || (previousEpoch !== undefined && epoch <= previousEpoch)) {
      current = {};
      segments.push(current);
    }
    previousEpoch = epoch;
    for (const [name, value] of values) {
      const series = (current[name] ??= emptySeries());
      series.steps.push(epoch);
      series.values.push(value);
      series.walls.push(NaN); // CSVLogger records no wall time
    }
  }
  return segments;
}
