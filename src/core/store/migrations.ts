// Versioned schema. Each migration runs once, in order, inside a transaction;
// `schema_version` records how far a database has come. Never edit a shipped
// migration: add a new one.
//
// Conventions:
// - Columns holding metric values that may be NaN store NaN as NULL where a
//   value must exist (a series' last value): SQLite has no NaN.
// - Times are milliseconds since the epoch (REAL: TensorBoard's are fractional).

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sources, experiments, runs, params, tags, chunked metric series, summaries; room for models and the registry',
    sql: `
      CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        root TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        ingested_at REAL NOT NULL,
        last_error TEXT
      );
      -- Every file a source was read from, with what we saw: size, mtime,
      -- a fingerprint of its head, and how far it was read (for appenders).
      CREATE TABLE source_files (
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        read_offset INTEGER NOT NULL DEFAULT 0,
        fingerprint TEXT,
        PRIMARY KEY (source_id, path)
      ) WITHOUT ROWID;
      CREATE TABLE experiments (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        lifecycle TEXT NOT NULL DEFAULT 'active',
        UNIQUE (source_id, key)
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        status TEXT NOT NULL,
        start_time REAL,
        end_time REAL,
        last_write REAL,
        UNIQUE (experiment_id, key)
      );
      CREATE TABLE params (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE tags (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE summaries (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        number_value REAL,
        text_value TEXT,
        is_nan INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        point_count INTEGER NOT NULL DEFAULT 0,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        step_min REAL,
        step_max REAL,
        value_min REAL,
        value_max REAL,
        last_value REAL,
        last_step REAL,
        last_wall REAL,
        UNIQUE (run_id, key)
      );
      CREATE TABLE chunks (
        series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        point_count INTEGER NOT NULL,
        step_min REAL NOT NULL,
        step_max REAL NOT NULL,
        value_min REAL,
        value_max REAL,
        data BLOB NOT NULL,
        PRIMARY KEY (series_id, seq)
      ) WITHOUT ROWID;

      -- Room for the model registry, smoke tests and deployments (later issues).
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        sha256 TEXT,
        size INTEGER,
        inspected_at REAL,
        inspection TEXT
      );
      CREATE TABLE smoke_tests (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        started_at REAL NOT NULL,
        provider TEXT NOT NULL,
        passed INTEGER,
        report TEXT NOT NULL
      );
      CREATE TABLE approvals (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id),
        decided_at REAL NOT NULL,
        decision TEXT NOT NULL,
        approver TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL
      );
      -- Append-only; each entry carries the hash of the previous one.
      CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE TABLE deployments (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id),
        container_id TEXT,
        image TEXT,
        port INTEGER,
        state TEXT NOT NULL,
        created_at REAL NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: "user annotations on runs (label, note, star, hidden), kept in RunLens' database, never in the user's files",
    sql: `
      ALTER TABLE runs ADD COLUMN label TEXT;
      ALTER TABLE runs ADD COLUMN note TEXT;
      ALTER TABLE runs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE runs ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX runs_by_experiment ON runs(experiment_id);
    `,
  },
  {
    version: 3,
    description: 'per-file reader state, so appended files are read from where the last read stopped',
    sql: `
      ALTER TABLE source_files ADD COLUMN reader_state TEXT;
    `,
  },
  {
    version: 4,
    description: 'model registry: versions, aliases, approval decisions with their smoke-test evidence, and a hash-chained, append-only audit log',
    sql: `
      -- The v1 placeholders (models, smoke_tests, approvals, audit_events,
      -- deployments) stay as they are, unused; the registry gets its own tables.
      --
      -- A version does not reference runs(id): runs are rebuilt when their logs
      -- are re-read or removed, and a registered version must keep what it was
      -- trained by. It keeps the run's uid and a JSON snapshot instead.
      CREATE TABLE model_versions (
        id INTEGER PRIMARY KEY,
        model_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
          CHECK (state IN ('pending', 'approved', 'rejected', 'pushed', 'deployed', 'archived')),
        file_path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        registered_at INTEGER NOT NULL,
        registered_by TEXT NOT NULL,
        description TEXT,
        run_uid TEXT,
        run_snapshot TEXT,
        run_inference TEXT NOT NULL,
        git TEXT NOT NULL,
        datasets TEXT NOT NULL,
        UNIQUE (model_name, version)
      );
      CREATE INDEX model_versions_by_sha256 ON model_versions(sha256);
      CREATE TABLE model_aliases (
        model_name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version_id INTEGER NOT NULL REFERENCES model_versions(id),
        set_at INTEGER NOT NULL,
        set_by TEXT NOT NULL,
        PRIMARY KEY (model_name, alias)
      ) WITHOUT ROWID;
      -- Approvals and rejections, with the policy evaluation that was shown.
      CREATE TABLE model_decisions (
        id INTEGER PRIMARY KEY,
        version_id INTEGER NOT NULL REFERENCES model_versions(id),
        decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
        decided_at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        overridden INTEGER NOT NULL DEFAULT 0,
        evaluation TEXT
      );
      CREATE INDEX model_decisions_by_version ON model_decisions(version_id);
      CREATE TABLE model_smoke_reports (
        id INTEGER PRIMARY KEY,
        version_id INTEGER NOT NULL REFERENCES model_versions(id),
        decision_id INTEGER REFERENCES model_decisions(id),
        ep TEXT NOT NULL,
        ran_at INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        report TEXT NOT NULL
      );
      CREATE INDEX model_smoke_reports_by_version ON model_smoke_reports(version_id);
      -- Append-only. Each entry's hash covers its fields and the previous
      -- entry's hash (src/core/registry/audit.ts), so an edit or a deletion is
      -- found by runlens audit verify even when these triggers are dropped.
      CREATE TABLE registry_audit (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        model_name TEXT,
        version INTEGER,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      -- An entry must continue the chain: the next sequence number, and the
      -- previous entry's hash (or 64 zeros for the first entry).
      CREATE TRIGGER registry_audit_append_only_insert BEFORE INSERT ON registry_audit
      WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM registry_audit)
        OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM registry_audit ORDER BY seq DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000')
      BEGIN
        SELECT RAISE(ABORT, 'registry_audit is append-only: an entry must continue the hash chain');
      END;
      CREATE TRIGGER registry_audit_no_update BEFORE UPDATE ON registry_audit
      BEGIN
        SELECT RAISE(ABORT, 'registry_audit is append-only: entries cannot be changed');
      END;
      CREATE TRIGGER registry_audit_no_delete BEFORE DELETE ON registry_audit
      BEGIN
        SELECT RAISE(ABORT, 'registry_audit is append-only: entries cannot be deleted');
      END;
      -- Decisions and their evidence are history too.
      CREATE TRIGGER model_decisions_no_update BEFORE UPDATE ON model_decisions
      BEGIN
        SELECT RAISE(ABORT, 'model_decisions is append-only');
      END;
      CREATE TRIGGER model_decisions_no_delete BEFORE DELETE ON model_decisions
      BEGIN
        SELECT RAISE(ABORT, 'model_decisions is append-only');
      END;
      CREATE TRIGGER model_smoke_reports_no_update BEFORE UPDATE ON model_smoke_reports
      BEGIN
        SELECT RAISE(ABORT, 'model_smoke_reports is append-only');
      END;
      CREATE TRIGGER model_smoke_reports_no_delete BEFORE DELETE ON model_smoke_reports
      BEGIN
        SELECT RAISE(ABORT, 'model_smoke_reports is append-only');
      END;
    `,
  },
  {
    version: 5,
    description: 'metric chunks in codec version 2 (fractional wall times as bit-pattern deltas); a RunLens that reads only version 1 must refuse this database rather than fail on its chunks',
    // Nothing to change in the tables: chunks of version 1 are still read, new chunks are written in
    // version 2 (chunkCodec.ts). The version number itself is the change: an older RunLens stops at
    // 'database-newer' with a clear message.
    sql: `SELECT 1;`,
  },
  {
    version: 6,
    description: 'every value in a file is a point: Lightning sources (a value repeated in rows of one step was kept once) and DVCLive sources (a metric named step was not read) are read again from their start by the next ingest',
    // Forgetting their cursors makes every file of these sources look new: the next ingest reads
    // them whole and replaces their runs, matched by key, so labels, notes, stars and hidden
    // marks survive. Other formats keep their cursors and are not read again.
    sql: `DELETE FROM source_files WHERE source_id IN (SELECT id FROM sources WHERE format IN ('lightning', 'dvclive'));`,
  },
  {
    version: 7,
    description: 'drop the v1 placeholder tables no code reads (approvals, audit_events, deployments): the registry has its own tables (migration 4) and deployments live in the Docker engine',
    // `models` and `smoke_tests` stay: they hold the smoke-test results of model files.
    sql: `
      DROP TABLE IF EXISTS approvals;
      DROP TABLE IF EXISTS deployments;
      DROP TABLE IF EXISTS audit_events;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
