// What lets a version leave the editor (push to a container registry, deploy
// on a Docker engine) and how each attempt is audited. Only approved versions
// go, and only while the registered file still has the bytes that were
// approved: everything that leaves is pinned by the registered sha256.
import { UserError } from '../errors';
import { hashFile } from './fingerprint';
import type { Actor } from './identity';
import { APPROVED_STATES, canTransition, EVENT_FOR_STATE, type VersionState } from './states';
import type { AuditDraft, ModelVersion, RegistryStore } from './types';
import { refOf } from './versions';

export type ReleaseAction =
  /** Uploaded as an OCI artifact to a registry. */
  | 'push'
  /** Started as a serving container (health and golden checks passed or failed). */
  | 'deploy'
  /** A deployment replaced by the one before it. */
  | 'rollback'
  /** A deployment's container stopped and removed. */
  | 'undeploy'
  /** A candidate started beside production with a traffic split. */
  | 'gray-start'
  /** The candidate of a gray release became production. */
  | 'promote'
  /** The candidate of a gray release removed, production kept. */
  | 'gray-abort';

export const RELEASE_ACTIONS: readonly ReleaseAction[] = ['push', 'deploy', 'rollback', 'undeploy', 'gray-start', 'promote', 'gray-abort'];

export interface ReleaseRecord {
  action: ReleaseAction;
  outcome: 'succeeded' | 'failed' | 'refused';
  /** Where it went: `registry/repo:tag`, or the engine and container. */
  target: string;
  /** The artifact manifest digest or the image id, when there is one. */
  digest?: string | null;
  /** The error text shown to the user, for a failed or refused action. */
  error?: string | null;
  /** Anything else worth keeping (ports, container ids, checks); plain JSON. */
  details?: Record<string, unknown>;
}

/** A succeeded push/deploy moves an approved version into this state the first time. */
const STATE_AFTER: Partial<Record<ReleaseAction, VersionState>> = { push: 'pushed', deploy: 'deployed', promote: 'deployed' };

/**
 * Refuses versions that did not pass the approval gate, naming the rule that
 * failed and what would make it pass.
 */
export function assertReleasable(version: ModelVersion, action: 'push' | 'deploy'): void {
  if (APPROVED_STATES.includes(version.state)) return;
  const ref = refOf(version);
  const verb = action === 'push' ? 'pushed' : 'deployed';
  const fix =
    version.state === 'pending'
      ? `approve it first (runlens model approve ${ref} --reason "...")`
      : version.state === 'rejected'
        ? 'a rejected version never leaves; register and approve a new version'
        : 'an archived version never leaves; register and approve a new version';
  throw new UserError('bad-argument', `${ref} cannot be ${verb}: rule "approved versions only" failed: it is ${version.state}; ${fix}`);
}

/**
 * Refuses when the registered file is gone or its bytes are not the ones that
 * were registered and approved (someone retrained into the same path).
 */
export async function assertFileMatchesRegistration(version: ModelVersion): Promise<void> {
  const ref = refOf(version);
  let digest: { sha256: string; size: number };
  try {
    digest = await hashFile(version.filePath);
  } catch (e) {
    throw new UserError('not-found', `${ref} cannot leave: rule "file as approved" failed: ${version.filePath} cannot be read (${(e as Error).message})`);
  }
  if (digest.sha256 !== version.sha256) {
    throw new UserError(
      'bad-argument',
      `${ref} cannot leave: rule "file as approved" failed: ${version.filePath} changed since it was registered (sha256 ${digest.sha256.slice(0, 12)}…, registered ${version.sha256.slice(0, 12)}…); register the new file as a new version and approve it`,
    );
  }
}

function releaseEvent(version: ModelVersion, record: ReleaseRecord, actor: Actor): AuditDraft {
  return {
    kind: 'release',
    model: version.name,
    version: version.version,
    payload: {
      versionId: version.id,
      action: record.action,
      outcome: record.outcome,
      target: record.target,
      digest: record.digest ?? null,
      error: record.error ?? null,
      ...(record.details ? { details: record.details } : {}),
      identity: { name: actor.name, email: actor.email, source: actor.source },
    },
  };
}

/**
 * Appends the release entry; a succeeded push or deploy of a version that is
 * not yet in that state also moves it there (same transaction, the state
 * event first). Returns the version as stored afterwards.
 */
export function recordRelease(registry: RegistryStore, version: ModelVersion, record: ReleaseRecord, options: { actor: Actor; now?: () => number }): ModelVersion {
  const at = (options.now ?? Date.now)();
  const next = record.outcome === 'succeeded' ? STATE_AFTER[record.action] : undefined;
  if (next && canTransition(version.state, next)) {
    try {
      return registry.transition({
        versionId: version.id,
        to: next,
        at,
        actor: options.actor.display,
        events: ({ before }) => [
          {
            kind: EVENT_FOR_STATE[next],
            model: before.name,
            version: before.version,
            payload: { versionId: before.id, from: before.state, to: next, reason: null, details: { target: record.target, digest: record.digest ?? null }, identity: { name: options.actor.name, email: options.actor.email, source: options.actor.source } },
          },
          releaseEvent(before, record, options.actor),
        ],
      }).version;
    } catch (e) {
      // Another process moved it meanwhile (e.g. pushed from a terminal): fall through and only record the release.
      const now = registry.getVersionById(version.id);
      if (!now || now.state === version.state) throw e;
      version = now;
    }
  }
  registry.recordEvents({ at, actor: options.actor.display, events: [releaseEvent(version, record, options.actor)] });
  return registry.getVersionById(version.id) ?? version;
}
