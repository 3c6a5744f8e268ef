import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { nonFiniteAlerts, staleAlerts } from '../../../src/shared/alerts';
import type { WireRunSummary, WireSeriesChange } from '../../../src/shared/protocol';

const change = (key: string, lastValue: WireSeriesChange['lastValue'], runUid = 'r1'): WireSeriesChange => ({ runId: 1, runUid, runName: 'run one', key, newPoints: 1, lastStep: 12, lastValue });

test('a loss-like metric turning NaN or infinite raises one alert; other metrics and finite values do not', () => {
  const alerts = nonFiniteAlerts([change('train/loss', 'NaN'), change('train/loss', 'Infinity'), change('val_mse', '-Infinity'), change('accuracy', 'NaN'), change('loss', 0.5)], new Set());
  assert.deepEqual(alerts.map((a) => a.id), ['nonfinite:r1:train/loss', 'nonfinite:r1:val_mse']);
  assert.match(alerts[0].message, /train\/loss of run "run one" became NaN at step 12/);
  assert.deepEqual(nonFiniteAlerts([change('train/loss', 'NaN')], new Set(['nonfinite:r1:train/loss'])), [], 'once per run and metric');
});

const run = (status: WireRunSummary['status'], lastWrite: number | null, uid = 'u'): WireRunSummary => ({
  id: 3, uid, name: 'trainer', displayName: 'trainer', format: 'mlflow', sourceRoot: '/r', experimentKey: '1', experimentName: 'e', path: '/r/k', status,
  startTime: null, endTime: null, lastWrite, seriesCount: 1, paramCount: 0, pointCount: 1, label: null, starred: false, hidden: false, headline: [],
});

test('a run marked running that recently stopped writing raises a stale alert; old or finished runs do not', () => {
  const MIN = 60_000;
  const now = 1000 * MIN;
  const alerts = staleAlerts([run('running', now - 12 * MIN, 'a'), run('running', now - 5 * MIN, 'b'), run('finished', now - 12 * MIN, 'c'), run('running', now - 300 * MIN, 'd')], now, 10 * MIN, 5 * MIN, new Set());
  assert.deepEqual(alerts.map((a) => a.id), ['stale:a']);
  assert.match(alerts[0].message, /stopped writing 12 min ago/);
});
