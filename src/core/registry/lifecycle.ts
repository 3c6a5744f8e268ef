// Everything else that changes the registry after registration and approval:
// aliases (move, remove, roll back), archiving, and the pushed/deployed states
// the deployment work will set. Each is one store call that re-checks its
// preconditions inside the write transaction and appends its audit entry.
import { UserError } from '../errors';
import type { Actor } from './identity';
import { assertTransition, describeAliasRefusal, statesAllowedForAlias, validateAliasName, type VersionState } from './states';
import type { AliasRecord, AuditEntry, ModelVersion, RegistryStore } from './types';
import { refOf } from './versions';

interface ActOptions {
  actor: Actor;
  reason?: string;
  now?: () => number;
}

const identityOf = (a: Actor) => ({ name: a.name, email: a.email, source: a.source });
const reasonOf = (r: string | undefined) => r?.trim() || null;

/** Points ALIAS at a version (moving it if it points elsewhere). */
export function setAlias(registry: RegistryStore, version: ModelVersion, alias: string, options: ActOptions): { previous: AliasRecord | null; current: AliasRecord | null } {
  validateAliasName(alias);
  return registry.setAlias({
    name: version.name,
    alias,
    versionId: version.id,
    at: (options.now ?? Date.now)(),
    actor: options.actor.display,
    check: ({ previous, target }) => {
      if (!target) return;
      if (previous?.versionId === target.id) throw new UserError('bad-argument', `${alias} already points at ${refOf(target)}`);
      if (!statesAllowedForAlias(alias).includes(target.state)) throw new UserError('bad-argument', describeAliasRefusal(refOf(target), alias, target.state));
    },
    events: ({ previous, target }) => [
      {
        kind: 'alias',
        model: version.name,
        version: target!.version,
        payload: { alias, from: previous?.version ?? null, to: target!.version, reason: reasonOf(options.reason), identity: identityOf(options.actor) },
      },
    ],
  });
}

export function removeAlias(registry: RegistryStore, name: string, alias: string, options: ActOptions): { previous: AliasRecord | null } {
  validateAliasName(alias);
  const { previous } = registry.setAlias({
    name,
    alias,
    versionId: null,
    at: (options.now ?? Date.now)(),
    actor: options.actor.display,
    events: ({ previous }) => [
      { kind: 'alias', model: name, version: previous?.version ?? null, payload: { alias, from: previous?.version ?? null, to: null, reason: reasonOf(options.reason), identity: identityOf(options.actor) } },
    ],
  });
  return { previous };
}

/**
 * The versions an alias has pointed at, oldest first, as its audit entries
 * tell it: a move pushes a version, a rollback pops the current one, a removal
 * clears the history (there is nothing to roll back to after it).
 */
export function aliasHistory(entries: readonly AuditEntry[], name: string, alias: string): number[] {
  let stack: number[] = [];
  for (const e of entries) {
    if (e.model !== name || (e.kind !== 'alias' && e.kind !== 'rollback')) continue;
    const p = JSON.parse(e.payload) as { alias?: string; to?: number | null };
    if (p.alias !== alias) continue;
    if (e.kind === 'rollback') stack.pop();
    else if (typeof p.to === 'number') stack.push(p.to);
    else stack = [];
  }
  return stack;
}

/** Moves ALIAS back to the version it pointed at before its latest move. */
export function rollbackAlias(registry: RegistryStore, name: string, alias: string, options: ActOptions): { previous: AliasRecord | null; current: AliasRecord | null } {
  validateAliasName(alias);
  const history = aliasHistory(registry.readAudit(), name, alias);
  if (history.length < 2) throw new UserError('bad-argument', `${name}@${alias} has no earlier version to roll back to${history.length ? ` (it has only pointed at ${name}@${history[0]})` : ''}`);
  const targetNumber = history[history.length - 2];
  const target = registry.getVersion(name, targetNumber);
  if (!target) throw new UserError('not-found', `${name}@${targetNumber}, where ${alias} pointed before, is not in the registry`);
  const current = history[history.length - 1];
  return registry.setAlias({
    name,
    alias,
    versionId: target.id,
    at: (options.now ?? Date.now)(),
    actor: options.actor.display,
    check: ({ previous, target: t }) => {
      // Someone moved the alias since the history was read: roll back what they see, not what we saw.
      if (previous?.version !== current) throw new UserError('bad-argument', `${name}@${alias} moved while rolling back (now ${previous ? `${name}@${previous.version}` : 'unset'}); run the rollback again`);
      if (t && !statesAllowedForAlias(alias).includes(t.state)) throw new UserError('bad-argument', `cannot roll ${alias} back: ${describeAliasRefusal(refOf(t), alias, t.state)}`);
    },
    events: ({ previous, target: t }) => [
      { kind: 'rollback', model: name, version: t!.version, payload: { alias, from: previous?.version ?? null, to: t!.version, reason: reasonOf(options.reason), identity: identityOf(options.actor) } },
    ],
  });
}

function changeState(registry: RegistryStore, version: ModelVersion, to: VersionState, kind: 'archive' | 'push' | 'deploy', options: ActOptions & { details?: Record<string, unknown> }): ModelVersion {
  assertTransition(refOf(version), version.state, to);
  return registry.transition({
    versionId: version.id,
    to,
    at: (options.now ?? Date.now)(),
    actor: options.actor.display,
    check: (current) => {
      if (to === 'archived' && current.aliases.length) {
        throw new UserError('bad-argument', `${refOf(current)} is still ${current.aliases.join(', ')}; move or remove ${current.aliases.length === 1 ? 'that alias' : 'those aliases'} first`);
      }
    },
    events: ({ before }) => [
      { kind, model: before.name, version: before.version, payload: { versionId: before.id, from: before.state, to, reason: reasonOf(options.reason), ...(options.details ? { details: options.details } : {}), identity: identityOf(options.actor) } },
    ],
  }).version;
}

export function archiveVersion(registry: RegistryStore, version: ModelVersion, options: ActOptions): ModelVersion {
  return changeState(registry, version, 'archived', 'archive', options);
}

/** For the deployment work: records that an approved version was pushed (to a container registry...). */
export function markPushed(registry: RegistryStore, version: ModelVersion, options: ActOptions & { details: Record<string, unknown> }): ModelVersion {
  return changeState(registry, version, 'pushed', 'push', options);
}

/** For the deployment work: records that a pushed version was deployed. */
export function markDeployed(registry: RegistryStore, version: ModelVersion, options: ActOptions & { details: Record<string, unknown> }): ModelVersion {
  return changeState(registry, version, 'deployed', 'deploy', options);
}

/** The audit entries about one version: its own events, and alias moves to or from it. */
export function versionHistory(entries: readonly AuditEntry[], version: ModelVersion): AuditEntry[] {
  return entries.filter((e) => {
    if (e.model !== version.name) return false;
    if (e.kind === 'alias' || e.kind === 'rollback') {
      const p = JSON.parse(e.payload) as { from?: number | null; to?: number | null };
      return p.from === version.version || p.to === version.version;
    }
    return e.version === version.version;
  });
}
