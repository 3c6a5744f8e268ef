// Keeps the agent watching the workspace (re-started with the agent and when
// settings change), shows how many runs are live in the status bar, and
// raises the alerts: a loss-like metric that turns NaN or infinite, and a run
// whose log says it is running but that stopped writing.
import * as vscode from 'vscode';
import type { WireRunSummary, WireSeriesChange } from '../../shared/protocol';
import { nonFiniteAlerts, staleAlerts, type Alert } from '../../shared/alerts';
import { displayStatus } from '../../shared/runStatus';
import type { AgentClient } from '../agent/agentClient';
import { alertsEnabled, staleAfterMs, watchSettings, WATCH_SETTINGS } from '../config';

const STATUS_REFRESH_MS = 30_000;

export class LiveTracking implements vscode.Disposable {
  private readonly statusBar = vscode.window.createStatusBarItem('runlens.live', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly alerted = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private paused = false;

  constructor(
    private readonly agent: AgentClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusBar.name = 'RunLens live runs';
    this.statusBar.command = 'runlens.experiments.focus';
    this.disposables.push(
      this.statusBar,
      agent.onDidChangeState((state) => {
        if (state.kind === 'running') void this.startWatching();
      }),
      agent.onDidChangeRuns(({ changes }) => {
        this.checkNonFinite(changes);
        void this.refreshStatusBar();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (WATCH_SETTINGS.some((s) => e.affectsConfiguration(s))) void this.startWatching();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.startWatching()),
    );
    this.timer = setInterval(() => void this.refreshStatusBar(), STATUS_REFRESH_MS);
    void vscode.commands.executeCommand('setContext', 'runlens.watchPaused', false);
  }

  async startWatching(): Promise<void> {
    if (this.agent.currentState.kind !== 'running') return;
    const settings = watchSettings();
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    try {
      if (!settings.enabled || roots.length === 0) {
        await this.agent.request('watch/stop', {});
        return;
      }
      const status = await this.agent.request('watch/start', { roots, ignore: settings.ignore, usePolling: settings.usePolling, debounceMs: settings.debounceMs });
      if (this.paused) await this.agent.request('watch/setPaused', { paused: true });
      this.log.info(`watching ${status.roots.length} folder(s), ${status.watchedPaths} paths`);
    } catch (e) {
      this.log.error(`could not start watching: ${(e as Error).message}`);
    }
    await this.refreshStatusBar();
  }

  async setPaused(paused: boolean): Promise<void> {
    this.paused = paused;
    await this.agent.request('watch/setPaused', { paused });
    await vscode.commands.executeCommand('setContext', 'runlens.watchPaused', paused);
    await this.refreshStatusBar();
  }

  private raise(alerts: Alert[]): void {
    for (const alert of alerts) {
      this.alerted.add(alert.id);
      void vscode.window
        .showWarningMessage(`RunLens: ${alert.message}`, 'Show Run')
        .then((choice) => choice && vscode.commands.executeCommand('runlens.openRun', { kind: 'runId', id: alert.runId }));
    }
  }

  private checkNonFinite(changes: WireSeriesChange[]): void {
    if (alertsEnabled()) this.raise(nonFiniteAlerts(changes, this.alerted));
  }

  private checkStale(runs: WireRunSummary[], now: number): void {
    // Recent: within two status refreshes and a minute of going stale.
    if (alertsEnabled()) this.raise(staleAlerts(runs, now, staleAfterMs(), 2 * STATUS_REFRESH_MS + 60_000, this.alerted));
  }

  private async refreshStatusBar(): Promise<void> {
    if (this.agent.currentState.kind !== 'running') {
      this.statusBar.hide();
      return;
    }
    try {
      const { runs } = await this.agent.request('runs/list', { limit: 10_000 });
      const now = Date.now();
      const live = runs.filter((r) => displayStatus(r, now, staleAfterMs()) === 'running').length;
      this.checkStale(runs, now);
      this.statusBar.text = `${this.paused ? '$(debug-pause)' : live ? '$(pulse)' : '$(beaker)'} ${live} live`;
      this.statusBar.tooltip = `RunLens: ${live} run(s) written to in the last ${Math.round(staleAfterMs() / 60_000)} min, ${runs.length} in total${this.paused ? ' — watching is paused' : ''}. Click to show them.`;
      this.statusBar.show();
    } catch (e) {
      this.log.debug(`status bar: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
