// Commands on runs: compare, label, note, star, hide, re-index, copy, open.
// Annotations live in RunLens' database; the user's files are never touched.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { WireRunDetail, WireRunSummary } from '../../shared/protocol';
import type { AgentClient } from '../agent/agentClient';
import type { ExperimentsTreeProvider } from '../experiments/experimentsTree';
import type { ExperimentsNode } from '../experiments/treeItems';
import { runAsDiffableText, runsAsMarkdownTable } from './runSummaryText';

/** How commands receive a run: a tree node, a run id (from notifications), or nothing (then we ask). */
export type RunArgument = ExperimentsNode | { kind: 'runId'; id: number } | undefined;

export interface RunCommandContext {
  agent: AgentClient;
  tree: ExperimentsTreeProvider;
}

export async function pickRuns(agent: AgentClient, options: { many: boolean; title: string }): Promise<WireRunSummary[]> {
  const { runs, total } = await agent.request('runs/list', { limit: 5000 });
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('RunLens has no runs yet. Run "RunLens: Re-index Workspace" in a folder with training logs.');
    return [];
  }
  const items = runs.map((run) => ({ label: run.label ?? run.displayName, description: `${run.experimentName} · ${run.format} · ${run.status}`, detail: run.path, run }));
  const quickPick = { title: `${options.title} (${total} runs)`, matchOnDescription: true, matchOnDetail: true, placeHolder: 'Type to search runs by name, experiment or path' };
  if (options.many) {
    const picked = await vscode.window.showQuickPick(items, { ...quickPick, canPickMany: true });
    return picked?.map((p) => p.run) ?? [];
  }
  const picked = await vscode.window.showQuickPick(items, quickPick);
  return picked ? [picked.run] : [];
}

export async function resolveRun(agent: AgentClient, arg: RunArgument, title: string): Promise<WireRunSummary | undefined> {
  if (arg && arg.kind === 'runId') return (await agent.request('runs/get', { id: arg.id })) ?? undefined;
  if (arg && 'run' in arg) return arg.run;
  return (await pickRuns(agent, { many: false, title }))[0];
}

async function details(agent: AgentClient, runs: WireRunSummary[]): Promise<WireRunDetail[]> {
  const out: WireRunDetail[] = [];
  for (const run of runs) {
    const detail = await agent.request('runs/get', { id: run.id });
    if (detail) out.push(detail);
  }
  return out;
}

/** Opens the comparison panel (src/extension/compare/), or with `asText` the older text diff of params and last values. */
export async function compareRuns(ctx: RunCommandContext, clicked: RunArgument, selected: readonly ExperimentsNode[] | undefined, options: { asText?: boolean } = {}): Promise<void> {
  let runs = (selected ?? []).flatMap((n) => ('run' in n && n.kind === 'run' ? [n.run] : []));
  if (runs.length < 2 && clicked && 'run' in clicked) runs = [clicked.run, ...runs.filter((r) => r.id !== clicked.run.id)];
  if (runs.length < 2) runs = await pickRuns(ctx.agent, { many: true, title: 'Compare Runs: pick two or more' });
  if (runs.length < 2) {
    if (runs.length === 1) void vscode.window.showInformationMessage('RunLens: pick at least two runs to compare.');
    return;
  }
  if (!options.asText) {
    if (runs.length > 50) void vscode.window.showInformationMessage(`RunLens: the comparison shows the first 50 of the ${runs.length} runs picked.`);
    const shown = runs.slice(0, 50);
    await vscode.commands.executeCommand('runlens.openComparePanel', shown.map((r) => r.id), shown.map((r) => r.label ?? r.displayName));
    return;
  }
  const detailed = await details(ctx.agent, runs.slice(0, 50));
  if (detailed.length === 2) {
    const [a, b] = await Promise.all(detailed.map((r) => vscode.workspace.openTextDocument({ language: 'ini', content: runAsDiffableText(r) })));
    await vscode.commands.executeCommand('vscode.diff', a.uri, b.uri, `${detailed[0].displayName} ↔ ${detailed[1].displayName} (params and last metric values)`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: runsAsMarkdownTable(detailed) });
  await vscode.window.showTextDocument(doc, { preview: false });
}

export function registerRunCommands(ctx: RunCommandContext, register: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable): vscode.Disposable[] {
  type Annotation = { label?: string; note?: string; starred?: boolean; hidden?: boolean };
  const annotate = async (arg: RunArgument, title: string, change: (run: WireRunSummary) => Promise<Annotation | undefined>) => {
    const run = await resolveRun(ctx.agent, arg, title);
    if (!run) return;
    const annotation = await change(run);
    if (!annotation) return;
    await ctx.agent.request('runs/annotate', { id: run.id, ...annotation });
    ctx.tree.refresh();
  };
  return [
    register('runlens.compareRuns', (clicked?: RunArgument, selected?: ExperimentsNode[]) => compareRuns(ctx, clicked, selected)),
    register('runlens.compareRunsAsText', (clicked?: RunArgument, selected?: ExperimentsNode[]) => compareRuns(ctx, clicked, selected, { asText: true })),
    register('runlens.labelRun', (arg?: RunArgument) =>
      annotate(arg, 'Label Run', async (run) => {
        const label = await vscode.window.showInputBox({ title: `Label for ${run.name}`, value: run.label ?? '', prompt: 'Shown instead of the run name; empty to clear' });
        return label === undefined ? undefined : { label };
      }),
    ),
    register('runlens.noteRun', (arg?: RunArgument) =>
      annotate(arg, 'Add Note to Run', async (run) => {
        const detail = await ctx.agent.request('runs/get', { id: run.id });
        const note = await vscode.window.showInputBox({ title: `Note for ${run.name}`, value: detail?.note ?? '', prompt: 'Kept in RunLens, not in your files; empty to clear' });
        return note === undefined ? undefined : { note };
      }),
    ),
    register('runlens.starRun', (arg?: RunArgument) => annotate(arg, 'Star Run', async () => ({ starred: true }))),
    register('runlens.unstarRun', (arg?: RunArgument) => annotate(arg, 'Unstar Run', async () => ({ starred: false }))),
    register('runlens.hideRun', (arg?: RunArgument) => annotate(arg, 'Hide Run', async () => ({ hidden: true }))),
    register('runlens.unhideRun', (arg?: RunArgument) => annotate(arg, 'Unhide Run', async () => ({ hidden: false }))),
    register('runlens.toggleHiddenRuns', () => {
      ctx.tree.showHidden = !ctx.tree.showHidden;
      void vscode.commands.executeCommand('setContext', 'runlens.showingHidden', ctx.tree.showHidden);
      ctx.tree.refresh();
    }),
    register('runlens.reindexRun', async (arg?: RunArgument) => {
      const run = await resolveRun(ctx.agent, arg, 'Re-index Run');
      if (!run) return;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `RunLens: re-indexing ${run.name}` }, () => ctx.agent.request('runs/reindex', { id: run.id }));
      ctx.tree.refresh();
    }),
    register('runlens.copyRunPath', async (arg?: RunArgument) => {
      const run = await resolveRun(ctx.agent, arg, 'Copy Run Path');
      if (run) await vscode.env.clipboard.writeText(run.path);
    }),
    register('runlens.openRunFolder', async (arg?: RunArgument) => {
      const run = await resolveRun(ctx.agent, arg, 'Open Run Folder or File');
      if (!run) return;
      const uri = vscode.Uri.file(run.path);
      if (fs.existsSync(run.path) && fs.statSync(run.path).isFile()) await vscode.window.showTextDocument(uri);
      else await vscode.commands.executeCommand('revealInExplorer', uri);
    }),
  ];
}
