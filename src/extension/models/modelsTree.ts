// The Models view: the workspace's .onnx files with size, opset and the last
// smoke test; a model expands into its inputs and outputs.
import * as vscode from 'vscode';
import type { WireModelSummary } from '../../shared/protocol';
import type { AgentClient } from '../agent/agentClient';
import { displayPath } from '../experiments/treeItems';

export type ModelsNode =
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
      const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
      if (roots.length === 0) return [];
      const { models } = await this.agent.request('models/list', { roots });
      void vscode.commands.executeCommand('setContext', 'runlens.hasModels', models.length > 0);
      return models.map((model) => ({ kind: 'model', model }));
    }
    if (node.kind === 'tensor' || node.model.error) return [];
    const inspection = (await this.agent.request('models/inspect', { path: node.model.path })) as { inputs: TensorSpecWire[]; outputs: TensorSpecWire[] };
    const tensor = (direction: 'input' | 'output') => (t: TensorSpecWire): ModelsNode => ({ kind: 'tensor', model: node.model, direction, name: t.name, detail: `${t.dtype} ${formatShape(t.shape)}` });
    return [...inspection.inputs.map(tensor('input')), ...inspection.outputs.map(tensor('output'))];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
