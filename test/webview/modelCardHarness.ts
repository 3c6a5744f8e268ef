// Runs the model card's real bundle (dist/modelCard.js) in headless Chromium,
// in the HTML shell and CSP the extension serves, with the real host session
// (src/extension/models/modelCardSession.ts) answering from a real agent.
// VS Code is stood in for by the comparison panel harness' shim; the buttons'
// actions are recorded and handed to the test, which performs them.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { modelCardHtml, makeNonce } from '../../src/extension/compare/panelHtml';
import type { AgentRequester } from '../../src/extension/compare/compareSession';
import { ModelCardSession } from '../../src/extension/models/modelCardSession';
import { parseModelCardMessage, type CardAction, type ModelCardHostMessage } from '../../src/shared/modelCardProtocol';
import { repoRoot } from '../support/fixtures';
import { hostShim, type Chromium, type ThemeKind } from './harness';

export interface ModelCardHarness {
  page: Page;
  session: ModelCardSession;
  /** The actions the buttons asked for, in order. */
  actions: CardAction[];
  requests: string[];
  pageErrors: string[];
  csp: string;
  pageFacts(): Promise<{ cspViolations: string[]; alerts: string[] }>;
  close(): Promise<void>;
}

export async function openModelCardHarness(
  browser: Chromium,
  options: { modelPath: string; agent: AgentRequester; perform: (action: CardAction) => Promise<void>; theme?: ThemeKind },
): Promise<ModelCardHarness> {
  const bundle = path.join(repoRoot, 'dist', 'modelCard.js');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run node scripts/build.mjs first`);
  const requests: string[] = [];
  const nonce = makeNonce();
  let origin = '';
  let html = '';
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.url === '/') send('text/html; charset=utf-8', html);
    else if (req.url === '/dist/modelCard.js') send('text/javascript; charset=utf-8', fs.readFileSync(bundle));
    else if (req.url === '/host-shim.js') send('text/javascript; charset=utf-8', hostShim(options.theme ?? 'dark', undefined));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = modelCardHtml({ cspSource: origin, scriptUri: `${origin}/dist/modelCard.js`, nonce, preludeScriptUris: [`${origin}/host-shim.js`] });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1].replace(/&#39;|&quot;/g, "'");

  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  let queue: Promise<unknown> = Promise.resolve();
  const post = (message: ModelCardHostMessage) => {
    queue = queue.then(() => page.evaluate((m) => window.postMessage(m, '*'), message as never).catch(() => undefined));
    return queue;
  };
  const actions: CardAction[] = [];
  const session = new ModelCardSession(options.modelPath, options.agent, post, {
    run: async (action) => {
      actions.push(action);
      await options.perform(action);
    },
  });
  await page.exposeFunction('__runlensToHost', (raw: unknown) => {
    const message = parseModelCardMessage(raw);
    if (!message) pageErrors.push(`malformed message from the webview: ${JSON.stringify(raw)}`);
    else session.handle(message).catch((e: Error) => pageErrors.push(`host: ${e.message}`));
  });
  await page.goto(`${origin}/`);
  return {
    page,
    session,
    actions,
    requests,
    pageErrors,
    csp,
    pageFacts: () =>
      page.evaluate(() => {
        const w = window as unknown as { __cspViolations: string[]; __alerts: string[] };
        return { cspViolations: w.__cspViolations, alerts: w.__alerts };
      }),
    close: async () => {
      await page.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
