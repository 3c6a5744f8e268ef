// Streaming ingest: a source read in slices of a byte budget (FormatReader.read's
// limits, the engine's sliceBytes) must end up in the store exactly as one
// read of the whole source does: every run, param, tag and summary, every
// point in order (NaN, ±Infinity and -0 kept), the same warnings; runs that
// span many slices included. A cancel between slices leaves a store whose
// series are each a prefix of the full ones and whose cursors say so, and the
// next ingest completes it.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { ingestPaths, type IngestOptions, type IngestSummary } from '../../../src/core/ingest/engine';
import { partsAheadCounts } from '../../../src/core/ingest/mlflowMetricParts';
import { parseWorkerRunning } from '../../../src/core/ingest/parseWorker';
import { ALL_READERS } from '../../../src/core/ingest/registry';
import { EventFileWriter, eventFileName } from '../../../src/core/ingest/tensorboard/writer';
import { listFilesRecursive, toPosixPath } from '../../../src/core/ingest/text';
import type { FileCursor, FormatReader, IngestWarning, ParsedSource, ReadLimits } from '../../../src/core/ingest/types';
import type { RunStore } from '../../../src/core/store/types';
import { assertSameNumbers, tempRoot, writeTree } from './helpers';
import { openStore } from '../../../src/core/database/open';

// ---------------------------------------------------------------------------
// The store, all of it

interface StoredSeries {
  steps: number[];
  values: number[];
  walls: number[];
}

interface StoredRun {
  name: string;
  status: string;
  startTime: number | null;
  endTime: number | null;
  lastWrite: number | null;
  label: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  summaries: Record<string, number | string>;
  series: Record<string, StoredSeries>;
  /** What the series table says about each series (counts, ranges, last point). */
  seriesRows: Record<string, unknown>;
}

function freshRunStore(): RunStore {
  return openStore(path.join(makeTempDir('runlens-slices-db-'), 'runlens.db')).runs;
}

function snapshot(store: RunStore): Map<string, StoredRun> {
  const out = new Map<string, StoredRun>();
  for (const summary of store.listRuns({ includeHidden: true }).runs) {
    const run = store.getRun(summary.id)!;
    const series: Record<string, StoredSeries> = {};
    const seriesRows: Record<string, unknown> = {};
    for (const s of run.series) {
      const points = store.readSeries(summary.id, s.key)!;
      series[s.key] = { steps: Array.from(points.steps), values: Array.from(points.values), walls: Array.from(points.walls) };
      const { id: _id, ...row } = s;
      seriesRows[s.key] = row;
    }
    out.set(`${summary.format}|${summary.sourceRoot}|${summary.experimentKey}|${summary.runKey}`, {
      name: run.name,
      status: run.status,
      startTime: run.startTime,
      endTime: run.endTime,
      lastWrite: run.lastWrite,
      label: run.label,
      params: run.params,
      tags: run.tags,
      summaries: run.summaries,
      series,
      seriesRows,
    });
  }
  return out;
}

function assertSameStore(actual: Map<string, StoredRun>, expected: Map<string, StoredRun>, label: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${label}: runs`);
  for (const [key, want] of expected) {
    const got = actual.get(key)!;
    const { series: gotSeries, seriesRows: gotRows, ...gotRest } = got;
    const { series: wantSeries, seriesRows: wantRows, ...wantRest } = want;
    assert.deepStrictEqual(gotRest, wantRest, `${label}: ${key}`);
    assert.deepStrictEqual(gotRows, wantRows, `${label}: ${key} series summaries`);
    assert.deepEqual(Object.keys(gotSeries).sort(), Object.keys(wantSeries).sort(), `${label}: ${key} series`);
    for (const [name, series] of Object.entries(wantSeries)) {
      for (const column of ['steps', 'values', 'walls'] as const) {
        assertSameNumbers(gotSeries[name][column], series[column], `${label}: ${key} ${name} ${column}`);
      }
    }
  }
}

/** Every series of `actual` is a prefix of the one in `expected` (a run not reached yet may be missing). */
function assertPrefixStore(actual: Map<string, StoredRun>, expected: Map<string, StoredRun>, label: string): void {
  for (const [key, got] of actual) {
    const want = expected.get(key);
    assert.ok(want, `${label}: ${key} is a run of the source`);
    for (const [name, series] of Object.entries(got.series)) {
      const full = want.series[name];
      assert.ok(full, `${label}: ${key} ${name} is a series of the run`);
      for (const column of ['steps', 'values', 'walls'] as const) {
        assertSameNumbers(series[column], full[column].slice(0, series[column].length), `${label}: ${key} ${name} ${column} is a prefix`);
      }
    }
  }
}

/** Readers that count their calls and the slices they returned. */
function countingReaders(): { readers: FormatReader[]; calls: () => number; partial: () => number } {
  let calls = 0;
  let partial = 0;
  const readers = ALL_READERS.map((reader): FormatReader => ({
    format: reader.format,
    discover: (files) => reader.discover(files),
    read: async (candidate, signal, previous, limits) => {
      calls++;
      const source = await reader.read(candidate, signal, previous, limits);
      if (source.complete === false) partial++;
      return source;
    },
  }));
  return { readers, calls: () => calls, partial: () => partial };
}

async function ingestWith(dir: string, options: IngestOptions & { readers?: readonly FormatReader[] } = {}, store = freshRunStore()): Promise<{ store: RunStore; summary: IngestSummary }> {
  const summary = await ingestPaths(store, options.readers ?? ALL_READERS, [dir], options);
  return { store, summary };
}

function sortedWarnings(warnings: readonly IngestWarning[]): string[] {
  return warnings.map((w) => `${w.file}: ${w.message}`).sort();
}

/** Bytes of the biggest source's files under `dir` (what one read of it takes in). */
async function biggestSourceBytes(dir: string): Promise<number> {
  const files = await listFilesRecursive(dir);
  let biggest = 0;
  for (const reader of ALL_READERS) {
    for (const candidate of await reader.discover(files)) {
      biggest = Math.max(biggest, candidate.files.reduce((n, file) => n + fs.statSync(file).size, 0));
    }
  }
  return biggest;
}

function realCopy(relativeCase: string): string {
  return toPosixPath(fs.realpathSync(copyCorpus(relativeCase)));
}

/**
 * Ingests `dir` in one read and in slices of each budget, and checks that
 * the stores are the same and that the sliced ingest really was sliced.
 */
async function assertSlicesEqualOneRead(dir: string, budgets: readonly number[], label: string): Promise<void> {
  const biggest = await biggestSourceBytes(dir);
  const once = await ingestWith(dir, { sliceBytes: Number.MAX_SAFE_INTEGER });
  const expected = snapshot(once.store);
  once.store.close();
  for (const budget of budgets) {
    const counting = countingReaders();
    const sliced = await ingestWith(dir, { sliceBytes: budget, readers: counting.readers });
    if (biggest > budget) assert.ok(counting.partial() > 0, `${label}: a budget of ${budget} bytes gives more than one slice`);
    assertSameStore(snapshot(sliced.store), expected, `${label}, slices of ${budget} bytes`);
    assert.deepEqual(sortedWarnings(sliced.summary.warnings), sortedWarnings(once.summary.warnings), `${label}, slices of ${budget} bytes: warnings`);
    assert.equal(sliced.summary.points, once.summary.points, `${label}, slices of ${budget} bytes: points`);
    assert.equal(sliced.summary.runs, once.summary.runs, `${label}, slices of ${budget} bytes: runs written`);
    // Every series is reported once, with all its points.
    const changes = (s: IngestSummary) => s.changes.map((c) => `${c.runUid} ${c.key} +${c.newPoints} @${c.lastStep}=${c.lastValue}`).sort();
    assert.deepEqual(changes(sliced.summary), changes(once.summary), `${label}, slices of ${budget} bytes: changes`);
    // Ingesting again finds nothing to do.
    const again = await ingestPaths(sliced.store, ALL_READERS, [dir], { sliceBytes: budget });
    assert.equal(again.sourcesRead, 0, `${label}, slices of ${budget} bytes: the cursors cover everything`);
    sliced.store.close();
  }
}

const CORPUS_CASES = [
  'logs/mlflow/pytorch-mnist-mlflow1',
  'logs/mlflow/sb3-rl-nested-metric-keys',
  'logs/tensorboard/lightning-lstm-single-file',
  'logs/tensorboard/tf1-estimator-simple-value',
  'logs/lightning-csv/column-order-varies',
  'logs/lightning-csv/sparse-train-val-rows',
  'logs/keras-csv/append-mode-restarts',
  'logs/keras-csv/legacy-acc-names-training-log',
  'logs/dvclive/lightning-hydra-nested',
  'logs/dvclive/legacy-v0-scalars-timestamp',
];

describe('ingest in slices equals one read', () => {
  for (const caseDir of CORPUS_CASES) {
    test(caseDir, async () => {
      const dir = realCopy(caseDir);
      const bytes = await biggestSourceBytes(dir);
      // Budgets that cut files at many places, and one that cuts the biggest source in about three.
      await assertSlicesEqualOneRead(dir, [Math.floor(bytes / 41) + 7, Math.floor(bytes / 3) + 1], caseDir);
    });
  }

  test('tiny budgets (one line or record per file and slice) on small logs of every format', async () => {
    const root = tempRoot();
    writeTree(root, {
      'mlruns/0/meta.yaml': 'experiment_id: "0"\nname: Default\nlifecycle_stage: active\n',
      'mlruns/0/r1/meta.yaml': 'run_id: r1\nrun_name: one\nstatus: 3\nstart_time: 1700000000000\nend_time: 1700000009000\nlifecycle_stage: active\n',
      'mlruns/0/r1/metrics/loss': '1700000000000 1.5 0\n1700000000001 nan 1\r\n1700000000002 -0.0 2\n\n1700000000003 inf 3\rgarbage\n1700000000004 -inf 4\n1700000000005 0.30000000000000004 5',
      'mlruns/0/r1/metrics/acc': '1700000000000 0.1 0\n1700000000001 0.2 1\n',
      'mlruns/0/r1/params/lr': '0.01',
      'mlruns/0/r2/meta.yaml': 'run_id: r2\nrun_name: two\nstatus: 1\n',
      'mlruns/0/r2/metrics/x': '1700000000000 1 0\n1700000000000 2 0\n',
      'lightning_logs/version_0/metrics.csv': '\uFEFFepoch,step,loss,val\n0,0,1.5,\n0,0,,0.5\r\n0,1,nan,\n\n0,2,-0.0,x\n1,3,inf,\n1,3,inf,-inf\n,,,\n1,4,"2.5",\n',
      'lightning_logs/version_0/hparams.yaml': 'lr: 0.01\n',
      'lightning_logs/version_1/metrics.csv': 'step,a\n0,1\n1,2\n',
      'training.log': 'epoch,acc,loss\r\n0,0.5,1.0\r\n1,NA,nan\r\n2,0.7,0.8\r\n0,0.4,1.1\r\n1,x,1.0\r\n',
      'dvclive/metrics.json': '{"step": 3, "loss": 0.5, "only_summary": 7}',
      'dvclive/params.yaml': 'lr: 0.1\n',
      'dvclive/plots/metrics/loss.tsv': 'step\tloss\n0\t1.0\n1\tnan\n2\t-0.0\n3\t0.5\n',
      'dvclive/plots/metrics/acc.tsv': 'step\tacc\n0\t0.1\n1\tbad\n',
    });
    await assertSlicesEqualOneRead(root, [1, 13], 'small logs');
  });
});

// ---------------------------------------------------------------------------
// Big generated logs: one run, many slices

function writeBigMlflow(root: string, lines: number): string {
  const run = `${root}/mlruns/1/0123456789abcdef`;
  const body: string[] = [];
  for (let i = 0; i < lines; i++) body.push(`${1_700_000_000_000 + i * 37} ${i % 97 === 0 ? 'nan' : i % 89 === 0 ? '-0.0' : String(Math.fround(Math.sin(i)))} ${i}`);
  writeTree(root, {
    'mlruns/1/meta.yaml': 'experiment_id: "1"\nname: big\nlifecycle_stage: active\n',
    'mlruns/1/0123456789abcdef/meta.yaml': 'run_id: 0123456789abcdef\nrun_name: big\nstatus: 1\nstart_time: 1700000000000\n',
    'mlruns/1/0123456789abcdef/params/lr': '0.001',
    'mlruns/1/0123456789abcdef/metrics/loss': body.join('\n') + '\n',
    'mlruns/1/0123456789abcdef/metrics/acc': body.slice(0, lines / 2).join('\r\n') + '\r\n',
    'mlruns/1/0123456789abcdef/metrics/val/loss': body.slice(0, 10).join('\n') + '\n',
  });
  return `${run}/metrics/loss`;
}

function writeBigLightning(root: string, rows: number): string {
  const lines = ['epoch,step,lr,train_loss,val_loss'];
  for (let step = 0; lines.length <= rows; step++) {
    lines.push(`${Math.floor(step / 50)},${step},${Math.fround(1e-3 * Math.exp(-step / 500))},${step % 31 === 0 ? 'nan' : Math.fround(Math.cos(step))},`);
    if (step % 10 === 9) lines.push(`${Math.floor(step / 50)},${step},,,${Math.fround(Math.cos(step) * 1.1)}`);
  }
  const file = `${root}/lightning_logs/version_0/metrics.csv`;
  writeTree(root, { 'lightning_logs/version_0/metrics.csv': lines.join('\n') + '\n', 'lightning_logs/version_0/hparams.yaml': 'lr: 0.001\n' });
  return file;
}

function writeBigTensorBoard(root: string, events: number): string {
  const dir = `${root}/tb/run_a`;
  fs.mkdirSync(dir, { recursive: true });
  const writer = new EventFileWriter();
  writer.fileVersion(1_716_000_000);
  for (let step = 0; step < events; step++) {
    const wall = 1_716_000_000 + step * 0.0371;
    writer.scalar(wall, step, 'loss', step % 53 === 0 ? NaN : Math.sin(step));
    writer.scalar(wall, step, 'lr', 1e-3);
  }
  const file = `${dir}/${eventFileName({ timestampSecs: 1_716_000_000, host: 'h', pid: 1, index: 0 })}`;
  fs.writeFileSync(file, writer.toBuffer());
  // A second run dir with two files, so slices also stop between runs and files.
  const second = new EventFileWriter();
  second.fileVersion(1_716_000_000);
  for (let step = 0; step < events / 4; step++) second.scalar(1_716_000_100 + step, step, 'loss', step / 7);
  fs.mkdirSync(`${root}/tb/run_b`, { recursive: true });
  fs.writeFileSync(`${root}/tb/run_b/${eventFileName({ timestampSecs: 1_716_000_100, host: 'h', pid: 2, index: 0 })}`, second.toBuffer());
  const third = new EventFileWriter();
  for (let step = events / 4; step < events / 2; step++) third.scalar(1_716_000_100 + step, step, 'loss', step / 7);
  fs.writeFileSync(`${root}/tb/run_b/${eventFileName({ timestampSecs: 1_716_000_200, host: 'h', pid: 2, index: 1 })}`, third.toBuffer());
  return file;
}

describe('a run spanning many slices', () => {
  for (const [format, write] of [
    ['mlflow', (root: string) => writeBigMlflow(root, 20_000)],
    ['lightning', (root: string) => writeBigLightning(root, 20_000)],
    ['tensorboard', (root: string) => writeBigTensorBoard(root, 8_000)],
  ] as const) {
    test(`${format}: slices of 64 KiB equal one read, point for point`, async () => {
      const root = tempRoot();
      write(root);
      await assertSlicesEqualOneRead(root, [64 * 1024], format);
    });
  }

  for (const [format, write] of [
    ['mlflow', (root: string) => writeBigMlflow(root, 20_000)],
    ['lightning', (root: string) => writeBigLightning(root, 20_000)],
  ] as const) {
    test(`${format}: every read split onto the parse worker, slices of 64 KiB store what one read on one thread does, and the ingest stops the worker`, async () => {
      const root = tempRoot();
      write(root);
      const previousMode = process.env.RUNLENS_PARSE_WORKER;
      try {
        process.env.RUNLENS_PARSE_WORKER = 'thread';
        const once = await ingestWith(root, { sliceBytes: Number.MAX_SAFE_INTEGER });
        const expected = snapshot(once.store);
        once.store.close();
        process.env.RUNLENS_PARSE_WORKER = 'worker';
        const takenBefore = partsAheadCounts.taken;
        const split = await ingestWith(root, { sliceBytes: 64 * 1024 });
        assertSameStore(snapshot(split.store), expected, `${format} split onto the parse worker`);
        assert.equal(parseWorkerRunning(), false, 'the ingest stopped its parse worker');
        if (format === 'mlflow') assert.ok(partsAheadCounts.taken > takenBefore, 'slices took parts parsed ahead while the one before was written');
        split.store.close();
      } finally {
        if (previousMode === undefined) delete process.env.RUNLENS_PARSE_WORKER;
        else process.env.RUNLENS_PARSE_WORKER = previousMode;
      }
    });
  }

  test('the reader alone: slices from the cursors, each stored, add up to one read', async () => {
    const root = tempRoot();
    writeBigMlflow(root, 5_000);
    const reader = ALL_READERS.find((r) => r.format === 'mlflow')!;
    const [candidate] = (await reader.discover(await listFilesRecursive(root))).filter((c) => c.format === 'mlflow');
    const once = await reader.read(candidate);
    assert.notEqual(once.complete, false);
    const points = new Map<string, number[]>();
    let previous: Map<string, FileCursor> | undefined;
    let slices = 0;
    for (;;) {
      const slice: ParsedSource = await reader.read(candidate, undefined, previous, { maxBytes: 10_000 } satisfies ReadLimits);
      slices++;
      for (const run of slice.experiments.flatMap((e) => e.runs)) {
        for (const [key, series] of Object.entries(run.metrics)) {
          // A run is read anew only in the first slice that reaches it, later ones append.
          if (run.update === 'replace' || run.update === undefined) assert.equal(points.has(key), false, `${key}: replaced once`);
          points.set(key, [...(points.get(key) ?? []), ...Array.from(series.values)]);
        }
      }
      if (slice.complete !== false) break;
      assert.ok(slices < 100, 'slices end');
      previous = new Map((slice.cursors ?? []).map((c) => [c.path, c]));
    }
    assert.ok(slices > 10, `${slices} slices`);
    for (const run of once.experiments.flatMap((e) => e.runs)) {
      for (const [key, series] of Object.entries(run.metrics)) assertSameNumbers(points.get(key) ?? [], series.values, `${key} values`);
    }
  });
});

// ---------------------------------------------------------------------------
// Cancel between slices

describe('a cancel between slices', () => {
  for (const [format, write] of [
    ['mlflow', (root: string) => writeBigMlflow(root, 20_000)],
    ['lightning', (root: string) => writeBigLightning(root, 20_000)],
    ['tensorboard', (root: string) => writeBigTensorBoard(root, 8_000)],
  ] as const) {
    test(`${format}: leaves each series a prefix of the full one, and the next ingest completes it`, async () => {
      const root = tempRoot();
      write(root);
      const full = await ingestWith(root, { sliceBytes: Number.MAX_SAFE_INTEGER });
      const expected = snapshot(full.store);
      full.store.close();

      for (const stopAfter of [1, 3]) {
        const store = freshRunStore();
        const controller = new AbortController();
        let slices = 0;
        const cancelled = await ingestPaths(store, ALL_READERS, [root], {
          sliceBytes: 48 * 1024,
          signal: controller.signal,
          // Progress between slices: the slice before is written, the next not read yet.
          onProgress: (p) => {
            if (/points so far/.test(p.message) && ++slices === stopAfter) controller.abort();
          },
        });
        assert.equal(cancelled.cancelled, true, `stopped after ${stopAfter} slices`);
        const partial = snapshot(store);
        assert.ok(partial.size > 0, 'what was read is kept');
        assertPrefixStore(partial, expected, `after ${stopAfter} slices`);
        let stored = 0;
        for (const run of partial.values()) for (const s of Object.values(run.series)) stored += s.values.length;
        assert.equal(stored, cancelled.points, 'the summary counts what was stored');

        // The store's cursors describe what it holds: the next ingest reads the rest, once.
        const done = await ingestPaths(store, ALL_READERS, [root], { sliceBytes: 48 * 1024 });
        assert.equal(done.cancelled, false);
        assertSameStore(snapshot(store), expected, `completed after a cancel after ${stopAfter} slices`);
        let total = 0;
        for (const run of expected.values()) for (const s of Object.values(run.series)) total += s.values.length;
        assert.equal(cancelled.points + done.points, total, 'no point read twice');
        store.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Re-reads in slices

describe('re-reads in slices', () => {
  test('appends to a stored run, read in slices, equal a fresh read', async () => {
    const root = tempRoot();
    const metric = writeBigMlflow(root, 2_000);
    const csv = writeBigLightning(root, 2_000);
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [root], { sliceBytes: 16 * 1024 });
    const more: string[] = [];
    for (let i = 2_000; i < 8_000; i++) more.push(`${1_700_000_000_000 + i * 37} ${Math.fround(Math.sin(i))} ${i}`);
    fs.appendFileSync(metric, more.join('\n') + '\n');
    const rows: string[] = [];
    for (let step = 5_000; step < 9_000; step++) rows.push(`${Math.floor(step / 50)},${step},${Math.fround(1e-3 * Math.exp(-step / 500))},${Math.fround(Math.cos(step))},`);
    fs.appendFileSync(csv, rows.join('\n') + '\n');
    const counting = countingReaders();
    await ingestPaths(store, counting.readers, [root], { sliceBytes: 16 * 1024 });
    assert.ok(counting.partial() > 3, `the appended bytes took ${counting.partial()} partial slices`);
    const fresh = await ingestWith(root, { sliceBytes: Number.MAX_SAFE_INTEGER });
    assertSameStore(snapshot(store), snapshot(fresh.store), 'after appends read in slices');
    fresh.store.close();
    store.close();
  });

  test('a forced re-read in slices keeps every run (and its label) until the read is complete', async () => {
    const root = tempRoot();
    writeBigMlflow(root, 4_000);
    writeTree(root, {
      'mlruns/1/fedcba9876543210/meta.yaml': 'run_id: fedcba9876543210\nrun_name: later\nstatus: 3\n',
      'mlruns/1/fedcba9876543210/metrics/loss': '1700000000000 0.5 0\n',
    });
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [root]);
    const before = snapshot(store);
    for (const run of store.listRuns().runs) store.annotateRun(run.id, { label: `label of ${run.name}` });
    const labelled = snapshot(store);
    const controller = new AbortController();
    const cancelled = await ingestPaths(store, ALL_READERS, [root], {
      force: true,
      sliceBytes: 8 * 1024,
      signal: controller.signal,
      onProgress: (p) => {
        if (/points so far/.test(p.message)) controller.abort();
      },
    });
    assert.equal(cancelled.cancelled, true);
    // The run not reached yet is still there as it was, label included.
    const mid = snapshot(store);
    const later = [...mid.keys()].find((key) => key.endsWith('|fedcba9876543210'))!;
    assert.deepEqual(mid.get(later), labelled.get(later));
    for (const run of mid.values()) assert.match(run.label ?? '', /^label of /);
    await ingestPaths(store, ALL_READERS, [root], { sliceBytes: 8 * 1024 });
    const after = snapshot(store);
    for (const [key, run] of after) assert.equal(run.label, `label of ${run.name}`, `${key} keeps its label`);
    for (const run of after.values()) run.label = null;
    for (const run of before.values()) run.label = null;
    assertSameStore(after, before, 'after the forced re-read');
    store.close();
  });

  test('a run whose files vanished while a read was cut short is removed by the read that completes', async () => {
    const root = tempRoot();
    writeBigLightning(root, 3_000);
    writeTree(root, { 'lightning_logs/version_1/metrics.csv': 'step,a\n0,1\n1,2\n' });
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [root]);
    fs.rmSync(`${root}/lightning_logs/version_1`, { recursive: true });
    fs.appendFileSync(`${root}/lightning_logs/version_0/metrics.csv`, '100,99999,0.5,0.5,\n');
    await ingestPaths(store, ALL_READERS, [root], { sliceBytes: 4 * 1024 });
    const fresh = await ingestWith(root);
    assertSameStore(snapshot(store), snapshot(fresh.store), 'after the run vanished');
    fresh.store.close();
    store.close();
  });
});
