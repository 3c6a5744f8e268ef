// SQLite's errors as messages a user can act on, naming the database file.
import { UserError } from '../errors';
import { nativeModuleError } from './nativeSqlite';

export function translateSqliteError(file: string, e: unknown): Error {
  const code = (e as { code?: string }).code ?? '';
  // better-sqlite3 loads its native addon on the first `new Database`, not on require.
  if (code === 'ERR_DLOPEN_FAILED' || /NODE_MODULE_VERSION/.test((e as Error)?.message ?? '')) return nativeModuleError('better-sqlite3', e);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return new UserError(
      'database-corrupt',
      `The database ${file} is damaged (${(e as Error).message}). RunLens left it untouched. Move it aside and RunLens will build a new one from your log files.`,
    );
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_BUSY')) {
    return new UserError(
      'database-locked',
      `The database ${file} is locked by another process (${(e as Error).message}). Close the program holding it (another RunLens agent, an sqlite3 shell) and try again.`,
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new UserError('storage-unwritable', `Cannot open the database ${file} for writing (${(e as Error).message}). Choose a writable location with "runlens.database.path" or --db.`);
  }
  return e instanceof Error ? e : new Error(String(e));
}
