// The comparison panel's webview entry (bundled to dist/webview.js). Loads
// the VS Code-styled components it uses, adopts its styles, and says `ready`
// to the host; nothing is shown until the host answers with `init`.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import uplotCss from 'uplot/dist/uPlot.min.css';
import type { HostToWebview } from '../src/shared/comparePanelProtocol';
import { App } from './app';
import { adoptCss } from './dom';
import { HostBridge } from './host';
import appCss from './styles.css';

adoptCss(uplotCss, appCss);
const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const app = new App(root, new HostBridge());
window.addEventListener('message', (event: MessageEvent) => {
  const message = event.data as HostToWebview;
  if (message && typeof message === 'object' && typeof message.type === 'string') app.dispatch(message);
});
window.addEventListener('error', (e) => app.showNotice('error', `The panel hit an error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => app.showNotice('error', `The panel hit an error: ${(e.reason as Error)?.message ?? String(e.reason)}`));
app.start();
