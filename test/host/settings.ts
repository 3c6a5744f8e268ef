// The settings of every test window (code-server's and test-electron's): quiet,
// offline, and RunLens pointed at the agent's Node and a database in a temp dir.
import * as path from 'node:path';

/** Settings that keep a test workbench quiet, offline and deterministic. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'npm.autoDetect': 'off',
  'window.restoreWindows': 'none',
};

/** RunLens settings for a test window whose temp folder is `dir`; the agent runs on `agentNode`. */
export function runLensSettings(dir: string, agentNode: string): { settings: Record<string, unknown>; databasePath: string } {
  const databasePath = path.join(dir, 'db', 'runlens.db');
  return {
    databasePath,
    settings: { ...QUIET_SETTINGS, 'runlens.agent.nodePath': agentNode, 'runlens.database.path': databasePath },
  };
}
