// The comparison panel's pure parts: the diff table model and its copies, the
// chart data preparation, and the message checks at the host boundary.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { metricStats } from '../../../src/core/compare/stats';
import type { WireCompareRun, WireChartSeries } from '../../../src/shared/compareWire';
import { parseWebviewMessage, runIdsFromState, settingsFromState, DEFAULT_SETTINGS } from '../../../src/shared/comparePanelProtocol';
import type { WireRunDetail } from '../../../src/shared/protocol';
import { toWire } from '../../../src/shared/wireNumbers';
import { alignRuns, appendSeries, chartKeys, decodeSeries, filterKeys, groupKeys, nearestIndex, prepareRun } from '../../../webview/charts/chartModel';
import { buildRunViews } from '../../../webview/runs';
import { buildDiffTable, tableToCsv, tableToMarkdown } from '../../../webview/table/model';

function detail(id: number, name: string, params: Record<string, string>, tags: Record<string, string> = {}, summaries: WireRunDetail['summaries'] = {}): WireRunDetail {
  return {
    id, uid: `uid${id}abcdef`, name, displayName: name, format: 'mlflow', sourceRoot: '/r', experimentKey: '1', experimentName: 'e', path: `/r/${id}`, status: 'finished',
    startTime: null, endTime: null, lastWrite: null, seriesCount: 0, paramCount: 0, pointCount: 0, label: null, starred: false, hidden: false, headline: [],
    note: null, params, tags, summaries, series: [],
  };
}

function compareRun(d: WireRunDetail, metrics: Record<string, [number[], number[]]>): WireCompareRun {
  return {
    run: d,
    metrics: Object.entries(metrics).map(([key, [steps, values]]) => {
      const s = metricStats(key, steps, values);
      return { ...s, last: toWire(s.last), lastStep: toWire(s.lastStep) };
    }),
  };
}

const runsFixture = () =>
  buildRunViews(
    [1, 2, 3],
    [
      compareRun(detail(1, 'base', { lr: '0.1', bs: '32' }, { 'mlflow.source.git.commit': 'abc1234' }, { final_acc: 0.8 }), { val_loss: [[0, 1, 2], [1, 0.5, 0.4]], acc: [[0, 1], [0.5, 0.7]] }),
      compareRun(detail(2, 'same|name', { lr: '0.2', bs: '32' }, {}, { final_acc: 0.9 }), { val_loss: [[0, 1, 2], [1, 0.6, 0.5]], acc: [[0, 1], [0.5, 0.75]] }),
      compareRun(detail(3, 'same|name', { lr: '0.1' }), { val_loss: [[0, 1], [0.9, NaN]] }),
    ],
  );

test('run views: fixed colours by position, duplicate names told apart by their folders, git commit read from the tag', () => {
  const runs = runsFixture();
  assert.deepEqual(runs.map((r) => r.name), ['base', 'same|name (2)', 'same|name (3)']);
  assert.equal(new Set(runs.map((r) => r.color)).size, 3);
  assert.equal(runs[0].commit, 'abc1234');
  assert.equal(runs[1].commit, null);
  const again = buildRunViews([1, 3], [compareRun(detail(3, 'x', {}), {}), compareRun(detail(1, 'y', {}), {})]);
  assert.deepEqual(again.map((r) => r.id), [1, 3], 'the panel order, not the answer order');
});

test('the diff table: changed params, last/best with deltas by direction, summaries, divergence', () => {
  const runs = runsFixture();
  const table = buildDiffTable(runs, { baselineId: 1, onlyDifferences: false, directions: {}, divergences: [{ key: 'val_loss', runId: 2, baselineRunId: 1, step: 1, direction: 'above', threshold: 0.01, noiseBaseline: 0, noiseRun: 0 }] });
  const params = table.sections.find((s) => s.id === 'params')!;
  const lr = params.rows.find((r) => r.key === 'lr')!;
  assert.deepEqual(lr.cells.map((c) => [c.text, Boolean(c.changed)]), [['0.1', false], ['0.2', true], ['0.1', false]]);
  const bs = params.rows.find((r) => r.key === 'bs')!;
  assert.deepEqual(bs.cells.map((c) => [c.text, Boolean(c.changed)]), [['32', false], ['32', false], ['—', true]]);

  const metrics = table.sections.find((s) => s.id === 'metrics')!.rows;
  const lastLoss = metrics.find((r) => r.key === 'val_loss' && r.kind === 'metric-last')!;
  assert.equal(lastLoss.cells[1].delta!.verdict, 'worse', 'a higher loss is worse');
  assert.ok(Math.abs(lastLoss.cells[1].delta!.absolute - 0.1) < 1e-12);
  assert.equal(lastLoss.cells[2].text, 'NaN', 'a NaN last value is shown as NaN');
  assert.equal(lastLoss.cells[2].delta!.verdict, 'unknown');
  const bestLoss = metrics.find((r) => r.key === 'val_loss' && r.kind === 'metric-best')!;
  assert.deepEqual([bestLoss.field, bestLoss.cells[2].text, bestLoss.cells[2].detail], ['best (min)', '0.9', 'step 0']);
  assert.equal(bestLoss.cells[2].delta!.verdict, 'worse');
  const bestAcc = metrics.find((r) => r.key === 'acc' && r.kind === 'metric-best')!;
  assert.equal(bestAcc.field, 'best (max)');
  assert.equal(bestAcc.cells[1].delta!.verdict, 'better');
  assert.equal(bestAcc.cells[1].delta!.text, '+0.05 (+7.14 %)');
  const div = metrics.find((r) => r.key === 'val_loss' && r.kind === 'divergence')!;
  assert.deepEqual(div.cells.map((c) => c.text), ['baseline', 'above from step 1', 'within noise']);
  assert.deepEqual(table.divergenceSentences, ['val_loss of same|name (2) exceeds base from step 1']);

  const summaries = table.sections.find((s) => s.id === 'summaries')!;
  assert.equal(summaries.rows[0].cells[1].delta!.verdict, 'better', 'final_acc: higher is better');

  // The user flips a direction: the verdicts follow.
  const flipped = buildDiffTable(runs, { baselineId: 1, onlyDifferences: false, directions: { val_loss: 'max' }, divergences: [] });
  assert.equal(flipped.sections[1].rows.find((r) => r.key === 'val_loss' && r.kind === 'metric-last')!.cells[1].delta!.verdict, 'better');
});

test('only differences hides rows that are the same in every run, and counts them', () => {
  const runs = runsFixture().slice(0, 2);
  const table = buildDiffTable(runs, { baselineId: 1, onlyDifferences: true, directions: {}, divergences: [] });
  const params = table.sections.find((s) => s.id === 'params')!;
  assert.deepEqual(params.rows.map((r) => r.key), ['lr']);
  assert.equal(params.hiddenSame, 1);
});

test('copies: Markdown escapes pipes, CSV quotes what needs quoting', () => {
  const table = buildDiffTable(runsFixture(), { baselineId: 2, onlyDifferences: false, directions: {}, divergences: [] });
  const md = tableToMarkdown(table);
  assert.ok(md.startsWith('|  | base | same\\|name (2) (baseline) | same\\|name (3) |\n|---|---|---|---|\n'), md.slice(0, 200));
  assert.ok(md.includes('| val_loss · best (min) | 0.4 @ step 2 (Δ −0.1 (−20.0 %), better) | 0.5 @ step 2 | 0.9 @ step 0 (Δ +0.4 (+80.0 %), worse) |'), md);
  const csv = tableToCsv(table);
  const lines = csv.split('\r\n');
  assert.equal(lines[0].split(',').length, 3 + 3 * 4);
  assert.ok(lines[0].includes('same|name (2) delta %'));
  assert.ok(lines.some((l) => l.startsWith('metrics,val_loss,best (min),0.4,2,-0.09999999999999998,-19.999999999999996,0.5,2,,,0.9,0,0.4,80')), csv);
});

test('cells show numbers short, the exact value on hover (float32 at float32 precision), and copies keep every bit', () => {
  const float32 = Math.fround(0.08434793); // a TensorBoard simple_value: 0.0843479335308075 as a double
  const double = 0.12345678901234568;
  const runs = buildRunViews(
    [1, 2],
    [compareRun(detail(1, 'a', {}), { loss: [[0], [float32]] }), compareRun(detail(2, 'b', {}), { loss: [[0], [double]] })],
  );
  const table = buildDiffTable(runs, { baselineId: 1, onlyDifferences: false, directions: {}, divergences: [] });
  const last = table.sections.find((s) => s.id === 'metrics')!.rows.find((r) => r.key === 'loss' && r.kind === 'metric-last')!;
  assert.deepEqual(last.cells.map((c) => [c.text, c.exact]), [['0.084348', '0.08434793'], ['0.12346', '0.12345678901234568']]);
  // Copies keep every bit of the double (what a text log wrote; a float32 widened exactly).
  assert.ok(tableToMarkdown(table).includes(`| loss · last | ${String(float32)} @ step 0 | 0.12345678901234568 @ step 0`), tableToMarkdown(table));
  assert.ok(tableToCsv(table).includes(`metrics,loss,last,${String(float32)},0,,,0.12345678901234568,0,`), tableToCsv(table));
  // Cells that only look the same when short are not the same.
  const close = buildRunViews([1, 2], [compareRun(detail(1, 'a', {}), { x: [[0], [0.123456]] }), compareRun(detail(2, 'b', {}), { x: [[0], [0.1234564]] })]);
  const xRow = buildDiffTable(close, { baselineId: 1, onlyDifferences: false, directions: {}, divergences: [] }).sections[1].rows[0];
  assert.equal(xRow.cells[0].text, xRow.cells[1].text);
  assert.equal(xRow.same, false);
});

test('chart series: decoded with NaN kept, gaps as null, log axes drop what they cannot show', () => {
  const wire: WireChartSeries = { runId: 1, xs: [0, 1, 2, 3], ys: [1, 'NaN', 0, 'Infinity'], total: 4, inRange: 4, downsampled: false, appended: false, origin: null, missing: null };
  const s = decodeSeries(wire);
  assert.ok(Number.isNaN(s.ys[1]));
  const p = prepareRun(s, { smoothing: 0, logX: false, logY: false });
  assert.deepEqual(Array.from(p.raw), [1, null, 0, null], 'a NaN is a gap (null), never a 0');
  const log = prepareRun(s, { smoothing: 0.5, logX: true, logY: true });
  assert.deepEqual(Array.from(log.xs), [1, 2, 3], 'x = 0 has no place on a log axis');
  assert.deepEqual(Array.from(log.raw), [null, null, null]);
  const clean = prepareRun(decodeSeries({ ...wire, ys: [1, 2, 3, 4] }), { smoothing: 0, logX: false, logY: false });
  assert.ok(clean.raw instanceof Float64Array, 'clean data is passed on without a copy');
});

test('runs logged at different steps are aligned on one x column; repeated steps stay repeated', () => {
  const a = prepareRun(decodeSeries({ runId: 1, xs: [0, 0, 2], ys: [1, 2, 3], total: 3, inRange: 3, downsampled: false, appended: false, origin: null, missing: null }), { smoothing: 0, logX: false, logY: false });
  const b = prepareRun(decodeSeries({ runId: 2, xs: [1, 2, 4], ys: [10, 'NaN', 30], total: 3, inRange: 3, downsampled: false, appended: false, origin: null, missing: null }), { smoothing: 0, logX: false, logY: false });
  const { xs, columns } = alignRuns([a, b]);
  assert.deepEqual(Array.from(xs), [0, 0, 1, 2, 4]);
  assert.deepEqual(Array.from(columns[0]), [1, 2, undefined, 3, undefined], 'undefined: drawn across');
  assert.deepEqual(Array.from(columns[1]), [undefined, undefined, 10, null, 30], 'null: a gap');
  const same = alignRuns([a, { ...a, runId: 3 }]);
  assert.equal(same.xs, a.xs, 'identical x: shared as is');
  assert.equal(nearestIndex([0, 10, 20], 14), 1);
  assert.equal(nearestIndex([0, 10, 20], 16), 2);
});

test('live appends follow on, or ask for a reload', () => {
  const base = decodeSeries({ runId: 1, xs: [0, 1], ys: [1, 2], total: 2, inRange: 2, downsampled: false, appended: false, origin: null, missing: null });
  const next = appendSeries(base, { runId: 1, xs: [2, 3], ys: [3, 'NaN'], total: 4, inRange: 2, downsampled: false, appended: true, origin: null, missing: null });
  assert.ok(next !== 'reload');
  assert.deepEqual(Array.from(next.xs), [0, 1, 2, 3]);
  assert.equal(next.total, 4);
  assert.equal(appendSeries(base, { runId: 1, xs: [0], ys: [1], total: 1, inRange: 1, downsampled: false, appended: false, origin: null, missing: null }), 'reload');
  assert.equal(appendSeries(base, { runId: 1, xs: [0.5], ys: [1], total: 3, inRange: 1, downsampled: false, appended: true, origin: null, missing: null }), 'reload', 'went back in x');
});

test('metric filter (regex or text) and prefix groups', () => {
  const keys = ['train/loss', 'train/acc', 'val_loss', 'val_acc', 'epoch', 'lr'];
  assert.deepEqual(filterKeys(keys, 'loss$').keys, ['train/loss', 'val_loss']);
  const bad = filterKeys(keys, 'train/(');
  assert.deepEqual(bad.keys, []);
  assert.match(bad.error!, /not a regular expression/);
  assert.deepEqual(groupKeys(keys, true), [
    { group: 'train/', keys: ['train/loss', 'train/acc'] },
    { group: 'val_', keys: ['val_loss', 'val_acc'] },
    { group: '', keys: ['epoch', 'lr'] },
  ]);
  assert.deepEqual(groupKeys(keys, false), [{ group: '', keys }]);
});

test('the host accepts only well-formed webview messages; saved state is checked field by field', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready', protocolVersion: 1 }), { type: 'ready', protocolVersion: 1 });
  assert.equal(parseWebviewMessage({ type: 'ready' }), undefined);
  assert.equal(parseWebviewMessage({ type: 'requestSeries', requestId: 1, params: { runIds: ['1'], key: 'k', width: 10, xAxis: 'step' } }), undefined);
  assert.equal(parseWebviewMessage({ type: 'requestSeries', requestId: 1, params: { runIds: [1], key: 'k', width: 10, xAxis: 'sideways' } }), undefined);
  assert.ok(parseWebviewMessage({ type: 'requestSeries', requestId: 1, params: { runIds: [1], key: 'k', width: 10, xAxis: 'step', since: { '1': 5 } } }));
  assert.equal(parseWebviewMessage({ type: 'copyText', format: 'html', text: 'x' }), undefined);
  assert.equal(parseWebviewMessage({ type: 'runCommand', command: 'rm -rf' }), undefined);
  assert.equal(parseWebviewMessage('ready'), undefined);
  assert.deepEqual(runIdsFromState({ runIds: [1, '2', 3, null] }), [1, 3]);
  assert.deepEqual(runIdsFromState(undefined), []);
  assert.deepEqual(settingsFromState(undefined), DEFAULT_SETTINGS);
  const s = settingsFromState({ settings: { xAxis: 'wall', smoothing: 5, logY: 'yes', directions: { a: 'max', b: 'up' }, hiddenRunIds: [2, 'x'] } });
  assert.deepEqual([s.xAxis, s.smoothing, s.logY, s.directions, s.hiddenRunIds], ['wall', 0.99, false, { a: 'max' }, [2]]);
});

test('the panel HTML: CSP from default-src none, the bundle by nonce, nothing inline or remote', async () => {
  const { comparePanelHtml } = await import('../../../src/extension/compare/panelHtml');
  const html = comparePanelHtml({ cspSource: 'vscode-webview://abc', scriptUri: 'vscode-webview://abc/dist/webview.js"><script>x', nonce: 'N0nce' });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
  assert.equal(csp, "default-src 'none'; script-src 'nonce-N0nce'; style-src vscode-webview://abc 'nonce-N0nce'");
  assert.ok(!/unsafe-(inline|eval)/.test(html));
  assert.equal((html.match(/<script /g) ?? []).length, 1, 'one script element, its URL escaped');
  assert.ok(html.includes('src="vscode-webview://abc/dist/webview.js&quot;&gt;&lt;script&gt;x"'));
});

test('the epoch series is an x axis: not charted without a filter, charted when the filter names it', () => {
  const keys = ['epoch', 'train_loss', 'val_loss'];
  assert.deepEqual(chartKeys(keys, ''), { keys: ['train_loss', 'val_loss'], axisOnly: ['epoch'] });
  assert.deepEqual(chartKeys(keys, 'epoch').keys, ['epoch']);
  assert.deepEqual(chartKeys(keys, 'loss'), { keys: ['train_loss', 'val_loss'], axisOnly: [] });
  assert.equal(settingsFromState({ settings: { xAxis: 'epoch' } }).xAxis, 'epoch');
  assert.equal(settingsFromState({ settings: { xAxis: 'minutes' } }).xAxis, 'step');
  const request = (xAxis: string) => parseWebviewMessage({ type: 'requestSeries', requestId: 1, params: { runIds: [1], key: 'loss', width: 100, xAxis } });
  assert.equal(request('epoch')?.type, 'requestSeries');
  assert.equal(request('minutes'), undefined);
});
