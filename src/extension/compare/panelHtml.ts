// The panels' HTML shell (no vscode here: the webview tests serve the same
// document to Chromium). Nothing but the bundle runs: CSP starts from
// `default-src 'none'`, the one script is allowed by nonce, styles come from
// the bundle (constructed style sheets) or the webview's own origin.
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  /** The webview's resource origin (`webview.cspSource`). */
  cspSource: string;
  /** URL of the panel's bundle (dist/webview.js, dist/modelCard.js) as the webview may load it (`asWebviewUri`). */
  scriptUri: string;
  nonce?: string;
  /** Extra scripts allowed by the same nonce, before the bundle (the test harness' stand-in for VS Code). */
  preludeScriptUris?: string[];
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function comparePanelHtml(options: PanelHtmlOptions): string {
  return panelHtml('RunLens: Compare Runs', 'Loading the comparison…', options);
}

/** The model card's shell: the same policy, its own bundle (dist/modelCard.js). */
export function modelCardHtml(options: PanelHtmlOptions): string {
  return panelHtml('RunLens: Model Card', 'Loading the model card…', options);
}

function panelHtml(title: string, loading: string, options: PanelHtmlOptions): string {
  const nonce = options.nonce ?? makeNonce();
  // No img-src, font-src or connect-src: the panel loads no image, font or data of its own; everything comes by message.
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${options.cspSource} 'nonce-${nonce}'`].join('; ');
  const scripts = [...(options.preludeScriptUris ?? []), options.scriptUri].map((src) => `<script nonce="${attr(nonce)}" src="${attr(src)}"></script>`).join('\n  ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${attr(title)}</title>
</head>
<body>
  <main id="app" aria-busy="true"><p class="loading">${attr(loading)}</p></main>
  ${scripts}
</body>
</html>
`;
}
