// Headless Debian chromium, driven by playwright-core, with a fresh profile and
// nothing running in the background that could reach out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { CodeServer } from './codeServer';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches chromium headless with its own profile in `profileDir` (removed by the caller's temp-dir cleanup). */
export async function launchBrowser(executablePath: string, profileDir: string): Promise<Browser> {
  fs.mkdirSync(profileDir, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    timeout: 60_000,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
    },
  };
}

/** Console lines that say nothing about a failure. */
const NOISE = /Ignoring fetching additional builtin extensions|Settings not included in settingsLayout/;

export interface Workbench {
  page: Page;
  /** Console lines of the page (workbench and, in development mode, the extension host). */
  consoleLines: string[];
}

/**
 * Opens the workbench of `server` in a new page and waits until it is shown.
 * `beforeNavigate` runs first (e.g. to expose window.codeAutomationExit).
 */
export async function openWorkbench(
  browser: Browser,
  server: CodeServer,
  options: { payload?: [string, string][]; beforeNavigate?: (page: Page) => Promise<unknown>; timeoutMs?: number } = {},
): Promise<Workbench> {
  const page = await browser.context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (m) => {
    const text = m.text().replace(/%c\s*(\S+)\s+color:\s*#\w+\s*/, '$1 ');
    if (!NOISE.test(text)) consoleLines.push(`[${m.type()}] ${text}`);
  });
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  await options.beforeNavigate?.(page);
  await page.goto(server.workbenchUrl(options.payload), { waitUntil: 'domcontentloaded', timeout: options.timeoutMs ?? 60_000 });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: options.timeoutMs ?? 60_000 });
  return { page, consoleLines };
}

/** Saves a PNG of the whole page to `file`, creating its folder. */
export async function screenshot(page: Page, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: false });
}
