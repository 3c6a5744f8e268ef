import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, summarizeLatency } from '../../../src/core/models/stats';

test('percentiles interpolate between ranks; empty input is NaN', () => {
  const samples = [5, 1, 4, 2, 3];
  assert.equal(percentile(samples, 0.5), 3);
  assert.equal(percentile(samples, 0), 1);
  assert.equal(percentile(samples, 1), 5);
  assert.equal(percentile([1, 2], 0.5), 1.5);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const s = summarizeLatency(Array.from({ length: 100 }, (_, i) => i + 1));
  assert.equal(s.runs, 100);
  assert.equal(s.p50Ms, 50.5);
  assert.ok(Math.abs(s.p99Ms - 99.01) < 1e-9);
  assert.equal(s.minMs, 1);
  assert.equal(s.maxMs, 100);
});
