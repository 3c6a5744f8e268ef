// The Deployments view: what runs on the Docker engine, grouped by deployment
// (production, a gray-release candidate and its router, the standby kept for
// rollback), each container with version, state, health and port. The engine
// is the source of truth (containers carry RunLens labels); the view asks the
// agent each time it is refreshed, and on a timer while it is visible.
import * as vscode from 'vscode';
import type { WireDeployment } from '../../shared/releaseProtocol';
import type { AgentClient } from '../agent/agentClient';

export type DeploymentsNode =
  | { kind: 'deployment'; name: string; containers: WireDeployment[] }
  | { kind: 'container'; container: WireDeployment }
  | { kind: 'engine-problem'; host: string; error: string };

const ROLE_ORDER: Record<WireDeployment['role'], number> = { production: 0, candidate: 1, router: 2, standby: 3 };

export function dockerHostSetting(): string | undefined {
  return vscode.workspace.getConfiguration().get<string>('runlens.deploy.dockerHost', '').trim() || undefined;
}

function containerIcon(c: WireDeployment): vscode.ThemeIcon {
  if (c.state !== 'running') return new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('disabledForeground'));
  if (c.health === 'healthy') return new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('charts.green'));
  if (c.health === 'unhealthy') return new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red'));
  return new vscode.ThemeIcon('circle-outline');
}

export class DeploymentsTreeProvider implements vscode.TreeDataProvider<DeploymentsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DeploymentsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  /** The last answer, for commands that need a container without a tree selection. */
  last: WireDeployment[] = [];

  constructor(private readonly agent: AgentClient) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Health changes without any file event: poll while the view is visible. */
  setVisible(visible: boolean): void {
    if (visible && !this.timer) this.timer = setInterval(() => this.refresh(), 10_000);
    if (!visible && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  getTreeItem(node: DeploymentsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'deployment': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `deployment:${node.name}`;
        const production = node.containers.find((c) => c.role === 'production' && c.state === 'running');
        const candidate = node.containers.find((c) => c.role === 'candidate' && c.state === 'running');
        item.description = [production ? `v${production.version} on ${production.host}:${production.port}` : 'not serving', candidate ? `candidate v${candidate.version}` : ''].filter(Boolean).join(' · ');
        item.iconPath = new vscode.ThemeIcon('server-process');
        item.contextValue = candidate ? 'runlens.deployment.gray' : node.containers.some((c) => c.role === 'standby') ? 'runlens.deployment.withStandby' : 'runlens.deployment';
        return item;
      }
      case 'container': {
        const c = node.container;
        const item = new vscode.TreeItem(`${c.model}@${c.version}`, vscode.TreeItemCollapsibleState.None);
        item.id = `container:${c.containerId}`;
        item.description = [c.role, c.state, c.state === 'running' ? c.health : '', c.port !== null ? `${c.host}:${c.port}` : ''].filter(Boolean).join(' · ');
        item.iconPath = containerIcon(c);
        item.contextValue = `runlens.container.${c.state === 'running' ? 'running' : 'stopped'}`;
        item.tooltip = new vscode.MarkdownString().appendText(
          `${c.containerName} (${c.containerId.slice(0, 12)})\n\n${c.model}@${c.version}, sha256 ${c.sha256.slice(0, 16)}…\n\nimage ${c.image}\n\n${c.role}, ${c.state}, health ${c.health}\n\ncreated ${new Date(c.createdAt).toLocaleString()}`,
        );
        return item;
      }
      case 'engine-problem': {
        const item = new vscode.TreeItem('No Docker engine found', vscode.TreeItemCollapsibleState.None);
        item.description = `at ${node.host} · click to point RunLens at one`;
        item.tooltip = new vscode.MarkdownString().appendText(
          `${node.error}\n\nDeployments need a Docker engine. Start Docker (on Debian or Ubuntu: sudo apt install docker.io), or point RunLens at a running engine with the setting runlens.deploy.dockerHost (unix:///var/run/docker.sock, tcp://host:2375) or the DOCKER_HOST environment variable.`,
        );
        item.iconPath = new vscode.ThemeIcon('warning');
        item.command = { command: 'workbench.action.openSettings', title: 'Open Settings', arguments: ['runlens.deploy.dockerHost'] };
        return item;
      }
      default: {
        const unknown: never = node;
        throw new Error(`unknown deployments node ${JSON.stringify(unknown)}`);
      }
    }
  }

  async getChildren(node?: DeploymentsNode): Promise<DeploymentsNode[]> {
    if (node?.kind === 'deployment') {
      return [...node.containers].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || b.createdAt - a.createdAt).map((container) => ({ kind: 'container', container }));
    }
    if (node) return [];
    const { engine, deployments } = await this.agent.request('deploy/list', { dockerHost: dockerHostSetting() });
    this.last = deployments;
    void vscode.commands.executeCommand('setContext', 'runlens.hasDeployments', deployments.length > 0);
    // Without an engine nothing can be deployed or listed: say so, and how to point RunLens at one
    // (the welcome text, "nothing deployed yet", would not be true).
    if (!engine.reachable) return [{ kind: 'engine-problem', host: engine.host, error: engine.error ?? 'unreachable' }];
    const byName = new Map<string, WireDeployment[]>();
    for (const d of deployments) byName.set(d.deployment, [...(byName.get(d.deployment) ?? []), d]);
    return [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, containers]) => ({ kind: 'deployment', name, containers }));
  }

  dispose(): void {
    this.setVisible(false);
    this.changed.dispose();
  }
}
