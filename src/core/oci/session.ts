// Authenticated HTTP to one repository of one registry. A request goes out
// with what worked before; a 401 is answered once: its WWW-Authenticate
// challenge says Basic (send the credentials) or Bearer (get a token from the
// realm for this repository's scope, cached per scope), and the request is
// sent again. A second 401 means the credentials are wrong or too weak.
import { parseChallenges, type AuthChallenge } from './challenge';
import { credentialUser, type CredentialSource, type RegistryCredentials } from './credentials';
import { describeNetworkError, RegistryError } from './errors';
import { isLoopbackHost, registryBaseUrl, type OciReference } from './reference';

export type Access = 'pull' | 'push';

export interface SessionOptions {
  target: Pick<OciReference, 'registry' | 'apiHost' | 'repository'>;
  credentials: CredentialSource;
  plainHttp?: boolean;
  /** Limit for requests without a large body (pings, HEADs, manifests, tokens). */
  requestTimeoutMs?: number;
}

export interface RequestOptions {
  access: Access;
  headers?: Record<string, string>;
  /** Made afresh for each send, so a request can be repeated after a 401. */
  body?: () => Buffer | undefined;
  signal?: AbortSignal;
  /** null: no limit (blob bodies, which take as long as the network needs; the caller's signal still cancels). */
  timeoutMs?: number | null;
  /** What the request does, for messages: "upload of face.onnx". */
  what: string;
}

export class RegistrySession {
  readonly baseUrl: string;
  readonly registry: string;
  readonly repository: string;
  private readonly requestTimeoutMs: number;
  private credentials: RegistryCredentials | null | undefined;
  private basicHeader: string | null = null;
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: SessionOptions) {
    this.baseUrl = registryBaseUrl(options.target, options.plainHttp);
    this.registry = options.target.registry;
    this.repository = options.target.repository;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** "registry H, repository R": the start of every message about this session. */
  get where(): string {
    return `registry ${this.registry}, repository ${this.repository}`;
  }

  url(pathOrUrl: string): string {
    return new URL(pathOrUrl, this.baseUrl).toString();
  }

  async request(method: string, pathOrUrl: string, options: RequestOptions): Promise<Response> {
    const url = this.url(pathOrUrl);
    let authorization = this.authorizationFor(options.access);
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, url, authorization, options);
      if (res.status !== 401) return res;
      await discard(res);
      const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
      if (attempt > 0) throw await this.rejected(challenges);
      authorization = await this.authenticate(challenges, options);
    }
  }

  private authorizationFor(access: Access): string | null {
    return this.tokens.get(this.scope(access)) ?? this.basicHeader;
  }

  private scope(access: Access): string {
    return `repository:${this.repository}:${access === 'push' ? 'pull,push' : 'pull'}`;
  }

  private async loadCredentials(): Promise<RegistryCredentials | null> {
    if (this.credentials === undefined) this.credentials = await this.options.credentials.lookup(this.registry);
    return this.credentials;
  }

  private async authenticate(challenges: AuthChallenge[], options: RequestOptions): Promise<string> {
    const credentials = await this.loadCredentials();
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const scope = this.scope(options.access);
      const token = await this.fetchToken(bearer, scope, credentials, options.signal);
      this.tokens.set(scope, `Bearer ${token}`);
      return `Bearer ${token}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!credentials) throw this.needsCredentials();
      if (credentials.kind !== 'basic') throw new RegistryError('credentials', `${this.where}: the registry asks for a user name and password, but ${this.options.credentials.description} holds an identity token — log in with a password`);
      this.basicHeader = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      return this.basicHeader;
    }
    throw new RegistryError('protocol', `${this.where}: the registry answered 401 without a Basic or Bearer challenge (WWW-Authenticate: "${challenges.map((c) => c.scheme).join(', ') || 'none'}") — RunLens cannot log in to it`);
  }

  /** The token flow Docker Hub, GHCR and Harbor use: GET realm?service&scope (Basic if we have credentials), or POST a refresh token. */
  private async fetchToken(challenge: AuthChallenge, scope: string, credentials: RegistryCredentials | null, signal?: AbortSignal): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('protocol', `${this.where}: the registry's Bearer challenge names no realm (token server)`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new RegistryError('protocol', `${this.where}: the token realm "${realm}" is not a URL`);
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && (isLoopbackHost(realmUrl.host) || this.options.plainHttp))) {
      throw new RegistryError('protocol', `${this.where}: the token server ${realmUrl.origin} is not HTTPS; credentials are not sent there (pass --plain-http if that is intended)`);
    }
    const service = challenge.params.service;
    const wantedScope = challenge.params.scope || scope;
    const headers: Record<string, string> = {};
    let method = 'GET';
    let body: string | undefined;
    if (credentials?.kind === 'identity-token') {
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.token, client_id: 'runlens', ...(service ? { service } : {}), scope: wantedScope }).toString();
    } else {
      if (service) realmUrl.searchParams.set('service', service);
      realmUrl.searchParams.set('scope', wantedScope);
      if (credentials) headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await fetch(realmUrl, { method, headers, body, signal: withTimeout(signal, this.requestTimeoutMs) });
    } catch (e) {
      if (signal?.aborted) throw this.cancelled();
      const { text, hint } = describeNetworkError(e);
      throw new RegistryError('unreachable', `cannot reach the token server ${realmUrl.origin} of registry ${this.registry}: ${text} — ${hint}`);
    }
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw credentials ? this.badCredentials(res.status, credentials) : this.needsCredentials();
    }
    if (!res.ok) {
      await discard(res);
      throw new RegistryError('protocol', `the token server ${realmUrl.origin} of registry ${this.registry} answered ${res.status} for scope ${wantedScope} — try again later`);
    }
    const answer = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = answer.token || answer.access_token;
    if (!token) throw new RegistryError('protocol', `the token server ${realmUrl.origin} of registry ${this.registry} answered without a token`);
    return token;
  }

  private async rejected(challenges: AuthChallenge[]): Promise<RegistryError> {
    const credentials = await this.loadCredentials();
    const insufficient = challenges.find((c) => c.params.error === 'insufficient_scope');
    if (credentials && insufficient) {
      return new RegistryError('denied', `${this.where}: user ${credentialUser(credentials)} may not ${insufficient.params.scope?.includes('push') ? 'push to' : 'read'} this repository (401 insufficient_scope) — ask for access, or check the repository name`);
    }
    return credentials ? this.badCredentials(401, credentials) : this.needsCredentials();
  }

  private badCredentials(status: number, credentials: RegistryCredentials): RegistryError {
    return new RegistryError(
      'unauthorized',
      `registry ${this.registry} rejected the credentials for user ${credentialUser(credentials)} (${status}) on repository ${this.repository} — check the username/password or \`docker login ${this.registry}\``,
    );
  }

  private needsCredentials(): RegistryError {
    return new RegistryError('unauthorized', `registry ${this.registry} requires credentials for repository ${this.repository} (401) — pass --username USER --password-stdin, or run \`docker login ${this.registry}\``);
  }

  cancelled(): RegistryError {
    return new RegistryError('cancelled', `${this.where}: cancelled`);
  }

  private async send(method: string, url: string, authorization: string | null, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (authorization) headers.authorization = authorization;
    const timeoutMs = options.timeoutMs === undefined ? this.requestTimeoutMs : options.timeoutMs;
    const signal = timeoutMs === null ? options.signal : withTimeout(options.signal, timeoutMs);
    try {
      // A Buffer is a Uint8Array, which fetch sends as it is; the DOM typings only want ArrayBuffer-backed views.
      return await fetch(url, { method, headers, body: options.body?.() as BodyInit | undefined, signal, redirect: 'follow' });
    } catch (e) {
      if (options.signal?.aborted) throw this.cancelled();
      if (signal?.aborted) throw new RegistryError('unreachable', `registry ${this.registry} did not answer the ${options.what} within ${(timeoutMs ?? 0) / 1000} s (repository ${this.repository}) — is it overloaded or hung?`);
      const { text, hint } = describeNetworkError(e);
      if (text === 'connection refused' || text === 'host not found' || text.startsWith('TLS') || text === 'connection timed out') {
        throw new RegistryError('unreachable', `cannot reach registry ${this.registry}: ${text} — ${hint}`);
      }
      throw new RegistryError('interrupted', `the connection to registry ${this.registry} broke during the ${options.what} (repository ${this.repository}): ${text}`);
    }
  }
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** Reads and drops a body so the connection can be reused. */
export async function discard(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

/** The registry's own words for a failed request (`{"errors":[{"code","message"}]}`), short. */
export async function registryErrorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    if (first) return `${first.code ?? 'error'}: ${first.message ?? ''}`.trim();
  } catch {
    // Not the registry's JSON: fall through to the raw text.
  }
  return text.trim().slice(0, 200) || res.statusText;
}
