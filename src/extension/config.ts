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
  /** Re-applied to the agent's watcher when changed. */
  watchEnabled: 'runlens.watch.enabled',
  watchUsePolling: 'runlens.watch.usePolling',
  watchDebounceMs: 'runlens.watch.debounceMs',
  watchExclude: 'runlens.watch.exclude',
  /** Live. */
  staleAfterMinutes: 'runlens.runs.staleAfterMinutes',
  alertsEnabled: 'runlens.alerts.enabled',
} as const;

export const WATCH_SETTINGS = [SETTINGS.watchEnabled, SETTINGS.watchUsePolling, SETTINGS.watchDebounceMs, SETTINGS.watchExclude, 'files.watcherExclude', 'files.exclude'];

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

export interface WatchSettings {
  enabled: boolean;
  usePolling: boolean;
  debounceMs: number;
  /** files.exclude + files.watcherExclude (the enabled ones) + runlens.watch.exclude. */
  ignore: string[];
}

export function watchSettings(): WatchSettings {
  const config = vscode.workspace.getConfiguration();
  const enabledGlobs = (setting: string) =>
    Object.entries(config.get<Record<string, boolean>>(setting, {}))
      .filter(([, on]) => on === true)
      .map(([glob]) => glob);
  return {
    enabled: config.get<boolean>(SETTINGS.watchEnabled, true),
    usePolling: config.get<boolean>(SETTINGS.watchUsePolling, false),
    debounceMs: Math.max(0, config.get<number>(SETTINGS.watchDebounceMs, 200)),
    ignore: [...enabledGlobs('files.exclude'), ...enabledGlobs('files.watcherExclude'), ...config.get<string[]>(SETTINGS.watchExclude, [])],
  };
}

export function staleAfterMs(): number {
  return Math.max(1, vscode.workspace.getConfiguration().get<number>(SETTINGS.staleAfterMinutes, 10)) * 60_000;
}

export function alertsEnabled(): boolean {
  return vscode.workspace.getConfiguration().get<boolean>(SETTINGS.alertsEnabled, true);
}
