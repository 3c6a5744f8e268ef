// The comparison panel: a webview hosting dist/webview.js, one CompareSession
// per panel, restored after a window reload by the serializer. Opened through
// the internal command `runlens.openComparePanel` (run ids), which the
// Compare Runs command calls.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { AgentClient } from '../agent/agentClient';
import { COMPARE_VIEW_TYPE, MAX_COMPARE_RUNS, parseWebviewMessage, runIdsFromState, type HostToWebview } from '../../shared/comparePanelProtocol';
import type { WireRunDetail } from '../../shared/protocol';
import { CompareSession, type CompareActions } from './compareSession';
import { compareRunCode, GitDocuments } from './gitDocuments';
import { comparePanelHtml } from './panelHtml';

export const OPEN_COMPARE_PANEL_COMMAND = 'runlens.openComparePanel';

interface PanelDeps {
  extensionUri: vscode.Uri;
  agent: AgentClient;
  log: vscode.LogOutputChannel;
}

function panelTitle(names: string[]): string {
  const shown = names.slice(0, 2).join(' ↔ ');
  return `Compare: ${shown}${names.length > 2 ? ` +${names.length - 2}` : ''}`;
}

class ComparePanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly session: CompareSession;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    runIds: number[],
    private readonly deps: PanelDeps,
    onDispose: () => void,
  ) {
    const distUri = vscode.Uri.joinPath(deps.extensionUri, 'dist');
    // Only the bundle's folder is readable by the webview; nothing remote.
    panel.webview.options = { enableScripts: true, localResourceRoots: [distUri] };
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'runlens.svg');
    this.session = new CompareSession(runIds, (method, params) => deps.agent.request(method, params), (m: HostToWebview) => panel.webview.postMessage(m), this.actions(), (line) => deps.log.warn(line));
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const message = parseWebviewMessage(raw);
        if (!message) {
          deps.log.warn(`compare panel: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        this.session.handle(message).catch((e: Error) => deps.log.error(`compare panel: ${e.message}`));
      }),
      deps.agent.onDidChangeRuns((p) => this.session.onRunsChanged(p.changes)),
      // Without retained context the webview is torn down when hidden and says `ready` again when shown.
      panel.onDidChangeViewState((e) => !e.webviewPanel.visible && this.session.webviewGone()),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
    const scriptUri = panel.webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'webview.js')).toString();
    if (!fs.existsSync(vscode.Uri.joinPath(distUri, 'webview.js').fsPath)) deps.log.error('compare panel: dist/webview.js is missing; rebuild the extension');
    panel.webview.html = comparePanelHtml({ cspSource: panel.webview.cspSource, scriptUri });
  }

  reveal(): void {
    this.panel.reveal();
  }

  private actions(): CompareActions {
    return {
      copyText: async (format, text) => {
        await vscode.env.clipboard.writeText(text);
        void vscode.window.setStatusBarMessage(`RunLens: comparison copied as ${format === 'csv' ? 'CSV' : 'Markdown'}`, 3000);
      },
      saveImage: async (format, fileName, data) => {
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const target = await vscode.window.showSaveDialog({
          defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined,
          filters: format === 'png' ? { 'PNG image': ['png'] } : { 'SVG image': ['svg'] },
          title: 'Export chart',
        });
        if (!target) return;
        const bytes = format === 'png' ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
        await vscode.workspace.fs.writeFile(target, bytes);
        void vscode.window.setStatusBarMessage(`RunLens: chart saved to ${target.fsPath}`, 3000);
      },
      compareCode: (base: WireRunDetail, other: WireRunDetail) => compareRunCode(base, other),
      openRun: async (run) => {
        await vscode.commands.executeCommand('runlens.openRun', { kind: 'runId', id: run.id });
      },
    };
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Registers the panel's command, serializer and git documents; call once from activate(). */
export function registerComparePanel(deps: PanelDeps): vscode.Disposable[] {
  const open = new Set<ComparePanel>();
  const track = (panel: vscode.WebviewPanel, runIds: number[]) => {
    const p: ComparePanel = new ComparePanel(panel, runIds, deps, () => open.delete(p));
    open.add(p);
    return p;
  };
  return [
    new GitDocuments(),
    vscode.commands.registerCommand(OPEN_COMPARE_PANEL_COMMAND, async (runIds: number[], names?: string[]) => {
      const ids = [...new Set((runIds ?? []).filter((id) => typeof id === 'number'))].slice(0, MAX_COMPARE_RUNS);
      if (ids.length < 2) {
        void vscode.window.showInformationMessage('RunLens: pick at least two runs to compare.');
        return undefined;
      }
      const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, panelTitle(names ?? ids.map(String)), vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'dist')],
      });
      track(panel, ids);
      return COMPARE_VIEW_TYPE;
    }),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const ids = runIdsFromState(state);
        if (ids.length < 2) {
          // Nothing to restore (a panel closed before it loaded): close it rather than show an empty one.
          panel.dispose();
          return;
        }
        track(panel, ids);
      },
    }),
    { dispose: () => [...open].forEach((p) => p.dispose()) },
  ];
}
