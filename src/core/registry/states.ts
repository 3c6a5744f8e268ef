// A model version's life, written once: which state may follow which, which
// audit event each change is, and which states an alias may point at. Every
// state change in the product goes through `assertTransition` (and the store
// re-checks the state inside its write transaction).
import { UserError } from '../errors';

export const VERSION_STATES = ['pending', 'approved', 'rejected', 'pushed', 'deployed', 'archived'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

/**
 * The transition table. Archiving is allowed from every live state; archived is final.
 * An approved version may be deployed without a push (the serving image is built on the
 * user's own engine from the registered file); pushes and deployments after the first
 * are audited as releases without changing the state (lifecycle.ts).
 */
export const TRANSITIONS: { readonly [S in VersionState]: readonly VersionState[] } = {
  pending: ['approved', 'rejected', 'archived'],
  approved: ['pushed', 'deployed', 'archived'],
  rejected: ['archived'],
  pushed: ['deployed', 'archived'],
  deployed: ['archived'],
  archived: [],
};

/** The audit event that records a version entering a state (registration enters 'pending'). */
export const EVENT_FOR_STATE = {
  pending: 'register',
  approved: 'approve',
  rejected: 'reject',
  pushed: 'push',
  deployed: 'deploy',
  archived: 'archive',
} as const satisfies { [S in VersionState]: string };

export type StateEventKind = (typeof EVENT_FOR_STATE)[VersionState];

export function stateEnteredBy(kind: string): VersionState | undefined {
  return (Object.keys(EVENT_FOR_STATE) as VersionState[]).find((s) => EVENT_FOR_STATE[s] === kind);
}

export function isVersionState(s: string): s is VersionState {
  return (VERSION_STATES as readonly string[]).includes(s);
}

export function canTransition(from: VersionState, to: VersionState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States from which `to` can be reached in one step (what the store re-checks). */
export function statesLeadingTo(to: VersionState): VersionState[] {
  return VERSION_STATES.filter((s) => TRANSITIONS[s].includes(to));
}

export class IllegalTransitionError extends UserError {
  constructor(
    readonly ref: string,
    readonly current: VersionState,
    readonly requested: VersionState,
  ) {
    super('bad-argument', describeIllegalTransition(ref, current, requested));
    this.name = 'IllegalTransitionError';
  }
}

export function describeIllegalTransition(ref: string, current: VersionState, requested: VersionState): string {
  const next = TRANSITIONS[current];
  const allowed = next.length ? `from ${current} it can only become ${next.join(' or ')}` : `${current} is final: no further state changes`;
  if (current === requested) return `${ref} is already ${current}; ${allowed}`;
  return `${ref} is ${current} and cannot become ${requested}: ${allowed}`;
}

export function assertTransition(ref: string, current: VersionState, requested: VersionState): void {
  if (!canTransition(current, requested)) throw new IllegalTransitionError(ref, current, requested);
}

// Aliases -------------------------------------------------------------------

/** Versions that passed the approval gate. */
export const APPROVED_STATES: readonly VersionState[] = ['approved', 'pushed', 'deployed'];
/** A version any alias may point at: not rejected, not archived. */
export const LIVE_STATES: readonly VersionState[] = ['pending', 'approved', 'pushed', 'deployed'];

/** Aliases that stand for "what we ship": they may only point at approved versions. */
export const GATED_ALIASES: readonly string[] = ['production', 'staging'];

export function statesAllowedForAlias(alias: string): readonly VersionState[] {
  return GATED_ALIASES.includes(alias) ? APPROVED_STATES : LIVE_STATES;
}

export function describeAliasRefusal(ref: string, alias: string, state: VersionState): string {
  const allowed = statesAllowedForAlias(alias);
  const why = GATED_ALIASES.includes(alias) ? `${alias} may only point at an approved version (${allowed.join(', ')})` : `an alias may not point at a ${state} version`;
  return `cannot point ${alias} at ${ref}: it is ${state}; ${why}`;
}

/**
 * Alias names: lower-case words. Not a number or `vN` (they would read as a
 * version in NAME@REF) and not `latest` (it means the newest version).
 */
export function validateAliasName(alias: string): void {
  if (!/^[a-z][a-z0-9_-]{0,63}$/.test(alias) || /^v\d+$/.test(alias) || alias === 'latest') {
    throw new UserError('bad-argument', `"${alias}" is not a usable alias: use a lower-case word (letters, digits, - and _, starting with a letter), not "latest" or vN`);
  }
}

/** Model names: what people type after `--name`; `@` separates the version in references. */
export function validateModelName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/]{0,127}$/.test(name)) {
    throw new UserError('bad-argument', `"${name}" is not a usable model name: use letters, digits, ".", "_", "-" and "/" (no "@" or spaces), starting with a letter or digit`);
  }
}
