// The comparison panel's webview bundle in real headless Chromium, fed through
// the real data path: corpus logs ingested by the real agent into a temp
// database, the host's CompareSession asking that agent for downsampled
// series, the page drawing them with uPlot. Assertions come from the DOM and
// from the canvas pixels; one screenshot is kept in test-results/.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DownsampledSeriesResult } from '../../src/shared/compareWire';
import type { AgentRequestMethod, RequestParams, RequestResult, WireRunSummary, WireSeriesChange } from '../../src/shared/protocol';
import { formatExact, formatShort } from '../../src/shared/numberText';
import { fromWire } from '../../src/shared/wireNumbers';
import { startAgent, type AgentHandle } from '../support/agentProcess';
import { copyCorpus, makeTempDir, repoRoot } from '../support/fixtures';
import { assertAccessibleInEveryTheme } from '../webview/a11y';
import { CHROMIUM_PATH, countCanvasColors, launchChromium, openHarness, type Chromium, type Harness } from '../webview/harness';

const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_PARAM = '<script>alert(2)</script>';
const MNIST = 'logs/mlflow/pytorch-mnist-mlflow1';
const LSTM = 'logs/tensorboard/lightning-lstm-single-file';
const RUN_A = '8e5d1fe41dcd4cc5ba32921b07f1b7f1'; // capricious-kite-806: the baseline
const RUN_B = 'f8b0899d2d2c42c6a73b7ca8c256e3d6'; // lyrical-rat-492
const PALETTE = ['#3794ff', '#f28b25', '#2fb344'];
const RESULTS = path.join(repoRoot, 'test-results');

/** MLflow metric file lines "timestamp value step", read here directly: the file is the truth. */
function mlflowPoints(file: string): { step: number; value: number }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [, value, step] = l.trim().split(/\s+/);
      return { step: Number(step), value: Number(value) };
    });
}

const skip = fs.existsSync(CHROMIUM_PATH) ? false : `no chromium at ${CHROMIUM_PATH} (install Debian's chromium, or set RUNLENS_CHROMIUM)`;

describe('comparison panel webview in headless Chromium', { skip, timeout: 180_000 }, () => {
  let agent: AgentHandle;
  let chromium: Chromium;
  let harness: Harness;
  let mnist: string;
  let runs: { a: WireRunSummary; b: WireRunSummary; tb: WireRunSummary };
  const answers: { params: RequestParams<'series/downsampled'>; result: DownsampledSeriesResult }[] = [];

  const request = async <M extends AgentRequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> => {
    const result = (await agent.request(method, params)) as RequestResult<M>;
    if (method === 'series/downsampled') answers.push({ params: params as RequestParams<'series/downsampled'>, result: result as DownsampledSeriesResult });
    return result;
  };

  const chart = (key: string) => harness.page.locator('figure.chart').filter({ has: harness.page.locator('.chart-title', { hasText: key }) }).first();
  const chartByKey = (key: string) => harness.page.locator(`figure.chart[data-key="${key.replace(/["\\]/g, '\\$&')}"]`);
  const waitReady = async (key: string) => {
    await chartByKey(key).scrollIntoViewIfNeeded();
    await harness.page.waitForFunction((k) => Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).some((f) => f.dataset.key === k && f.dataset.state === 'ready' && Number(f.dataset.painted ?? 0) > 0), key, { timeout: 20_000 });
  };
  const waitForAnswer = async (from: number, match: (a: (typeof answers)[number]) => boolean) => {
    for (let waited = 0; waited < 20_000; waited += 50) {
      const found = answers.slice(from).find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the chart did not ask for that series');
  };
  const data = async (key: string) => chartByKey(key).evaluate((f: HTMLElement) => ({ ...f.dataset }));

  before(async () => {
    mnist = copyCorpus(MNIST);
    const lstm = copyCorpus(LSTM);
    // A hostile metric name and param value, in both MLflow runs (as a training script could write them).
    for (const [run, values] of [
      [RUN_A, [0.9, 0.7, 0.65, 0.6]],
      [RUN_B, [0.8, 0.5, 0.4, 0.3]],
    ] as const) {
      const dir = path.join(mnist, 'mlruns', '1', run);
      fs.writeFileSync(path.join(dir, 'metrics', HOSTILE), values.map((v, i) => `${1665036126010 + i * 1000} ${v} ${i}`).join('\n') + '\n');
      fs.mkdirSync(path.join(dir, 'params'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'params', 'note'), HOSTILE_PARAM);
    }
    agent = startAgent(path.join(makeTempDir(), 'runlens.db'));
    const report = await agent.request('workspace/ingest', { paths: [mnist, lstm] });
    assert.deepEqual(report.warnings, []);
    const { runs: all } = await agent.request('runs/list', { limit: 100 });
    const byUid = (uid: string) => all.find((r) => r.uid.includes(uid) || r.path.includes(uid));
    const tb = all.find((r) => r.format === 'tensorboard');
    assert.ok(byUid(RUN_A) && byUid(RUN_B) && tb, `runs found: ${all.map((r) => `${r.format}:${r.name}`).join(', ')}`);
    runs = { a: byUid(RUN_A)!, b: byUid(RUN_B)!, tb: tb! };
    chromium = await launchChromium();
    harness = await openHarness(chromium, { agent: request, runIds: [runs.a.id, runs.b.id, runs.tb.id], theme: 'dark' });
    await harness.page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
  });

  after(async () => {
    await harness?.close();
    await chromium?.close();
    await agent?.stop();
  });

  it('waits for the handshake: nothing is sent before the webview says ready', () => {
    // The session only posts after `ready`; the page rendered the runs it was sent.
    assert.equal(harness.pageErrors.length, 0, harness.pageErrors.join('\n'));
  });

  it('shows the runs side by side, the first one as baseline', async () => {
    const headers = await harness.page.locator('table.diff-table thead th.run-col .run-name').allTextContents();
    assert.deepEqual(headers, [runs.a.name, runs.b.name, runs.tb.name]);
    assert.equal(await harness.page.locator('table.diff-table thead th.run-col.baseline .run-name').textContent(), runs.a.name);
  });

  it("shows last and best values from the files, and deltas against the baseline's", async () => {
    const a = mlflowPoints(path.join(mnist, 'mlruns/1', RUN_A, 'metrics/test_loss'));
    const b = mlflowPoints(path.join(mnist, 'mlruns/1', RUN_B, 'metrics/test_loss'));
    const row = (kind: string) => harness.page.locator(`table.diff-table tr[data-key="test_loss"][data-kind="${kind}"] td.cell`);
    const last = await row('metric-last').locator('.value').allTextContents();
    // Cells are short (five significant digits); the exact value is on hover: the file's number,
    // at float32 precision where it is exactly a float32 (what the training code logged).
    assert.deepEqual(last.slice(0, 2), [formatShort(a[a.length - 1].value), formatShort(b[b.length - 1].value)]);
    assert.equal(last[2], '—', 'the TensorBoard run has no test_loss');
    const hovers = await row('metric-last').evaluateAll((tds) => tds.map((td) => td.getAttribute('title')));
    assert.deepEqual(hovers.slice(0, 2), [formatExact(a[a.length - 1].value), formatExact(b[b.length - 1].value)]);
    for (const [i, file] of [a, b].entries()) {
      const shown = Number(hovers[i]);
      const want = file[file.length - 1].value;
      assert.ok(shown === want || Math.fround(shown) === want, `hover ${hovers[i]} names the file's ${want}`);
    }
    // Best of a loss is its minimum; B logged two values at step 0.
    const bestB = Math.min(...b.map((p) => p.value));
    const bestA = Math.min(...a.map((p) => p.value));
    const best = row('metric-best');
    assert.equal(await best.nth(1).locator('.value').textContent(), formatShort(bestB));
    assert.equal(await best.nth(1).locator('.detail').textContent(), 'step 0');
    const delta = best.nth(1).locator('.delta');
    assert.equal(await delta.getAttribute('data-verdict'), bestB < bestA ? 'better' : 'worse');
    const abs = bestB - bestA;
    const text = (await delta.textContent())!;
    assert.ok(text.includes(`${abs < 0 ? '−' : '+'}${Number(Math.abs(abs).toPrecision(4))}`), `delta text ${text}, expected ${abs}`);
    assert.ok(text.includes(`${((Math.abs(abs) / bestA) * 100).toFixed(2)} %`), `relative delta in ${text}`);
    // The same last value: no difference.
    assert.equal(await row('metric-last').nth(1).locator('.delta').getAttribute('data-verdict'), 'same');
  });

  it('highlights params that differ from the baseline', async () => {
    const batch = harness.page.locator('table.diff-table tr[data-key="batch_size"] td.cell');
    assert.deepEqual(await batch.locator('.value').allTextContents(), ['—', '128', '—']);
    assert.deepEqual(await batch.evaluateAll((tds) => tds.map((td) => td.classList.contains('changed'))), [false, true, false]);
    const lr = harness.page.locator('table.diff-table tr[data-key="lr"] td.cell');
    assert.deepEqual(await lr.locator('.value').allTextContents(), ['—', '0.001', '0.001'], 'Lightning hparams are params too');
  });

  it('shows a hostile metric name and param value as text, and no script runs', async () => {
    const keyCells = await harness.page.locator('table.diff-table th.key').allTextContents();
    assert.ok(keyCells.includes(HOSTILE), 'the hostile metric key is a row header, literally');
    assert.ok((await harness.page.locator('table.diff-table td .value').allTextContents()).includes(HOSTILE_PARAM));
    await waitReady(HOSTILE);
    assert.equal(await chart(HOSTILE).locator('.chart-title').textContent(), HOSTILE);
    assert.equal(await harness.page.locator('img').count(), 0, 'no <img> element was created');
    assert.equal(await harness.page.locator('script').count(), 2, 'only the shim and the bundle are scripts');
    const facts = await harness.pageFacts();
    assert.deepEqual(facts.alerts, [], 'alert() was never called');
    assert.deepEqual(facts.cspViolations, [], 'no CSP violation');
    assert.deepEqual(harness.pageErrors, []);
    // (Chromium itself asks for /favicon.ico for the tab; the page asks for nothing else.)
    assert.deepEqual([...new Set(harness.requests)].filter((u) => u !== '/favicon.ico').sort(), ['/', '/dist/webview.js', '/host-shim.js'], 'the page loaded nothing but its bundle');
  });

  it('gets the 7,691-point train_loss downsampled by the agent, spikes kept', async () => {
    await waitReady('train_loss');
    const answer = answers.find((a) => a.params.key === 'train_loss' && a.params.xMin === undefined && a.params.since === undefined);
    assert.ok(answer, 'the chart asked the agent for train_loss');
    const s = answer.result.series.find((x) => x.runId === runs.tb.id)!;
    assert.equal(s.total, 7691);
    assert.equal(s.downsampled, true);
    assert.ok(s.xs.length <= 3 * answer.params.width && s.xs.length >= answer.params.width, `${s.xs.length} points for ${answer.params.width} px`);
    const raw = await agent.request('series/get', { runId: runs.tb.id, key: 'train_loss' });
    const values = raw!.values.map(fromWire);
    const ys = s.ys.map(fromWire);
    assert.equal(Math.max(...ys), Math.max(...values), 'the highest spike survives');
    assert.equal(Math.min(...ys), Math.min(...values), 'the lowest point survives');
    const d = await data('train_loss');
    assert.equal(d.runs, `${runs.a.id},${runs.tb.id}`, 'the MLflow baseline logged one train_loss point too');
    const a = answer.result.series.find((x) => x.runId === runs.a.id)!;
    assert.equal(Number(d.points), s.xs.length + a.xs.length);
  });

  it('draws each run that has the metric in its own colour, and no other', async () => {
    const expected: Record<string, number[]> = { train_loss: [runs.a.id, runs.tb.id], [HOSTILE]: [runs.a.id, runs.b.id], val_loss: [runs.tb.id] };
    for (const [key, want] of Object.entries(expected)) {
      await waitReady(key);
      assert.equal((await data(key)).runs, want.join(','), `${key}: runs with points`);
      const colors = await countCanvasColors(harness.page, key, PALETTE);
      const drawn = [runs.a.id, runs.b.id, runs.tb.id].filter((_, i) => colors.counts[PALETTE[i]] >= 8);
      assert.deepEqual(drawn, want, `${key}: pixels per run colour ${JSON.stringify(colors.counts)}`);
    }
    // test_loss: both runs logged 0.18583302199840546 at step 0, drawn on the same spot.
    await waitReady('test_loss');
    assert.equal((await data('test_loss')).runs, `${runs.a.id},${runs.b.id}`);
  });

  it('toggling log scale changes the y axis labels', async () => {
    await waitReady('train_loss');
    const before = await data('train_loss');
    await harness.page.locator('vscode-checkbox[data-control="logY"]').click();
    await harness.page.waitForFunction((prev) => {
      const f = Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((x) => x.dataset.key === 'train_loss');
      return f && f.dataset.state === 'ready' && f.dataset.yTicks !== prev;
    }, before.yTicks);
    const afterLog = await data('train_loss');
    assert.notEqual(afterLog.yTicks, before.yTicks);
    const labels = afterLog.yTicks!.split(' ');
    assert.ok(labels.every((l) => /^1(e-?\d+)?$|^0\.0*1$|^10+$/.test(l)), `log labels are decades: ${afterLog.yTicks} (linear: ${before.yTicks})`);
    const facts = await harness.pageFacts();
    assert.equal(facts.state?.settings.logY, true, 'the setting is kept in the webview state');
    await harness.page.locator('vscode-checkbox[data-control="logY"]').click();
    await harness.page.waitForFunction((prev) => Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((x) => x.dataset.key === 'train_loss')?.dataset.yTicks === prev, before.yTicks);
  });

  it('zooms by drag into full-resolution points, and resets', async () => {
    await waitReady('train_loss');
    const over = chartByKey('train_loss').locator('.u-over');
    const box = (await over.boundingBox())!;
    const asked = answers.length;
    await harness.page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2);
    await harness.page.mouse.down();
    await harness.page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await harness.page.mouse.up();
    await harness.page.waitForFunction(() => /zoomed/.test(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((x) => x.dataset.key === 'train_loss')?.querySelector('.chart-status')?.textContent ?? ''));
    const zoom = answers.slice(asked).find((a) => a.params.key === 'train_loss' && a.params.xMin !== undefined);
    assert.ok(zoom, 'the zoom asked the agent for the visible range');
    const s = zoom.result.series[0];
    assert.equal(s.downsampled, false, `${s.inRange} points in range come at full resolution`);
    assert.ok(s.xs.every((x) => x >= zoom.params.xMin! && x <= zoom.params.xMax!));
    await chartByKey('train_loss').locator('vscode-button.reset-zoom').click();
    await harness.page.waitForFunction(() => !/zoomed/.test(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((x) => x.dataset.key === 'train_loss')?.querySelector('.chart-status')?.textContent ?? 'zoomed'));
  });

  it('appends live points without reloading the chart', async () => {
    await waitReady(HOSTILE);
    const before = await data(HOSTILE);
    const file = path.join(mnist, 'mlruns', '1', RUN_B, 'metrics', HOSTILE);
    fs.appendFileSync(file, `1665036999000 0.25 4\n1665036999500 0.2 5\n`);
    const seen = agent.notifications.length;
    await agent.request('workspace/ingest', { paths: [mnist] });
    const changed = agent.notifications.slice(seen).filter((n) => n.method === 'runs/changed');
    const changes = changed.flatMap((n) => (n.params as { changes: WireSeriesChange[] }).changes);
    assert.ok(changes.some((c) => c.key === HOSTILE && c.runId === runs.b.id && c.newPoints === 2), JSON.stringify(changes));
    const asked = answers.length;
    harness.forwardChanges(changes);
    await harness.page.waitForFunction(
      ([k, n]) => Number(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((x) => x.dataset.key === k)?.dataset.points) === n,
      [HOSTILE, Number(before.points) + 2] as const,
    );
    const live = answers.slice(asked).filter((a) => a.params.key === HOSTILE);
    assert.equal(live.length, 1, 'one request for the new points');
    assert.deepEqual(live[0].params.since, { [String(runs.b.id)]: 4 });
    assert.deepEqual(live[0].result.series[0].xs, [4, 5]);
  });

  it('copies the table as Markdown and CSV', async () => {
    await harness.page.locator('vscode-button', { hasText: 'Copy as Markdown' }).click();
    await harness.page.locator('vscode-button', { hasText: 'Copy as CSV' }).click();
    await harness.page.waitForFunction(() => true);
    await new Promise((r) => setTimeout(r, 200));
    const md = harness.copies.find((c) => c.format === 'markdown')?.text ?? '';
    const csv = harness.copies.find((c) => c.format === 'csv')?.text ?? '';
    assert.match(md, new RegExp(`\\| ${runs.a.name} \\(baseline\\) \\| ${runs.b.name} \\|`));
    assert.ok(md.includes(`| ${HOSTILE} · best (min) |`) || md.includes(`| ${HOSTILE} |`), 'the hostile key is in the Markdown as text');
    assert.match(md, /\| test_loss · best \(min\) \| 0\.18583302199840546 @ step 0 \| 0\.17881843447685242 @ step 0 \(Δ −0\.007015 \(−3\.77 %\), better\) \| — \|/);
    assert.ok(csv.startsWith('section,key,field,'), csv.slice(0, 80));
    assert.ok(csv.includes('metrics,test_loss,best (min),0.18583302199840546,0,,,0.17881843447685242,0,'), 'CSV row of test_loss best');
  });

  it('hovering a chart lists every run at that x; the legend hides a run in every chart', async () => {
    await waitReady(HOSTILE);
    const over = chartByKey(HOSTILE).locator('.u-over');
    const box = (await over.boundingBox())!;
    await harness.page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    const tip = chartByKey(HOSTILE).locator('.chart-tooltip');
    await tip.waitFor({ state: 'visible' });
    assert.deepEqual(await tip.locator('.tip-name').allTextContents(), [runs.a.name, runs.b.name]);
    assert.match((await tip.locator('.tip-head').textContent())!, /^step 2$/);
    await harness.page.mouse.move(5, 5);

    const before = await countCanvasColors(harness.page, HOSTILE, PALETTE);
    assert.ok(before.counts[PALETTE[1]] > 8);
    const draws = Number((await data(HOSTILE)).draws);
    await harness.page.locator(`vscode-checkbox.legend-item[data-run-id="${runs.b.id}"]`).click();
    await harness.page.waitForFunction(([k, n]) => Number(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === k)?.dataset.painted) > n, [HOSTILE, draws] as const);
    const hidden = await countCanvasColors(harness.page, HOSTILE, PALETTE);
    assert.equal(hidden.counts[PALETTE[1]], 0, `run B hidden: ${JSON.stringify(hidden.counts)}`);
    assert.ok(hidden.counts[PALETTE[0]] > 8, 'run A still drawn');
    assert.deepEqual((await harness.pageFacts()).state?.settings.hiddenRunIds, [runs.b.id]);
    await harness.page.locator(`vscode-checkbox.legend-item[data-run-id="${runs.b.id}"]`).click();
    await harness.page.waitForFunction((k) => (Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === k)?.dataset.painted ?? '') !== '', HOSTILE);
  });

  it('switches the x axis to relative time, with durations on the axis', async () => {
    await waitReady('train_loss');
    const asked = answers.length;
    await harness.page.locator('vscode-single-select[data-control="xAxis"]').evaluate((el) => {
      (el as unknown as { value: string }).value = 'relative';
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await harness.page.waitForFunction(() => /\d+[hms]/.test(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === 'train_loss')?.dataset.xTicks ?? ''));
    const rel = answers.slice(asked).find((a) => a.params.key === 'train_loss' && a.params.xAxis === 'relative');
    assert.ok(rel, 'the chart asked again for the relative axis');
    const tb = rel.result.series.find((x) => x.runId === runs.tb.id)!;
    assert.equal(tb.xs[0], 0, 'relative time starts at 0 at the run\'s first point');
    assert.ok(tb.origin! > 1.7e12);
    await harness.page.locator('vscode-single-select[data-control="xAxis"]').evaluate((el) => {
      (el as unknown as { value: string }).value = 'step';
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await harness.page.waitForFunction(() => /k$/.test(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === 'train_loss')?.dataset.xTicks ?? ''));
  });

  it('offers the epoch as an x axis, and does not chart the epoch series as a metric', async () => {
    // The Lightning run logs `epoch` (TensorBoard scalar): it is in the table, not among the charts.
    assert.ok(await harness.page.locator('table.diff-table tr[data-key="epoch"]').count() > 0, 'epoch is a row of the table');
    assert.equal(await chartByKey('epoch').count(), 0, 'no chart for the epoch series');
    assert.match((await harness.page.locator('.filter-note').textContent())!, /epoch is an x axis/);
    await waitReady('train_loss');
    const asked = answers.length;
    await harness.page.locator('vscode-single-select[data-control="xAxis"]').evaluate((el) => {
      (el as unknown as { value: string }).value = 'epoch';
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await harness.page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).some((f) => f.dataset.key === 'train_loss' && f.dataset.state === 'ready' && Number(f.dataset.painted ?? 0) > 0));
    const byEpoch = await waitForAnswer(asked, (a) => a.params.key === 'train_loss' && a.params.xAxis === 'epoch');
    const tb = byEpoch.result.series.find((x) => x.runId === runs.tb.id)!;
    assert.equal(tb.missing, null);
    assert.ok(tb.xs.length > 100 && tb.xs[0] >= 0 && tb.xs[tb.xs.length - 1] < 100, `train_loss over epochs ${tb.xs[0]}..${tb.xs[tb.xs.length - 1]}`);
    assert.equal(byEpoch.result.series.find((x) => x.runId === runs.a.id)!.missing, 'epoch', 'the MLflow runs log no epoch series');
    await harness.page.locator('vscode-single-select[data-control="xAxis"]').evaluate((el) => {
      (el as unknown as { value: string }).value = 'step';
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await harness.page.waitForFunction(() => /k$/.test(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === 'train_loss')?.dataset.xTicks ?? ''));
  });

  it('keeps the keyboard focus on a direction button after Enter, and on a legend checkbox after Space', async () => {
    const flip = harness.page.locator('table.diff-table tr[data-key="test_loss"][data-kind="metric-best"] vscode-button.flip');
    await flip.focus();
    const before = await flip.textContent();
    await harness.page.keyboard.press('Enter');
    await harness.page.waitForFunction((was) => document.querySelector('table.diff-table tr[data-key="test_loss"][data-kind="metric-best"] vscode-button.flip')?.textContent !== was, before);
    const focused = () => harness.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset?.focusId ?? document.activeElement?.tagName.toLowerCase());
    assert.equal(await focused(), 'flip:test_loss', 'focus stays on the flipped direction button');
    await harness.page.keyboard.press('Enter'); // and flips back, from the keyboard again
    await harness.page.waitForFunction((was) => document.querySelector('table.diff-table tr[data-key="test_loss"][data-kind="metric-best"] vscode-button.flip')?.textContent === was, before);
    assert.equal(await focused(), 'flip:test_loss');

    const box = harness.page.locator(`.legend vscode-checkbox[data-run-id="${runs.b.id}"]`);
    await box.focus();
    await harness.page.keyboard.press('Space');
    await harness.page.waitForFunction((id) => (window as unknown as { __runlensState?: { settings: { hiddenRunIds: number[] } } }).__runlensState?.settings.hiddenRunIds.includes(id), runs.b.id);
    assert.equal(await focused(), `legend:${runs.b.id}`, 'focus stays on the legend checkbox');
    await harness.page.keyboard.press('Space');
    await harness.page.waitForFunction((id) => !(window as unknown as { __runlensState?: { settings: { hiddenRunIds: number[] } } }).__runlensState?.settings.hiddenRunIds.includes(id), runs.b.id);
    assert.equal(await focused(), `legend:${runs.b.id}`);
  });

  it('says so when no run left the baseline\'s noise band, once divergence has been computed', async () => {
    // The MLflow baseline and the Lightning run share no metric: nothing can diverge.
    const other = await openHarness(chromium, { agent: request, runIds: [runs.a.id, runs.tb.id], theme: 'dark' });
    try {
      await other.page.waitForSelector('ul.divergences li.none', { timeout: 20_000 });
      assert.equal(await other.page.locator('ul.divergences li').count(), 1);
      assert.equal(await other.page.locator('ul.divergences li.none').textContent(), `No run left ${runs.a.name}'s noise band on a metric they share.`);
    } finally {
      await other.close();
    }
  });

  it("meets WCAG AA in VS Code's Light, Dark and High Contrast themes: every text's contrast, and axe-core finds nothing", async () => {
    await assertAccessibleInEveryTheme(harness.page, 50);
  });

  it('exports a chart as PNG and as SVG, the hostile title escaped', async () => {
    await waitReady(HOSTILE);
    await chartByKey(HOSTILE).locator('vscode-button', { hasText: 'PNG' }).click();
    await chartByKey(HOSTILE).locator('vscode-button', { hasText: 'SVG' }).click();
    await new Promise((r) => setTimeout(r, 300));
    const png = harness.saves.find((x) => x.format === 'png')!;
    const svg = harness.saves.find((x) => x.format === 'svg')!;
    assert.deepEqual([...Buffer.from(png.data, 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
    assert.ok(Buffer.from(png.data, 'base64').length > 5000);
    assert.equal(png.fileName, '_img_src_x_onerror_alert_1_.png');
    assert.ok(svg.data.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.ok(svg.data.includes('<title>&lt;img src=x onerror=alert(1)&gt;</title>'));
    assert.ok(!svg.data.includes('<img'));
    assert.ok((svg.data.match(/<polyline /g) ?? []).length >= 2, 'a line per run (and smoothed lines)');
  });

  it('follows a theme change: the charts are drawn again in the new colours', async () => {
    await waitReady('train_loss');
    const draws = Number((await data('train_loss')).draws);
    await harness.setTheme('light');
    await harness.page.waitForFunction(([k, n]) => Number(Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === k)?.dataset.draws) > n, ['train_loss', draws] as const);
    const axis = await countCanvasColors(harness.page, 'train_loss', ['#3b3b3b', '#cccccc']);
    assert.ok(axis.counts['#3b3b3b'] > 20 && axis.counts['#cccccc'] < axis.counts['#3b3b3b'], `axis labels in the light theme's foreground: ${JSON.stringify(axis.counts)}`);
    await harness.setTheme('dark');
  });

  it('restores the runs and settings of a reloaded panel from its saved state', async () => {
    const state = {
      runIds: [runs.a.id, runs.b.id],
      settings: { ...(await harness.pageFacts()).state!.settings, baselineRunId: runs.b.id, onlyDifferences: true, logY: true, smoothing: 0 },
    };
    const restored = await openHarness(chromium, { agent: request, runIds: state.runIds, state, theme: 'light' });
    try {
      const page = restored.page;
      await page.waitForSelector('body[data-state="ready"]');
      assert.equal(await page.locator('table.diff-table thead th.run-col.baseline .run-name').textContent(), runs.b.name, 'baseline restored');
      assert.equal(await page.locator('vscode-checkbox[data-control="onlyDifferences"]').evaluate((e) => (e as unknown as { checked: boolean }).checked), true);
      // Identical in both runs, so hidden: the param `note` and the git commit tag.
      assert.equal(await page.locator('tr[data-key="note"]').count(), 0);
      assert.equal(await page.locator('tr[data-key="mlflow.source.git.commit"]').count(), 0);
      assert.ok((await page.locator('tbody[data-section="tags"] .hidden-count').textContent())!.includes('identical hidden'));
      assert.equal(await page.locator('tr[data-key="batch_size"]').count(), 1, 'a differing param stays');
      const key = 'test_loss';
      await page.locator(`figure.chart[data-key="${key}"]`).scrollIntoViewIfNeeded();
      await page.waitForFunction((k) => Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).some((f) => f.dataset.key === k && f.dataset.state === 'ready'), key);
      assert.equal(await page.locator('vscode-checkbox[data-control="logY"]').evaluate((e) => (e as unknown as { checked: boolean }).checked), true);
      // Both runs carry the same commit: Compare Code goes to the host with the pair.
      await page.locator('.code-compare vscode-button', { hasText: 'Compare Code' }).click();
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(restored.codeCompares.map((c) => [c.base.id, c.other.id]), [[runs.b.id, runs.a.id]]);
      const facts = await restored.pageFacts();
      assert.deepEqual(facts.cspViolations, []);
      assert.deepEqual(restored.pageErrors, []);
    } finally {
      await restored.close();
    }
  });

  it('keeps a screenshot of the panel in test-results/', async () => {
    fs.mkdirSync(RESULTS, { recursive: true });
    await harness.page.evaluate(() => window.scrollTo(0, 0));
    await harness.page.screenshot({ path: path.join(RESULTS, 'webview-compare.png'), fullPage: true });
    assert.ok(fs.statSync(path.join(RESULTS, 'webview-compare.png')).size > 10_000);
  });
});
