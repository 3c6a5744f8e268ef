// Incremental reading of TensorBoard event files and the MLflow file store,
// through the real engine and SQLite store. Each test copies a corpus case,
// cuts its growing files back, ingests, then lets them grow again (whole
// lines or records, and pieces that stop inside one) and re-ingests. Every
// time, the reader must return only the new points, mark untouched runs
// 'keep', and the store must hold exactly what a fresh full ingest of the
// files as they are now holds, point for point.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { ingestPaths, type IngestSummary } from '../../../src/core/ingest/engine';
import { mlflowReader } from '../../../src/core/ingest/mlflow';
import { ALL_READERS } from '../../../src/core/ingest/registry';
import { tensorboardReader } from '../../../src/core/ingest/tensorboard/reader';
import { FILE_START, frameRecord, scanRecords } from '../../../src/core/ingest/tensorboard/tfrecord';
import { encodeEvent, EventFileWriter } from '../../../src/core/ingest/tensorboard/writer';
import { listFilesRecursive, toPosixPath } from '../../../src/core/ingest/text';
import type { FileCursor, FormatReader, RunUpdate } from '../../../src/core/ingest/types';
import type { RunStore } from '../../../src/core/store/types';
import { openStore } from '../../../src/core/database/open';

// ---------------------------------------------------------------------------
// The store

interface StoredSeries {
  steps: number[];
  values: number[];
  walls: number[];
}

interface StoredRun {
  name: string;
  status: string;
  startTime: number | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  series: Record<string, StoredSeries>;
}

function freshRunStore(): RunStore {
  return openStore(path.join(makeTempDir('runlens-tb-mlflow-db-'), 'runlens.db')).runs;
}

/** Every stored run of `format`, by experiment and run key. */
function storedRuns(store: RunStore, format: string): Map<string, StoredRun> {
  const out = new Map<string, StoredRun>();
  for (const summary of store.listRuns({ includeHidden: true }).runs) {
    if (summary.format !== format) continue;
    const run = store.getRun(summary.id)!;
    const series: Record<string, StoredSeries> = {};
    for (const s of run.series) {
      const points = store.readSeries(summary.id, s.key)!;
      series[s.key] = { steps: Array.from(points.steps), values: Array.from(points.values), walls: Array.from(points.walls) };
    }
    out.set(`${summary.experimentKey}|${summary.runKey}`, {
      name: run.name,
      status: run.status,
      startTime: run.startTime,
      params: run.params,
      tags: run.tags,
      series,
    });
  }
  return out;
}

function sameNumbers(actual: number[], expected: number[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Object.is(actual[i], expected[i]), `${label}[${i}]: got ${actual[i]}, want ${expected[i]}`);
}

function assertSameRuns(actual: Map<string, StoredRun>, expected: Map<string, StoredRun>, label: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${label}: runs`);
  for (const [key, want] of expected) {
    const got = actual.get(key)!;
    assert.equal(got.name, want.name, `${label}: ${key} name`);
    assert.equal(got.status, want.status, `${label}: ${key} status`);
    assert.equal(got.startTime, want.startTime, `${label}: ${key} start time`);
    assert.deepEqual(got.params, want.params, `${label}: ${key} params`);
    assert.deepEqual(got.tags, want.tags, `${label}: ${key} tags`);
    assert.deepEqual(Object.keys(got.series).sort(), Object.keys(want.series).sort(), `${label}: ${key} series`);
    for (const [name, series] of Object.entries(want.series)) {
      sameNumbers(got.series[name].steps, series.steps, `${label}: ${key} ${name} steps`);
      sameNumbers(got.series[name].values, series.values, `${label}: ${key} ${name} values`);
      sameNumbers(got.series[name].walls, series.walls, `${label}: ${key} ${name} walls`);
    }
  }
}

/** What a fresh store holds after one full ingest of `dir`. */
async function freshRuns(dir: string, format: string): Promise<Map<string, StoredRun>> {
  const store = freshRunStore();
  try {
    await ingestPaths(store, ALL_READERS, [dir]);
    return storedRuns(store, format);
  } finally {
    store.close();
  }
}

async function ingest(store: RunStore, dir: string): Promise<IngestSummary> {
  const summary = await ingestPaths(store, ALL_READERS, [dir]);
  assert.equal(summary.cancelled, false);
  return summary;
}

function pointsIn(runs: Map<string, StoredRun>): number {
  let total = 0;
  for (const run of runs.values()) for (const s of Object.values(run.series)) total += s.values.length;
  return total;
}

// ---------------------------------------------------------------------------
// The reader, asked directly with the store's cursors (readers are pure)

interface ReadNow {
  /** Update of every run the reader returned, by run key. */
  updates: Record<string, RunUpdate>;
  /** Points the reader returned, all runs together. */
  points: number;
}

async function readNow(reader: FormatReader, dir: string, store: RunStore): Promise<ReadNow> {
  const candidates = (await reader.discover(await listFilesRecursive(dir))).filter((c) => c.format === reader.format);
  assert.equal(candidates.length, 1, `one ${reader.format} source under ${dir}`);
  const [candidate] = candidates;
  const known = store.getSource(candidate.root);
  assert.ok(known, `the store knows ${candidate.root}`);
  const previous = new Map<string, FileCursor>(known.files.map((f) => [f.path, f]));
  const source = await reader.read(candidate, undefined, previous);
  const result: ReadNow = { updates: {}, points: 0 };
  for (const experiment of source.experiments) {
    for (const run of experiment.runs) {
      result.updates[run.key] = run.update ?? 'replace';
      for (const series of Object.values(run.metrics)) result.points += series.values.length;
    }
  }
  return result;
}

/**
 * Reads the way the engine would now, checks the run updates and that
 * exactly the points a full read adds since the last ingest were returned,
 * then ingests and checks the store against a fresh full ingest.
 */
async function stepAndCheck(
  reader: FormatReader,
  dir: string,
  store: RunStore,
  expectedUpdates: Record<string, RunUpdate | RunUpdate[]>,
  label: string,
  options: { newPointsOnly?: boolean } = {},
): Promise<ReadNow> {
  const before = storedRuns(store, reader.format);
  const fresh = await freshRuns(dir, reader.format);
  const read = await readNow(reader, dir, store);
  for (const [key, want] of Object.entries(expectedUpdates)) {
    const allowed = Array.isArray(want) ? want : [want];
    assert.ok(allowed.includes(read.updates[key]), `${label}: run ${key} is ${read.updates[key]}, expected ${allowed.join(' or ')}`);
  }
  if (options.newPointsOnly ?? true) {
    assert.equal(read.points, pointsIn(fresh) - pointsIn(before), `${label}: the reader returns only the new points`);
  }
  await ingest(store, dir);
  assertSameRuns(storedRuns(store, reader.format), fresh, label);
  return read;
}

// ---------------------------------------------------------------------------
// Files

/** Distinct, increasing mtimes, so that no change hides inside the clock's resolution. */
let clock = Date.now() / 1000 + 100;
function bumpMtime(file: string): void {
  clock += 2;
  fs.utimesSync(file, clock, clock);
}

function appendBytes(file: string, bytes: string | Uint8Array): void {
  fs.appendFileSync(file, bytes);
  bumpMtime(file);
}

function rewrite(file: string, bytes: string | Uint8Array): void {
  fs.writeFileSync(file, bytes);
  bumpMtime(file);
}

function realCopy(relativeCase: string): string {
  return toPosixPath(fs.realpathSync(copyCorpus(relativeCase)));
}

/** Lines with their line breaks; a last line without one stays as it is. */
function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Byte offsets where each record of an event file starts, and the file's length. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  const scan = scanRecords(bytes, 0, FILE_START, 'memory', (_data, offset) => offsets.push(offset));
  assert.deepEqual(scan.warnings, []);
  offsets.push(scan.cursor.offset);
  return offsets;
}

// ---------------------------------------------------------------------------
// MLflow file store

const SB3 = 'logs/mlflow/sb3-rl-nested-metric-keys';
const RUN_A = '770cc011eb214ea997501cabcfe12f58';
const RUN_B = 'c0429e83c3a343a88bced6eb45ec9503';
const RUN_C = 'c034af155d3a4319886842eebb038448';

function metricFile(dir: string, run: string, key: string): string {
  return path.join(dir, 'mlruns', '1', run, 'metrics', key);
}

describe('MLflow file store, read incrementally', () => {
  test('appended lines are read alone; a half-written line waits and is read once; the store matches a full read', async () => {
    const dir = realCopy(SB3);
    const file = metricFile(dir, RUN_A, 'rollout/ep_rew_mean');
    const original = fs.readFileSync(file, 'utf8');
    const lines = linesOf(original);
    assert.ok(lines.length >= 20, 'enough lines to grow');
    rewrite(file, lines.slice(0, 10).join(''));

    const store = freshRunStore();
    try {
      await ingest(store, dir);
      assertSameRuns(storedRuns(store, 'mlflow'), await freshRuns(dir, 'mlflow'), 'first ingest');
      const others = { [RUN_B]: 'keep', [RUN_C]: 'keep' } as const;

      // Whole lines.
      appendBytes(file, lines.slice(10, 13).join(''));
      let read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', ...others }, 'three lines');
      assert.equal(read.points, 3);

      // A line cut inside its value (two fields of three): not a point yet.
      const next = lines[13];
      const valueCut = next.indexOf(' ') + 3;
      appendBytes(file, next.slice(0, valueCut));
      read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', ...others }, 'cut inside the value');
      assert.equal(read.points, 0);

      // Its rest: read now, once.
      appendBytes(file, next.slice(valueCut));
      read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', ...others }, 'rest of the line');
      assert.equal(read.points, 1);

      // The rest of the corpus file but its last line feed: the last line is returned, not consumed.
      const rest = lines.slice(14).join('').replace(/\n$/, '');
      appendBytes(file, rest);
      read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', ...others }, 'unterminated last line');
      assert.equal(read.points, lines.length - 14);

      // Its line feed, then one more line: the unterminated line is not returned a second time.
      const lastLine = lines[lines.length - 1];
      const [timestamp, , step] = lastLine.trim().split(' ');
      appendBytes(file, `\n${Number(timestamp) + 1} 0.125 ${Number(step) + 1}\n`);
      read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', ...others }, 'terminated, plus one');
      assert.equal(read.points, 1);

      // Nothing changed: nothing read, nothing written.
      const stats = store.stats();
      const summary = await ingest(store, dir);
      assert.equal(summary.sourcesRead, 0);
      assert.equal(summary.sourcesUnchanged, 1);
      assert.deepEqual(store.stats(), stats);
    } finally {
      store.close();
    }
  });

  test('a step cut short and returned early is corrected when its line completes: that run is read again', async () => {
    const dir = realCopy(SB3);
    const file = metricFile(dir, RUN_A, 'time/total timesteps');
    const lines = linesOf(fs.readFileSync(file, 'utf8'));
    const line = lines[9].replace(/\n$/, '');
    const step = line.trim().split(' ')[2];
    assert.ok(step.length >= 2, 'a step of two digits or more');
    rewrite(file, lines.slice(0, 9).join('') + line.slice(0, line.length - 1));

    const store = freshRunStore();
    try {
      await ingest(store, dir);
      assertSameRuns(storedRuns(store, 'mlflow'), await freshRuns(dir, 'mlflow'), 'first ingest');
      appendBytes(file, `${line.slice(-1)}\n${lines.slice(10).join('')}`);
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'replace', [RUN_B]: 'keep', [RUN_C]: 'keep' }, 'completed step', { newPointsOnly: false });
    } finally {
      store.close();
    }
  });

  test('a shrunk metric file or a rewritten head replaces only its run; params and meta changes are re-read', async () => {
    const dir = realCopy(SB3);
    // A second run with metrics: real lines from the first one.
    fs.mkdirSync(path.dirname(metricFile(dir, RUN_B, 'rollout/ep_rew_mean')), { recursive: true });
    fs.copyFileSync(metricFile(dir, RUN_A, 'rollout/ep_rew_mean'), metricFile(dir, RUN_B, 'rollout/ep_rew_mean'));
    const store = freshRunStore();
    try {
      await ingest(store, dir);

      // Shrunk.
      const shrunk = metricFile(dir, RUN_A, 'time/fps');
      rewrite(shrunk, linesOf(fs.readFileSync(shrunk, 'utf8')).slice(0, 5).join(''));
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'replace', [RUN_B]: 'keep', [RUN_C]: 'keep' }, 'shrunk', { newPointsOnly: false });

      // Same size or longer, different first line.
      const rewritten = metricFile(dir, RUN_B, 'rollout/ep_rew_mean');
      const text = fs.readFileSync(rewritten, 'utf8');
      const changed = text.replace(/^(\d+) /, (_all, timestamp: string) => `${Number(timestamp) + 7} `);
      assert.notEqual(changed, text);
      rewrite(rewritten, `${changed}\n1675440096999 1.5 999999\n`);
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'keep', [RUN_B]: 'replace', [RUN_C]: 'keep' }, 'rewritten head', { newPointsOnly: false });

      // A param changes, a tag appears: the run's params and tags are read again, no metric is.
      const param = path.join(dir, 'mlruns', '1', RUN_C, 'params', 'lr');
      rewrite(param, `${fs.readFileSync(param, 'utf8')}5`);
      fs.writeFileSync(path.join(dir, 'mlruns', '1', RUN_C, 'tags', 'note'), 'incremental');
      const read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'keep', [RUN_B]: 'keep', [RUN_C]: 'append' }, 'params and tags');
      assert.equal(read.points, 0);
      assert.equal(storedRuns(store, 'mlflow').get(`1|${RUN_C}`)!.tags.note, 'incremental');

      // The run finishes: meta.yaml changes.
      const meta = path.join(dir, 'mlruns', '1', RUN_C, 'meta.yaml');
      rewrite(meta, fs.readFileSync(meta, 'utf8').replace(/^status: \d+$/m, 'status: 4'));
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'keep', [RUN_B]: 'keep', [RUN_C]: 'append' }, 'meta');
      assert.equal(storedRuns(store, 'mlflow').get(`1|${RUN_C}`)!.status, 'failed');

      // A metric file vanishes: its run is read again in full, so that the series goes.
      fs.rmSync(metricFile(dir, RUN_A, 'time/fps'));
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'replace', [RUN_B]: 'keep', [RUN_C]: 'keep' }, 'metric file deleted', { newPointsOnly: false });
      assert.ok(!('time/fps' in storedRuns(store, 'mlflow').get(`1|${RUN_A}`)!.series));
    } finally {
      store.close();
    }
  });

  test('a new run is added whole and a deleted one disappears; the others are kept', async () => {
    const dir = realCopy(SB3);
    const store = freshRunStore();
    try {
      await ingest(store, dir);
      const newRun = 'd'.repeat(32);
      const from = path.join(dir, 'mlruns', '1', RUN_A);
      const to = path.join(dir, 'mlruns', '1', newRun);
      fs.cpSync(from, to, { recursive: true });
      const meta = path.join(to, 'meta.yaml');
      fs.writeFileSync(meta, fs.readFileSync(meta, 'utf8').replaceAll(RUN_A, newRun));
      const read = await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'keep', [RUN_B]: 'keep', [RUN_C]: 'keep', [newRun]: 'replace' }, 'new run');
      assert.ok(read.points > 0);

      fs.rmSync(path.join(dir, 'mlruns', '1', RUN_B), { recursive: true });
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'keep', [RUN_C]: 'keep', [newRun]: 'keep' }, 'run deleted');
      assert.ok(!storedRuns(store, 'mlflow').has(`1|${RUN_B}`));
    } finally {
      store.close();
    }
  });

  test('warnings about kept runs stay; a run deleted on its own stays hidden', async () => {
    const dir = realCopy(SB3);
    // A garbage line in the middle of a metric file, a run folder without meta.yaml, a run deleted on its own.
    const damaged = metricFile(dir, RUN_A, 'rollout/ep_len_mean');
    const lines = linesOf(fs.readFileSync(damaged, 'utf8'));
    // More garbage lines than one file may report (20): the rest are counted in a note, on later reads too.
    fs.writeFileSync(damaged, [...lines.slice(0, 3), ...Array.from({ length: 25 }, () => 'garbage here\n'), ...lines.slice(3)].join(''));
    const orphan = path.join(dir, 'mlruns', '1', 'e'.repeat(32), 'metrics', 'x');
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.writeFileSync(orphan, '1675439113199 1 0\n');
    const deletedMeta = path.join(dir, 'mlruns', '1', RUN_C, 'meta.yaml');
    fs.writeFileSync(deletedMeta, fs.readFileSync(deletedMeta, 'utf8').replace('lifecycle_stage: active', 'lifecycle_stage: deleted'));
    const problems = async (store: RunStore) => (store.getSource(`${dir}/mlruns`)?.lastError ?? '').split('\n').sort();
    const freshProblems = async () => {
      const fresh = freshRunStore();
      try {
        await ingest(fresh, dir);
        return await problems(fresh);
      } finally {
        fresh.close();
      }
    };

    const store = freshRunStore();
    try {
      await ingest(store, dir);
      const first = await problems(store);
      assert.ok(first.some((line) => line.includes('ep_len_mean') && /line 4\b/.test(line)), first.join('\n'));
      assert.ok(first.some((line) => line.includes('no meta.yaml')), first.join('\n'));
      assert.ok(first.some((line) => line.includes('ep_len_mean') && line.includes('5 more problems')), first.join('\n'));
      assert.ok(!storedRuns(store, 'mlflow').has(`1|${RUN_C}`), 'hidden');

      // Another metric of the same run grows, and a file of the hidden run changes.
      appendBytes(metricFile(dir, RUN_A, 'time/fps'), '1675440096999 12 999999\n');
      fs.writeFileSync(path.join(dir, 'mlruns', '1', RUN_C, 'params', 'lr'), '0.5');
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', [RUN_B]: 'keep', ['e'.repeat(32)]: 'keep' }, 'one metric grows');
      assert.deepEqual(await problems(store), await freshProblems());
      assert.ok(!storedRuns(store, 'mlflow').has(`1|${RUN_C}`), 'still hidden');

      // The damaged file itself grows: its old problem is still reported, with its line number.
      appendBytes(damaged, '1675440096999 12 999999\n');
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', [RUN_B]: 'keep' }, 'damaged file grows');
      assert.deepEqual(await problems(store), await freshProblems());
    } finally {
      store.close();
    }
  });

  test('a big metric file read in several chunks, with CRLF, nan and inf lines, grows and matches a full read', async () => {
    const dir = realCopy(SB3);
    const file = metricFile(dir, RUN_A, 'train/loss-big');
    const values = ['0.5', 'nan', 'inf', '-inf', '1.7976931348623157e308', '-0.0', '0.30000000000000004', '1e-05', '123456789012345678'];
    const lineOf = (i: number) => `${1675439113199 + i} ${i % 7 === 0 ? values[(i / 7) % values.length] : String((i * 0.37) % 3)} ${i}${i % 3 === 0 ? '\r\n' : '\n'}`;
    let text = '';
    for (let i = 0; i < 400_000; i++) text += lineOf(i); // ~12 MB: more than one read chunk
    fs.writeFileSync(file, text);
    const store = freshRunStore();
    try {
      await ingest(store, dir);
      assertSameRuns(storedRuns(store, 'mlflow'), await freshRuns(dir, 'mlflow'), 'first ingest');
      let more = '';
      for (let i = 400_000; i < 400_100; i++) more += lineOf(i);
      // Stop between a CR and its LF.
      const cut = more.indexOf('\r\n') + 1;
      appendBytes(file, more.slice(0, cut));
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', [RUN_B]: 'keep', [RUN_C]: 'keep' }, 'up to a CR');
      appendBytes(file, more.slice(cut));
      await stepAndCheck(mlflowReader, dir, store, { [RUN_A]: 'append', [RUN_B]: 'keep', [RUN_C]: 'keep' }, 'the rest');
    } finally {
      store.close();
    }
  });
});

// ---------------------------------------------------------------------------
// TensorBoard

const LSTM = 'logs/tensorboard/lightning-lstm-single-file';
const TF1 = 'logs/tensorboard/tf1-estimator-simple-value';

function onlyEventFile(dir: string): string {
  const files = fs.readdirSync(dir).filter((name) => name.startsWith('events.out.tfevents.'));
  assert.equal(files.length, 1);
  return path.join(dir, files[0]);
}

describe('TensorBoard event files, read incrementally', () => {
  test('appended records are read alone; a half-written record waits and is read once; params stay', async () => {
    const dir = realCopy(LSTM);
    const runDir = path.join(dir, 'lightning_logs', 'version_0');
    const file = onlyEventFile(runDir);
    const bytes = fs.readFileSync(file);
    const offsets = recordOffsets(bytes);
    const total = offsets.length - 1;
    assert.ok(total > 10_000);
    rewrite(file, bytes.subarray(0, offsets[5000]));

    const store = freshRunStore();
    try {
      await ingest(store, dir);
      const first = storedRuns(store, 'tensorboard');
      assertSameRuns(first, await freshRuns(dir, 'tensorboard'), 'first ingest');
      const params = first.get('lightning_logs|version_0')!.params;
      assert.ok(Object.keys(params).length > 0, 'hparams were read');

      appendBytes(file, bytes.subarray(offsets[5000], offsets[5100]));
      let read = await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'a hundred records');
      assert.ok(read.points > 0);

      // Half a record (inside its data), then the rest of it.
      const half = offsets[5100] + Math.floor((offsets[5101] - offsets[5100]) / 2);
      appendBytes(file, bytes.subarray(offsets[5100], half));
      read = await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'half a record');
      assert.equal(read.points, 0);
      appendBytes(file, bytes.subarray(half, offsets[5101]));
      read = await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'the rest of it');
      assert.equal(read.points, 1);

      // Only a header's worth, then everything else.
      appendBytes(file, bytes.subarray(offsets[5101], offsets[5101] + 7));
      read = await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'part of a header');
      assert.equal(read.points, 0);
      appendBytes(file, bytes.subarray(offsets[5101] + 7));
      await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'all the rest');
      assert.deepEqual(storedRuns(store, 'tensorboard').get('lightning_logs|version_0')!.params, params, 'params survive appends');

      // Nothing changed: nothing read, nothing written.
      const stats = store.stats();
      const summary = await ingest(store, dir);
      assert.equal(summary.sourcesRead, 0);
      assert.equal(summary.sourcesUnchanged, 1);
      assert.deepEqual(store.stats(), stats);
    } finally {
      store.close();
    }
  });

  test('a new event file after the others is appended; one before them with the same tags replaces the run', async () => {
    const dir = realCopy(LSTM);
    const runDir = path.join(dir, 'lightning_logs', 'version_0');
    const store = freshRunStore();
    try {
      await ingest(store, dir);
      const params = storedRuns(store, 'tensorboard').get('lightning_logs|version_0')!.params;

      // A restarted writer's file: named after the existing one, so it comes after it.
      const later = new EventFileWriter(path.join(runDir, 'events.out.tfevents.1716739999.99c8c45923de.3769.0'));
      later.fileVersion(1716739999);
      for (let step = 0; step < 50; step++) later.scalar(1716739999 + step, 100_000 + step, 'train_loss', 1 / (step + 1));
      later.scalar(1716740100, 100_050, 'restart_marker', 1);
      later.close();
      const read = await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'file after');
      assert.equal(read.points, 51);
      assert.deepEqual(storedRuns(store, 'tensorboard').get('lightning_logs|version_0')!.params, params, 'params kept');

      // A file with no scalars before the others (TF's .profile-empty): nothing is out of order.
      const profile = new EventFileWriter(path.join(runDir, 'events.out.tfevents.1000000000.99c8c45923de.profile-empty'));
      profile.fileVersion(1000000000);
      profile.close();
      await stepAndCheck(tensorboardReader, dir, store, { version_0: 'append' }, 'empty file before');

      // A file before the others with points for a tag they have: its points come first in a full read.
      const earlier = new EventFileWriter(path.join(runDir, 'events.out.tfevents.1000000001.99c8c45923de.1.0'));
      earlier.fileVersion(1000000001);
      earlier.scalar(1000000002, 0, 'train_loss', 9);
      earlier.close();
      await stepAndCheck(tensorboardReader, dir, store, { version_0: 'replace' }, 'file before', { newPointsOnly: false });
    } finally {
      store.close();
    }
  });

  test('two runs: a truncated file or a rewritten head replaces only its run; garbage is reported once; new and deleted run dirs', async () => {
    const dir = realCopy(TF1);
    const trainFile = onlyEventFile(path.join(dir, 'model_dir'));
    const evalFile = onlyEventFile(path.join(dir, 'model_dir', 'eval'));
    const store = freshRunStore();
    try {
      await ingest(store, dir);
      assertSameRuns(storedRuns(store, 'tensorboard'), await freshRuns(dir, 'tensorboard'), 'first ingest');

      // Truncated to a record boundary.
      const evalBytes = fs.readFileSync(evalFile);
      const evalOffsets = recordOffsets(evalBytes);
      rewrite(evalFile, evalBytes.subarray(0, evalOffsets[Math.floor(evalOffsets.length / 2)]));
      await stepAndCheck(tensorboardReader, dir, store, { model_dir: 'keep', 'model_dir/eval': 'replace' }, 'truncated', { newPointsOnly: false });

      // Same length, a different first record: rewritten, not appended to.
      const trainBytes = fs.readFileSync(trainFile);
      const trainOffsets = recordOffsets(trainBytes);
      const firstRecord = trainBytes.subarray(trainOffsets[0], trainOffsets[1]);
      const replacement = frameRecord(encodeEvent({ wallTimeSecs: 1535284000.5, fileVersion: 'brain.Event:2' }));
      assert.equal(replacement.length, firstRecord.length, 'the replacement first record has the same length');
      rewrite(trainFile, Buffer.concat([replacement, trainBytes.subarray(trainOffsets[1])]));
      await stepAndCheck(tensorboardReader, dir, store, { model_dir: 'replace', 'model_dir/eval': 'keep' }, 'rewritten head', { newPointsOnly: false });
      assert.equal(storedRuns(store, 'tensorboard').get('tf1-estimator-simple-value|model_dir')!.startTime, 1535284000500);

      // Garbage, then good records: one warning, the good records read once, the warning kept on later reads.
      const writer = new EventFileWriter(evalFile, { append: true });
      writer.raw(Buffer.from('not a record, just bytes that a crash left behind'));
      writer.scalar(1535285000, 9000, 'loss', 0.25);
      writer.close();
      bumpMtime(evalFile);
      await stepAndCheck(tensorboardReader, dir, store, { model_dir: 'keep', 'model_dir/eval': 'append' }, 'garbage then a record');
      const lastError = () => store.getSource(toPosixPath(dir))?.lastError ?? '';
      assert.match(lastError(), /Damaged TFRecord/);
      appendBytes(evalFile, frameRecord(encodeEvent({ wallTimeSecs: 1535285001, step: 9001, summary: [{ tag: 'loss', simpleValue: 0.125 }] })));
      const read = await stepAndCheck(tensorboardReader, dir, store, { model_dir: 'keep', 'model_dir/eval': 'append' }, 'one more record');
      assert.equal(read.points, 1);
      assert.equal(lastError().match(/Damaged TFRecord/g)?.length, 1, 'reported once, and still reported');

      // A new run dir is read whole; a deleted one goes; the others are kept.
      const newRun = new EventFileWriter(path.join(dir, 'model_dir', 'eval_b', 'events.out.tfevents.1535290000.DEVICE-1357'));
      newRun.fileVersion(1535290000);
      newRun.scalar(1535290001, 1, 'loss', 0.5);
      newRun.close();
      await stepAndCheck(tensorboardReader, dir, store, { model_dir: 'keep', 'model_dir/eval': 'keep', 'model_dir/eval_b': 'replace' }, 'new run dir');
      fs.rmSync(path.join(dir, 'model_dir', 'eval'), { recursive: true });
      const afterDelete = await stepAndCheck(tensorboardReader, dir, store, { model_dir: 'keep', 'model_dir/eval_b': 'keep' }, 'run dir deleted', { newPointsOnly: false });
      assert.equal(afterDelete.points, 0);
      assert.ok(!storedRuns(store, 'tensorboard').has('tf1-estimator-simple-value|model_dir/eval'));
    } finally {
      store.close();
    }
  });
});
