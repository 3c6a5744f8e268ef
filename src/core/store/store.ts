// The store: one database (SQLite embedded, PostgreSQL for teams later) and
// the stores on it. Whoever opens it owns it and closes it; every part of an
// agent or a command gets its stores from here, never opens the file again.
import type { RegistryStore } from '../registry/types';
import { openSqliteStore, type OpenStoreOptions } from './sqliteDatabase';
import type { RunStore } from './types';

export interface Store {
  /** Where the database is: a file path for SQLite. */
  readonly path: string;
  readonly runs: RunStore;
  readonly registry: RegistryStore;
  /** Closes the database; every store on it is closed with it. Closing twice is harmless. */
  close(): void;
}

export type { OpenStoreOptions };

/** Opens the database at `location` (a SQLite file path), creating and migrating it. */
export function openStore(location: string, options: OpenStoreOptions = {}): Store {
  return openSqliteStore(location, options);
}
