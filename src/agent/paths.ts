// Where the CLI keeps its database: --db, else the default.
import * as os from 'node:os';
import * as path from 'node:path';
import type { ParsedArgs } from './args';

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNLENS_DB) return path.resolve(env.RUNLENS_DB);
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'runlens', 'runlens.db');
}

/** The database a command works on: its --db flag, else the default. */
export function databasePathOf(args: ParsedArgs): string {
  const db = args.flags.get('db');
  return typeof db === 'string' ? path.resolve(db) : defaultDatabasePath();
}
