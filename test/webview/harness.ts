// Runs the comparison panel's real bundle (dist/webview.js) in headless
// Chromium, in the same HTML shell and CSP the extension serves, from a
// loopback HTTP server this harness starts. The extension's side is the real
// CompareSession (src/extension/compare/compareSession.ts) answering from a
// real agent process; only VS Code itself is stood in for: acquireVsCodeApi,
// the theme's CSS variables, the clipboard/save/diff actions.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CompareSession, type AgentRequester } from '../../src/extension/compare/compareSession';
import { comparePanelHtml, makeNonce } from '../../src/extension/compare/panelHtml';
import { parseWebviewMessage, type ComparePanelState, type HostToWebview, type WebviewToHost } from '../../src/shared/comparePanelProtocol';
import type { WireRunDetail, WireSeriesChange } from '../../src/shared/protocol';
import { repoRoot } from '../support/fixtures';

export const CHROMIUM_PATH = process.env.RUNLENS_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export type ThemeKind = 'dark' | 'light' | 'high-contrast';

/**
 * VS Code's own theme variables as its webviews get them, per theme (Dark Modern, Light Modern, Dark High
 * Contrast): captured from the real workbench by the host tests' theme check (test/host/themeCheck.ts;
 * RUNLENS_UPDATE_THEMES=1 writes them again), so these pages are themed exactly as in VS Code.
 */
export const THEMES: Record<ThemeKind, Record<string, string>> = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'webview', 'vscode-themes.json'), 'utf8'));

export interface HarnessOptions {
  agent: AgentRequester;
  runIds: number[];
  theme?: ThemeKind;
  /** What VS Code would hand back to getState() (a restored panel). */
  state?: ComparePanelState;
  viewport?: { width: number; height: number };
  /** Sees every webview message first; returning true keeps it from the host (the benchmark answers some itself). */
  intercept?: (message: WebviewToHost) => boolean;
}

export interface Harness {
  page: Page;
  session: CompareSession;
  origin: string;
  copies: { format: string; text: string }[];
  saves: { format: string; fileName: string; data: string }[];
  codeCompares: { base: WireRunDetail; other: WireRunDetail }[];
  /** Every URL the page asked the server for (the panel must load nothing but its bundle). */
  requests: string[];
  pageErrors: string[];
  consoleErrors: string[];
  /** Sends a runs/changed notification's changes through the host, as the extension forwards them. */
  forwardChanges(changes: WireSeriesChange[]): void;
  /** Resolves when the host's messages so far have reached the page. */
  flush(): Promise<void>;
  /** Securitypolicyviolation events, window.alert calls, the persisted state. */
  pageFacts(): Promise<{ cspViolations: string[]; alerts: string[]; state: ComparePanelState | undefined }>;
  setTheme(kind: ThemeKind): Promise<void>;
  close(): Promise<void>;
}

/** The stand-in for VS Code inside the page, loaded (by nonce) before the bundle. */
export function hostShim(theme: ThemeKind, state: ComparePanelState | undefined): string {
  return `(() => {
  const themes = ${JSON.stringify(THEMES)};
  window.__setTheme = (kind) => {
    for (const name of [...document.documentElement.style]) if (name.startsWith('--vscode-')) document.documentElement.style.removeProperty(name);
    for (const [k, v] of Object.entries(themes[kind])) document.documentElement.style.setProperty(k, v);
    document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast');
    document.body.classList.add('vscode-' + kind);
  };
  window.__setTheme(${JSON.stringify(theme)});
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  window.__alerts = [];
  window.alert = (m) => window.__alerts.push(String(m));
  let state = ${JSON.stringify(state ?? null)} ?? undefined;
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may be called once');
    acquired = true;
    return {
      postMessage: (m) => window.__runlensToHost(JSON.parse(JSON.stringify(m))),
      getState: () => state,
      setState: (s) => { state = JSON.parse(JSON.stringify(s)); window.__runlensState = state; },
    };
  };
})();
`;
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's chromium, headless, with a fresh profile (user-data-dir) removed on close. */
export async function launchChromium(): Promise<Chromium> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
    timeout: 60_000,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function openHarness(browser: Chromium, options: HarnessOptions): Promise<Harness> {
  const bundle = path.join(repoRoot, 'dist', 'webview.js');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run node scripts/build.mjs first`);
  const requests: string[] = [];
  const nonce = makeNonce();
  let origin = '';
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.url === '/') send('text/html; charset=utf-8', comparePanelHtml({ cspSource: origin, scriptUri: `${origin}/dist/webview.js`, nonce, preludeScriptUris: [`${origin}/host-shim.js`] }));
    else if (req.url === '/dist/webview.js') send('text/javascript; charset=utf-8', fs.readFileSync(bundle));
    else if (req.url === '/host-shim.js') send('text/javascript; charset=utf-8', hostShim(options.theme ?? 'dark', options.state));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const page = await browser.context.newPage();
  if (options.viewport) await page.setViewportSize(options.viewport);
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });

  // Host → page messages are delivered in order, one evaluate after the other.
  let queue: Promise<unknown> = Promise.resolve();
  const post = (message: HostToWebview) => {
    queue = queue.then(() => page.evaluate((m) => window.postMessage(m, '*'), message as never).catch(() => undefined));
  };
  const copies: Harness['copies'] = [];
  const saves: Harness['saves'] = [];
  const codeCompares: Harness['codeCompares'] = [];
  const session = new CompareSession(options.runIds, options.agent, post, {
    copyText: (format, text) => void copies.push({ format, text }),
    saveImage: (format, fileName, data) => void saves.push({ format, fileName, data }),
    compareCode: (base, other) => {
      codeCompares.push({ base, other });
      return undefined;
    },
    openRun: () => undefined,
  });
  await page.exposeFunction('__runlensToHost', (raw: unknown) => {
    const message = parseWebviewMessage(raw);
    if (!message) pageErrors.push(`malformed message from the webview: ${JSON.stringify(raw)}`);
    else if (options.intercept?.(message)) return;
    else session.handle(message).catch((e: Error) => pageErrors.push(`host: ${e.message}`));
  });
  await page.goto(`${origin}/`);

  return {
    page,
    session,
    origin,
    copies,
    saves,
    codeCompares,
    requests,
    pageErrors,
    consoleErrors,
    forwardChanges: (changes) => session.onRunsChanged(changes),
    flush: async () => {
      await queue;
    },
    pageFacts: () =>
      page.evaluate(() => {
        const w = window as unknown as { __cspViolations: string[]; __alerts: string[]; __runlensState?: ComparePanelState };
        return { cspViolations: w.__cspViolations, alerts: w.__alerts, state: w.__runlensState };
      }),
    setTheme: async (kind) => {
      await page.evaluate((k) => (window as unknown as { __setTheme: (k: string) => void }).__setTheme(k), kind);
    },
    close: async () => {
      await page.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface CanvasColors {
  width: number;
  height: number;
  /** Per wanted colour: pixels within the tolerance of it. */
  counts: Record<string, number>;
}

/** Counts, on a chart's canvas, the pixels close to each of `colors` (hex). */
export async function countCanvasColors(page: Page, key: string, colors: string[], tolerance = 40): Promise<CanvasColors> {
  return page.evaluate(
    ({ key, colors, tolerance }) => {
      const fig = Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === key);
      const canvas = fig?.querySelector('canvas');
      if (!canvas) throw new Error(`no canvas for chart ${key}`);
      const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      const rgb = colors.map((c) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)]);
      const counts: Record<string, number> = Object.fromEntries(colors.map((c) => [c, 0]));
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue; // transparent background, faint raw lines
        for (let k = 0; k < rgb.length; k++) {
          const [r, g, b] = rgb[k];
          if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) <= tolerance) counts[colors[k]]++;
        }
      }
      return { width, height, counts };
    },
    { key, colors, tolerance },
  );
}
