import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { pickHeadlineKeys } from '../../../src/core/runs/headline';
import { describeAge, displayStatus, isLossLike } from '../../../src/shared/runStatus';

const MIN = 60_000;

test('explicit statuses win; a running run that went quiet is stale; status-less runs are running or idle', () => {
  const now = 100 * MIN;
  assert.equal(displayStatus({ status: 'finished', lastWrite: now }, now, 10 * MIN), 'finished');
  assert.equal(displayStatus({ status: 'running', lastWrite: now - MIN }, now, 10 * MIN), 'running');
  assert.equal(displayStatus({ status: 'running', lastWrite: now - 11 * MIN }, now, 10 * MIN), 'stale');
  assert.equal(displayStatus({ status: 'running', lastWrite: null }, now, 10 * MIN), 'stale');
  assert.equal(displayStatus({ status: 'unknown', lastWrite: now - MIN }, now, 10 * MIN), 'running');
  assert.equal(displayStatus({ status: 'unknown', lastWrite: now - 20 * MIN }, now, 10 * MIN), 'idle');
});

test('ages read naturally', () => {
  assert.equal(describeAge(null, 0), 'never written');
  assert.equal(describeAge(0, 30_000), '30s ago');
  assert.equal(describeAge(0, 5 * MIN), '5 min ago');
  assert.equal(describeAge(0, 3 * 60 * MIN), '3 h ago');
});

test('headline metrics prefer validation loss and accuracy, skip bookkeeping', () => {
  assert.deepEqual(pickHeadlineKeys(['epoch', 'train_loss', 'val_acc', 'val_loss', 'lr']), ['val_loss', 'val_acc']);
  assert.deepEqual(pickHeadlineKeys(['train/loss', 'step', 'train/accuracy']), ['train/loss', 'train/accuracy']);
  assert.deepEqual(pickHeadlineKeys(['epoch', 'step']), []);
  assert.deepEqual(pickHeadlineKeys(['reward', 'episode_length']), ['reward', 'episode_length']);
});

test('loss-like metric names', () => {
  for (const k of ['loss', 'val/loss', 'train_loss_step', 'mse', 'perplexity']) assert.ok(isLossLike(k), k);
  for (const k of ['accuracy', 'lr', 'epoch']) assert.ok(!isLossLike(k), k);
});
