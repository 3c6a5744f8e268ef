import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { guessDirection } from '../../../src/core/compare/direction';
import { robustRange } from '../../../src/core/compare/robustRange';
import { debiasedEma } from '../../../src/core/compare/smoothing';
import { bestOf, deltaAgainst, metricStats } from '../../../src/core/compare/stats';

test('direction: losses and errors lower, accuracy, F1 and AP higher, unknown names assumed lower', () => {
  for (const k of ['loss', 'val_loss', 'train/loss_step', 'val/error', 'top1_error', 'mse', 'eval/perplexity', 'valLoss', 'wer']) assert.deepEqual(guessDirection(k), { direction: 'min', known: true }, k);
  for (const k of ['acc', 'val_acc', 'accuracy', 'test/f1', 'f1_macro', 'mAP', 'val/mAP@0.5', 'AP50', 'auc', 'rollout/ep_rew_mean', 'eval/mean_reward', 'bleu', 'top5_acc'])
    assert.deepEqual(guessDirection(k), { direction: 'max', known: true }, k);
  for (const k of ['lr', 'epoch', 'accumulate_steps', 'time/fps']) assert.equal(guessDirection(k).known, false, k);
  assert.equal(guessDirection('reward_loss').direction, 'min', 'a loss is a loss');
});

test('stats: last in file order (NaN included), extremes over finite values with their first step', () => {
  const s = metricStats('loss', [0, 1, 2, 3, 4, 5], [0.5, 0.2, Infinity, 0.2, 0.9, NaN]);
  assert.equal(s.count, 6);
  assert.ok(Number.isNaN(s.last));
  assert.equal(s.lastStep, 5);
  assert.deepEqual([s.min, s.minStep, s.max, s.maxStep, s.nonFinite], [0.2, 1, 0.9, 4, 2]);
  assert.deepEqual(bestOf(s, 'min'), { value: 0.2, step: 1 });
  assert.deepEqual(bestOf(s, 'max'), { value: 0.9, step: 4 });
  assert.equal(bestOf(metricStats('x', [0], [NaN]), 'min'), null);
});

test('deltas: absolute, relative to the baseline, better or worse by direction', () => {
  assert.deepEqual(deltaAgainst(0.9, 1, 'min'), { absolute: 0.9 - 1, relative: (0.9 - 1) / 1, verdict: 'better' });
  assert.equal(deltaAgainst(0.9, 1, 'max').verdict, 'worse');
  assert.equal(deltaAgainst(1, 1, 'max').verdict, 'same');
  assert.equal(deltaAgainst(-1, -2, 'max').relative, 0.5, 'relative to the magnitude of a negative baseline');
  assert.equal(deltaAgainst(3, 0, 'min').relative, null);
  assert.equal(deltaAgainst(NaN, 0, 'min').verdict, 'unknown');
});

test('EMA smoothing is debiased: it starts on the first value; NaN stays a gap', () => {
  const out = debiasedEma([2, 2, 2, NaN, 2], 0.9);
  assert.deepEqual(Array.from(out).map((v) => (Number.isNaN(v) ? 'NaN' : Number(v.toFixed(12)))), [2, 2, 2, 'NaN', 2]);
  const step = debiasedEma([0, 10, 10, 10], 0.5);
  assert.equal(step[0], 0);
  assert.ok(step[1] > 0 && step[1] < 10 && step[3] > step[2]);
  assert.deepEqual(Array.from(debiasedEma([1, 5, 3], 0)), [1, 5, 3], 'weight 0 is the raw series');
});

test('the outlier-proof range ignores a spike but keeps the curve', () => {
  const ys = Array.from({ length: 1000 }, (_, i) => 1 + Math.sin(i / 50) * 0.1);
  ys[500] = 1e6;
  const [lo, hi] = robustRange([ys])!;
  assert.ok(lo >= 0.89 && lo <= 0.91, `lo ${lo}`);
  assert.ok(hi >= 1.09 && hi < 2, `hi ${hi}`);
  assert.deepEqual(robustRange([[null, undefined, NaN]]), null);
  const [l2, h2] = robustRange([[5, 5, 5]])!;
  assert.ok(l2 < 5 && h2 > 5, 'a flat series gets some room');
  const [l3] = robustRange([[-1, 0, 0.001, 0.01, 0.1, 1]], { positiveOnly: true })!;
  assert.ok(l3 > 0, 'a log axis range stays positive');
});
