// RunLens settings, read in one place. Each says what a change costs.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const SETTINGS = {
  /** Needs an agent restart (offered when it changes). */
  nodePath: 'runlens.agent.nodePath',
  /** Needs an agent restart. */
  databasePath: 'runlens.database.path',
  /** Live. */
  ingestOnStartup: 'runlens.ingest.onStartup',
} as const;

export const RESTART_SETTINGS = [SETTINGS.nodePath, SETTINGS.databasePath];

function expandHome(p: string): string {
  return p.startsWith('~') ? path.join(os.homedir(), p.slice(1)) : p;
}

export function configuredNodePath(): string | undefined {
  const value = vscode.workspace.getConfiguration().get<string>(SETTINGS.nodePath, '').trim();
  return value ? expandHome(value) : undefined;
}

export function databasePath(context: vscode.ExtensionContext): string {
  const configured = vscode.workspace.getConfiguration().get<string>(SETTINGS.databasePath, '').trim();
  if (configured) return path.resolve(expandHome(configured));
  // Per workspace by default; one shared file when no folder is open.
  const storage = context.storageUri ?? context.globalStorageUri;
  return path.join(storage.fsPath, 'runlens.db');
}

export function ingestOnStartup(): boolean {
  return vscode.workspace.getConfiguration().get<boolean>(SETTINGS.ingestOnStartup, true);
}
