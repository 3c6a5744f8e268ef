// Store write rate and size, next to a bare one-row-per-point INSERT loop on
// the same machine in the same run (the baseline the ratio is against).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { ParsedSource } from '../src/core/ingest/types';

import { openStore } from '../src/core/database/open';

export interface StoreWriteResult {
  points: number;
  bareRowsPerSec: number;
  storePointsPerSec: number;
  ratio: number;
  bareBytesPerPoint: number;
  storeBytesPerPoint: number;
}

/** A realistic series: integer steps, millisecond wall times, float64 values with noise. */
function makePoints(n: number) {
  const steps = new Float64Array(n);
  const values = new Float64Array(n);
  const walls = new Float64Array(n);
  let state = 12345;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    steps[i] = i;
    values[i] = 2 * Math.exp(-i / (n / 5)) + (state / 2 ** 32) * 0.05;
    walls[i] = 1_700_000_000_000 + i * 41 + (state % 7);
  }
  return { steps, values, walls };
}

function fileBytes(db: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(db + suffix)) total += fs.statSync(db + suffix).size;
  }
  return total;
}

export function benchStoreWrite(dir: string, n: number): StoreWriteResult {
  const points = makePoints(n);

  // Baseline: the obvious schema, one row per point, one transaction, a prepared statement.
  const bareFile = path.join(dir, 'bare.db');
  const bare = new Database(bareFile);
  bare.pragma('journal_mode = WAL');
  bare.pragma('synchronous = NORMAL');
  bare.exec('CREATE TABLE points (series_id INTEGER NOT NULL, step REAL NOT NULL, value REAL, wall REAL)');
  const insert = bare.prepare('INSERT INTO points VALUES (?, ?, ?, ?)');
  const bareStart = process.hrtime.bigint();
  bare.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(1, points.steps[i], points.values[i], points.walls[i]);
  })();
  const bareSec = Number(process.hrtime.bigint() - bareStart) / 1e9;
  bare.pragma('wal_checkpoint(TRUNCATE)');
  bare.close();

  // RunLens: the store's own write path, in ingest-sized batches.
  const storeFile = path.join(dir, 'store.db');
  const store = openStore(storeFile).runs;
  const source: ParsedSource = {
    format: 'tensorboard',
    root: '/bench',
    warnings: [],
    experiments: [{ key: 'e', name: 'bench', lifecycle: 'active', runs: [{ key: 'r', name: 'r', path: '/bench/r', status: 'running', params: {}, tags: {}, metrics: {}, summaries: {} }] }],
  };
  store.replaceSource(source, []);
  const runId = store.findRuns('r')[0].id;
  const batch = 50_000;
  const storeStart = process.hrtime.bigint();
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    store.appendPoints(runId, 'loss', { steps: points.steps.subarray(from, to), values: points.values.subarray(from, to), walls: points.walls.subarray(from, to) });
  }
  const storeSec = Number(process.hrtime.bigint() - storeStart) / 1e9;
  const readBack = store.readSeries(runId, 'loss')!;
  if (readBack.values.length !== n || readBack.values[n - 1] !== points.values[n - 1]) throw new Error('store read-back does not match what was written');
  store.close();
  const check = new Database(storeFile);
  check.pragma('wal_checkpoint(TRUNCATE)');
  check.close();

  return {
    points: n,
    bareRowsPerSec: n / bareSec,
    storePointsPerSec: n / storeSec,
    ratio: bareSec / storeSec,
    bareBytesPerPoint: fileBytes(bareFile) / n,
    storeBytesPerPoint: fileBytes(storeFile) / n,
  };
}
