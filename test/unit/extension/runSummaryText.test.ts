import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { WireRunDetail } from '../../../src/shared/protocol';
import { runAsDiffableText, runsAsMarkdownTable } from '../../../src/extension/runs/runSummaryText';

function run(name: string, lr: string, loss: number | 'NaN'): WireRunDetail {
  return {
    id: 1, uid: name, name, displayName: name, format: 'mlflow', sourceRoot: '/r', experimentKey: '1', experimentName: 'exp', path: `/r/${name}`, status: 'finished',
    startTime: null, endTime: null, lastWrite: null, seriesCount: 1, paramCount: 1, pointCount: 1, label: null, starred: false, hidden: false, headline: [],
    note: null, params: { lr, 'a|b': 'x' }, tags: {}, summaries: { best: 0.5 },
    series: [{ key: 'loss', pointCount: 3, stepMin: 0, stepMax: 2, valueMin: 0, valueMax: 1, lastValue: loss, lastStep: 2 }],
  };
}

test('the diffable text has one sorted line per param and metric, NaN spelled out', () => {
  const text = runAsDiffableText(run('a', '0.1', 'NaN'));
  assert.match(text, /^lr = 0\.1$/m);
  assert.match(text, /^loss = NaN @ 2$/m);
  assert.match(text, /^best = 0\.5$/m);
  assert.ok(text.indexOf('a|b =') < text.indexOf('lr ='), 'params sorted');
});

test('the table marks rows that differ and escapes pipes', () => {
  const md = runsAsMarkdownTable([run('a', '0.1', 0.5), run('b', '0.2', 0.5), run('c', '0.1', 0.5)]);
  assert.match(md, /\| \*\*≠\*\* lr \| 0\.1 \| 0\.2 \| 0\.1 \|/);
  assert.match(md, /\| loss \| 0\.5 \| 0\.5 \| 0\.5 \|/);
  assert.match(md, /a\\\|b/);
});
