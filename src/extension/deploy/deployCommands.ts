// Push, deploy, roll back, logs, metrics and gray release from the editor.
// Every long action runs with cancellable progress; every answer from the
// agent is shown as it came (the agent's messages name the rule, the port,
// the container and what was done about a failure).
import * as vscode from 'vscode';
import type { WireDeployment, WireDeployResult, WireGrayStatus } from '../../shared/releaseProtocol';
import type { AgentClient } from '../agent/agentClient';
import { pickVersionRef, workspaceFor } from '../models/registryCommands';
import type { ModelsNode, ModelsTreeProvider } from '../models/modelsTree';
import { dockerHostSetting, type DeploymentsNode, type DeploymentsTreeProvider } from './deploymentsTree';
import { registryHostOf, type RegistryCredentialStore } from './registryCredentials';

export interface DeployCommandContext {
  agent: AgentClient;
  models: ModelsTreeProvider;
  deployments: DeploymentsTreeProvider;
  credentials: RegistryCredentialStore;
}

/** Options the tests pass to skip the prompts. */
interface PushOptions {
  target?: string;
  plainHttp?: boolean;
}
interface DeployOptions {
  port?: number;
}
interface GrayOptions {
  ref?: string;
  percent?: number;
}

function config<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration().get<T>(key, fallback);
}

/** Base image and limits of a serving container. */
function containerSettings(): { baseImage?: string; memory?: string; cpus?: number } {
  return {
    baseImage: config<string>('runlens.deploy.baseImage', '') || undefined,
    memory: config<string>('runlens.deploy.memory', '') || undefined,
    cpus: config<number>('runlens.deploy.cpus', 0) || undefined,
  };
}

/** The engine and network every deploy request names. */
function engineSettings(): { dockerHost?: string; network: 'bridge' | 'host' } {
  return { dockerHost: dockerHostSetting(), network: config<'bridge' | 'host'>('runlens.deploy.network', 'bridge') };
}

function withCancellableProgress<T>(agent: AgentClient, title: string, work: (token: vscode.CancellationToken) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const sub = agent.onProgress((p) => p.operation === 'release' && progress.report({ message: p.message }));
    return work(token).finally(() => sub.dispose());
  });
}

function showDeployResult(result: WireDeployResult): void {
  const failedChecks = result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
  if (result.ok) void vscode.window.showInformationMessage(`RunLens: ${result.message}`);
  else void vscode.window.showErrorMessage(`RunLens: ${result.message}${failedChecks.length ? ` (${failedChecks.join('; ')})` : ''}`);
}

/** The deployment a command acts on: the selected node, else the only one, else a pick. */
async function pickDeployment(ctx: DeployCommandContext, node: DeploymentsNode | undefined, title: string): Promise<string | undefined> {
  if (node?.kind === 'deployment') return node.name;
  if (node?.kind === 'container') return node.container.deployment;
  const { deployments } = await ctx.agent.request('deploy/list', { dockerHost: dockerHostSetting() });
  const names = [...new Set(deployments.map((d) => d.deployment))];
  if (names.length === 0) {
    void vscode.window.showInformationMessage('RunLens: nothing is deployed on this Docker engine yet.');
    return undefined;
  }
  return names.length === 1 ? names[0] : vscode.window.showQuickPick(names, { title });
}

async function pickContainer(ctx: DeployCommandContext, node: DeploymentsNode | undefined, title: string): Promise<WireDeployment | undefined> {
  if (node?.kind === 'container') return node.container;
  const { deployments } = await ctx.agent.request('deploy/list', { dockerHost: dockerHostSetting() });
  const inDeployment = node?.kind === 'deployment' ? deployments.filter((d) => d.deployment === node.name) : deployments;
  const items = inDeployment.map((c) => ({ label: `${c.model}@${c.version}`, description: `${c.deployment} · ${c.role} · ${c.state}`, c }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('RunLens: no RunLens containers on this Docker engine.');
    return undefined;
  }
  return (items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title }))?.c;
}

function describeGray(status: WireGrayStatus): string {
  const variants = status.variants.map((v) => `${v.role} v${v.version}: ${v.requests} requests, ${v.errors} errors${v.meanLatencyMs !== null ? `, mean ${v.meanLatencyMs.toFixed(2)} ms` : ''}`);
  return `${status.deployment}: ${status.candidatePercent} % to the candidate. ${variants.join('; ')}. ${status.verdict}`;
}

export function registerDeployCommands(ctx: DeployCommandContext, register: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable): vscode.Disposable[] {
  const logChannels = new Map<string, vscode.OutputChannel>();
  const following = new Map<string, vscode.CancellationTokenSource>();
  const refreshAll = () => {
    ctx.models.refresh();
    ctx.deployments.refresh();
  };

  const disposeLogs = new vscode.Disposable(() => {
    for (const source of following.values()) source.cancel();
    for (const channel of logChannels.values()) channel.dispose();
  });

  return [
    disposeLogs,
    ctx.agent.onLogChunk(({ containerId, text }) => logChannels.get(containerId)?.append(text)),
    register('runlens.refreshDeployments', () => ctx.deployments.refresh()),

    register('runlens.pushModelVersion', async (node?: ModelsNode, options?: PushOptions) => {
      const picked = await pickVersionRef(ctx, node, 'Push Model Version to a Registry');
      if (!picked) return;
      const [name, version] = picked.ref.split('@');
      const defaultRegistry = config<string>('runlens.push.defaultRegistry', '').trim();
      const target =
        options?.target ??
        (await vscode.window.showInputBox({
          title: `Push ${picked.ref}`,
          prompt: 'REGISTRY/REPO[:TAG] (the tag defaults to vN)',
          value: defaultRegistry ? `${defaultRegistry.replace(/\/$/, '')}/${name.toLowerCase()}:v${version}` : '',
          validateInput: (v) => (/^[^/\s]+\/\S+$/.test(v.trim()) ? undefined : 'use REGISTRY/REPO[:TAG], e.g. ghcr.io/team/model:v3'),
        }));
      if (!target) return;
      const host = registryHostOf(target.trim());
      const push = async (credentials: Awaited<ReturnType<RegistryCredentialStore['get']>>) =>
        withCancellableProgress(ctx.agent, `RunLens: pushing ${picked.ref} to ${target}`, (token) =>
          ctx.agent.request('release/push', { ref: picked.ref, target: target.trim(), plainHttp: options?.plainHttp, credentials, workspace: workspaceFor(picked.file) }, token),
        );
      let result;
      try {
        result = await push(await ctx.credentials.get(host));
      } catch (e) {
        // A 401 is the one failure the user can fix on the spot.
        if (!/\(401\)|rejected the credentials|needs credentials/.test((e as Error).message) || options) throw e;
        const choice = await vscode.window.showErrorMessage(`RunLens: ${(e as Error).message}`, 'Enter Credentials…');
        if (choice !== 'Enter Credentials…') return;
        const credentials = await ctx.credentials.prompt(host);
        if (!credentials) return;
        result = await push(credentials);
      }
      refreshAll();
      // Not awaited: the command is done; the notification waits for a click that may never come.
      void vscode.window.showInformationMessage(`RunLens: pushed ${picked.ref} as ${result.pinned}`, 'Copy Reference').then((copy) => copy && vscode.env.clipboard.writeText(result.pinned));
      return result;
    }),

    register('runlens.setRegistryCredentials', async (hostArg?: string) => {
      const host = hostArg ?? (await vscode.window.showInputBox({ title: 'Registry host', prompt: 'e.g. ghcr.io, registry.example.com:5000' }))?.trim().toLowerCase();
      if (!host) return;
      if (await ctx.credentials.prompt(host)) void vscode.window.showInformationMessage(`RunLens: credentials for ${host} saved in the OS keychain.`);
    }),
    register('runlens.forgetRegistryCredentials', async (hostArg?: string) => {
      const host = hostArg ?? (await vscode.window.showInputBox({ title: 'Forget credentials for which registry host?' }))?.trim().toLowerCase();
      if (!host) return;
      void vscode.window.showInformationMessage((await ctx.credentials.forget(host)) ? `RunLens: credentials for ${host} removed.` : `RunLens: no credentials were saved for ${host}.`);
    }),

    register('runlens.deployModelVersion', async (node?: ModelsNode, options?: DeployOptions) => {
      const picked = await pickVersionRef(ctx, node, 'Deploy Model Version');
      if (!picked) return;
      let port = options?.port;
      if (port === undefined) {
        const text = await vscode.window.showInputBox({
          title: `Deploy ${picked.ref}`,
          prompt: 'Port on 127.0.0.1 (a deployment already on this port is replaced, and restored if the new one fails its checks)',
          value: String(config<number>('runlens.deploy.port', 8080)),
          validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 && Number(v) < 65536 ? undefined : 'a port number, 1-65535'),
        });
        if (!text) return;
        port = Number(text);
      }
      const result = await withCancellableProgress(ctx.agent, `RunLens: deploying ${picked.ref}`, (token) =>
        ctx.agent.request(
          'deploy/start',
          {
            ref: picked.ref,
            port,
            ...containerSettings(),
            ...engineSettings(),
            workspace: workspaceFor(picked.file),
          },
          token,
        ),
      );
      refreshAll();
      showDeployResult(result);
      return result;
    }),

    register('runlens.rollbackDeployment', async (node?: DeploymentsNode) => {
      const deployment = await pickDeployment(ctx, node, 'Roll Back Deployment');
      if (!deployment) return;
      const result = await withCancellableProgress(ctx.agent, `RunLens: rolling back ${deployment}`, (token) =>
        ctx.agent.request('deploy/rollback', { deployment, ...engineSettings(), workspace: workspaceFor() }, token),
      );
      refreshAll();
      showDeployResult(result);
      return result;
    }),

    register('runlens.removeDeployment', async (node?: DeploymentsNode, options?: { confirmed?: boolean }) => {
      const deployment = await pickDeployment(ctx, node, 'Stop and Remove Deployment');
      if (!deployment) return;
      if (!options?.confirmed && (await vscode.window.showWarningMessage(`Stop and remove every container of ${deployment}? The audit log keeps the record.`, { modal: true }, 'Remove')) !== 'Remove') return;
      await ctx.agent.request('deploy/remove', { deployment, ...engineSettings(), workspace: workspaceFor() });
      refreshAll();
      void vscode.window.showInformationMessage(`RunLens: ${deployment} stopped and removed.`);
    }),

    register('runlens.showDeploymentLogs', async (node?: DeploymentsNode) => {
      const container = await pickContainer(ctx, node, 'Show Logs');
      if (!container) return;
      let channel = logChannels.get(container.containerId);
      if (!channel) {
        channel = vscode.window.createOutputChannel(`RunLens: ${container.containerName}`);
        logChannels.set(container.containerId, channel);
      }
      channel.show(true);
      if (following.has(container.containerId)) return;
      const source = new vscode.CancellationTokenSource();
      following.set(container.containerId, source);
      // Stays open while the container runs; lines arrive as deploy/logChunk notifications.
      void ctx.agent
        .request('deploy/logs', { containerId: container.containerId, tail: 500, follow: true, dockerHost: dockerHostSetting() }, source.token)
        .catch((e: Error) => channel?.appendLine(`[RunLens] log stream ended: ${e.message}`))
        .finally(() => {
          following.delete(container.containerId);
          source.dispose();
        });
    }),

    register('runlens.openDeploymentMetrics', async (node?: DeploymentsNode) => {
      const container = await pickContainer(ctx, node, 'Open Metrics');
      if (!container) return;
      const { url, text } = await ctx.agent.request('deploy/metrics', { containerId: container.containerId, dockerHost: dockerHostSetting() });
      const doc = await vscode.workspace.openTextDocument({ language: 'properties', content: `# ${url}\n${text}` });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),

    register('runlens.startGrayRelease', async (node?: DeploymentsNode, options?: GrayOptions) => {
      const deployment = await pickDeployment(ctx, node, 'Start Gray Release');
      if (!deployment) return;
      const candidate = options?.ref ? { ref: options.ref, file: undefined } : await pickVersionRef(ctx, undefined, `Candidate for ${deployment}`);
      if (!candidate) return;
      let percent = options?.percent;
      if (percent === undefined) {
        const text = await vscode.window.showInputBox({ title: 'Traffic to the candidate (%)', value: '30', validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 && Number(v) < 100 ? undefined : '1-99') });
        if (!text) return;
        percent = Number(text);
      }
      const status = await withCancellableProgress(ctx.agent, `RunLens: starting ${candidate.ref} beside ${deployment}`, (token) =>
        ctx.agent.request('deploy/grayStart', { ref: candidate.ref, deployment, candidatePercent: percent, ...containerSettings(), ...engineSettings(), workspace: workspaceFor(candidate.file) }, token),
      );
      refreshAll();
      void vscode.window.showInformationMessage(`RunLens: gray release started; send traffic to 127.0.0.1:${status.routerPort}. ${describeGray(status)}`);
      return status;
    }),

    register('runlens.showGrayReleaseStatus', async (node?: DeploymentsNode) => {
      const deployment = await pickDeployment(ctx, node, 'Gray Release Status');
      if (!deployment) return;
      const status = await ctx.agent.request('deploy/grayStatus', { deployment, dockerHost: dockerHostSetting() });
      const choice = await vscode.window.showInformationMessage(`RunLens: ${describeGray(status)}`, 'Promote', 'Roll Back');
      if (choice === 'Promote') await vscode.commands.executeCommand('runlens.promoteCandidate', node);
      if (choice === 'Roll Back') await vscode.commands.executeCommand('runlens.abortGrayRelease', node);
      return status;
    }),

    register('runlens.promoteCandidate', async (node?: DeploymentsNode) => {
      const deployment = await pickDeployment(ctx, node, 'Promote Candidate');
      if (!deployment) return;
      const result = await withCancellableProgress(ctx.agent, `RunLens: promoting the candidate of ${deployment}`, (token) =>
        ctx.agent.request('deploy/promote', { deployment, ...engineSettings(), workspace: workspaceFor() }, token),
      );
      refreshAll();
      showDeployResult(result);
      return result;
    }),

    register('runlens.abortGrayRelease', async (node?: DeploymentsNode) => {
      const deployment = await pickDeployment(ctx, node, 'Roll Back Gray Release');
      if (!deployment) return;
      await ctx.agent.request('deploy/grayAbort', { deployment, ...engineSettings(), workspace: workspaceFor() });
      refreshAll();
      void vscode.window.showInformationMessage(`RunLens: candidate of ${deployment} removed; production unchanged.`);
    }),
  ];
}
