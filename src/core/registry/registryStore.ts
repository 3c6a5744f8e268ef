// The SQLite implementation of RegistryStore, on the connection the run store
// shares (openSqliteStore):
// - RunStore's interface is deliberately free of SQL and owned by the ingest
//   side; the registry runs its own BEGIN IMMEDIATE transactions on the
//   connection, which cannot interleave with the run store's (both synchronous);
// - short-lived CLI processes next to a running agent (and two CLI processes at
//   once) each have their own connection to one WAL database, which SQLite
//   serializes for us, with a busy timeout;
// - a PostgreSQL registry can later replace this class without touching runs.
import type { Database } from 'better-sqlite3';
import { UserError } from '../errors';
import { translateSqliteError } from '../store/sqliteErrors';
import { entryHash, GENESIS_HASH, sha256Text } from './audit';
import { canonicalJson } from './canonicalJson';
import { assertTransition, type VersionState } from './states';
import type {
  AliasRecord,
  AliasRequest,
  AuditDraft,
  AuditEntry,
  Decision,
  ModelSummary,
  ModelVersion,
  RegistryStore,
  StoredSmokeReport,
  TransitionRequest,
  VersionDraft,
} from './types';

interface VersionRow {
  id: number;
  model_name: string;
  version: number;
  state: VersionState;
  file_path: string;
  sha256: string;
  size: number;
  registered_at: number;
  registered_by: string;
  description: string | null;
  run_uid: string | null;
  run_snapshot: string | null;
  run_inference: string;
  git: string;
  datasets: string;
}

interface AliasRow {
  model_name: string;
  alias: string;
  version_id: number;
  version: number;
  set_at: number;
  set_by: string;
}

interface AuditRow {
  seq: number;
  at: number;
  kind: string;
  actor: string;
  model_name: string | null;
  version: number | null;
  payload: string;
  prev_hash: string;
  hash: string;
}

/** How long a registry write waits for another process's transaction (another approval, an ingest). */
const WRITE_BUSY_TIMEOUT_MS = 10_000;

export class SqliteRegistryStore implements RegistryStore {
  private readonly s: ReturnType<SqliteRegistryStore['prepare']>;

  /** Over a connection that openSqliteStore opened and migrated; `closeDatabase` closes it (and every store on it). */
  constructor(
    readonly path: string,
    private readonly db: Database,
    private readonly closeDatabase: () => void,
  ) {
    this.s = this.prepare();
  }

  private prepare() {
    const db = this.db;
    const versionColumns = `id, model_name, version, state, file_path, sha256, size, registered_at, registered_by, description, run_uid, run_snapshot, run_inference, git, datasets`;
    return {
      versionById: db.prepare(`SELECT ${versionColumns} FROM model_versions WHERE id = ?`),
      versionByNumber: db.prepare(`SELECT ${versionColumns} FROM model_versions WHERE model_name = ? AND version = ?`),
      latestVersion: db.prepare(`SELECT ${versionColumns} FROM model_versions WHERE model_name = ? ORDER BY version DESC LIMIT 1`),
      allVersions: db.prepare(`SELECT ${versionColumns} FROM model_versions ORDER BY model_name, version`),
      versionsOfModel: db.prepare(`SELECT ${versionColumns} FROM model_versions WHERE model_name = ? ORDER BY version`),
      nextVersion: db.prepare(`SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model_name = ?`),
      insertVersion: db.prepare(
        `INSERT INTO model_versions (model_name, version, state, file_path, sha256, size, registered_at, registered_by, description, run_uid, run_snapshot, run_inference, git, datasets)
         VALUES (@name, @version, 'pending', @filePath, @sha256, @size, @at, @actor, @description, @runUid, @run, @runInference, @git, @datasets) RETURNING id`,
      ),
      // The WHERE on the old state is the last line of defence: the row changes only from the state we checked.
      updateState: db.prepare(`UPDATE model_versions SET state = ? WHERE id = ? AND state = ?`),
      aliasesAll: db.prepare(
        `SELECT a.model_name, a.alias, a.version_id, v.version, a.set_at, a.set_by FROM model_aliases a JOIN model_versions v ON v.id = a.version_id ORDER BY a.model_name, a.alias`,
      ),
      aliasesOfModel: db.prepare(
        `SELECT a.model_name, a.alias, a.version_id, v.version, a.set_at, a.set_by FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_name = ? ORDER BY a.alias`,
      ),
      aliasOne: db.prepare(
        `SELECT a.model_name, a.alias, a.version_id, v.version, a.set_at, a.set_by FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_name = ? AND a.alias = ?`,
      ),
      aliasNamesOfVersion: db.prepare(`SELECT alias FROM model_aliases WHERE version_id = ? ORDER BY alias`),
      upsertAlias: db.prepare(
        `INSERT INTO model_aliases (model_name, alias, version_id, set_at, set_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (model_name, alias) DO UPDATE SET version_id = excluded.version_id, set_at = excluded.set_at, set_by = excluded.set_by`,
      ),
      deleteAlias: db.prepare(`DELETE FROM model_aliases WHERE model_name = ? AND alias = ?`),
      insertDecision: db.prepare(
        `INSERT INTO model_decisions (version_id, decision, decided_at, actor, reason, overridden, evaluation) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      decisionsAll: db.prepare(`SELECT * FROM model_decisions ORDER BY id`),
      decisionsOfVersion: db.prepare(`SELECT * FROM model_decisions WHERE version_id = ? ORDER BY id`),
      insertSmoke: db.prepare(`INSERT INTO model_smoke_reports (version_id, decision_id, ep, ran_at, passed, report) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
      smokeAll: db.prepare(`SELECT * FROM model_smoke_reports ORDER BY id`),
      smokeOfVersion: db.prepare(`SELECT * FROM model_smoke_reports WHERE version_id = ? ORDER BY id`),
      auditLast: db.prepare(`SELECT seq, hash FROM registry_audit ORDER BY seq DESC LIMIT 1`),
      auditInsert: db.prepare(`INSERT INTO registry_audit (seq, at, kind, actor, model_name, version, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      auditFrom: db.prepare(`SELECT * FROM registry_audit WHERE seq >= ? ORDER BY seq LIMIT ?`),
    };
  }

  /** Closes the database this store is on: the run store on the same connection too. */
  close(): void {
    this.closeDatabase();
  }

  // Reads ---------------------------------------------------------------------

  private toVersion(row: VersionRow): ModelVersion {
    return {
      id: row.id,
      name: row.model_name,
      version: row.version,
      state: row.state,
      filePath: row.file_path,
      sha256: row.sha256,
      size: row.size,
      registeredAt: row.registered_at,
      registeredBy: row.registered_by,
      description: row.description,
      runUid: row.run_uid,
      run: row.run_snapshot === null ? null : JSON.parse(row.run_snapshot),
      runInference: JSON.parse(row.run_inference),
      git: JSON.parse(row.git),
      datasets: JSON.parse(row.datasets),
      aliases: (this.s.aliasNamesOfVersion.all(row.id) as { alias: string }[]).map((a) => a.alias),
    };
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw translateSqliteError(this.path, e);
    }
  }

  getVersionById(id: number): ModelVersion | undefined {
    return this.read(() => {
      const row = this.s.versionById.get(id) as VersionRow | undefined;
      return row && this.toVersion(row);
    });
  }

  getVersion(name: string, version: number): ModelVersion | undefined {
    return this.read(() => {
      const row = this.s.versionByNumber.get(name, version) as VersionRow | undefined;
      return row && this.toVersion(row);
    });
  }

  latestVersion(name: string): ModelVersion | undefined {
    return this.read(() => {
      const row = this.s.latestVersion.get(name) as VersionRow | undefined;
      return row && this.toVersion(row);
    });
  }

  listVersions(query: { name?: string; states?: readonly VersionState[] } = {}): ModelVersion[] {
    return this.read(() => {
      const rows = (query.name === undefined ? this.s.allVersions.all() : this.s.versionsOfModel.all(query.name)) as VersionRow[];
      return rows.filter((r) => !query.states || query.states.includes(r.state)).map((r) => this.toVersion(r));
    });
  }

  listModels(): ModelSummary[] {
    return this.read(() => {
      const rows = this.db.prepare(`SELECT model_name, version, state FROM model_versions ORDER BY model_name, version`).all() as { model_name: string; version: number; state: VersionState }[];
      const aliases = this.listAliases();
      const out = new Map<string, ModelSummary>();
      for (const r of rows) {
        let m = out.get(r.model_name);
        if (!m) {
          m = { name: r.model_name, versions: 0, latestVersion: 0, latestState: r.state, aliases: {}, states: {} };
          out.set(r.model_name, m);
        }
        m.versions++;
        m.latestVersion = r.version;
        m.latestState = r.state;
        m.states[r.state] = (m.states[r.state] ?? 0) + 1;
      }
      for (const a of aliases) {
        const m = out.get(a.name);
        if (m) m.aliases[a.alias] = a.version;
      }
      return [...out.values()];
    });
  }

  listAliases(name?: string): AliasRecord[] {
    return this.read(() => ((name === undefined ? this.s.aliasesAll.all() : this.s.aliasesOfModel.all(name)) as AliasRow[]).map(toAlias));
  }

  listDecisions(versionId?: number): Decision[] {
    return this.read(() =>
      ((versionId === undefined ? this.s.decisionsAll.all() : this.s.decisionsOfVersion.all(versionId)) as Record<string, unknown>[]).map((r) => ({
        id: r.id as number,
        versionId: r.version_id as number,
        decision: r.decision as Decision['decision'],
        decidedAt: r.decided_at as number,
        actor: r.actor as string,
        reason: r.reason as string,
        overridden: r.overridden === 1,
        evaluation: r.evaluation === null ? null : (JSON.parse(r.evaluation as string) as unknown),
      })),
    );
  }

  listSmokeReports(versionId?: number): StoredSmokeReport[] {
    return this.read(() =>
      ((versionId === undefined ? this.s.smokeAll.all() : this.s.smokeOfVersion.all(versionId)) as Record<string, unknown>[]).map((r) => ({
        id: r.id as number,
        versionId: r.version_id as number,
        decisionId: r.decision_id as number | null,
        ep: r.ep as string,
        ranAt: r.ran_at as number,
        passed: r.passed === 1,
        sha256: sha256Text(r.report as string),
        report: JSON.parse(r.report as string) as unknown,
      })),
    );
  }

  readAudit(options: { fromSeq?: number; limit?: number } = {}): AuditEntry[] {
    return this.read(() =>
      (this.s.auditFrom.all(options.fromSeq ?? 0, options.limit ?? -1) as AuditRow[]).map((r) => ({
        seq: r.seq,
        at: r.at,
        kind: r.kind,
        actor: r.actor,
        model: r.model_name,
        version: r.version,
        payload: r.payload,
        prevHash: r.prev_hash,
        hash: r.hash,
      })),
    );
  }

  auditHead(): { seq: number; hash: string } | null {
    return this.read(() => (this.s.auditLast.get() as { seq: number; hash: string } | undefined) ?? null);
  }

  // Writes --------------------------------------------------------------------

  /** BEGIN IMMEDIATE: take the write lock before reading, so what we check cannot change before we write. */
  private write<T>(fn: () => T): T {
    // The audit log is the record of who approved what: a committed entry must survive a power loss, not
    // only a crash (WAL + NORMAL, the connection's setting for runs, may lose the last transactions), and
    // an approval waits longer for a busy database than an ingest does.
    const synchronous = this.db.pragma('synchronous', { simple: true }) as number;
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${Math.max(timeout, WRITE_BUSY_TIMEOUT_MS)}`);
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw translateSqliteError(this.path, e);
    } finally {
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  private append(draft: AuditDraft, at: number, actor: string): number {
    const last = this.s.auditLast.get() as { seq: number; hash: string } | undefined;
    const entry: Omit<AuditEntry, 'hash'> = {
      seq: (last?.seq ?? 0) + 1,
      at,
      kind: draft.kind,
      actor,
      model: draft.model,
      version: draft.version,
      payload: canonicalJson(draft.payload),
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = entryHash(entry);
    this.s.auditInsert.run(entry.seq, entry.at, entry.kind, entry.actor, entry.model, entry.version, entry.payload, entry.prevHash, hash);
    return entry.seq;
  }

  registerVersion(draft: VersionDraft, at: number, actor: string, events: (version: ModelVersion) => AuditDraft[]): ModelVersion {
    const at_ = Math.round(at);
    return this.write(() => {
      const { next } = this.s.nextVersion.get(draft.name) as { next: number };
      const { id } = this.s.insertVersion.get({
        name: draft.name,
        version: next,
        filePath: draft.filePath,
        sha256: draft.sha256,
        size: draft.size,
        at: at_,
        actor,
        description: draft.description,
        runUid: draft.runUid,
        run: draft.run === null ? null : canonicalJson(draft.run),
        runInference: canonicalJson(draft.runInference),
        git: canonicalJson(draft.git),
        datasets: canonicalJson(draft.datasets),
      }) as { id: number };
      const version = this.toVersion(this.s.versionById.get(id) as VersionRow);
      for (const e of events(version)) this.append(e, at_, actor);
      return version;
    });
  }

  transition(request: TransitionRequest): { version: ModelVersion; decisionId: number | null; auditSeqs: number[] } {
    const at = Math.round(request.at);
    return this.write(() => {
      const row = this.s.versionById.get(request.versionId) as VersionRow | undefined;
      if (!row) throw new UserError('not-found', `no model version with id ${request.versionId} in ${this.path}`);
      const before = this.toVersion(row);
      // Re-read inside the write lock: another process may have decided this version since the caller looked.
      assertTransition(`${before.name}@${before.version}`, before.state, request.to);
      request.check?.(before);
      const changed = this.s.updateState.run(request.to, before.id, before.state).changes;
      if (changed !== 1) throw new Error(`model version ${before.id} changed state under a write lock`);
      let decisionId: number | null = null;
      if (request.decision) {
        const d = request.decision;
        decisionId = (this.s.insertDecision.get(before.id, d.decision, at, request.actor, d.reason, d.overridden ? 1 : 0, d.evaluation === undefined ? null : canonicalJson(d.evaluation)) as { id: number }).id;
      }
      const smokeReports = (request.smokeReports ?? []).map((r) => {
        const text = canonicalJson(r.report);
        const { id } = this.s.insertSmoke.get(before.id, decisionId, r.ep, Math.round(r.ranAt), r.passed ? 1 : 0, text) as { id: number };
        return { id, ep: r.ep, passed: r.passed, sha256: sha256Text(text) };
      });
      const auditSeqs = request.events({ before, decisionId, smokeReports }).map((e) => this.append(e, at, request.actor));
      return { version: this.toVersion(this.s.versionById.get(before.id) as VersionRow), decisionId, auditSeqs };
    });
  }

  recordEvents(request: { at: number; actor: string; check?: () => void; events: AuditDraft[] }): { auditSeqs: number[] } {
    const at = Math.round(request.at);
    return this.write(() => {
      request.check?.();
      return { auditSeqs: request.events.map((e) => this.append(e, at, request.actor)) };
    });
  }

  setAlias(request: AliasRequest): { previous: AliasRecord | null; current: AliasRecord | null; auditSeqs: number[] } {
    const at = Math.round(request.at);
    return this.write(() => {
      const previousRow = this.s.aliasOne.get(request.name, request.alias) as AliasRow | undefined;
      const previous = previousRow ? toAlias(previousRow) : null;
      let target: ModelVersion | null = null;
      if (request.versionId !== null) {
        const row = this.s.versionById.get(request.versionId) as VersionRow | undefined;
        if (!row) throw new UserError('not-found', `no model version with id ${request.versionId} in ${this.path}`);
        target = this.toVersion(row);
        if (target.name !== request.name) throw new UserError('bad-argument', `alias ${request.alias} of ${request.name} cannot point at a version of ${target.name}`);
      }
      request.check?.({ previous, target });
      if (target) this.s.upsertAlias.run(request.name, request.alias, target.id, at, request.actor);
      else if (previous) this.s.deleteAlias.run(request.name, request.alias);
      else throw new UserError('not-found', `${request.name} has no alias ${request.alias}`);
      const auditSeqs = request.events({ previous, target }).map((e) => this.append(e, at, request.actor));
      const currentRow = this.s.aliasOne.get(request.name, request.alias) as AliasRow | undefined;
      return { previous, current: currentRow ? toAlias(currentRow) : null, auditSeqs };
    });
  }
}

function toAlias(r: AliasRow): AliasRecord {
  return { name: r.model_name, alias: r.alias, versionId: r.version_id, version: r.version, setAt: r.set_at, setBy: r.set_by };
}
