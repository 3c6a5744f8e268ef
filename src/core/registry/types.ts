// The registry's records and its store interface. Like RunStore, the interface
// holds no SQLite types: a PostgreSQL backend (a team's shared registry) can
// implement it. Every write method is one atomic unit that re-checks what it
// depends on and appends its audit events in the same transaction.
import type { WireNumber } from '../../shared/wireNumbers';
import type { DatasetFingerprint } from './fingerprint';
import type { GitState } from './git';
import type { VersionState } from './states';

export type { DatasetFingerprint, GitState, VersionState };

/** The source run as it was when the version was registered (runs are re-read and may change or vanish later). */
export interface RunSnapshot {
  uid: string;
  name: string;
  format: string;
  experimentName: string;
  path: string;
  status: string;
  params: Record<string, string>;
  /** Final value of each metric: a series' last point, or a summary value; NaN/±Infinity spelled as strings. */
  metrics: Record<string, { value: WireNumber; step: number | null }>;
}

export interface RunInference {
  /**
   * given: --run; contains: the model lies inside the run's folder; sibling: the model lies
   * beside the run's folder or file; ambiguous: several runs fit equally (none recorded);
   * none: no run fits.
   */
  how: 'given' | 'contains' | 'sibling' | 'ambiguous' | 'none';
  note: string;
  candidates?: { uid: string; name: string; path: string }[];
}

export interface ModelVersion {
  id: number;
  name: string;
  version: number;
  state: VersionState;
  /** Absolute path of the registered file. RunLens records it; it never copies or moves it. */
  filePath: string;
  sha256: string;
  size: number;
  registeredAt: number;
  registeredBy: string;
  description: string | null;
  runUid: string | null;
  run: RunSnapshot | null;
  runInference: RunInference;
  git: GitState;
  datasets: DatasetFingerprint[];
  /** Aliases pointing at this version now. */
  aliases: string[];
}

export interface ModelSummary {
  name: string;
  versions: number;
  latestVersion: number;
  latestState: VersionState;
  /** alias → version */
  aliases: Record<string, number>;
  /** Versions per state. */
  states: Partial<Record<VersionState, number>>;
}

export interface AliasRecord {
  name: string;
  alias: string;
  version: number;
  versionId: number;
  setAt: number;
  setBy: string;
}

export interface Decision {
  id: number;
  versionId: number;
  decision: 'approved' | 'rejected';
  decidedAt: number;
  actor: string;
  reason: string;
  overridden: boolean;
  evaluation: unknown;
}

export interface StoredSmokeReport {
  id: number;
  versionId: number;
  decisionId: number | null;
  ep: string;
  ranAt: number;
  passed: boolean;
  /** sha256 of the stored report text, as the approval's audit entry recorded it. */
  sha256: string;
  report: unknown;
}

/**
 * 'push' and 'deploy' record a version entering the pushed/deployed state (once);
 * 'release' records every push or deployment action, successful or not (payload.action,
 * payload.outcome), and changes no state: a version is pushed to several registries and
 * deployed, rolled back and redeployed many times.
 */
export const AUDIT_KINDS = ['register', 'approve', 'reject', 'override', 'alias', 'push', 'deploy', 'rollback', 'archive', 'release'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** One audit log entry as stored. `payload` is canonical JSON text; `hash` covers every other field. */
export interface AuditEntry {
  seq: number;
  /** Milliseconds since the epoch (an integer, so it hashes the same everywhere). */
  at: number;
  kind: string;
  actor: string;
  model: string | null;
  version: number | null;
  payload: string;
  prevHash: string;
  hash: string;
}

/** What a writer supplies; the store adds seq, prevHash and hash. */
export interface AuditDraft {
  kind: AuditKind;
  model: string | null;
  version: number | null;
  payload: Record<string, unknown>;
}

export interface VersionDraft {
  name: string;
  filePath: string;
  sha256: string;
  size: number;
  description: string | null;
  runUid: string | null;
  run: RunSnapshot | null;
  runInference: RunInference;
  git: GitState;
  datasets: DatasetFingerprint[];
}

export interface NewDecision {
  decision: 'approved' | 'rejected';
  reason: string;
  overridden: boolean;
  evaluation: unknown;
}

export interface NewSmokeReport {
  ep: string;
  ranAt: number;
  passed: boolean;
  /** Plain JSON (numbers already finite or spelled as strings). */
  report: unknown;
}

export interface TransitionRequest {
  versionId: number;
  /** Checked against the state read inside the transaction with the transition table (states.ts): the caller's view may be stale. */
  to: VersionState;
  at: number;
  actor: string;
  /** An approval or rejection recorded with the change. */
  decision?: NewDecision;
  /** Evidence stored with the decision. */
  smokeReports?: NewSmokeReport[];
  /** Extra checks inside the transaction (e.g. no alias points at a version being archived); throw to refuse. */
  check?: (current: ModelVersion) => void;
  /** The audit entries for this change, built from what the transaction read and wrote. */
  events: (context: { before: ModelVersion; decisionId: number | null; smokeReports: { id: number; ep: string; passed: boolean; sha256: string }[] }) => AuditDraft[];
}

export interface AliasRequest {
  name: string;
  alias: string;
  /** null removes the alias. */
  versionId: number | null;
  at: number;
  actor: string;
  /** Refuses inside the transaction, where the target's state and the alias's current target are read. */
  check?: (context: { previous: AliasRecord | null; target: ModelVersion | null }) => void;
  events: (context: { previous: AliasRecord | null; target: ModelVersion | null }) => AuditDraft[];
}

export interface RegistryStore {
  readonly path: string;
  close(): void;

  listModels(): ModelSummary[];
  listVersions(query?: { name?: string; states?: readonly VersionState[] }): ModelVersion[];
  getVersion(name: string, version: number): ModelVersion | undefined;
  getVersionById(id: number): ModelVersion | undefined;
  latestVersion(name: string): ModelVersion | undefined;
  listAliases(name?: string): AliasRecord[];
  listDecisions(versionId?: number): Decision[];
  listSmokeReports(versionId?: number): StoredSmokeReport[];

  /** Appends a version numbered after the model's last one, with its 'register' audit entry. */
  registerVersion(draft: VersionDraft, at: number, actor: string, events: (version: ModelVersion) => AuditDraft[]): ModelVersion;
  /** Moves a version to another state if the transition table allows it from the state read inside the transaction. */
  transition(request: TransitionRequest): { version: ModelVersion; decisionId: number | null; auditSeqs: number[] };
  setAlias(request: AliasRequest): { previous: AliasRecord | null; current: AliasRecord | null; auditSeqs: number[] };

  /** Entries in sequence order. */
  readAudit(options?: { fromSeq?: number; limit?: number }): AuditEntry[];
  auditHead(): { seq: number; hash: string } | null;
  /** Appends audit entries that change no record (release actions), after `check` passes inside the write transaction. */
  recordEvents(request: { at: number; actor: string; check?: () => void; events: AuditDraft[] }): { auditSeqs: number[] };
}
