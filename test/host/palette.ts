// The command palette, used the way a person does: F1, type, read the list,
// Enter. The list is built when the palette opens, so a command contributed by
// an extension that is still activating appears only in a palette opened later:
// the helpers reopen it until the entry is there or time runs out.
import type { Page } from 'playwright-core';

const WIDGET = '.quick-input-widget';
const INPUT = `${WIDGET} .quick-input-box input`;
const ROWS = `${WIDGET} .quick-input-list .monaco-list-row`;

async function open(page: Page, text: string): Promise<void> {
  if (!(await page.locator(INPUT).isVisible())) {
    await page.keyboard.press('F1');
    await page.locator(INPUT).waitFor({ state: 'visible', timeout: 10_000 });
  }
  await page.locator(INPUT).fill(`>${text}`);
}

async function close(page: Page): Promise<void> {
  if (await page.locator(INPUT).isVisible()) await page.keyboard.press('Escape');
  await page.locator(INPUT).waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
}

/** The labels of the rows now listed ("Category: Title"), without keybindings. */
async function listedLabels(page: Page): Promise<string[]> {
  return page.locator(ROWS).evaluateAll((rows) =>
    rows.map((row) => (row.querySelector('.label-name')?.textContent ?? row.getAttribute('aria-label') ?? '').replace(/\s+/g, ' ').trim()),
  );
}

/**
 * Every label the open palette lists, scrolling through its (virtual) list:
 * only the rows in view are in the DOM.
 */
async function allListedLabels(page: Page): Promise<string[]> {
  const seen = new Set(await listedLabels(page));
  const list = page.locator(`${WIDGET} .quick-input-list`);
  const box = await list.boundingBox();
  if (!box) return [...seen];
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 50; i++) {
    const before = seen.size;
    await page.mouse.wheel(0, box.height * 0.8);
    await page.waitForTimeout(100);
    for (const label of await listedLabels(page)) seen.add(label);
    if (seen.size === before) break;
  }
  return [...seen];
}

/**
 * Opens the palette with `query` until every title in `expected` is listed (or
 * `timeoutMs` passes); returns everything listed the last time. Leaves it closed.
 */
export async function paletteEntries(page: Page, query: string, expected: string[], timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const complete = (labels: string[]) => expected.every((title) => labels.includes(title));
  for (;;) {
    await open(page, query);
    // The list filters as the input changes; give it a moment to settle.
    const settleUntil = Date.now() + 1500;
    let labels = await listedLabels(page);
    while (Date.now() < settleUntil && labels.length === 0) {
      await page.waitForTimeout(100);
      labels = await listedLabels(page);
    }
    labels = await allListedLabels(page);
    await close(page);
    if (complete(labels) || Date.now() > deadline) return labels;
    await page.waitForTimeout(500);
  }
}

/**
 * Runs the palette command titled exactly `title` ("Category: Title"), reopening the palette until it is listed.
 * `opensPicker`: the command asks in a quick pick of its own (the same widget), so it is not waited to close.
 */
export async function runPaletteCommand(page: Page, title: string, timeoutMs = 20_000, opensPicker = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await open(page, title);
    const settleUntil = Date.now() + 1500;
    while (Date.now() < settleUntil) {
      const labels = await listedLabels(page);
      const index = labels.indexOf(title);
      if (index >= 0) {
        await page.locator(ROWS).nth(index).click();
        if (!opensPicker) await page.locator(INPUT).waitFor({ state: 'hidden', timeout: 5_000 });
        return;
      }
      await page.waitForTimeout(100);
    }
    const listed = await listedLabels(page);
    await close(page);
    if (Date.now() > deadline) throw new Error(`palette command "${title}" was not listed within ${timeoutMs} ms; listed: ${JSON.stringify(listed)}`);
    await page.waitForTimeout(500);
  }
}
