// Turns agent records into tree items. Kept apart from the provider so the
// labels and icons are easy to find and change.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LogFormat, RunStatus } from '../../core/ingest/types';
import type { WireExperiment, WireRunSummary, WireSeriesSummary } from '../../shared/protocol';
import { formatValue, fromWire } from '../../shared/wireNumbers';

export type ExperimentsNode =
  | { kind: 'experiment'; experiment: WireExperiment }
  | { kind: 'run'; run: WireRunSummary }
  | { kind: 'group'; run: WireRunSummary; group: 'metrics' | 'params' }
  | { kind: 'metric'; run: WireRunSummary; series: WireSeriesSummary }
  | { kind: 'param'; run: WireRunSummary; key: string; value: string }
  | { kind: 'more'; experiment: WireExperiment; offset: number };

const FORMAT_LABEL: Record<LogFormat, string> = {
  mlflow: 'MLflow',
  tensorboard: 'TensorBoard',
  lightning: 'Lightning',
  keras: 'Keras',
  dvclive: 'DVCLive',
};

const STATUS_ICON: Record<RunStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')),
  killed: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('charts.orange')),
  scheduled: new vscode.ThemeIcon('clock'),
  unknown: new vscode.ThemeIcon('circle-outline'),
};

export function displayPath(absolute: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(absolute));
  if (!folder) return absolute;
  const rel = path.relative(folder.uri.fsPath, absolute);
  return rel === '' ? folder.name : rel;
}

export function toTreeItem(node: ExperimentsNode): vscode.TreeItem {
  switch (node.kind) {
    case 'experiment': {
      const e = node.experiment;
      const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `exp:${e.format}:${e.sourceRoot}:${e.key}`;
      item.description = `${FORMAT_LABEL[e.format]} · ${e.runCount} run${e.runCount === 1 ? '' : 's'} · ${displayPath(e.sourceRoot)}`;
      item.tooltip = new vscode.MarkdownString(`**${e.name}** (${FORMAT_LABEL[e.format]})\n\n${e.sourceRoot}${e.lastError ? `\n\n⚠ ${e.lastError.split('\n')[0]}` : ''}`);
      item.iconPath = new vscode.ThemeIcon(e.lastError ? 'warning' : 'beaker');
      item.contextValue = 'runlens.experiment';
      return item;
    }
    case 'run': {
      const r = node.run;
      const item = new vscode.TreeItem(r.label ?? r.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `run:${r.uid}`;
      item.description = `${r.status} · ${r.seriesCount} metrics · ${r.pointCount.toLocaleString('en-US')} points`;
      item.iconPath = STATUS_ICON[r.status];
      item.contextValue = 'runlens.run';
      item.resourceUri = vscode.Uri.file(r.path);
      item.tooltip = new vscode.MarkdownString(
        [
          `**${r.name}** · ${r.status}`,
          `${r.path}`,
          `uid \`${r.uid}\``,
          r.startTime ? `started ${new Date(r.startTime).toLocaleString()}` : '',
          r.lastWrite ? `last write ${new Date(r.lastWrite).toLocaleString()}` : '',
          `${r.seriesCount} metrics, ${r.pointCount} points, ${r.paramCount} params`,
        ]
          .filter(Boolean)
          .join('\n\n'),
      );
      return item;
    }
    case 'group': {
      const item = new vscode.TreeItem(node.group === 'metrics' ? 'Metrics' : 'Params', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `group:${node.run.uid}:${node.group}`;
      item.iconPath = new vscode.ThemeIcon(node.group === 'metrics' ? 'graph-line' : 'settings');
      item.description = String(node.group === 'metrics' ? node.run.seriesCount : node.run.paramCount);
      return item;
    }
    case 'metric': {
      const s = node.series;
      const item = new vscode.TreeItem(s.key, vscode.TreeItemCollapsibleState.None);
      item.id = `metric:${node.run.uid}:${s.key}`;
      const last = fromWire(s.lastValue);
      item.description = `${formatValue(last)} @ ${formatValue(fromWire(s.lastStep))}`;
      item.tooltip = `${s.key}: last ${formatValue(last)} at step ${formatValue(fromWire(s.lastStep))}, ${s.pointCount} points, min ${s.valueMin === null ? '-' : formatValue(fromWire(s.valueMin))}, max ${s.valueMax === null ? '-' : formatValue(fromWire(s.valueMax))}`;
      item.iconPath = new vscode.ThemeIcon(Number.isFinite(last) ? 'symbol-number' : 'warning');
      item.contextValue = 'runlens.metric';
      return item;
    }
    case 'param': {
      const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.None);
      item.id = `param:${node.run.uid}:${node.key}`;
      item.description = node.value;
      item.tooltip = `${node.key} = ${node.value}`;
      item.contextValue = 'runlens.param';
      return item;
    }
    case 'more': {
      const item = new vscode.TreeItem('Show more runs…', vscode.TreeItemCollapsibleState.None);
      item.id = `more:${node.experiment.sourceRoot}:${node.experiment.key}:${node.offset}`;
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = { command: 'runlens.showMoreRuns', title: 'Show more runs', arguments: [node] };
      return item;
    }
    default: {
      const unknown: never = node;
      throw new Error(`unknown tree node ${JSON.stringify(unknown)}`);
    }
  }
}
