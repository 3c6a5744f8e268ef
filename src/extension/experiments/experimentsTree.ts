// The Experiments view: experiment -> runs -> metrics / params. Every level is
// fetched from the agent when it is expanded, and runs come in pages, so ten
// thousand runs never arrive (or render) at once.
import * as vscode from 'vscode';
import type { AgentClient } from '../agent/agentClient';
import { toTreeItem, type ExperimentsNode } from './treeItems';

const RUN_PAGE_SIZE = 200;
/** Live training sends changes several times a second; the view redraws at most this often. */
const REFRESH_THROTTLE_MS = 1000;

export class ExperimentsTreeProvider implements vscode.TreeDataProvider<ExperimentsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExperimentsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** How many runs to show per experiment (grows with "Show more"). */
  private readonly visibleRuns = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastRootCount = 0;
  /** Hidden runs are listed (dimmed) while this is on. */
  showHidden = false;
  /** Called once, when the view first has experiments to show (first-open time, logged and reported by the tests). */
  onFirstItems: (() => void) | undefined;
  private throttleTimer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;

  constructor(private readonly agent: AgentClient) {
    this.subscriptions.push(agent.onDidChangeRuns(() => this.refreshSoon()));
  }

  refresh(): void {
    this.lastRefresh = Date.now();
    this.changed.fire(undefined);
  }

  /** Coalesces bursts of live changes into one redraw per REFRESH_THROTTLE_MS. */
  refreshSoon(): void {
    if (this.throttleTimer) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_THROTTLE_MS - Date.now());
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = undefined;
      this.refresh();
    }, wait);
  }

  /** Number of experiments shown at the top level after the last load (for the welcome view and tests). */
  get experimentCount(): number {
    return this.lastRootCount;
  }

  showMore(node: Extract<ExperimentsNode, { kind: 'more' }>): void {
    const key = `${node.experiment.sourceRoot}\0${node.experiment.key}`;
    this.visibleRuns.set(key, (this.visibleRuns.get(key) ?? RUN_PAGE_SIZE) + RUN_PAGE_SIZE);
    this.refresh();
  }

  getTreeItem(node: ExperimentsNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  async getChildren(node?: ExperimentsNode): Promise<ExperimentsNode[]> {
    if (!node) {
      const { experiments } = await this.agent.request('experiments/list', {});
      // An experiment without runs (MLflow's "Default") is noise in a sidebar.
      const withRuns = experiments.filter((e) => e.runCount > 0 || this.showHidden);
      this.lastRootCount = withRuns.length;
      if (withRuns.length > 0 && this.onFirstItems) {
        const first = this.onFirstItems;
        this.onFirstItems = undefined;
        first();
      }
      void vscode.commands.executeCommand('setContext', 'runlens.hasRuns', withRuns.length > 0);
      return withRuns.map((experiment) => ({ kind: 'experiment', experiment }));
    }
    switch (node.kind) {
      case 'experiment': {
        const e = node.experiment;
        const limit = this.visibleRuns.get(`${e.sourceRoot}\0${e.key}`) ?? RUN_PAGE_SIZE;
        const { runs, total } = await this.agent.request('runs/list', { sourceRoot: e.sourceRoot, experimentKey: e.key, limit, includeHidden: this.showHidden });
        const children: ExperimentsNode[] = runs.map((run) => ({ kind: 'run', run }));
        if (total > runs.length) children.push({ kind: 'more', experiment: e, offset: runs.length });
        return children;
      }
      case 'run': {
        const groups: ExperimentsNode[] = [];
        if (node.run.seriesCount > 0) groups.push({ kind: 'group', run: node.run, group: 'metrics' });
        if (node.run.paramCount > 0) groups.push({ kind: 'group', run: node.run, group: 'params' });
        return groups;
      }
      case 'group': {
        const detail = await this.agent.request('runs/get', { id: node.run.id });
        if (!detail) return [];
        return node.group === 'metrics'
          ? detail.series.map((series) => ({ kind: 'metric', run: node.run, series }))
          : Object.entries(detail.params).map(([key, value]) => ({ kind: 'param', run: node.run, key, value }));
      }
      case 'metric':
      case 'param':
      case 'more':
        return [];
      default: {
        const unknown: never = node;
        throw new Error(`unknown tree node ${JSON.stringify(unknown)}`);
      }
    }
  }

  dispose(): void {
    if (this.throttleTimer) clearTimeout(this.throttleTimer);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
