// Applying the versioned migrations (migrations.ts) to a SQLite connection.
import type { Database, Statement } from 'better-sqlite3';
import { UserError } from '../errors';
import type { Migration } from './migrations';

export function readSchemaVersion(db: Database): number {
  const row = db.prepare(`SELECT MAX(version) AS version FROM schema_version`).get() as { version: number | null };
  return row.version ?? 0;
}

export function migrate(db: Database, file: string, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL, description TEXT NOT NULL)`);
  const current = readSchemaVersion(db);
  const latest = migrations[migrations.length - 1].version;
  if (current > latest) {
    throw new UserError(
      'database-newer',
      `The database ${file} has schema version ${current}, newer than this RunLens understands (${latest}). ` +
        'It was written by a newer RunLens: update RunLens, or point "runlens.database.path" or --db at another file. The database was left untouched.',
    );
  }
  const record: Statement = db.prepare(`INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)`);
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, Date.now(), m.description);
    }).immediate();
  }
}
