// The Models view: the workspace's .onnx files with size, opset and the last
// smoke test; a model expands into its inputs and outputs.
import * as vscode from 'vscode';
import type { ModelSummary, ModelVersion, VersionState } from '../../core/registry/types';
import type { WireModelSummary } from '../../shared/protocol';
import { fromWire, type Wired } from '../../shared/wireNumbers';
import type { AgentClient } from '../agent/agentClient';
import { displayPath } from '../experiments/treeItems';

export type ModelsNode =
  | { kind: 'registered'; summary: Wired<ModelSummary> }
  | { kind: 'version'; version: Wired<ModelVersion> }
  | { kind: 'model'; model: WireModelSummary }
  | { kind: 'tensor'; model: WireModelSummary; direction: 'input' | 'output'; name: string; detail: string };

interface TensorSpecWire {
  name: string;
  dtype: string;
  shape: { kind: 'fixed' | 'symbol' | 'unknown'; value?: number; name?: string }[];
}

export function formatShape(shape: TensorSpecWire['shape']): string {
  return `[${shape.map((d) => (d.kind === 'fixed' ? String(d.value) : d.kind === 'symbol' ? d.name : '?')).join(', ')}]`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const STATE_ICON: Record<VersionState, vscode.ThemeIcon> = {
  pending: new vscode.ThemeIcon('circle-outline'),
  approved: new vscode.ThemeIcon('verified', new vscode.ThemeColor('charts.green')),
  rejected: new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')),
  pushed: new vscode.ThemeIcon('cloud-upload', new vscode.ThemeColor('charts.blue')),
  deployed: new vscode.ThemeIcon('rocket', new vscode.ThemeColor('charts.purple')),
  archived: new vscode.ThemeIcon('archive'),
};

export class ModelsTreeProvider implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModelsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly agent: AgentClient) {
    // VS Code's own watcher: .onnx files are few, and the agent's watcher feeds log ingest only.
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.onnx');
    this.disposables.push(watcher, watcher.onDidCreate(() => this.refresh()), watcher.onDidDelete(() => this.refresh()), watcher.onDidChange(() => this.refresh()), this.changed);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'registered': {
        const m = node.summary;
        const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `registered:${m.name}`;
        const aliases = Object.entries(m.aliases).map(([a, v]) => `${a}=v${fromWire(v)}`);
        item.description = [`${fromWire(m.versions)} version${fromWire(m.versions) === 1 ? '' : 's'}`, ...aliases].join(' · ');
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'runlens.registeredModel';
        return item;
      }
      case 'version': {
        const v = node.version;
        const item = new vscode.TreeItem(`v${fromWire(v.version)}`, vscode.TreeItemCollapsibleState.None);
        item.id = `version:${v.name}@${fromWire(v.version)}`;
        item.description = [v.state, ...v.aliases.map((a) => `@${a}`), v.run ? `run ${v.run.name}` : 'no source run'].join(' · ');
        item.iconPath = STATE_ICON[v.state];
        item.contextValue = `runlens.version.${v.state}`;
        const tooltip = new vscode.MarkdownString();
        tooltip.appendText(`${v.name}@${fromWire(v.version)} (${v.state})\n\n${v.filePath}\n\nsha256 ${v.sha256}\n\nregistered by ${v.registeredBy}`);
        if (v.git.present && v.git.commit) tooltip.appendText(`\n\ngit ${v.git.commit.slice(0, 12)}${v.git.dirty ? ' (dirty)' : ''}`);
        item.tooltip = tooltip;
        return item;
      }
      case 'model': {
        const m = node.model;
        const item = new vscode.TreeItem(displayPath(m.path).split('/').pop() ?? m.path, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `model:${m.path}`;
        const smoke = m.lastSmoke ? `${m.lastSmoke.passed ? 'smoke ✓' : 'smoke ✗'}${m.lastSmoke.p50Ms !== null ? ` p50 ${m.lastSmoke.p50Ms.toFixed(2)} ms` : ''} (${m.lastSmoke.provider})` : '';
        item.description = m.error ? 'cannot be read' : [formatBytes(m.size), m.opset !== null ? `opset ${m.opset}` : '', smoke].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString().appendText(`${m.path}\n\n${m.error ?? `IR ${m.irVersion}, producer ${JSON.stringify(m.producer)}, ${m.inputs} inputs, ${m.outputs} outputs`}`);
        item.iconPath = new vscode.ThemeIcon(m.error ? 'warning' : m.lastSmoke ? (m.lastSmoke.passed ? 'pass' : 'error') : 'symbol-class');
        item.contextValue = m.error ? 'runlens.model.broken' : 'runlens.model';
        item.resourceUri = vscode.Uri.file(m.path);
        item.command = { command: 'runlens.openModelCard', title: 'Open Model Card', arguments: [node] };
        return item;
      }
      case 'tensor': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
        item.id = `tensor:${node.model.path}:${node.direction}:${node.name}`;
        item.description = node.detail;
        item.iconPath = new vscode.ThemeIcon(node.direction === 'input' ? 'arrow-right' : 'arrow-left');
        return item;
      }
      default: {
        const unknown: never = node;
        throw new Error(`unknown model node ${JSON.stringify(unknown)}`);
      }
    }
  }

  async getChildren(node?: ModelsNode): Promise<ModelsNode[]> {
    if (!node) {
      // Registered models first (what is approved and where), then the workspace's files.
      const { models: registered } = await this.agent.request('registry/models', {});
      const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
      const files = roots.length ? (await this.agent.request('models/list', { roots })).models : [];
      void vscode.commands.executeCommand('setContext', 'runlens.hasModels', files.length + registered.length > 0);
      return [...registered.map((summary): ModelsNode => ({ kind: 'registered', summary })), ...files.map((model): ModelsNode => ({ kind: 'model', model }))];
    }
    if (node.kind === 'registered') {
      const { versions } = await this.agent.request('registry/versions', { name: node.summary.name });
      return [...versions].sort((a, b) => fromWire(b.version) - fromWire(a.version)).map((version) => ({ kind: 'version', version }));
    }
    if (node.kind === 'version' || node.kind === 'tensor' || node.model.error) return [];
    const inspection = (await this.agent.request('models/inspect', { path: node.model.path })) as { inputs: TensorSpecWire[]; outputs: TensorSpecWire[] };
    const tensor = (direction: 'input' | 'output') => (t: TensorSpecWire): ModelsNode => ({ kind: 'tensor', model: node.model, direction, name: t.name, detail: `${t.dtype} ${formatShape(t.shape)}` });
    return [...inspection.inputs.map(tensor('input')), ...inspection.outputs.map(tensor('output'))];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
