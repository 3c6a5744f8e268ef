// Opening RunLens' SQLite database: the one connection every store of an
// agent or a CLI command shares (runs, model registry, audit log). It refuses a
// file that is not SQLite without touching it, applies the pragmas and the
// migrations, and translates SQLite's errors into messages a user can act on.
//
// Why one connection: the stores' transactions are synchronous (better-sqlite3),
// so in one process they cannot interleave; a second connection in the same
// process only adds a second writer that waits on the first (busy timeouts
// against ourselves). Other processes (a CLI beside the agent) still have
// their own connection, which SQLite's WAL locking serializes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'better-sqlite3';
import { SqliteRegistryStore } from '../registry/registryStore';
import { UserError } from '../errors';
import { MIGRATIONS } from '../store/migrations';
import { loadSqlite } from '../store/nativeSqlite';
import { translateSqliteError } from '../store/sqliteErrors';
import { migrate } from '../store/sqliteSchema';
import { SqliteRunStore } from '../store/sqliteStore';
import type { Store } from './types';

export interface OpenStoreOptions {
  /** How long to wait for another process's lock before giving up. */
  busyTimeoutMs?: number;
}

const SQLITE_HEADER = 'SQLite format 3\0';

/** Refuses, without touching it, a file that is not a SQLite database at all. */
function checkHeader(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UserError('storage-unwritable', `Cannot open the database ${file}: ${(e as Error).message}.`);
  }
  try {
    const header = Buffer.alloc(16);
    const read = fs.readSync(fd, header, 0, 16, 0);
    if (read === 0) return; // empty file: SQLite initializes it
    if (read < 16 || header.toString('latin1') !== SQLITE_HEADER) {
      throw new UserError(
        'database-corrupt',
        `${file} is not a SQLite database (its first bytes are not the SQLite header). RunLens left it untouched. ` +
          'Point "runlens.database.path" or --db at another file, or move this one aside.',
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}

function ensureFolder(folder: string): void {
  try {
    fs.mkdirSync(folder, { recursive: true });
    fs.accessSync(folder, fs.constants.W_OK);
  } catch (e) {
    throw new UserError(
      'storage-unwritable',
      `Cannot write to the storage folder ${folder} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). ` +
        'Choose a writable location with "runlens.database.path" or --db.',
    );
  }
}


/** Opens (creating and migrating) the SQLite database at `file`: the stores on it share its one connection. */
export function openSqliteStore(file: string, options: OpenStoreOptions = {}): Store {
  const absolute = path.resolve(file);
  ensureFolder(path.dirname(absolute));
  checkHeader(absolute);
  const Sqlite = loadSqlite();
  let db: Database;
  try {
    db = new Sqlite(absolute, { timeout: options.busyTimeoutMs ?? 5000 });
  } catch (e) {
    throw translateSqliteError(absolute, e);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // WAL + NORMAL: durable across application crashes, one fsync per checkpoint. The registry's
    // writes ask for more (SqliteRegistryStore.write).
    db.pragma('synchronous = NORMAL');
    migrate(db, absolute, MIGRATIONS);
  } catch (e) {
    db.close();
    throw translateSqliteError(absolute, e);
  }
  return new SqliteDatabase(absolute, db);
}

class SqliteDatabase implements Store {
  readonly runs: SqliteRunStore;
  readonly registry: SqliteRegistryStore;

  constructor(
    readonly path: string,
    private readonly db: Database,
  ) {
    const close = () => this.close();
    this.runs = new SqliteRunStore(path, db, close);
    this.registry = new SqliteRegistryStore(path, db, close);
  }

  close(): void {
    if (!this.db.open) return;
    this.runs.stopCheckpointer();
    this.db.close();
  }
}
