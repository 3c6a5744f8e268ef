// Part of the "ui" phase: the comparison panel as a person opens it. Two runs
// are selected in the Experiments view, "Compare Runs" is picked from their
// context menu, and the panel's webview (an iframe inside VS Code's webview
// host) is read: its run columns, a chart that drew, no error notice.
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { screenshot } from './browser';
import type { PhaseContext } from './phase';
import { childRow, treeRows, type TreeRow } from './workbenchDom';
import { repoRoot } from '../support/fixtures';

export const COMPARE_SCREENSHOT = path.join(repoRoot, 'test-results', 'host-compare.png');
const SIDEBAR_ROWS = '.part.sidebar .monaco-list-row[role=treeitem]';

async function panelFrame(page: Page, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const ready = await frame.evaluate(() => document.body?.dataset.state === 'ready' && document.querySelector('table.diff-table') !== null).catch(() => false);
      if (ready) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no comparison panel webview became ready within ${timeoutMs} ms (frames: ${page.frames().map((f) => f.url().slice(0, 80)).join(', ')})`);
    await page.waitForTimeout(250);
  }
}

/** Opens the comparison panel on two runs of `experiment` and checks it; returns its webview frame, still open. */
export async function checkComparePanel(ctx: PhaseContext, page: Page, experiment: TreeRow, runNames: [string, string]): Promise<Frame> {
  // Rows are found again after each click: a click also expands or collapses a run, which moves the rows below it.
  const find = async (name: string) => {
    const rows = await treeRows(page);
    const parent = rows.find((r) => r.level === experiment.level && r.label === experiment.label) ?? experiment;
    const row = childRow(rows, parent, name);
    if (!row) throw new Error(`run ${name} is not shown under ${experiment.label}`);
    return row;
  };
  await page.locator(`${SIDEBAR_ROWS}[data-index="${(await find(runNames[0])).index}"]`).click();
  await page.waitForTimeout(300);
  const b = await find(runNames[1]);
  await page.locator(`${SIDEBAR_ROWS}[data-index="${b.index}"]`).click({ modifiers: ['Control'] });
  await page.locator(`${SIDEBAR_ROWS}[data-index="${b.index}"]`).click({ button: 'right' });
  // VS Code's menu ignores a click that comes before it has settled; Enter on the focused item is what a keyboard user does.
  const item = page.getByRole('menuitem', { name: 'Compare Runs…', exact: true });
  await item.waitFor({ state: 'visible', timeout: 10_000 });
  await page.waitForTimeout(300);
  await item.hover();
  await item.click();
  if (await item.isVisible().catch(() => false)) await page.keyboard.press('Enter');
  const started = Date.now();
  const frame = await panelFrame(page, 30_000).catch(async (e: Error) => {
    await screenshot(page, COMPARE_SCREENSHOT);
    throw new Error(`${e.message}; the workbench is in ${path.relative(repoRoot, COMPARE_SCREENSHOT)}`);
  });
  ctx.log(`the comparison panel's webview is ready after ${Date.now() - started} ms`);

  const columns = await frame.locator('table.diff-table thead th.run-col .run-name').allTextContents();
  if (columns.slice().sort().join('|') !== [...runNames].sort().join('|')) throw new Error(`the panel compares ${JSON.stringify(columns)}, not ${JSON.stringify(runNames)}`);
  const charts = frame.locator('figure.chart');
  try {
    await frame.waitForFunction(() => Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).some((f) => f.dataset.state === 'ready' && Number(f.dataset.painted ?? 0) > 0), undefined, { timeout: 20_000 });
  } catch (e) {
    const states = await charts.evaluateAll((els) => els.map((el) => `${(el as HTMLElement).dataset.key}:${(el as HTMLElement).dataset.state}`));
    const notice = await frame.locator('.notice').textContent();
    const layout = await frame.evaluate(() => ({ h: innerHeight, w: innerWidth, tops: Array.from(document.querySelectorAll('figure.chart')).map((f) => Math.round(f.getBoundingClientRect().top)) }));
    await screenshot(page, COMPARE_SCREENSHOT);
    ctx.log(`panel layout: ${JSON.stringify(layout)}`);
    throw new Error(`no chart drew in the panel (${(e as Error).message}); charts: ${states.join(', ')}; notice: ${notice}`);
  }
  const drawn = await charts.evaluateAll((els) => els.filter((el) => (el as HTMLElement).dataset.state === 'ready').map((el) => (el as HTMLElement).dataset.key));
  const notice = (await frame.locator('.notice').textContent())?.trim();
  if (notice) throw new Error(`the panel shows a notice: ${notice}`);
  ctx.log(`the panel compares ${columns.join(' and ')}; charts drawn: ${drawn.join(', ')}`);
  // The screenshot shows the first chart that drew, with the table above it.
  await frame.locator('figure.chart[data-state="ready"]').first().evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await page.mouse.move(1100, 40);
  await page.waitForTimeout(500);
  await screenshot(page, COMPARE_SCREENSHOT);
  ctx.log(`screenshot: ${path.relative(repoRoot, COMPARE_SCREENSHOT)}`);
  return frame;
}
