import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RestartBackoff } from '../../../src/extension/agent/backoff';

test('delays double up to the cap, then the client gives up within the window', () => {
  const backoff = new RestartBackoff({ initialDelayMs: 100, maxDelayMs: 350, maxCrashes: 4, windowMs: 10_000 });
  assert.deepEqual([0, 1, 2, 3].map((t) => backoff.nextDelay(t)), [100, 200, 350, 350]);
  assert.equal(backoff.nextDelay(4), undefined);
});

test('crashes older than the window are forgotten', () => {
  const backoff = new RestartBackoff({ initialDelayMs: 100, maxDelayMs: 1000, maxCrashes: 2, windowMs: 1000 });
  assert.equal(backoff.nextDelay(0), 100);
  assert.equal(backoff.nextDelay(10), 200);
  assert.equal(backoff.nextDelay(5000), 100);
});

test('reset starts over', () => {
  const backoff = new RestartBackoff({ initialDelayMs: 100, maxDelayMs: 1000, maxCrashes: 1, windowMs: 1000 });
  backoff.nextDelay(0);
  backoff.reset();
  assert.equal(backoff.nextDelay(1), 100);
});
