import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { isUserError } from '../../../src/core/errors';
import type { ParsedSource } from '../../../src/core/ingest/types';
import { acquireAgentLock } from '../../../src/core/store/agentLock';
import { CHUNK_POINTS } from '../../../src/core/store/chunkCodec';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../../src/core/store/migrations';

import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { ingestPaths } from '../../../src/core/ingest/engine';
import { ALL_READERS } from '../../../src/core/ingest/registry';
import { openStore } from '../../../src/core/database/open';

function source(root: string, runs: { key: string; values: number[] }[]): ParsedSource {
  return {
    format: 'mlflow',
    root,
    warnings: [],
    experiments: [
      {
        key: '1',
        name: 'exp',
        lifecycle: 'active',
        runs: runs.map((r) => ({
          key: r.key,
          name: `run-${r.key}`,
          path: path.join(root, r.key),
          status: 'finished' as const,
          startTime: 1000,
          params: { lr: '0.001', nested: 'a: b' },
          tags: { 'mlflow.user': 'me' },
          summaries: { best: 0.5, note: 'text', gone: NaN },
          metrics: {
            loss: { steps: r.values.map((_, i) => i), values: r.values, walls: r.values.map((_, i) => 2000 + i) },
          },
        })),
      },
    ],
  };
}

test('a new database uses WAL, foreign keys and the latest schema', () => {
  const dir = makeTempDir();
  const store = openStore(path.join(dir, 'a.db')).runs;
  assert.equal(store.schemaVersion(), LATEST_SCHEMA_VERSION);
  store.close();
  const raw = new Database(path.join(dir, 'a.db'));
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  const tables = (raw.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]).map((t) => t.name);
  for (const t of ['sources', 'source_files', 'experiments', 'runs', 'params', 'tags', 'series', 'chunks', 'summaries', 'models', 'smoke_tests', 'model_versions', 'registry_audit']) {
    assert.ok(tables.includes(t), `table ${t} missing`);
  }
  for (const t of ['approvals', 'audit_events', 'deployments']) assert.ok(!tables.includes(t), `the v1 placeholder ${t} is dropped (migration 7)`);
  raw.close();
});

test('the runs and the registry of one store share its connection: closing either closes the database', () => {
  const file = path.join(makeTempDir(), 'a.db');
  const store = openStore(file);
  assert.equal(store.registry.auditHead(), null);
  assert.equal(store.runs.listSources().length, 0);
  store.runs.close();
  assert.throws(() => store.registry.auditHead(), /not open/, 'the registry was on the same connection');
  store.close(); // again: harmless
  const again = openStore(file);
  again.registry.close();
  assert.throws(() => again.runs.listSources(), /not open/);
});

test('replaceSource stores runs, params, tags, summaries and exact points, and reads them back', () => {
  const store = openStore(path.join(makeTempDir(), 'a.db')).runs;
  const values = [0.5, NaN, Infinity, -Infinity, 0.17881843447685242];
  const result = store.replaceSource(source('/logs/mlruns', [{ key: 'r1', values }]), [{ path: '/logs/mlruns/1/r1/metrics/loss', size: 10, mtimeMs: 5, offset: 8, headHash: 'abc', state: { header: ['a', 'b'] } }]);
  assert.deepEqual({ runs: result.runs, points: result.points }, { runs: 1, points: 5 });
  const { runs, total } = store.listRuns();
  assert.equal(total, 1);
  assert.equal(runs[0].pointCount, 5);
  assert.equal(runs[0].paramCount, 2);
  const detail = store.getRun(runs[0].id)!;
  assert.deepEqual(detail.params, { lr: '0.001', nested: 'a: b' });
  assert.deepEqual(detail.tags, { 'mlflow.user': 'me' });
  assert.equal(detail.summaries.best, 0.5);
  assert.equal(detail.summaries.note, 'text');
  assert.ok(Number.isNaN(detail.summaries.gone as number));
  assert.equal(detail.series[0].valueMin, -Infinity);
  assert.equal(detail.series[0].valueMax, Infinity);
  assert.equal(detail.series[0].lastValue, 0.17881843447685242);
  const points = store.readSeries(runs[0].id, 'loss')!;
  values.forEach((v, i) => assert.ok(Object.is(points.values[i], v)));
  assert.deepEqual(Array.from(points.walls), [2000, 2001, 2002, 2003, 2004]);
  const [cursor] = store.getSource('/logs/mlruns')!.files;
  assert.deepEqual(cursor, { path: '/logs/mlruns/1/r1/metrics/loss', size: 10, mtimeMs: 5, offset: 8, headHash: 'abc', state: { header: ['a', 'b'] } });
  store.close();
});

test('re-reading a source keeps run ids and annotations, drops runs that vanished', () => {
  const file = path.join(makeTempDir(), 'a.db');
  const store = openStore(file).runs;
  store.replaceSource(source('/r', [{ key: 'a', values: [1] }, { key: 'b', values: [2] }]), []);
  const a = store.findRuns('run-a')[0];
  store.close();
  const raw = new Database(file);
  raw.prepare(`UPDATE runs SET label = 'keep me', starred = 1 WHERE id = ?`).run(a.id);
  raw.close();
  const again = openStore(file).runs;
  const result = again.replaceSource(source('/r', [{ key: 'a', values: [1, 2, 3] }]), []);
  assert.equal(result.removedRuns, 1);
  const after = again.findRuns('run-a')[0];
  assert.equal(after.id, a.id);
  assert.equal(after.uid, a.uid);
  assert.equal(after.label, 'keep me');
  assert.equal(after.starred, true);
  assert.equal(after.pointCount, 3);
  assert.deepEqual(again.findRuns('run-b'), []);
  assert.equal(again.stats().chunks, 1);
  again.close();
});

test("a run marked 'append' gets only new points added; 'keep' leaves it as stored; unmentioned runs go", () => {
  const store = openStore(path.join(makeTempDir(), 'a.db')).runs;
  store.replaceSource(source('/r', [{ key: 'a', values: [1, 2] }, { key: 'b', values: [5] }, { key: 'c', values: [7] }]), []);
  const next = source('/r', [{ key: 'a', values: [3] }, { key: 'b', values: [] }]);
  next.experiments[0].runs[0].update = 'append';
  next.experiments[0].runs[0].metrics.loss.steps = [2];
  next.experiments[0].runs[1] = { ...next.experiments[0].runs[1], update: 'keep', params: {}, metrics: {} };
  const result = store.replaceSource(next, []);
  assert.equal(result.removedRuns, 1);
  const a = store.findRuns('run-a')[0];
  assert.deepEqual(Array.from(store.readSeries(a.id, 'loss')!.values), [1, 2, 3]);
  assert.deepEqual(Array.from(store.readSeries(a.id, 'loss')!.steps), [0, 1, 2]);
  const b = store.getRun(store.findRuns('run-b')[0].id)!;
  assert.deepEqual(b.params, { lr: '0.001', nested: 'a: b' }, 'kept run keeps its params');
  assert.equal(b.pointCount, 1);
  assert.deepEqual(store.findRuns('run-c'), []);
  store.close();
});

test('appendPoints fills the partial last chunk, splits at the chunk size and reads ranges', () => {
  const store = openStore(path.join(makeTempDir(), 'a.db')).runs;
  store.replaceSource(source('/r', [{ key: 'a', values: [0] }]), []);
  const runId = store.findRuns('run-a')[0].id;
  const n = CHUNK_POINTS + 100;
  for (let start = 1; start < n; start += 1000) {
    const len = Math.min(1000, n - start);
    const steps = Array.from({ length: len }, (_, i) => start + i);
    store.appendPoints(runId, 'loss', { steps, values: steps.map((s) => s / 10), walls: steps.map(() => NaN) });
  }
  const stats = store.stats();
  assert.equal(stats.points, n);
  assert.equal(stats.chunks, 2);
  const all = store.readSeries(runId, 'loss')!;
  assert.equal(all.values.length, n);
  for (let i = 0; i < n; i++) assert.equal(all.steps[i], i);
  const range = store.readSeries(runId, 'loss', { min: 4000, max: 4100 })!;
  assert.equal(range.steps.length, 101);
  assert.equal(range.steps[0], 4000);
  assert.equal(range.values[100], 410);
  store.close();
});

test('opening an older database upgrades it step by step and keeps its data', () => {
  const file = path.join(makeTempDir(), 'old.db');
  // A database as the first release left it: schema version 1 only.
  const raw = new Database(file);
  raw.exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL, description TEXT NOT NULL)`);
  raw.exec(MIGRATIONS[0].sql);
  raw.prepare(`INSERT INTO schema_version VALUES (1, 0, 'v1')`).run();
  raw.prepare(`INSERT INTO sources (root, format, ingested_at) VALUES ('/x', 'keras', 1)`).run();
  assert.throws(() => raw.prepare(`SELECT label FROM runs`).all(), /no such column/);
  raw.close();
  const upgraded = openStore(file).runs;
  assert.equal(upgraded.schemaVersion(), LATEST_SCHEMA_VERSION);
  assert.equal(upgraded.listSources()[0].root, '/x');
  upgraded.close();
});

test('a database from before chunk codec 2 (schema 4, version-1 chunks) upgrades, reads back exactly and appends onto its old chunks', () => {
  const file = path.join(makeTempDir(), 'v4.db');
  const n = 1000;
  const steps = Array.from({ length: n }, (_, i) => i);
  const values = steps.map((i) => Math.fround(Math.sin(i)));
  const walls = steps.map((i) => (1_716_000_000 + i * 0.0371) * 1000); // TensorBoard's fractional ms
  const store = openStore(file).runs;
  store.replaceSource(source('/r', [{ key: 'a', values: [0] }]), []);
  const runId = store.findRuns('run-a')[0].id;
  store.appendPoints(runId, 'old', { steps, values, walls });
  store.close();
  // What the previous release wrote: version-1 blobs (one byte of packed encodings; here all float64) and schema 4.
  const raw = new Database(file);
  const v1 = Buffer.alloc(2 + 2 + n * 24);
  let o = 0;
  v1[o++] = 1;
  v1[o++] = 1 | (1 << 2) | (1 << 4);
  v1[o++] = (n & 0x7f) | 0x80;
  v1[o++] = n >> 7;
  for (const column of [steps, values, walls]) for (const v of column) o = v1.writeDoubleLE(v, o);
  const seriesId = (raw.prepare(`SELECT id FROM series WHERE key = 'old'`).get() as { id: number }).id;
  assert.equal(raw.prepare(`UPDATE chunks SET data = ? WHERE series_id = ?`).run(v1, seriesId).changes, 1);
  raw.prepare(`DELETE FROM schema_version WHERE version > 4`).run();
  raw.close();

  const upgraded = openStore(file).runs;
  assert.equal(upgraded.schemaVersion(), LATEST_SCHEMA_VERSION);
  const back = upgraded.readSeries(runId, 'old')!;
  assert.deepEqual(Array.from(back.walls), walls);
  assert.deepEqual(Array.from(back.values), values);
  // Appending refills the old last chunk: it is decoded as version 1 and written again as version 2.
  const more = Array.from({ length: 50 }, (_, i) => n + i);
  upgraded.appendPoints(runId, 'old', { steps: more, values: more.map((i) => i / 4), walls: more.map((i) => (1_716_000_000 + i * 0.0371) * 1000) });
  const all = upgraded.readSeries(runId, 'old')!;
  assert.equal(all.values.length, n + 50);
  assert.deepEqual(Array.from(all.walls), [...walls, ...more.map((i) => (1_716_000_000 + i * 0.0371) * 1000)]);
  assert.deepEqual(Array.from(all.values), [...values, ...more.map((i) => i / 4)]);
  upgraded.close();
  const after = new Database(file, { readonly: true });
  const blob = (after.prepare(`SELECT data FROM chunks WHERE series_id = ?`).get(seriesId) as { data: Buffer }).data;
  after.close();
  assert.equal(blob[0], 2);
  assert.ok(blob.length < v1.length, `rewritten chunk ${blob.length} bytes, was ${v1.length}`);
});

test('a newer database is refused with a message naming the file, and left untouched', () => {
  const file = path.join(makeTempDir(), 'new.db');
  openStore(file).runs.close();
  const raw = new Database(file);
  raw.prepare(`INSERT INTO schema_version (version, applied_at, description) VALUES (999, 0, 'future')`).run();
  raw.close();
  const before = fs.readFileSync(file);
  assert.throws(
    () => openStore(file).runs,
    (e: unknown) => isUserError(e) && e.code === 'database-newer' && e.message.includes(file) && e.message.includes('999'),
  );
  assert.ok(fs.readFileSync(file).equals(before));
});

test('a file that is not a database is refused by name and never overwritten', () => {
  const file = path.join(makeTempDir(), 'notes.db');
  fs.writeFileSync(file, 'my precious notes, not a database\n'.repeat(20));
  const before = fs.readFileSync(file);
  assert.throws(() => openStore(file).runs, (e: unknown) => isUserError(e) && e.code === 'database-corrupt' && e.message.includes(file));
  assert.ok(fs.readFileSync(file).equals(before));
  assert.ok(!fs.existsSync(`${file}-wal`));
});

test('a damaged database (valid header, garbage pages) gives a clear message', () => {
  const file = path.join(makeTempDir(), 'damaged.db');
  openStore(file).runs.close();
  const bytes = fs.readFileSync(file);
  bytes.fill(0xab, 100);
  fs.writeFileSync(file, bytes);
  assert.throws(() => openStore(file).runs, (e: unknown) => isUserError(e) && e.code === 'database-corrupt' && e.message.includes(file));
});

test('a database locked by another process gives a clear message after the busy timeout', () => {
  const file = path.join(makeTempDir(), 'locked.db');
  openStore(file).runs.close();
  const holder = new Database(file);
  holder.pragma('journal_mode = DELETE');
  holder.prepare('BEGIN EXCLUSIVE').run();
  try {
    assert.throws(() => openStore(file, { busyTimeoutMs: 50 }).runs, (e: unknown) => isUserError(e) && e.code === 'database-locked' && e.message.includes(file));
  } finally {
    holder.prepare('ROLLBACK').run();
    holder.close();
  }
});

test('an unwritable storage folder is reported by name', () => {
  const dir = makeTempDir();
  const blocker = path.join(dir, 'a-file');
  fs.writeFileSync(blocker, 'x');
  const target = path.join(blocker, 'sub', 'runlens.db');
  assert.throws(() => openStore(target).runs, (e: unknown) => isUserError(e) && e.code === 'storage-unwritable' && e.message.includes(path.join(blocker, 'sub')));
  assert.equal(fs.readFileSync(blocker, 'utf8'), 'x');
});

test('a second agent on the same database is refused with the first one named; a stale lock is taken over', () => {
  const file = path.join(makeTempDir(), 'a.db');
  const lock = acquireAgentLock(file);
  fs.writeFileSync(lock.path, JSON.stringify({ pid: process.ppid, startedAt: 'earlier' }));
  assert.throws(() => acquireAgentLock(file), (e: unknown) => isUserError(e) && e.code === 'database-in-use' && e.message.includes(String(process.ppid)) && e.message.includes(file));
  fs.writeFileSync(lock.path, JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'long ago' }));
  const taken = acquireAgentLock(file);
  assert.equal(JSON.parse(fs.readFileSync(taken.path, 'utf8')).pid, process.pid);
  taken.release();
  assert.ok(!fs.existsSync(taken.path));
});

test('schema 6: Lightning and DVCLive sources from an older release are read again from their start (not appended twice), annotations kept; other formats are not', async () => {
  const dir = makeTempDir();
  const lightning = copyCorpus('logs/lightning-csv/sparse-train-val-rows');
  const dvclive = copyCorpus('logs/dvclive/lightning-hydra-nested');
  const keras = copyCorpus('logs/keras-csv/append-mode-restarts');
  const file = path.join(dir, 'v5.db');
  const store = openStore(file).runs;
  await ingestPaths(store, ALL_READERS, [lightning, dvclive, keras]);
  const run = store.findRuns('version_0')[0];
  const dvcRun = store.listRuns({ includeHidden: true }).runs.find((r) => r.format === 'dvclive')!;
  const dvcPoints = new Map(store.getRun(dvcRun.id)!.series.map((s) => [s.key, s.pointCount]));
  assert.equal(dvcPoints.get('epoch'), 20, 'epoch.tsv has every row twice: 20 points');
  store.annotateRun(run.id, { starred: true, label: 'kept' });
  const epochPoints = store.getRun(run.id)!.series.find((s) => s.key === 'epoch')!.pointCount;
  assert.equal(epochPoints, 237, 'every row\'s epoch cell is a point');
  store.close();
  // What the release before schema 6 left: the epoch cell of an epoch end's two rows stored once
  // (emulated by losing the epoch series), cursors that say every file was read, schema 5.
  const raw = new Database(file);
  raw.prepare(`DELETE FROM series WHERE key = 'epoch' AND run_id = ?`).run(run.id);
  raw.prepare(`DELETE FROM schema_version WHERE version > 5`).run();
  raw.close();

  const upgraded = openStore(file).runs;
  assert.equal(upgraded.schemaVersion(), LATEST_SCHEMA_VERSION);
  const summary = await ingestPaths(upgraded, ALL_READERS, [lightning, dvclive, keras]);
  assert.equal(summary.sourcesRead, 2, 'the Lightning and DVCLive sources are read again');
  assert.equal(summary.sourcesUnchanged, 1, 'the Keras source keeps its cursors');
  const again = upgraded.getRun(run.id)!;
  assert.equal(again.series.find((s) => s.key === 'epoch')?.pointCount, 237);
  assert.equal(again.starred, true);
  assert.equal(again.label, 'kept');
  // Read again from scratch, not appended a second time onto what was stored.
  assert.deepEqual(new Map(upgraded.getRun(dvcRun.id)!.series.map((s) => [s.key, s.pointCount])), dvcPoints);
  upgraded.close();
});
