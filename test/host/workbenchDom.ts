// Reading and clicking the workbench the way a person sees it: the rows of the
// side bar's tree and the notification toasts.
import type { Page } from 'playwright-core';

export interface TreeRow {
  /** Position in the whole (virtual) list. */
  index: number;
  /** 1 for top-level rows. */
  level: number;
  label: string;
  description: string;
  /** undefined: not expandable. */
  expanded: boolean | undefined;
}

const SIDEBAR_ROWS = '.part.sidebar .monaco-list-row[role=treeitem]';

/** The tree rows rendered in the side bar now, in list order. */
export async function treeRows(page: Page): Promise<TreeRow[]> {
  const rows = await page.locator(SIDEBAR_ROWS).evaluateAll((els) =>
    els.map((el) => {
      const expanded = el.getAttribute('aria-expanded');
      return {
        index: Number(el.getAttribute('data-index')),
        level: Number(el.getAttribute('aria-level')),
        label: (el.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (el.querySelector('.label-description')?.textContent ?? '').trim(),
        expanded: expanded === null ? undefined : expanded === 'true',
      };
    }),
  );
  return rows.sort((a, b) => a.index - b.index);
}

/** Polls the side bar's tree until `check` returns a value (not undefined); throws with the rows seen on timeout. */
export async function waitForTree<T>(page: Page, what: string, timeoutMs: number, check: (rows: TreeRow[]) => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let rows: TreeRow[] = [];
  for (;;) {
    rows = await treeRows(page);
    const result = check(rows);
    if (result !== undefined) return result;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the side bar tree shows:\n${rows.map((r) => `${'  '.repeat(r.level)}${r.label}  ${r.description}`).join('\n') || '(no rows)'}`);
    }
    await page.waitForTimeout(200);
  }
}

/** The first row after `after` (a row index) at `level` with `label`, before the list leaves that subtree. */
export function childRow(rows: TreeRow[], parent: TreeRow, label: string): TreeRow | undefined {
  for (const row of rows.filter((r) => r.index > parent.index)) {
    if (row.level <= parent.level) return undefined;
    if (row.level === parent.level + 1 && row.label === label) return row;
  }
  return undefined;
}

/** Clicks a collapsed row to expand it. */
export async function expandRow(page: Page, row: TreeRow): Promise<void> {
  if (row.expanded !== false) return;
  await page.locator(`${SIDEBAR_ROWS}[data-index="${row.index}"]`).click();
}

/** The text of each notification toast on screen. */
export async function toastTexts(page: Page): Promise<string[]> {
  return page.locator('.notification-toast').evaluateAll((els) => els.map((el) => (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}
