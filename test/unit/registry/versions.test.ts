// Finding the run that trained a model from where its file lies, the run
// snapshot a version keeps, and the diff shown at approval.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunDetail, RunSummary } from '../../../src/core/store/types';
import { diffSnapshots, inferRun, snapshotRun } from '../../../src/core/registry/versions';
import { makeTempDir } from '../../support/fixtures';

const tmp = fs.realpathSync(makeTempDir('runlens-versions-'));
let ids = 0;

function runAt(p: string, over: Partial<RunSummary> = {}): RunSummary {
  const id = ++ids;
  return {
    id,
    uid: `uid${id}`,
    name: `run${id}`,
    format: 'mlflow',
    sourceRoot: tmp,
    experimentKey: '1',
    experimentName: 'exp',
    runKey: `k${id}`,
    path: p,
    status: 'finished',
    startTime: null,
    endTime: null,
    lastWrite: null,
    seriesCount: 0,
    paramCount: 0,
    pointCount: 0,
    label: null,
    starred: false,
    hidden: false,
    ...over,
  };
}

function file(rel: string): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, 'x');
  return p;
}

test("a model inside an MLflow run's artifacts belongs to that run, not to its experiment's other runs", () => {
  const a = runAt(path.join(tmp, 'mlruns/1/aaa'));
  const b = runAt(path.join(tmp, 'mlruns/1/bbb'));
  const model = file('mlruns/1/aaa/artifacts/model/model.onnx');
  const { inference, run } = inferRun(model, [b, a]);
  assert.equal(run?.uid, a.uid);
  assert.equal(inference.how, 'contains');
  assert.match(inference.note, /inside the run's folder .*mlruns\/1\/aaa/);
});

test('nested runs (TensorBoard model_dir and model_dir/eval): the deepest containing run wins', () => {
  const outer = runAt(path.join(tmp, 'tb/model_dir'));
  const inner = runAt(path.join(tmp, 'tb/model_dir/eval'));
  assert.equal(inferRun(file('tb/model_dir/eval/export/m.onnx'), [outer, inner]).run?.uid, inner.uid);
  assert.equal(inferRun(file('tb/model_dir/export/m.onnx'), [outer, inner]).run?.uid, outer.uid);
});

test('a path prefix is not containment: version_1 does not contain version_10', () => {
  const v1 = runAt(path.join(tmp, 'lightning_logs/version_1'));
  const v10 = runAt(path.join(tmp, 'lightning_logs/version_10'));
  assert.equal(inferRun(file('lightning_logs/version_10/checkpoints/best.onnx'), [v1, v10]).run?.uid, v10.uid);
});

test("beside a run's log file: a Keras training.log next to the model; its restarted segments resolve to the newest", () => {
  const log = file('keras/training.log');
  const seg1 = runAt(log, { format: 'keras', lastWrite: 100 });
  const seg2 = runAt(log, { format: 'keras', lastWrite: 200 });
  const { inference, run } = inferRun(file('keras/model.onnx'), [seg1, seg2]);
  assert.equal(run?.uid, seg2.uid);
  assert.equal(inference.how, 'sibling');
  assert.match(inference.note, /beside the run's log file .* \(the newest of 2 runs recorded in it\)/);
});

test('beside one Lightning version folder: that run; beside several: ambiguous, nothing guessed', () => {
  const only = runAt(path.join(tmp, 'single/lightning_logs/version_0'));
  fs.mkdirSync(only.path, { recursive: true });
  assert.equal(inferRun(file('single/lightning_logs/exported.onnx'), [only]).run?.uid, only.uid);

  const v0 = runAt(path.join(tmp, 'multi/lightning_logs/version_0'));
  const v1 = runAt(path.join(tmp, 'multi/lightning_logs/version_1'));
  const { inference, run } = inferRun(file('multi/lightning_logs/exported.onnx'), [v0, v1]);
  assert.equal(run, null);
  assert.equal(inference.how, 'ambiguous');
  assert.deepEqual(inference.candidates?.map((c) => c.uid).sort(), [v0.uid, v1.uid].sort());
  assert.match(inference.note, /pass --run/);
});

test('no run near the model: none', () => {
  const r = runAt(path.join(tmp, 'elsewhere/run'));
  const { inference, run } = inferRun(file('models/m.onnx'), [r]);
  assert.equal(run, null);
  assert.equal(inference.how, 'none');
});

test('a symlinked path to the same folder still matches', () => {
  const real = path.join(tmp, 'real-runs/r1');
  fs.mkdirSync(real, { recursive: true });
  fs.symlinkSync(path.join(tmp, 'real-runs'), path.join(tmp, 'linked-runs'));
  const r = runAt(real);
  const model = path.join(tmp, 'linked-runs/r1/model.onnx');
  fs.writeFileSync(model, 'x');
  assert.equal(inferRun(model, [r]).run?.uid, r.uid);
});

test('a run snapshot keeps params and each metric\'s final value and step; summaries without a series too; NaN survives as "NaN"', () => {
  const detail: RunDetail = {
    ...runAt('/r'),
    note: null,
    params: { lr: '0.001' },
    tags: {},
    summaries: { best_acc: 0.97, val_loss: 9, comment: 'text' },
    series: [
      { id: 1, key: 'val_loss', pointCount: 3, stepMin: 0, stepMax: 2, valueMin: 0.1, valueMax: 0.3, lastValue: 0.1, lastStep: 2, lastWall: 0 },
      { id: 2, key: 'grad_norm', pointCount: 1, stepMin: 5, stepMax: 5, valueMin: null, valueMax: null, lastValue: NaN, lastStep: 5, lastWall: 0 },
    ],
  };
  const s = snapshotRun(detail);
  assert.deepEqual(s.params, { lr: '0.001' });
  assert.deepEqual(s.metrics, { best_acc: { value: 0.97, step: null }, val_loss: { value: 0.1, step: 2 }, grad_norm: { value: 'NaN', step: 5 } });
});

test('the approval diff: changed, added and removed params; every metric before and after with its change', () => {
  const before = { ...snapshotRun({ ...runAt('/a'), note: null, params: { lr: '0.01', bs: '32', seed: '1' }, tags: {}, summaries: { acc: 0.9, loss: 0.5 }, series: [] }) };
  const after = { ...snapshotRun({ ...runAt('/b'), note: null, params: { lr: '0.001', bs: '32', dropout: '0.1' }, tags: {}, summaries: { acc: 0.93, f1: 0.8, loss: 0 }, series: [] }) };
  const d = diffSnapshots(before, after, 'face@1');
  assert.equal(d.against, 'face@1');
  assert.deepEqual(d.params, [
    { key: 'dropout', before: null, after: '0.1' },
    { key: 'lr', before: '0.01', after: '0.001' },
    { key: 'seed', before: '1', after: null },
  ]);
  assert.equal(d.unchangedParams, 1);
  const acc = d.metrics.find((m) => m.key === 'acc')!;
  assert.ok(Math.abs(acc.delta! - 0.03) < 1e-12 && Math.abs(acc.deltaPercent! - (0.03 / 0.9) * 100) < 1e-9, JSON.stringify(acc));
  assert.deepEqual(d.metrics.find((m) => m.key === 'f1'), { key: 'f1', before: null, after: 0.8, delta: null, deltaPercent: null });
  assert.deepEqual(d.metrics.find((m) => m.key === 'loss'), { key: 'loss', before: 0.5, after: 0, delta: -0.5, deltaPercent: -100 });
  assert.deepEqual(diffSnapshots(null, after, null).params.length, 3);
});
