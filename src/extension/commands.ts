// Palette and context commands. Each one degrades to a clear message when the
// agent is not available, instead of throwing.
import * as vscode from 'vscode';
import type { WireRunSummary } from '../shared/protocol';
import { formatValue, fromWire } from '../shared/wireNumbers';
import type { AgentClient } from './agent/agentClient';
import type { ExperimentsTreeProvider } from './experiments/experimentsTree';
import type { ExperimentsNode } from './experiments/treeItems';
import type { LiveTracking } from './live/liveTracking';
import { registerModelCommands } from './models/modelCommands';
import { registerRegistryCommands } from './models/registryCommands';
import { registerDeployCommands } from './deploy/deployCommands';
import type { DeploymentsTreeProvider } from './deploy/deploymentsTree';
import type { RegistryCredentialStore } from './deploy/registryCredentials';
import type { ModelsTreeProvider } from './models/modelsTree';
import { registerRunCommands, resolveRun, type RunArgument } from './runs/runCommands';

export interface CommandContext {
  agent: AgentClient;
  tree: ExperimentsTreeProvider;
  live: LiveTracking;
  models: ModelsTreeProvider;
  deployments: DeploymentsTreeProvider;
  credentials: RegistryCredentialStore;
  log: vscode.LogOutputChannel;
}

function workspacePaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/** Ingests the workspace with visible, cancellable progress. */
export async function ingestWorkspace(ctx: CommandContext, options: { force: boolean; location: vscode.ProgressLocation }): Promise<void> {
  const paths = workspacePaths();
  if (paths.length === 0) {
    void vscode.window.showInformationMessage('RunLens: open a folder that contains training logs to index it.');
    return;
  }
  await vscode.window.withProgress({ location: options.location, title: 'RunLens: indexing experiments', cancellable: true }, async (progress, token) => {
    let reported = 0;
    const sub = ctx.agent.onProgress((p) => {
      if (p.operation !== 'ingest') return;
      const fraction = p.total ? (p.done / p.total) * 100 : 0;
      progress.report({ message: `${p.done}/${p.total} ${p.message}`, increment: Math.max(0, fraction - reported) });
      reported = fraction;
    });
    try {
      const report = await ctx.agent.request('workspace/ingest', { paths, force: options.force }, token);
      ctx.log.info(`indexed: ${report.sourcesRead} read, ${report.sourcesUnchanged} unchanged, ${report.runs} runs, ${report.points} points, ${report.warnings.length} warnings, ${report.durationMs} ms`);
      if (report.warnings.length && options.location === vscode.ProgressLocation.Notification) {
        void vscode.window.showWarningMessage(`RunLens: ${report.warnings.length} file(s) had problems; what could be read was kept.`, 'Show Log').then((c) => c && ctx.log.show());
      }
    } finally {
      sub.dispose();
    }
  });
  ctx.tree.refresh();
}

async function showRunDocument(ctx: CommandContext, run: WireRunSummary): Promise<void> {
  const detail = await ctx.agent.request('runs/get', { id: run.id });
  if (!detail) {
    void vscode.window.showWarningMessage(`RunLens: run ${run.name} is no longer in the database; re-index the workspace.`);
    return;
  }
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# ${detail.name}`,
    '',
    `- experiment: ${detail.experimentName} (${detail.format})`,
    `- status: ${detail.status}`,
    `- path: ${detail.path}`,
    `- uid: ${detail.uid}`,
    detail.startTime ? `- started: ${new Date(detail.startTime).toISOString()}` : '',
    '',
    '## Metrics',
    '',
    '| key | last | step | points | min | max |',
    '|---|---|---|---|---|---|',
    ...detail.series.map(
      (s) =>
        `| ${esc(s.key)} | ${formatValue(fromWire(s.lastValue))} | ${formatValue(fromWire(s.lastStep))} | ${s.pointCount} | ${s.valueMin === null ? '-' : formatValue(fromWire(s.valueMin))} | ${s.valueMax === null ? '-' : formatValue(fromWire(s.valueMax))} |`,
    ),
    '',
    '## Params',
    '',
    '| key | value |',
    '|---|---|',
    ...Object.entries(detail.params).map(([k, v]) => `| ${esc(k)} | ${esc(v)} |`),
    '',
    '## Tags',
    '',
    '| key | value |',
    '|---|---|',
    ...Object.entries(detail.tags).map(([k, v]) => `| ${esc(k)} | ${esc(v)} |`),
  ].filter((l, i, all) => l !== '' || all[i - 1] !== '');
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') + '\n' });
  await vscode.window.showTextDocument(doc, { preview: true });
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const guarded =
    (name: string, fn: (...args: never[]) => Promise<unknown> | unknown) =>
    async (...args: never[]) => {
      try {
        await fn(...args);
      } catch (e) {
        const message = (e as Error).message;
        ctx.log.error(`${name}: ${message}`);
        const choice = await vscode.window.showErrorMessage(`RunLens: ${message}`, 'Show Log');
        if (choice) ctx.log.show();
      }
    };
  const register = (id: string, fn: (...args: never[]) => Promise<unknown> | unknown) => vscode.commands.registerCommand(id, guarded(id, fn));
  return [
    register('runlens.reindexWorkspace', () => ingestWorkspace(ctx, { force: true, location: vscode.ProgressLocation.Notification })),
    register('runlens.refresh', () => ingestWorkspace(ctx, { force: false, location: vscode.ProgressLocation.Window })),
    register('runlens.showAgentLog', () => ctx.log.show()),
    register('runlens.restartAgent', async () => {
      await ctx.agent.restart();
      ctx.tree.refresh();
      void vscode.window.setStatusBarMessage('RunLens agent restarted', 3000);
    }),
    register('runlens.openRun', async (arg?: RunArgument) => {
      const run = await resolveRun(ctx.agent, arg, 'Open Run');
      if (run) await showRunDocument(ctx, run);
    }),
    register('runlens.revealRun', async (arg?: RunArgument) => {
      const run = await resolveRun(ctx.agent, arg, 'Reveal Run in Explorer');
      if (run) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(run.path));
    }),
    register('runlens.copyRunId', async (arg?: RunArgument) => {
      const run = await resolveRun(ctx.agent, arg, 'Copy Run ID');
      if (run) {
        await vscode.env.clipboard.writeText(run.uid);
        void vscode.window.setStatusBarMessage(`Copied run id ${run.uid}`, 3000);
      }
    }),
    register('runlens.showMoreRuns', (node: Extract<ExperimentsNode, { kind: 'more' }>) => ctx.tree.showMore(node)),
    register('runlens.pauseWatching', () => ctx.live.setPaused(true)),
    register('runlens.resumeWatching', () => ctx.live.setPaused(false)),
    ...registerRunCommands(ctx, register),
    ...registerModelCommands(ctx, register),
    ...registerRegistryCommands(ctx, register),
    ...registerDeployCommands(ctx, register),
  ];
}
