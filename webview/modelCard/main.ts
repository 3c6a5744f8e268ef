// The model card's webview entry (bundled to dist/modelCard.js). Says `ready`
// to the host and shows nothing but "Loading" until the host sends the card.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ModelCardHostMessage, ModelCardWebviewMessage } from '../../src/shared/modelCardProtocol';
import { MODEL_CARD_PROTOCOL_VERSION } from '../../src/shared/modelCardProtocol';
import { adoptCss } from '../dom';
import { ModelCardView } from './card';
import cardCss from './styles.css';

interface VsCodeApi {
  postMessage(message: ModelCardWebviewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

adoptCss(cardCss);
const vscode = acquireVsCodeApi();
const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const view = new ModelCardView(root, (action) => vscode.postMessage({ type: action }));
window.addEventListener('message', (event: MessageEvent) => {
  const message = event.data as ModelCardHostMessage;
  if (message && typeof message === 'object' && typeof message.type === 'string') view.dispatch(message);
});
window.addEventListener('error', (e) => view.showNotice('error', `The model card hit an error: ${e.message}`));
vscode.postMessage({ type: 'ready', protocolVersion: MODEL_CARD_PROTOCOL_VERSION });
