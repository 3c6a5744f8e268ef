// Loads better-sqlite3 lazily and turns an ABI mismatch (the module was built
// for another Node than the one running us) into a message a user can act on.
import type BetterSqlite3 from 'better-sqlite3';
import { UserError } from '../errors';

export type SqliteConstructor = typeof BetterSqlite3;

let cached: SqliteConstructor | undefined;

export function loadSqlite(): SqliteConstructor {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('better-sqlite3') as SqliteConstructor;
    return cached;
  } catch (e) {
    throw nativeModuleError('better-sqlite3', e);
  }
}

export function nativeModuleError(moduleName: string, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  const abi = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(message);
  if (abi) {
    return new UserError(
      'native-module-mismatch',
      `${moduleName} was built for a different Node.js (module ABI ${abi[1]}) than the one running the RunLens agent ` +
        `(${process.execPath}, Node ${process.version}, ABI ${abi[2]}). Set "runlens.agent.nodePath" to the Node that ran ` +
        `\`npm install\`, or rebuild it for this Node with \`npm rebuild ${moduleName}\`.`,
    );
  }
  if ((e as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND') {
    return new UserError('native-module-mismatch', `${moduleName} is not installed next to the RunLens agent. Run \`npm install\` in the RunLens folder.`);
  }
  return e instanceof Error ? e : new Error(message);
}
