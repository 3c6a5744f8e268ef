// Reader for DVCLive output folders (default name `dvclive`):
//   DVCLive >= 1:  <dir>/metrics.json (summary), <dir>/params.yaml,
//                  <dir>/plots/metrics/<key>.tsv with `step\t<leaf>` (+ `timestamp` if asked)
//   DVCLive 0.x:   <dir>.json beside the folder (summary),
//                  <dir>/scalars/<key>.tsv with `timestamp\tstep\t<full key>`
// A series' key is its TSV path below plots/metrics/ (or scalars/) without
// `.tsv`, so `train/loss.tsv` is `train/loss`, matching the nested summary
// flattened with `/`. Rows are kept as logged, repeats included.
import * as path from 'node:path';
import type { FormatReader, MetricSeriesData, ParsedSource, SourceCandidate } from './types';
import {
  WarningCollector,
  describeError,
  emptySeries,
  listFilesRecursive,
  parseDelimitedTable,
  parseFiniteToken,
  parseNumberToken,
  parsePythonJson,
  readTextFile,
  throwIfAborted,
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

  async read(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource> {
    const dir = candidate.root;
    const warnings = new WarningCollector();
    const files =
      candidate.files.length > 0
        ? candidate.files
        : [...(await listFilesRecursive(dir)), `${dir}.json`].filter((file) => isReadByDvclive(file, dir));
    const fileSet = new Set(files);

    // Series: every TSV under plots/metrics (current) or scalars (legacy).
    const metrics: Record<string, MetricSeriesData> = {};
    for (const file of files) {
      throwIfAborted(signal);
      const key = seriesKeyOf(file, dir);
      if (!key) continue;
      let text: string;
      try {
        text = await readTextFile(file);
      } catch (error) {
        warnings.add(file, `cannot read: ${describeError(error)}`);
        continue;
      }
      const series = parseDvcliveTsv(text, file, warnings);
      if (series.steps.length > 0) metrics[key] = series;
    }

    // Summary: the current file inside the folder wins over the legacy sibling.
    const summaryFile = [`${dir}/${SUMMARY_FILE}`, `${dir}.json`].find((file) => fileSet.has(file));
    const summaries: Record<string, number | string> = {};
    if (summaryFile) {
      for (const [key, value] of Object.entries(await readSummary(summaryFile, warnings))) {
        // Keys with a series already have their history; keep only summary-only values.
        if (!(key in metrics)) summaries[key] = value;
      }
    }

    const paramsFile = `${dir}/${PARAMS_FILE}`;
    const params = fileSet.has(paramsFile) ? await readParams(paramsFile, warnings) : {};

    const dirName = path.posix.basename(dir);
    const projectName = path.posix.basename(path.posix.dirname(dir));
    return {
      format: 'dvclive',
      root: dir,
      experiments: [
        {
          key: projectName,
          name: projectName,
          lifecycle: 'active',
          runs: [{ key: dirName, name: dirName, path: dir, status: 'unknown', params, tags: {}, metrics, summaries }],
        },
      ],
      warnings: warnings.list(),
    };
  },
};

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
export function parseDvcliveTsv(text: string, file: string, warnings: WarningCollector): MetricSeriesData {
  const series = emptySeries();
  const table = parseDelimitedTable(text, '\t', file, warnings);
  if (!table) return series;
  const { header } = table;
  const stepIndex = header.indexOf('step');
  const timestampIndex = header.indexOf('timestamp');
  const valueIndex = header.findIndex((_, index) => index !== stepIndex && index !== timestampIndex);
  if (valueIndex < 0) {
    warnings.add(file, `no value column in header "${header.join('\\t')}"`);
    return series;
  }
  table.rows.forEach((row, dataIndex) => {
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
    if (problem && !row.terminated) return; // last line still being written
    if (value === undefined || step === undefined) {
      warnings.addLine(file, row.lineNumber, `${problem}; row skipped`);
      return;
    }
    if (problem) warnings.addLine(file, row.lineNumber, problem);
    series.steps.push(step);
    series.values.push(value);
    series.walls.push(timestamp === undefined ? NaN : timestamp < SECONDS_VERSUS_MILLIS ? timestamp * 1000 : timestamp);
  });
  return series;
}

async function readSummary(file: string, warnings: WarningCollector): Promise<Record<string, number | string>> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    warnings.add(file, `cannot read: ${describeError(error)}`);
    return {};
  }
  if (text.trim() === '') return {}; // created, not yet written
  let data: unknown;
  try {
    // DVCLive writes with Python's json, which spells non-finite floats NaN/Infinity.
    data = parsePythonJson(text);
  } catch (error) {
    warnings.add(file, `not valid JSON (${describeError(error)}); summary skipped`);
    return {};
  }
  if (!isPlainObject(data)) {
    warnings.add(file, 'expected a JSON object; summary skipped');
    return {};
  }
  return flattenToSummaries(data);
}

async function readParams(file: string, warnings: WarningCollector): Promise<Record<string, string>> {
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
  if (!isPlainObject(data)) warnings.add(file, 'expected a mapping of params; stored under the key "value"');
  return flattenToStrings(data, (key) => warnings.add(file, `"${key}" appears twice after flattening nested keys with "/"; the later value is kept`));
}
