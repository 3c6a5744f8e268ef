// What the runner tells the suite, through the environment of the extension
// host: RUNLENS_HOST_TEST_CONFIG names a JSON file with these fields.
import * as fs from 'node:fs';

export interface HostTestConfig {
  /** The Node the agent must run on (runlens.agent.nodePath). */
  agentNodePath: string;
  /** The database the agent must use (runlens.database.path). */
  databasePath: string;
  /** Where the reporter appends its lines. */
  logFile?: string;
  /** Where the reporter writes its JSON summary. */
  resultsFile?: string;
  /** A real docker-registry (host:port on 127.0.0.1) and a private dockerd the runner started for the push/deploy test; absent with the reason when they cannot run. */
  release?: { registryHost: string; dockerHost: string; port: number } | { unavailable: string };
}

export const CONFIG_ENV = 'RUNLENS_HOST_TEST_CONFIG';

export function hostTestConfig(): HostTestConfig {
  const file = process.env[CONFIG_ENV];
  if (!file) throw new Error(`${CONFIG_ENV} is not set: run the host tests through runHostTests or runElectronTests`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as HostTestConfig;
}
