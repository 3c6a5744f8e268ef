// Where the CLI keeps its database when --db is not given.
import * as os from 'node:os';
import * as path from 'node:path';

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNLENS_DB) return path.resolve(env.RUNLENS_DB);
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'runlens', 'runlens.db');
}
