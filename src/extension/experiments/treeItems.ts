// Turns agent records into tree items. Kept apart from the provider so the
// labels and icons are easy to find and change.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LogFormat } from '../../core/ingest/types';
import type { WireExperiment, WireRunSummary, WireSeriesSummary } from '../../shared/protocol';
import { describeAge, displayStatus, type DisplayStatus } from '../../shared/runStatus';
import { formatExact, formatShort } from '../../shared/numberText';
import { fromWire } from '../../shared/wireNumbers';
import { staleAfterMs } from '../config';

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

const STATUS_ICON: Record<DisplayStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  stale: new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.yellow')),
  idle: new vscode.ThemeIcon('circle-large-outline'),
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
      const item = new vscode.TreeItem(e.displayName, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `exp:${e.format}:${e.sourceRoot}:${e.key}`;
      item.description = `${FORMAT_LABEL[e.format]} · ${e.runCount} run${e.runCount === 1 ? '' : 's'} · ${displayPath(e.sourceRoot)}`;
      // Names, paths and errors come from files: text, never Markdown (appendText escapes it).
      const tooltip = new vscode.MarkdownString();
      tooltip.appendMarkdown('**').appendText(e.name).appendMarkdown(`** (${FORMAT_LABEL[e.format]})\n\n`).appendText(e.sourceRoot);
      if (e.lastError) tooltip.appendMarkdown('\n\n⚠ ').appendText(e.lastError.split('\n')[0]);
      item.tooltip = tooltip;
      item.iconPath = new vscode.ThemeIcon(e.lastError ? 'warning' : 'beaker');
      item.contextValue = 'runlens.experiment';
      return item;
    }
    case 'run': {
      const r = node.run;
      const now = Date.now();
      const status = displayStatus(r, now, staleAfterMs());
      const item = new vscode.TreeItem(`${r.starred ? '★ ' : ''}${r.label ?? r.displayName}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `run:${r.uid}`;
      const headline = r.headline.map((h) => `${h.key} ${formatShort(fromWire(h.lastValue))}`).join(' · ');
      item.description = [status, describeAge(r.lastWrite, now), headline].filter(Boolean).join(' · ');
      item.iconPath = STATUS_ICON[status];
      item.contextValue = ['runlens.run', r.starred ? 'starred' : '', r.hidden ? 'hidden' : ''].filter(Boolean).join('.');
      if (r.hidden) item.description = `hidden · ${item.description}`;
      item.resourceUri = vscode.Uri.file(r.path);
      const tooltip = new vscode.MarkdownString(undefined, true);
      tooltip.appendMarkdown(`**`).appendText(r.label ? `${r.label} (${r.displayName})` : r.displayName).appendMarkdown(`** · ${status}\n\n`);
      tooltip.appendText(r.path).appendMarkdown('\n\n');
      tooltip.appendMarkdown('uid ').appendText(r.uid).appendMarkdown('\n\n');
      if (r.startTime) tooltip.appendText(`started ${new Date(r.startTime).toLocaleString()}\n\n`);
      tooltip.appendText(`last write ${r.lastWrite ? `${new Date(r.lastWrite).toLocaleString()} (${describeAge(r.lastWrite, now)})` : 'unknown'}\n\n`);
      tooltip.appendText(`${r.seriesCount} metrics, ${r.pointCount.toLocaleString('en-US')} points, ${r.paramCount} params`);
      item.tooltip = tooltip;
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
      // Short in the row, exact on hover (numberText.ts).
      item.description = `${formatShort(last)} @ ${formatShort(fromWire(s.lastStep))}`;
      item.tooltip = `${s.key}: last ${formatExact(last)} at step ${formatExact(fromWire(s.lastStep))}, ${s.pointCount} points, min ${s.valueMin === null ? '-' : formatExact(fromWire(s.valueMin))}, max ${s.valueMax === null ? '-' : formatExact(fromWire(s.valueMax))}`;
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
