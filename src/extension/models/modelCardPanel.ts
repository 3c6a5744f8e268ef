// Model card panels: one webview (dist/modelCard.js) per model file, opened
// or revealed and refreshed through the internal command
// `runlens.openModelCardPanel` (a path), which the Models view's selection and
// the model commands call. The card's buttons run the same commands as the
// view's context menu, so progress, cancellation and errors look the same.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AgentClient } from '../agent/agentClient';
import { MODEL_CARD_VIEW_TYPE, parseModelCardMessage, type CardAction, type ModelCardHostMessage } from '../../shared/modelCardProtocol';
import { modelCardHtml } from '../compare/panelHtml';
import { ModelCardSession } from './modelCardSession';

export const OPEN_MODEL_CARD_PANEL_COMMAND = 'runlens.openModelCardPanel';

/** The command each card button runs, with the model's file as its argument. */
const ACTION_COMMANDS: Record<CardAction, string> = {
  runSmoke: 'runlens.runSmokeTest',
  checkParity: 'runlens.checkParity',
  saveGolden: 'runlens.saveGolden',
};

interface PanelDeps {
  extensionUri: vscode.Uri;
  agent: AgentClient;
  log: vscode.LogOutputChannel;
}

class ModelCardPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly session: ModelCardSession;

  constructor(
    readonly panel: vscode.WebviewPanel,
    modelPath: string,
    deps: PanelDeps,
    onDispose: () => void,
  ) {
    const distUri = vscode.Uri.joinPath(deps.extensionUri, 'dist');
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'runlens.svg');
    this.session = new ModelCardSession(
      modelPath,
      (method, params) => deps.agent.request(method, params),
      (m: ModelCardHostMessage) => panel.webview.postMessage(m),
      { run: async (action, file) => void (await vscode.commands.executeCommand(ACTION_COMMANDS[action], vscode.Uri.file(file))) },
      (line) => deps.log.warn(line),
    );
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const message = parseModelCardMessage(raw);
        if (!message) {
          deps.log.warn(`model card: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        this.session.handle(message).catch((e: Error) => deps.log.error(`model card: ${e.message}`));
      }),
      panel.onDidChangeViewState((e) => !e.webviewPanel.visible && this.session.webviewGone()),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
    const script = vscode.Uri.joinPath(distUri, 'modelCard.js');
    if (!fs.existsSync(script.fsPath)) deps.log.error('model card: dist/modelCard.js is missing; rebuild the extension');
    panel.webview.html = modelCardHtml({ cspSource: panel.webview.cspSource, scriptUri: panel.webview.asWebviewUri(script).toString() });
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Registers the open command; call once from activate(). */
export function registerModelCardPanel(deps: PanelDeps): vscode.Disposable[] {
  const open = new Map<string, ModelCardPanel>();
  return [
    vscode.commands.registerCommand(OPEN_MODEL_CARD_PANEL_COMMAND, async (modelPath: string) => {
      if (typeof modelPath !== 'string' || !modelPath) return undefined;
      const existing = open.get(modelPath);
      if (existing) {
        existing.panel.reveal(undefined, true);
        await existing.session.refresh();
        return MODEL_CARD_VIEW_TYPE;
      }
      const panel = vscode.window.createWebviewPanel(MODEL_CARD_VIEW_TYPE, `Model: ${path.basename(modelPath)}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, {
        enableScripts: true,
        // Only the bundles' folder is readable by the webview; nothing remote.
        localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'dist')],
      });
      open.set(modelPath, new ModelCardPanel(panel, modelPath, deps, () => open.delete(modelPath)));
      return MODEL_CARD_VIEW_TYPE;
    }),
    { dispose: () => [...open.values()].forEach((p) => p.dispose()) },
  ];
}
