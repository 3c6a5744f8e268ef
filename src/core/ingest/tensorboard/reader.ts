// The TensorBoard FormatReader: a log dir of run dirs of event files.
// discover() is path-only (see discover.ts for the grouping rule); read()
// parses every event file of the candidate and merges each run's files in
// file-name order, which is the order their writers created them.
import * as path from 'node:path';
import type { FormatReader, IngestWarning, MetricSeriesData, ParsedRun, ParsedSource, SourceCandidate } from '../types';
import { compareCodeUnits, discoverTensorBoardSources } from './discover';
import { readEventFile } from './eventFile';

export const tensorboardReader: FormatReader = {
  format: 'tensorboard',

  async discover(files: readonly string[]): Promise<SourceCandidate[]> {
    return discoverTensorBoardSources(files);
  },

  async read(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource> {
    const root = candidate.root;
    const warnings: IngestWarning[] = [];
    const filesByRunDir = new Map<string, string[]>();
    for (const file of candidate.files) {
      const runDir = path.posix.dirname(file);
      let list = filesByRunDir.get(runDir);
      if (!list) filesByRunDir.set(runDir, (list = []));
      list.push(file);
    }

    const runs: ParsedRun[] = [];
    for (const runDir of [...filesByRunDir.keys()].sort(compareCodeUnits)) {
      const eventFiles = filesByRunDir.get(runDir)!.sort((a, b) => compareCodeUnits(path.posix.basename(a), path.posix.basename(b)));
      runs.push(await readRun(root, runDir, eventFiles, warnings, signal));
    }

    const experimentName = path.posix.basename(root) || root;
    return {
      format: 'tensorboard',
      root,
      experiments: [{ key: experimentName, name: experimentName, lifecycle: 'active', runs }],
      warnings,
    };
  },
};

async function readRun(root: string, runDir: string, eventFiles: string[], warnings: IngestWarning[], signal?: AbortSignal): Promise<ParsedRun> {
  const key = path.posix.relative(root, runDir) || '.';
  const run: ParsedRun = {
    key,
    name: key === '.' ? path.posix.basename(runDir) || runDir : key,
    path: runDir,
    status: 'unknown', // the caller tells running from finished by write times
    params: {},
    tags: {},
    metrics: {},
    summaries: {},
  };

  for (const file of eventFiles) {
    signal?.throwIfAborted();
    let content;
    try {
      content = await readEventFile(file, undefined, { signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      // Deleted between discovery and reading, unreadable, ...: the other files still count.
      warnings.push({ file, message: `Cannot read event file: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    warnings.push(...content.warnings);
    if (run.startTime === undefined && !Number.isNaN(content.firstWallTimeMs)) run.startTime = content.firstWallTimeMs;
    if (content.sessionStart) {
      for (const [name, value] of Object.entries(content.sessionStart.hparams)) setOwn(run.params, name, value);
    }
    for (const [tag, series] of content.scalars) appendSeries(run.metrics, tag, series);
  }
  return run;
}

function appendSeries(metrics: Record<string, MetricSeriesData>, tag: string, more: MetricSeriesData): void {
  const existing = Object.hasOwn(metrics, tag) ? metrics[tag] : undefined;
  if (!existing) {
    setOwn(metrics, tag, more);
    return;
  }
  // push(...) would overflow the stack for long series; a loop does not.
  for (let i = 0; i < more.steps.length; i++) {
    existing.steps.push(more.steps[i]);
    existing.values.push(more.values[i]);
    existing.walls.push(more.walls[i]);
  }
}

/** Tags and param names are user text: a tag named "__proto__" must become a key, not a prototype. */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
