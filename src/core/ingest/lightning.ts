// Reader for PyTorch Lightning's CSVLogger:
//   <save_dir>/<name>/version_<N>/metrics.csv    one row per log call, sparse
//   <save_dir>/<name>/version_<N>/hparams.yaml   save_hyperparameters() dump
// The logger folder (`<name>`, usually `lightning_logs`) is the experiment,
// each version folder a run. metrics.csv columns are addressed by name: their
// order changes between Lightning versions and even between runs.
import * as path from 'node:path';
import type { FormatReader, MetricSeriesData, ParsedRun, ParsedSource, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  emptySeries,
  listFilesRecursive,
  parseDelimitedTable,
  parseFiniteToken,
  parseNumberToken,
  readTextFile,
  throwIfAborted,
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

  async read(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource> {
    const root = candidate.root;
    const warnings = new WarningCollector();
    const files = candidate.files.length > 0 ? candidate.files : await listFilesRecursive(root);
    const fileSet = new Set(files);
    const versionDirs = files
      .filter((file) => path.posix.dirname(path.posix.dirname(file)) === root && isLightningMetricsFile(file, fileSet))
      .map((file) => path.posix.dirname(file))
      .sort(compareVersionDirs);

    const runs: ParsedRun[] = [];
    for (const versionDir of versionDirs) {
      throwIfAborted(signal);
      runs.push(await readVersion(versionDir, fileSet, warnings));
    }
    const loggerName = path.posix.basename(root);
    return {
      format: 'lightning',
      root,
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

async function readVersion(versionDir: string, fileSet: ReadonlySet<string>, warnings: WarningCollector): Promise<ParsedRun> {
  const versionName = path.posix.basename(versionDir);
  const metricsFile = `${versionDir}/${METRICS_FILE}`;
  let metrics: Record<string, MetricSeriesData> = {};
  try {
    metrics = parseLightningMetrics(await readTextFile(metricsFile), metricsFile, warnings);
  } catch (error) {
    warnings.add(metricsFile, `cannot read: ${describeError(error)}`);
  }
  const hparamsFile = `${versionDir}/${HPARAMS_FILE}`;
  const params = fileSet.has(hparamsFile) ? await readHparams(hparamsFile, warnings) : {};
  return { key: versionName, name: versionName, path: versionDir, status: 'unknown', params, tags: {}, metrics, summaries: {} };
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
  const table = parseDelimitedTable(text, ',', file, warnings);
  if (!table) return {};
  const { header } = table;
  const stepIndex = header.indexOf(STEP_COLUMN);
  const epochIndex = header.indexOf(EPOCH_COLUMN);
  const metrics: Record<string, MetricSeriesData> = {};
  const seriesColumns = header.map((name, index) => ({ name, index })).filter(({ index, name }) => index !== stepIndex && name !== '');
  for (const { name } of seriesColumns) metrics[name] = emptySeries();

  let groupKey: string | undefined;
  let valuesInGroup = new Map<number, number[]>();
  table.rows.forEach((row, dataIndex) => {
    const values = new Map<number, number>();
    let unparsable: string | undefined;
    for (const { name, index } of seriesColumns) {
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
    if (unparsable && !row.terminated) return;
    if (unparsable) warnings.addLine(file, row.lineNumber, unparsable + (parsedStep === undefined && stepIndex >= 0 ? '; row index used as step' : ''));

    const step = parsedStep ?? dataIndex;
    const key = stepIndex >= 0 ? `${stepCell}\u0000${epochIndex >= 0 ? row.cells[epochIndex].trim() : ''}` : undefined;
    if (key === undefined || key !== groupKey) valuesInGroup = new Map();
    groupKey = key;

    for (const [index, value] of values) {
      const seen = valuesInGroup.get(index) ?? [];
      if (seen.some((earlier) => Object.is(earlier, value))) continue;
      seen.push(value);
      valuesInGroup.set(index, seen);
      const series = metrics[header[index]];
      series.steps.push(step);
      series.values.push(value);
      series.walls.push(NaN); // CSVLogger records no wall time
    }
  });
  for (const name of Object.keys(metrics)) if (metrics[name].steps.length === 0) delete metrics[name];
  return metrics;
}

async function readHparams(file: string, warnings: WarningCollector): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    warnings.add(file, `cannot read: ${describeError(error)}`);
    return {};
  }
  const { data, problems } = parseYamlTolerant(text, { keepNumberText: true });
  for (const problem of problems) warnings.add(file, problem);
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) warnings.add(file, 'expected a mapping of hyperparameters; stored under the key "value"');
  return flattenToStrings(data, (key) => warnings.add(file, `"${key}" appears twice after flattening nested keys with "/"; the later value is kept`));
}
