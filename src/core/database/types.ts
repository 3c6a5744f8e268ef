// The store: one database and the stores on it (runs, the model registry with
// its audit log). SQLite is the embedded default; a PostgreSQL backend (teams)
// implements the same interface.
import type { RegistryStore } from '../registry/types';
import type { RunStore } from '../store/types';

export interface Store {
  /** Where the database is: a file path for SQLite. */
  readonly path: string;
  readonly runs: RunStore;
  readonly registry: RegistryStore;
  /** Closes the database; every store on it is closed with it. Closing twice is harmless. */
  close(): void;
}
