// The audit log's hash chain: how an entry is hashed, how the chain and the
// registry tables are verified against each other, and how the log is
// exported. Pure functions over entries; the store only reads and appends.
//
// What the chain proves: an entry changed after it was written no longer
// matches its hash; an entry removed or inserted breaks the next entry's link;
// and replaying the log must reproduce the registry tables (every version's
// state, every alias, every decision), so removing the newest entries or
// editing a table directly is caught too. What it cannot prove on its own: that
// nobody rewrote the whole log and recomputed every hash (there is no secret
// key). Keep the head hash somewhere else (CI log, a commit, a ticket) and
// pass it back with `runlens audit verify --anchor HASH`.
import * as crypto from 'node:crypto';
import { canonicalJson } from './canonicalJson';
import { canTransition, describeIllegalTransition, isVersionState, stateEnteredBy, type VersionState } from './states';
import { AUDIT_KINDS, type AliasRecord, type AuditEntry, type Decision, type ModelVersion, type RegistryStore, type StoredSmokeReport } from './types';

export const GENESIS_HASH = '0'.repeat(64);

/** sha256 over the canonical JSON of every field of the entry but its own hash, the previous entry's hash included. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const text = canonicalJson({
    seq: entry.seq,
    at: entry.at,
    kind: entry.kind,
    actor: entry.actor,
    model: entry.model,
    version: entry.version,
    payload: entry.payload,
    prevHash: entry.prevHash,
  });
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export function sha256Text(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface AuditProblem {
  /** The entry the problem was found at; null for a problem in the registry tables. */
  seq: number | null;
  kind: string | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Checks the chain link by link. Every entry is compared with its stored
 * neighbours, so one edit is reported once, at the entry that was edited,
 * and entries after it are not blamed.
 */
export function verifyChain(entries: readonly AuditEntry[], options: { anchor?: string } = {}): VerifyResult {
  const problems: AuditProblem[] = [];
  let previous: AuditEntry | null = null;
  for (const entry of entries) {
    const at = { seq: entry.seq, kind: entry.kind };
    const expectedSeq = previous ? previous.seq + 1 : 1;
    const expectedPrev = previous ? previous.hash : GENESIS_HASH;
    const recomputed = entryHash(entry);
    if (entry.seq !== expectedSeq) {
      const missing = entry.seq > expectedSeq ? (entry.seq - expectedSeq === 1 ? `entry #${expectedSeq} is missing` : `entries #${expectedSeq}–#${entry.seq - 1} are missing`) : 'sequence numbers go backwards';
      problems.push({ ...at, message: `comes ${previous ? `after #${previous.seq}` : 'first'}: ${missing} (deleted from the log)` });
    } else if (recomputed !== entry.hash) {
      problems.push({ ...at, message: `its contents do not match its hash (stored ${short(entry.hash)}, contents hash to ${short(recomputed)}): the entry was changed after it was written` });
    } else if (entry.prevHash !== expectedPrev) {
      problems.push({
        ...at,
        message: previous
          ? `its previous-entry hash ${short(entry.prevHash)} does not match entry #${previous.seq}'s hash ${short(previous.hash)}: #${previous.seq} was rewritten (hash recomputed) or an entry between them was removed`
          : `it is the first entry but does not start the chain (previous-entry hash ${short(entry.prevHash)}, expected ${short(GENESIS_HASH)}): earlier entries were removed`,
      });
    } else if (!(AUDIT_KINDS as readonly string[]).includes(entry.kind)) {
      problems.push({ ...at, message: `unknown event kind "${entry.kind}"` });
    } else {
      try {
        const parsed = JSON.parse(entry.payload) as unknown;
        if (canonicalJson(parsed) !== entry.payload) problems.push({ ...at, message: 'its payload is not in canonical form' });
      } catch {
        problems.push({ ...at, message: 'its payload is not valid JSON' });
      }
    }
    previous = entry;
  }
  if (options.anchor) {
    const anchor = options.anchor.toLowerCase();
    const found = entries.find((e) => e.hash === anchor);
    if (!found) problems.push({ seq: null, kind: null, message: `no entry has the anchor hash ${short(anchor)}: the log was truncated or rewritten since that hash was taken` });
  }
  const last = entries[entries.length - 1];
  return { ok: problems.length === 0, entries: entries.length, head: last ? { seq: last.seq, hash: last.hash } : null, problems };
}

// Replay ----------------------------------------------------------------------

/** What the log says the registry holds. */
export interface ReplayedRegistry {
  versions: Map<string, { name: string; version: number; versionId: number; state: VersionState; sha256: string; size: number; filePath: string; registerSeq: number; lastSeq: number }>;
  aliases: Map<string, { name: string; alias: string; version: number; seq: number }>;
  decisions: Map<number, { versionKey: string; decision: string; actor: string; reason: string; overridden: boolean; evaluation: string | null; seq: number }>;
  smokeReports: Map<number, { versionKey: string; sha256: string; seq: number }>;
}

const versionKey = (name: string, version: number) => `${name}@${version}`;
const aliasKey = (name: string, alias: string) => `${name}\0${alias}`;

interface Payload {
  versionId?: number;
  filePath?: string;
  sha256?: string;
  size?: number;
  alias?: string;
  from?: unknown;
  to?: unknown;
  decisionId?: number;
  reason?: string;
  overridden?: boolean;
  evaluation?: unknown;
  smokeReports?: { id: number; sha256: string }[];
}

/** Replays entries in order; events that do not follow the registry's rules are problems (a forged or reordered log). */
export function replayAudit(entries: readonly AuditEntry[]): { replayed: ReplayedRegistry; problems: AuditProblem[] } {
  const replayed: ReplayedRegistry = { versions: new Map(), aliases: new Map(), decisions: new Map(), smokeReports: new Map() };
  const problems: AuditProblem[] = [];
  for (const entry of entries) {
    const problem = (message: string) => problems.push({ seq: entry.seq, kind: entry.kind, message });
    let p: Payload;
    try {
      p = JSON.parse(entry.payload) as Payload;
    } catch {
      continue; // reported by verifyChain
    }
    if (entry.model === null) {
      problem('names no model');
      continue;
    }
    if (entry.kind === 'alias' || entry.kind === 'rollback') {
      const key = aliasKey(entry.model, String(p.alias));
      const current = replayed.aliases.get(key)?.version ?? null;
      if ((p.from ?? null) !== current) problem(`moves ${entry.model} alias ${p.alias} from ${p.from ?? 'nothing'}, but the log had it at ${current ?? 'nothing'}`);
      if (typeof p.to === 'number') {
        if (!replayed.versions.has(versionKey(entry.model, p.to))) problem(`points ${p.alias} at ${versionKey(entry.model, p.to)}, which the log never registered`);
        replayed.aliases.set(key, { name: entry.model, alias: String(p.alias), version: p.to, seq: entry.seq });
      } else {
        replayed.aliases.delete(key);
      }
      continue;
    }
    if (entry.version === null) {
      problem('names no version');
      continue;
    }
    const key = versionKey(entry.model, entry.version);
    const known = replayed.versions.get(key);
    if (entry.kind === 'register') {
      if (known) problem(`registers ${key} a second time (first at #${known.lastSeq})`);
      replayed.versions.set(key, {
        name: entry.model,
        version: entry.version,
        versionId: Number(p.versionId),
        state: 'pending',
        sha256: String(p.sha256),
        size: Number(p.size),
        filePath: String(p.filePath),
        registerSeq: entry.seq,
        lastSeq: entry.seq,
      });
      continue;
    }
    if (!known) {
      problem(`concerns ${key}, which the log never registered`);
      continue;
    }
    if (entry.kind === 'override') {
      if (known.state !== 'pending') problem(`overrides the gate for ${key}, which the log has as ${known.state}`);
      continue;
    }
    const to = stateEnteredBy(entry.kind);
    if (!to) continue;
    if (typeof p.from === 'string' && p.from !== known.state) problem(`changes ${key} from ${p.from}, but the log had it ${known.state}`);
    if (!canTransition(known.state, to)) problem(describeIllegalTransition(key, known.state, to));
    known.state = to;
    known.lastSeq = entry.seq;
    if (entry.kind === 'approve' || entry.kind === 'reject') {
      if (typeof p.decisionId === 'number') {
        replayed.decisions.set(p.decisionId, {
          versionKey: key,
          decision: to,
          actor: entry.actor,
          reason: String(p.reason ?? ''),
          overridden: Boolean(p.overridden),
          evaluation: p.evaluation === undefined || p.evaluation === null ? null : canonicalJson(p.evaluation),
          seq: entry.seq,
        });
      } else {
        problem(`records a decision without its id`);
      }
      for (const r of p.smokeReports ?? []) replayed.smokeReports.set(r.id, { versionKey: key, sha256: r.sha256, seq: entry.seq });
    }
  }
  return { replayed, problems };
}

/** The registry tables as they are now, for comparison with the replayed log. */
export interface RegistryTables {
  versions: readonly ModelVersion[];
  aliases: readonly AliasRecord[];
  decisions: readonly Decision[];
  smokeReports: readonly StoredSmokeReport[];
}

/** Differences between the tables and the replayed log; each names the audit entry it disagrees with when there is one. */
export function crossCheck(replayed: ReplayedRegistry, tables: RegistryTables): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const byId = new Map(tables.versions.map((v) => [v.id, v]));
  const seen = new Set<string>();
  for (const v of tables.versions) {
    const key = versionKey(v.name, v.version);
    seen.add(key);
    const r = replayed.versions.get(key);
    if (!r) {
      problems.push({ seq: null, kind: null, message: `${key} is in the registry but the audit log never registered it (its entries were removed, or the row was added by hand)` });
      continue;
    }
    const at = { seq: r.lastSeq, kind: null };
    if (!isVersionState(v.state) || v.state !== r.state) problems.push({ ...at, message: `${key} is ${v.state} in the registry, but the audit log says ${r.state} (last entry for it: #${r.lastSeq}): the table was edited, or entries were removed from the end of the log` });
    const changed = [v.filePath !== r.filePath && 'file path', v.size !== r.size && 'size', v.sha256 !== r.sha256 && 'sha256'].filter(Boolean);
    if (changed.length) problems.push({ seq: r.registerSeq, kind: null, message: `${key}'s ${changed.join(', ')} in the registry differ${changed.length === 1 ? 's' : ''} from what its registration (#${r.registerSeq}) recorded` });
    if (v.id !== r.versionId) problems.push({ seq: r.registerSeq, kind: null, message: `${key} has id ${v.id} in the registry, the audit log recorded ${r.versionId}` });
  }
  for (const [key, r] of replayed.versions) {
    if (!seen.has(key)) problems.push({ seq: r.lastSeq, kind: null, message: `${key} is in the audit log but missing from the registry (the row was deleted)` });
  }

  const aliasSeen = new Set<string>();
  for (const a of tables.aliases) {
    const key = aliasKey(a.name, a.alias);
    aliasSeen.add(key);
    const r = replayed.aliases.get(key);
    if (!r) problems.push({ seq: null, kind: null, message: `alias ${a.name}@${a.alias} is in the registry but the audit log never set it` });
    else if (r.version !== a.version) problems.push({ seq: r.seq, kind: null, message: `alias ${a.name}@${a.alias} points at version ${a.version}, but the audit log last set it to ${r.version} (#${r.seq}): the table was edited, or entries were removed from the end of the log` });
  }
  for (const [key, r] of replayed.aliases) {
    if (!aliasSeen.has(key)) problems.push({ seq: r.seq, kind: null, message: `alias ${r.name}@${r.alias} was set to ${r.version} by #${r.seq} but is missing from the registry` });
  }

  const decisionSeen = new Set<number>();
  for (const d of tables.decisions) {
    decisionSeen.add(d.id);
    const r = replayed.decisions.get(d.id);
    const v = byId.get(d.versionId);
    const key = v ? versionKey(v.name, v.version) : `version id ${d.versionId}`;
    if (!r) {
      problems.push({ seq: null, kind: null, message: `decision ${d.id} (${d.decision} ${key}) is in the registry but not in the audit log` });
      continue;
    }
    const evaluation = d.evaluation === null || d.evaluation === undefined ? null : canonicalJson(d.evaluation);
    if (r.versionKey !== key || r.decision !== d.decision || r.actor !== d.actor || r.reason !== d.reason || r.overridden !== d.overridden || r.evaluation !== evaluation) {
      problems.push({ seq: r.seq, kind: null, message: `decision ${d.id} (${d.decision} ${key} by ${d.actor}) differs from what audit entry #${r.seq} recorded` });
    }
  }
  for (const [id, r] of replayed.decisions) {
    if (!decisionSeen.has(id)) problems.push({ seq: r.seq, kind: null, message: `decision ${id} recorded by #${r.seq} is missing from the registry` });
  }
  const reportSeen = new Set<number>();
  for (const s of tables.smokeReports) {
    reportSeen.add(s.id);
    const r = replayed.smokeReports.get(s.id);
    if (!r) problems.push({ seq: null, kind: null, message: `smoke report ${s.id} is in the registry but no audit entry recorded it as evidence` });
    else if (r.sha256 !== s.sha256) problems.push({ seq: r.seq, kind: null, message: `smoke report ${s.id} (evidence of ${r.versionKey}) was changed after #${r.seq} recorded it` });
  }
  for (const [id, r] of replayed.smokeReports) {
    if (!reportSeen.has(id)) problems.push({ seq: r.seq, kind: null, message: `smoke report ${id}, evidence recorded by #${r.seq}, is missing from the registry` });
  }
  return problems;
}

/** The whole check behind `runlens audit verify`: the chain, the log's own consistency, and the tables against the log. */
export function verifyRegistry(entries: readonly AuditEntry[], tables: RegistryTables | null, options: { anchor?: string } = {}): VerifyResult {
  const chain = verifyChain(entries, options);
  const { replayed, problems: replayProblems } = replayAudit(entries);
  const tableProblems = tables ? crossCheck(replayed, tables) : [];
  // Chain breaks first (they name the entry that was touched), then the rest in log order.
  const bySeq = (a: AuditProblem, b: AuditProblem) => (a.seq ?? Infinity) - (b.seq ?? Infinity);
  const kindOf = new Map(entries.map((e) => [e.seq, e.kind]));
  const named = [...replayProblems, ...tableProblems].map((p) => (p.seq !== null && p.kind === null ? { ...p, kind: kindOf.get(p.seq) ?? null } : p));
  const problems = [...chain.problems, ...named.sort(bySeq)];
  return { ...chain, ok: problems.length === 0, problems };
}

// Export ----------------------------------------------------------------------

export interface ExportedEntry {
  seq: number;
  at: number;
  /** ISO 8601 form of `at`, for people; not hashed. */
  time: string;
  kind: string;
  actor: string;
  model: string | null;
  version: number | null;
  payload: unknown;
  prevHash: string;
  hash: string;
}

export function toExported(e: AuditEntry): ExportedEntry {
  return { seq: e.seq, at: e.at, time: new Date(e.at).toISOString(), kind: e.kind, actor: e.actor, model: e.model, version: e.version, payload: JSON.parse(e.payload) as unknown, prevHash: e.prevHash, hash: e.hash };
}

export function toJsonLine(e: AuditEntry): string {
  return JSON.stringify(toExported(e));
}

export const CSV_COLUMNS = ['seq', 'time', 'at', 'kind', 'actor', 'model', 'version', 'payload', 'prev_hash', 'hash'] as const;

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; CRLF between records. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsvRow(e: AuditEntry): string {
  const cells = [String(e.seq), new Date(e.at).toISOString(), String(e.at), e.kind, e.actor, e.model ?? '', e.version === null ? '' : String(e.version), e.payload, e.prevHash, e.hash];
  return cells.map(csvField).join(',');
}

/** Reads a JSON Lines export back into entries (to verify a copy kept elsewhere). */
export function parseJsonLines(text: string, file: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let e: ExportedEntry;
    try {
      e = JSON.parse(line) as ExportedEntry;
    } catch {
      throw new SyntaxError(`${file}:${i + 1}: not a JSON line`);
    }
    if (typeof e.seq !== 'number' || typeof e.hash !== 'string' || typeof e.prevHash !== 'string') throw new SyntaxError(`${file}:${i + 1}: not an audit entry (seq, prevHash and hash expected)`);
    out.push({ seq: e.seq, at: e.at, kind: e.kind, actor: e.actor, model: e.model, version: e.version, payload: canonicalJson(e.payload), prevHash: e.prevHash, hash: e.hash });
  });
  return out;
}

/** Verifies a registry's log and its tables (what `runlens audit verify` and the agent run). */
export function verifyStore(registry: RegistryStore, options: { anchor?: string } = {}): VerifyResult {
  const tables: RegistryTables = {
    versions: registry.listVersions(),
    aliases: registry.listAliases(),
    decisions: registry.listDecisions(),
    smokeReports: registry.listSmokeReports(),
  };
  return verifyRegistry(registry.readAudit(), tables, options);
}
