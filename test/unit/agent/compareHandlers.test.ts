// The agent's comparison requests against a real SQLite store.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';
import { compareDivergence, compareSummary, downsampledSeries } from '../../../src/agent/compareHandlers';
import type { ParsedRun } from '../../../src/core/ingest/types';

import { fromWire } from '../../../src/shared/wireNumbers';
import { makeTempDir } from '../../support/fixtures';
import { openStore } from '../../../src/core/database/open';

function storeWith(runs: Omit<ParsedRun, 'path' | 'status' | 'params' | 'tags' | 'summaries'>[]) {
  const root = makeTempDir();
  const store = openStore(path.join(root, 'db.sqlite')).runs;
  store.replaceSource(
    {
      format: 'tensorboard',
      root,
      warnings: [],
      experiments: [{ key: 'e', name: 'e', lifecycle: 'active', runs: runs.map((r) => ({ ...r, path: path.join(root, r.key), status: 'finished', params: {}, tags: {}, summaries: {} })) }],
    },
    [],
  );
  const ids = new Map(store.listRuns().runs.map((r) => [r.runKey, r.id]));
  return { store, ids };
}

const N = 200_000;
const steps = Array.from({ length: N }, (_, i) => i);
const loss = steps.map((s) => 1 / (1 + s / 1000));
loss[150_000] = 50; // a spike
loss[100_000] = NaN; // a gap
const walls = steps.map((s) => 1_700_000_000_000 + s * 100);

test('series/downsampled: about two points per pixel, the spike and the gap kept, every run in one answer', () => {
  const { store, ids } = storeWith([
    { key: 'a', name: 'a', metrics: { loss: { steps, values: loss, walls } } },
    { key: 'b', name: 'b', metrics: { other: { steps: [0], values: [1], walls: [NaN] } } },
  ]);
  const res = downsampledSeries(store, { runIds: [ids.get('a')!, ids.get('b')!], key: 'loss', width: 1000, xAxis: 'step' });
  const [a, b] = res.series;
  assert.equal(a.total, N);
  assert.equal(a.downsampled, true);
  assert.ok(a.xs.length >= 1000 && a.xs.length <= 3000, `${a.xs.length} points`);
  const ys = a.ys.map(fromWire);
  assert.ok(ys.includes(50), 'spike');
  assert.ok(a.ys.includes('NaN'), 'the NaN travels as "NaN" (JSON has none)');
  assert.equal(b.missing, 'series');
  store.close();
});

test('series/downsampled: a zoom reads the range at full resolution and still reports the whole count', () => {
  const { store, ids } = storeWith([{ key: 'a', name: 'a', metrics: { loss: { steps, values: loss, walls } } }]);
  const res = downsampledSeries(store, { runIds: [ids.get('a')!], key: 'loss', width: 1000, xAxis: 'step', xMin: 10_000, xMax: 11_000 });
  const s = res.series[0];
  assert.equal(s.downsampled, false);
  assert.equal(s.inRange, 1001);
  assert.deepEqual([s.xs[0], s.xs[s.xs.length - 1]], [10_000, 11_000]);
  assert.equal(s.total, N);
  store.close();
});

test('series/downsampled: time axes in seconds; relative time from the first point; no wall times said plainly', () => {
  const { store, ids } = storeWith([
    { key: 'a', name: 'a', metrics: { loss: { steps: [0, 1, 2], values: [3, 2, 1], walls: [1_700_000_000_000, 1_700_000_001_000, 1_700_000_003_500] } } },
    { key: 'b', name: 'b', metrics: { loss: { steps: [0, 1], values: [1, 2], walls: [NaN, NaN] } } },
  ]);
  const rel = downsampledSeries(store, { runIds: [ids.get('a')!, ids.get('b')!], key: 'loss', width: 100, xAxis: 'relative' });
  assert.deepEqual(rel.series[0].xs, [0, 1, 3.5]);
  assert.equal(rel.series[0].origin, 1_700_000_000_000);
  assert.equal(rel.series[1].missing, 'wallTime');
  const wall = downsampledSeries(store, { runIds: [ids.get('a')!], key: 'loss', width: 100, xAxis: 'wall' });
  assert.deepEqual(wall.series[0].xs, [1_700_000_000, 1_700_000_001, 1_700_000_003.5]);
  store.close();
});

test('series/downsampled: `since` returns only the points appended after those the client holds', () => {
  const { store, ids } = storeWith([{ key: 'a', name: 'a', metrics: { loss: { steps: [0, 1, 2], values: [3, 2, 1], walls: [NaN, NaN, NaN] } } }]);
  const id = ids.get('a')!;
  store.appendPoints(id, 'loss', { steps: [3, 4], values: [0.5, 0.25], walls: [NaN, NaN] });
  const tail = downsampledSeries(store, { runIds: [id], key: 'loss', width: 100, xAxis: 'step', since: { [id]: 3 } }).series[0];
  assert.deepEqual([tail.xs, tail.ys, tail.total, tail.appended], [[3, 4], [0.5, 0.25], 5, true]);
  const stale = downsampledSeries(store, { runIds: [id], key: 'loss', width: 100, xAxis: 'step', since: { [id]: 9 } }).series[0];
  assert.deepEqual([stale.xs.length, stale.appended], [5, false], 'the client holds more than there is: everything, as a replacement');
  store.close();
});

test('compare/summary and compare/divergence', () => {
  const base = steps.slice(0, 2000).map((s) => 1 / (1 + s / 100));
  const { store, ids } = storeWith([
    { key: 'a', name: 'a', metrics: { loss: { steps: steps.slice(0, 2000), values: base, walls: walls.slice(0, 2000) } } },
    { key: 'b', name: 'b', metrics: { loss: { steps: steps.slice(0, 2000), values: base.map((v, i) => (i >= 1200 ? v + 0.5 : v)), walls: walls.slice(0, 2000) } } },
  ]);
  const summary = compareSummary(store, { runIds: [ids.get('b')!, 999, ids.get('a')!] });
  assert.deepEqual(summary.runs.map((r) => r.run.name), ['b', 'a'], 'asked order; an unknown id left out');
  const stats = summary.runs[1].metrics[0];
  assert.deepEqual([stats.min, stats.minStep, stats.max, stats.maxStep, stats.count], [base[1999], 1999, 1, 0, 2000]);
  const div = compareDivergence(store, { baselineRunId: ids.get('a')!, runIds: [ids.get('a')!, ids.get('b')!] });
  assert.equal(div.results.length, 1);
  assert.deepEqual([div.results[0].key, div.results[0].runId, div.results[0].step, div.results[0].direction], ['loss', ids.get('b')!, 1200, 'above']);
  store.close();
});

test('series/downsampled on the epoch axis: x from the run\'s epoch series; a run without one is missing its epoch; divergence leaves the epoch out', () => {
  const stepsA = Array.from({ length: 300 }, (_, i) => i);
  const { store, ids } = storeWith([
    { key: 'a', name: 'a', metrics: { loss: { steps: stepsA, values: stepsA.map((s) => 1 / (1 + s)), walls: stepsA.map(() => NaN) }, epoch: { steps: stepsA, values: stepsA.map((s) => Math.floor(s / 100)), walls: stepsA.map(() => NaN) } } },
    // b reads half the steps per epoch: its epoch series runs away from a's, which is no divergence to report.
    { key: 'b', name: 'b', metrics: { loss: { steps: [0, 1], values: [1, 0.5], walls: [NaN, NaN] }, epoch: { steps: stepsA, values: stepsA.map((s) => Math.floor(s / 50)), walls: stepsA.map(() => NaN) } } },
    { key: 'c', name: 'c', metrics: { loss: { steps: [0], values: [1], walls: [NaN] } } },
  ]);
  const res = downsampledSeries(store, { runIds: [ids.get('a')!, ids.get('c')!], key: 'loss', width: 1000, xAxis: 'epoch' });
  const [a, c] = res.series;
  assert.equal(res.xAxis, 'epoch');
  assert.equal(a.xs.length, 300);
  assert.deepEqual([a.xs[0], a.xs[50], a.xs[100], a.xs[250]], [0, 0.5, 1, 2.5]);
  assert.equal(c.missing, 'epoch');
  // A live update on this axis is the whole series again: earlier x values move when an epoch begins.
  const live = downsampledSeries(store, { runIds: [ids.get('a')!], key: 'loss', width: 1000, xAxis: 'epoch', since: { [String(ids.get('a')!)]: 250 } });
  assert.equal(live.series[0].appended, false);
  assert.equal(live.series[0].xs.length, 300);
  const onSteps = downsampledSeries(store, { runIds: [ids.get('a')!], key: 'loss', width: 1000, xAxis: 'step', since: { [String(ids.get('a')!)]: 250 } });
  assert.deepEqual([onSteps.series[0].appended, onSteps.series[0].xs.length], [true, 50], 'on the step axis only the new points');
  const asked = compareDivergence(store, { baselineRunId: ids.get('a')!, runIds: [ids.get('b')!], keys: ['epoch'] });
  assert.deepEqual(asked.results.map((d) => d.key), ['epoch'], 'asked for by name, the epoch series does diverge');
  const divergence = compareDivergence(store, { baselineRunId: ids.get('a')!, runIds: [ids.get('b')!] });
  assert.ok(divergence.results.every((d) => d.key !== 'epoch'), 'by default it is left out');
  store.close();
});
