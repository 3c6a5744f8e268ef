// The store: one database (SQLite embedded, PostgreSQL for teams later) and
// the stores on it. Whoever opens it owns it and closes it; every part of an
// agent or a command gets its stores from here, never opens the file again.
import { openSqliteStore, type OpenStoreOptions } from './sqlite';
import type { Store } from './types';

export type { OpenStoreOptions, Store };

/** Opens the database at `location` (a SQLite file path), creating and migrating it. */
export function openStore(location: string, options: OpenStoreOptions = {}): Store {
  return openSqliteStore(location, options);
}
