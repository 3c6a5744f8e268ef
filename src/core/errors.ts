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

export class UserError extends Error {
  constructor(
    readonly code: UserErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
