// Registry commands: register a version, approve (policy shown with its
// evidence first; a failing rule needs an explicit, recorded override),
// reject, move aliases, archive, verify the audit log.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AgentClient } from '../agent/agentClient';
import { fromWire } from '../../shared/wireNumbers';
import { approvalMarkdown } from './approvalView';
import type { ModelsNode, ModelsTreeProvider } from './modelsTree';

export interface RegistryCommandContext {
  agent: AgentClient;
  models: ModelsTreeProvider;
}

/** The workspace folder whose git identity and policy file apply to `file`. */
export function workspaceFor(file?: string): string {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const owner = file ? folders.find((f) => file.startsWith(f.uri.fsPath + path.sep)) : undefined;
  const folder = owner ?? folders[0];
  if (!folder) throw new Error('open the workspace folder that holds the model (its git identity and .runlens/policy.json apply)');
  return folder.uri.fsPath;
}

export async function pickVersionRef(ctx: RegistryCommandContext, node: ModelsNode | undefined, title: string): Promise<{ ref: string; file?: string } | undefined> {
  if (node?.kind === 'version') return { ref: `${node.version.name}@${fromWire(node.version.version)}`, file: node.version.filePath };
  const { models } = await ctx.agent.request('registry/models', {});
  const items: { label: string; description: string; ref: string; file: string }[] = [];
  for (const m of models) {
    for (const v of (await ctx.agent.request('registry/versions', { name: m.name })).versions) {
      items.push({ label: `${v.name}@${fromWire(v.version)}`, description: [v.state, ...v.aliases.map((a) => `@${a}`)].join(' · '), ref: `${v.name}@${fromWire(v.version)}`, file: v.filePath });
    }
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No model versions registered yet: use "RunLens: Register Model Version" on an .onnx file.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title });
  return picked ? { ref: picked.ref, file: picked.file } : undefined;
}

async function askReason(what: string): Promise<string | undefined> {
  const reason = await vscode.window.showInputBox({ title: `Reason for the ${what}`, prompt: 'Recorded in the audit log with your identity', validateInput: (v) => (v.trim() ? undefined : 'A reason is required') });
  return reason?.trim() || undefined;
}

export function registerRegistryCommands(ctx: RegistryCommandContext, register: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable): vscode.Disposable[] {
  const done = (message: string) => {
    ctx.models.refresh();
    void vscode.window.showInformationMessage(`RunLens: ${message}`);
  };
  return [
    register('runlens.registerModelVersion', async (node?: ModelsNode | vscode.Uri, options?: { name?: string }) => {
      const file = node instanceof vscode.Uri ? node.fsPath : node && (node.kind === 'model' || node.kind === 'tensor') ? node.model.path : undefined;
      const target = file ?? (await vscode.window.showOpenDialog({ filters: { 'ONNX model': ['onnx'] }, canSelectMany: false }))?.[0]?.fsPath;
      if (!target) return;
      const name = options?.name ?? (await vscode.window.showInputBox({ title: 'Register Model Version', prompt: 'Model name (versions are numbered per name)', value: path.basename(target, '.onnx') }));
      if (!name) return;
      const result = await ctx.agent.request('registry/register', { file: target, name, workspace: workspaceFor(target) });
      const v = result.version;
      done(`registered ${v.name}@${fromWire(v.version)}${v.run ? ` (trained by run ${v.run.name})` : ' (no source run found)'}`);
    }),
    register('runlens.approveModelVersion', async (node?: ModelsNode, options?: { reason?: string; override?: boolean }) => {
      const picked = await pickVersionRef(ctx, node, 'Approve Model Version');
      if (!picked) return;
      const workspace = workspaceFor(picked.file);
      const evaluation = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `RunLens: evaluating the policy for ${picked.ref}`, cancellable: true }, (progress, token) => {
        const sub = ctx.agent.onProgress((p) => p.operation === 'registry' && progress.report({ message: p.message }));
        return ctx.agent.request('registry/evaluate', { ref: picked.ref, workspace }, token).finally(() => sub.dispose());
      });
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: approvalMarkdown(evaluation) });
      await vscode.window.showTextDocument(doc, { preview: true });
      let override = false;
      if (!evaluation.pass) {
        if (options) override = options.override === true;
        else {
          const choice = await vscode.window.showWarningMessage(
            `${evaluation.failed.length} policy rule(s) fail for ${picked.ref}. Approving anyway is an override, recorded with your name and reason.`,
            { modal: true },
            'Override and Approve…',
          );
          override = choice === 'Override and Approve…';
        }
        if (!override) return;
      }
      const reason = options?.reason ?? (await askReason(override ? 'override' : 'approval'));
      if (!reason) return;
      const outcome = await ctx.agent.request('registry/approve', { ref: picked.ref, reason, override, workspace });
      if (outcome.status === 'blocked') void vscode.window.showErrorMessage(`RunLens: approval of ${picked.ref} is blocked: ${outcome.evaluation.failed.join(', ')}`);
      else done(`${picked.ref} approved${outcome.overridden ? ' (override recorded)' : ''}`);
    }),
    register('runlens.rejectModelVersion', async (node?: ModelsNode, options?: { reason?: string }) => {
      const picked = await pickVersionRef(ctx, node, 'Reject Model Version');
      if (!picked) return;
      const reason = options?.reason ?? (await askReason('rejection'));
      if (!reason) return;
      await ctx.agent.request('registry/reject', { ref: picked.ref, reason, workspace: workspaceFor(picked.file) });
      done(`${picked.ref} rejected`);
    }),
    register('runlens.setModelAlias', async (node?: ModelsNode, options?: { alias?: string }) => {
      const picked = await pickVersionRef(ctx, node, 'Set Alias');
      if (!picked) return;
      let alias = options?.alias;
      if (!alias) {
        const choice = await vscode.window.showQuickPick(['candidate', 'staging', 'production', 'Other…'], { title: `Point an alias at ${picked.ref}` });
        alias = choice === 'Other…' ? await vscode.window.showInputBox({ title: 'Alias name' }) : choice;
      }
      if (!alias) return;
      await ctx.agent.request('registry/alias', { ref: picked.ref, alias, workspace: workspaceFor(picked.file) });
      done(`@${alias} → ${picked.ref}`);
    }),
    register('runlens.archiveModelVersion', async (node?: ModelsNode, options?: { confirmed?: boolean }) => {
      const picked = await pickVersionRef(ctx, node, 'Archive Model Version');
      if (!picked) return;
      if (!options?.confirmed && (await vscode.window.showWarningMessage(`Archive ${picked.ref}? It stays in the audit log.`, { modal: true }, 'Archive')) !== 'Archive') return;
      await ctx.agent.request('registry/archive', { ref: picked.ref, workspace: workspaceFor(picked.file) });
      done(`${picked.ref} archived`);
    }),
    // `options.refs` (e.g. ['clf@1', 'clf@2']) skips the pick, for scripts and tests.
    register('runlens.compareModelVersions', async (node?: ModelsNode, options?: { refs?: string[] }) => {
      const name = node?.kind === 'registered' ? node.summary.name : node?.kind === 'version' ? node.version.name : undefined;
      const models = name ? [name] : (await ctx.agent.request('registry/models', {})).models.map((m) => m.name);
      const versions = (await Promise.all(models.map((m) => ctx.agent.request('registry/versions', { name: m })))).flatMap((r) => r.versions);
      const withRuns = versions.filter((v) => v.runUid !== null);
      if (withRuns.length < 2) {
        void vscode.window.showInformationMessage('RunLens: Compare Versions needs two versions whose source run is known (register them with --run, or from a run folder).');
        return;
      }
      const items = withRuns.map((v) => ({ label: `${v.name}@${fromWire(v.version)}`, description: [v.state, ...v.aliases.map((a) => `@${a}`), `run ${v.run?.name ?? v.runUid}`].join(' · '), v }));
      const picked = options?.refs
        ? items.filter((i) => options.refs!.includes(i.label))
        : await vscode.window.showQuickPick(items, { title: 'Compare Versions: pick two or more (their source runs are compared)', canPickMany: true });
      if (!picked || picked.length < 2) return;
      const ids: number[] = [];
      const names: string[] = [];
      for (const { v } of picked) {
        // The version records its run's uid; the panel takes the run's id in this database.
        const { runs } = await ctx.agent.request('runs/list', { text: v.runUid!, includeHidden: true });
        const run = runs.find((r) => r.uid === v.runUid);
        if (!run) {
          void vscode.window.showWarningMessage(`RunLens: the source run of ${v.name}@${fromWire(v.version)} (${v.runUid}) is not in this workspace's database; re-index the folder that holds it.`);
          return;
        }
        ids.push(run.id);
        names.push(`${v.name}@${fromWire(v.version)}`);
      }
      await vscode.commands.executeCommand('runlens.openComparePanel', ids, names);
    }),
    register('runlens.verifyAuditLog', async () => {
      const result = await ctx.agent.request('audit/verify', {});
      if (result.ok) void vscode.window.showInformationMessage(`RunLens: the audit log is intact (${fromWire(result.entries)} entries, head ${result.head?.hash.slice(0, 12) ?? 'none'}).`);
      else void vscode.window.showErrorMessage(`RunLens: the audit log was changed: ${result.problems.map((p) => p.message).join('; ')}`);
    }),
  ];
}
