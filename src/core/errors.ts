// Errors the user can act on. Anything else reaching the top is a bug
// (the CLI exits 2 for those, 1 for these).

export type UserErrorCode =
  | 'database-corrupt'
  | 'database-locked'
  | 'database-newer'
  | 'database-in-use'
  | 'storage-unwritable'
  | 'native-module-mismatch'
  | 'not-found'
  | 'bad-argument';

/**
 * Marks a UserError by a symbol from the global registry rather than by its class: the agent is two
 * bundles (dist/agent.js requires dist/agentHeavy.js), each with its own copy of this class, and an
 * error thrown by a command in one is told apart by the CLI in the other.
 */
const USER_ERROR = Symbol.for('runlens.UserError');

export class UserError extends Error {
  readonly [USER_ERROR] = true;

  constructor(
    readonly code: UserErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && (e as { [USER_ERROR]?: unknown })[USER_ERROR] === true;
}

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
