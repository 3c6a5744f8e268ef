// A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution
// 2.8) started with `serve CONFIG` on 127.0.0.1 and a free port, filesystem
// storage in a temp dir, in one of three auth setups — anonymous, Basic
// (bcrypt htpasswd) or token (a token server of the test's own that signs
// RS256 JWTs with an x5c header for a throwaway key and certificate). Stopped
// by PID; its temp dir is removed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';

export type RegistryAuth =
  | { kind: 'anonymous' }
  | { kind: 'basic'; users: Record<string, string> }
  /** Users log in with a password; `identityTokens` maps refresh tokens (Docker's identitytoken) to users. */
  | { kind: 'token'; users: Record<string, string>; identityTokens?: Record<string, string> };

export interface TestRegistry {
  /** host:port */
  host: string;
  port: number;
  pid: number;
  /** Where it keeps blobs and manifests. */
  dataDir: string;
  /** Token requests the token server answered (scope, user), for tests that check the flow ran. */
  tokenRequests: { scope: string | null; user: string | null; granted: boolean }[];
  /** GET a path with full access (bypasses nothing: it authenticates like any client). */
  get(pathname: string, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls a URL until anything answers; every attempt has its own timeout (a fetch to a port nobody accepts on yet can hang). */
export async function waitForHttp(url: string, options: { attempts?: number; attemptTimeoutMs?: number; pauseMs?: number; alive?: () => string | null } = {}): Promise<void> {
  const attempts = options.attempts ?? 100;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    const dead = options.alive?.();
    if (dead) throw new Error(`${url} will never answer: ${dead}`);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.attemptTimeoutMs ?? 1000);
    try {
      const res = await fetch(url, { signal: abort.signal });
      await res.arrayBuffer();
      return;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, options.pauseMs ?? 100));
  }
  throw new Error(`${url} did not answer after ${attempts} attempts (last: ${last})`);
}

export async function startRegistry(auth: RegistryAuth = { kind: 'anonymous' }): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-oci-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dataDir = path.join(dir, 'data');
  const tokenRequests: TestRegistry['tokenRequests'] = [];
  let tokenServer: http.Server | null = null;
  let clientAuth: (pathname: string) => Record<string, string> = () => ({});

  let authSection = '';
  if (auth.kind === 'basic') {
    const htpasswd = path.join(dir, 'htpasswd');
    // distribution's htpasswd accepts bcrypt only.
    fs.writeFileSync(htpasswd, Object.entries(auth.users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 5)}`).join('\n') + '\n');
    authSection = `auth:\n  htpasswd:\n    realm: runlens-test\n    path: ${htpasswd}\n`;
    const [user, password] = Object.entries(auth.users)[0];
    clientAuth = () => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  } else if (auth.kind === 'token') {
    const token = await startTokenServer(dir, auth, host, tokenRequests);
    tokenServer = token.server;
    authSection = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    rootcertbundle: ${token.certFile}\n`;
    // The registry matches a token's access by exact repository name, so the test's own reads get a token for the repository they read.
    clientAuth = (pathname) => {
      const repo = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(pathname)?.[1];
      return { authorization: `Bearer ${token.sign('runlens-test-admin', repo ? `repository:${repo}:pull` : null)}` };
    };
  }
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dataDir}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n  secret: ${crypto.randomBytes(16).toString('hex')}\n${authSection}`,
  );

  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited: string | null = null;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  child.on('exit', (code, signal) => (exited = `docker-registry exited (${signal ?? code}): ${stderr.trim().slice(-1000)}`));
  child.on('error', (e) => (exited = `docker-registry could not start (${e.message}); run scripts/setup-deploy-host.sh`));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    if (tokenServer) await new Promise((r) => tokenServer!.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`http://${host}/v2/`, { alive: () => exited });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host,
    port,
    pid: child.pid!,
    dataDir,
    tokenRequests,
    get: (pathname, headers = {}) => fetch(`http://${host}${pathname}`, { headers: { ...clientAuth(pathname), ...headers }, signal: AbortSignal.timeout(10_000) }),
    stop,
  };
}

/** A token server as Docker Hub's: GET /token?service&scope with Basic, or POST a refresh token; answers signed JWTs. */
async function startTokenServer(dir: string, auth: Extract<RegistryAuth, { kind: 'token' }>, registryHost: string, log: TestRegistry['tokenRequests']) {
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=runlens-test-token-issuer'], { stdio: 'ignore' });
  const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const certDer = new crypto.X509Certificate(fs.readFileSync(certFile)).raw.toString('base64');
  const service = `runlens-test-registry-${registryHost}`;
  const issuer = 'runlens-test-issuer';
  const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

  const sign = (subject: string, scope: string | null): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = parseScope(scope);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access }));
    const signature = crypto.sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), key);
    return `${header}.${claims}.${b64url(signature)}`;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      let user: string | null = null;
      let scope = url.searchParams.get('scope');
      if (req.method === 'POST') {
        const form = new URLSearchParams(body);
        scope = form.get('scope');
        user = form.get('grant_type') === 'refresh_token' ? (auth.identityTokens?.[form.get('refresh_token') ?? ''] ?? null) : null;
      } else {
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
        if (basic) {
          const [u, ...p] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
          if (auth.users[u] === p.join(':')) user = u;
        }
      }
      log.push({ scope, user, granted: user !== null });
      if (!user) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
        return;
      }
      const token = sign(user, scope);
      // Some servers say token, others access_token (OAuth2); answer with the OAuth2 name for refresh-token grants.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 }));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile, sign };
}

function parseScope(scope: string | null): { type: string; name: string; actions: string[] }[] {
  if (!scope) return [];
  return scope.split(' ').map((s) => {
    const [type, ...rest] = s.split(':');
    const actions = rest.pop() ?? '';
    return { type, name: rest.join(':'), actions: actions.split(',') };
  });
}
