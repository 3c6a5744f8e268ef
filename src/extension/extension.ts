// Activation only: wires the agent, the view and the commands together, and
// shows (never swallows) a failure to start.
import * as vscode from 'vscode';
import { AgentClient } from './agent/agentClient';
import { ingestWorkspace, registerCommands, type CommandContext } from './commands';
import { configuredNodePath, databasePath, ingestOnStartup, RESTART_SETTINGS } from './config';
import { ExperimentsTreeProvider } from './experiments/experimentsTree';
import { LiveTracking } from './live/liveTracking';
import { registerComparePanel } from './compare/comparePanel';
import { registerModelCardPanel } from './models/modelCardPanel';
import { ModelsTreeProvider } from './models/modelsTree';
import { DeploymentsTreeProvider } from './deploy/deploymentsTree';
import { RegistryCredentialStore } from './deploy/registryCredentials';

/** What activate() returns: used by the host tests, and by nothing else. */
export interface RunLensApi {
  agent: AgentClient;
  tree: ExperimentsTreeProvider;
  models: ModelsTreeProvider;
  deployments: DeploymentsTreeProvider;
  /** Settles when the first index of the workspace has finished (or failed). */
  ready: Promise<void>;
  /** Time spent in activate() itself. */
  activationMs: number;
  /** From activation to the agent answering and the first index done; set when `ready` settles. */
  readyMs?: number;
  /** From activation to the Experiments view's first experiments (what the store had, or the first source the index wrote). */
  firstItemsMs?: number;
}

export function activate(context: vscode.ExtensionContext): RunLensApi {
  const started = Date.now();
  const log = vscode.window.createOutputChannel('RunLens Agent', { log: true });
  context.subscriptions.push(log);
  const agent = new AgentClient({
    extensionPath: context.extensionPath,
    databasePath: () => databasePath(context),
    nodePath: configuredNodePath,
    log,
  });
  context.subscriptions.push(agent);
  const tree = new ExperimentsTreeProvider(agent);
  context.subscriptions.push(tree);
  const view = vscode.window.createTreeView('runlens.experiments', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  context.subscriptions.push(view);
  const live = new LiveTracking(agent, log);
  context.subscriptions.push(live);
  const models = new ModelsTreeProvider(agent);
  context.subscriptions.push(models, vscode.window.createTreeView('runlens.models', { treeDataProvider: models, showCollapseAll: true }));
  const deployments = new DeploymentsTreeProvider(agent);
  const deploymentsView = vscode.window.createTreeView('runlens.deployments', { treeDataProvider: deployments });
  context.subscriptions.push(deployments, deploymentsView, deploymentsView.onDidChangeVisibility((e) => deployments.setVisible(e.visible)));
  const credentials = new RegistryCredentialStore(context.secrets);
  const ctx: CommandContext = { agent, tree, live, models, deployments, credentials, log };
  context.subscriptions.push(...registerCommands(ctx));
  // The comparison panel: its open command, git documents, and the serializer that restores it after a reload.
  context.subscriptions.push(...registerComparePanel({ extensionUri: context.extensionUri, agent, log }));
  // Model cards: one webview per model file, opened from the Models view and the model commands.
  context.subscriptions.push(...registerModelCardPanel({ extensionUri: context.extensionUri, agent, log }));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) return;
      const choice = await vscode.window.showInformationMessage('RunLens: restart the agent to apply the changed setting?', 'Restart Agent');
      if (choice) await vscode.commands.executeCommand('runlens.restartAgent');
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ingestWorkspace(ctx, { force: false, location: vscode.ProgressLocation.Window })),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('runlens.runs.staleAfterMinutes')) tree.refresh();
    }),
  );

  // Start in the background: activation must return quickly.
  const ready = (async () => {
    try {
      await agent.start();
      log.info(`agent ready ${Date.now() - started} ms after activation`);
      // What the store already has, at once; the index that follows adds what changed, source by source.
      tree.refresh();
      if (ingestOnStartup()) await ingestWorkspace(ctx, { force: false, location: vscode.ProgressLocation.Window });
      // Watching started when the agent came up (LiveTracking listens for it); the agent
      // runs one ingest at a time, so changes during this first index are not lost.
    } catch (e) {
      const message = (e as Error).message;
      log.error(`activation: ${message}`);
      const actions = /nodePath|Node\.js/.test(message) ? ['Open Settings', 'Show Log'] : ['Show Log'];
      // Not awaited: `ready` must settle even if nobody clicks.
      void vscode.window.showErrorMessage(`RunLens could not start: ${message}`, ...actions).then((choice) => {
        // The setting is machine-scoped: in a remote window (SSH, WSL, containers,
        // code-server) it lives in the Remote settings, not in the User ones; that
        // command takes the search only as { query }.
        if (choice === 'Open Settings') {
          if (vscode.env.remoteName) void vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: 'runlens.agent.nodePath' });
          else void vscode.commands.executeCommand('workbench.action.openSettings', 'runlens.agent.nodePath');
        }
        if (choice === 'Show Log') log.show();
      });
    }
  })();

  const api: RunLensApi = { agent, tree, models, deployments, ready, activationMs: Date.now() - started };
  tree.onFirstItems = () => {
    api.firstItemsMs = Date.now() - started;
    log.info(`first experiments shown ${api.firstItemsMs} ms after activation`);
  };
  void ready.then(() => (api.readyMs = Date.now() - started));
  return api;
}

export function deactivate(): void {
  // Everything is in context.subscriptions; VS Code disposes it.
}
