// Errors from talking to a registry. Each names the registry and repository
// and says what to do; none carries a password or token (only a user name).
import { UserError } from '../errors';

export type RegistryFailure =
  | 'unreachable'
  | 'unauthorized'
  | 'denied'
  | 'not-found'
  | 'digest-mismatch'
  | 'interrupted'
  | 'cancelled'
  | 'credentials'
  | 'protocol';

export class RegistryError extends UserError {
  constructor(
    readonly failure: RegistryFailure,
    message: string,
  ) {
    super(failure === 'not-found' ? 'not-found' : 'bad-argument', message);
    this.name = 'RegistryError';
  }
}

export function isRegistryError(e: unknown, failure?: RegistryFailure): e is RegistryError {
  return e instanceof RegistryError && (failure === undefined || e.failure === failure);
}

/** What a failed `fetch` (no HTTP answer at all) means, in words. */
export function describeNetworkError(e: unknown): { text: string; hint: string } {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return { text: 'connection refused', hint: 'is it running?' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { text: 'host not found', hint: 'check the registry name' };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { text: 'connection timed out', hint: 'check the address and your network' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { text: 'the connection was closed mid-request', hint: 'try again' };
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return { text: 'TLS handshake failed', hint: 'if the registry serves plain HTTP, pass --plain-http' };
    default:
      if (code?.startsWith('ERR_TLS') || code?.includes('CERT')) return { text: `TLS certificate problem (${code})`, hint: 'check the registry certificate' };
      return { text: cause?.message ?? (e as Error).message ?? String(e), hint: 'check the address and that the registry is running' };
  }
}
