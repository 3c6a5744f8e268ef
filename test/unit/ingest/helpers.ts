// Test-side helpers for the log readers: build small trees on disk, discover
// and read them through a reader's public interface, and summarise series
// independently of the reader's own code.
import { after, afterEach, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from '../../support/fixtures';
import { stopParseWorker } from '../../../src/core/ingest/parseWorker';
import { listFilesRecursive, toPosixPath } from '../../../src/core/ingest/text';
import type { FormatReader, MetricSeriesData, ParsedRun, ParsedSource, SourceCandidate } from '../../../src/core/ingest/types';

/** A temp dir as discovery sees paths: real (no symlinked tmp), '/'-separated. */
export function tempRoot(): string {
  return toPosixPath(fs.realpathSync(makeTempDir('runlens-ingest-')));
}

/** Writes `files` (relative path → content) under `root`, creating folders. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [relative, content] of Object.entries(files)) {
    const full = path.join(root, relative);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
}

export async function discoverUnder(reader: FormatReader, root: string): Promise<SourceCandidate[]> {
  return reader.discover(await listFilesRecursive(root));
}

/** Discovers under `root`, expects exactly one source, and reads it. */
export async function readSingleSource(reader: FormatReader, root: string): Promise<{ candidate: SourceCandidate; source: ParsedSource }> {
  const candidates = await discoverUnder(reader, root);
  assert.equal(candidates.length, 1, `expected one ${reader.format} source under ${root}, found ${candidates.map((c) => c.root).join(', ') || 'none'}`);
  const [candidate] = candidates;
  return { candidate, source: await reader.read(candidate) };
}

export function allRuns(source: ParsedSource): ParsedRun[] {
  return source.experiments.flatMap((experiment) => experiment.runs);
}

export function runByKey(source: ParsedSource, key: string): ParsedRun {
  const run = allRuns(source).find((r) => r.key === key);
  assert.ok(run, `no run "${key}" among ${allRuns(source).map((r) => r.key).join(', ')}`);
  return run;
}

/** A series as plain arrays, for assertions with array methods (values copied exactly: NaN, ±Infinity and -0 kept). */
export interface SeriesArrays {
  steps: number[];
  values: number[];
  walls: number[];
}

export function arraysOf(series: MetricSeriesData): SeriesArrays {
  return { steps: Array.from(series.steps), values: Array.from(series.values), walls: Array.from(series.walls) };
}

export function seriesOf(run: ParsedRun, key: string): SeriesArrays {
  const series = Object.hasOwn(run.metrics, key) ? run.metrics[key] : undefined;
  assert.ok(series, `run ${run.key} has no metric "${key}" (has ${Object.keys(run.metrics).join(', ')})`);
  assert.equal(series.values.length, series.steps.length, `${key}: steps and values differ in length`);
  assert.equal(series.walls.length, series.steps.length, `${key}: steps and walls differ in length`);
  return arraysOf(series);
}

/** Element-wise equality where NaN equals NaN and 0 differs from -0 (Object.is); any array-likes (plain or typed arrays). */
export function assertSameNumbers(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let index = 0; index < actual.length; index++) {
    const value = actual[index];
    assert.ok(Object.is(value, expected[index]), `${label}[${index}]: expected ${expected[index]}, got ${value}`);
  }
}

export function sortedKeys(record: object): string[] {
  return Object.keys(record).sort();
}

/** Flattens nested JSON the way the corpus describes params (`a/b/c`, lists as JSON), written independently of yaml.ts. */
export function flattenExpected(value: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [key, child] of entries) Object.assign(out, flattenExpected(child, prefix ? `${prefix}/${key}` : key));
    return out;
  }
  if (!prefix) return out;
  out[prefix] = Array.isArray(value) ? JSON.stringify(value) : value === null ? 'null' : String(value);
  return out;
}

/**
 * For the test file that calls it: every read that can be split is split
 * onto the parse worker (RUNLENS_PARSE_WORKER=worker, small reads too), the
 * worker is stopped after each test, and the mode is put back at the end.
 */
export function splitEveryReadInThisFile(): void {
  const previousMode = process.env.RUNLENS_PARSE_WORKER;
  before(() => (process.env.RUNLENS_PARSE_WORKER = 'worker'));
  after(() => {
    if (previousMode === undefined) delete process.env.RUNLENS_PARSE_WORKER;
    else process.env.RUNLENS_PARSE_WORKER = previousMode;
  });
  afterEach(() => stopParseWorker());
}
