// Credentials from the user's Docker config, as `docker login` left them:
// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, with `auths`
// (base64 `user:password` or an `identitytoken`), a default `credsStore`, and
// per-registry `credHelpers`, which are programs `docker-credential-NAME`
// that answer `get` with JSON on stdout for the server named on stdin.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CredentialSource, RegistryCredentials } from './credentials';
import { RegistryError } from './errors';

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

export function dockerConfigCredentials(options: { file?: string; env?: NodeJS.ProcessEnv; helperTimeoutMs?: number } = {}): CredentialSource {
  const env = options.env ?? process.env;
  const file = options.file ?? defaultDockerConfigPath(env);
  return {
    description: `docker config ${file}`,
    async lookup(registry) {
      const config = readConfig(file);
      if (!config) return null;
      const helper = config.credHelpers?.[registry] ?? config.credHelpers?.[dockerHubKey(registry) ?? ''];
      if (helper) return runCredentialHelper(helper, registry, { file, env, timeoutMs: options.helperTimeoutMs ?? 30_000 });
      const entry = findAuthEntry(config, registry);
      if (entry) {
        const found = decodeAuthEntry(entry, registry, file);
        if (found) return found;
      }
      if (config.credsStore) return runCredentialHelper(config.credsStore, dockerHubKey(registry) ?? registry, { file, env, timeoutMs: options.helperTimeoutMs ?? 30_000 });
      return null;
    },
  };
}

function readConfig(file: string): DockerConfigFile | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RegistryError('credentials', `cannot read docker config ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (e) {
    throw new RegistryError('credentials', `docker config ${file} is not valid JSON (${(e as Error).message}) — fix it or run docker login again`);
  }
}

/** Docker keeps Docker Hub's credentials under its v1 index URL. */
function dockerHubKey(registry: string): string | null {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : null;
}

/** `auths` keys are written as `host:port`, `https://host:port` or `https://host/v1/`; compare hosts. */
function findAuthEntry(config: DockerConfigFile, registry: string): NonNullable<DockerConfigFile['auths']>[string] | null {
  const auths = config.auths ?? {};
  const wanted = dockerHubKey(registry) ? 'index.docker.io' : registry;
  for (const [key, entry] of Object.entries(auths)) {
    const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
    if (host === wanted) return entry;
  }
  return null;
}

function decodeAuthEntry(entry: NonNullable<DockerConfigFile['auths']>[string], registry: string, file: string): RegistryCredentials | null {
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new RegistryError('credentials', `docker config ${file}: the auth entry for ${registry} is not base64 of user:password — run docker login ${registry} again`);
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { kind: 'basic', username: entry.username, password: entry.password };
  return null;
}

/** Runs `docker-credential-NAME get`; "not found" is no credentials, anything else an error naming the helper. */
function runCredentialHelper(name: string, server: string, options: { file: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RegistryCredentials | null> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new RegistryError('credentials', `credential helper ${program} (from docker config ${options.file}) did not answer within ${options.timeoutMs / 1000} s for ${server}`));
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new RegistryError(
          'credentials',
          e.code === 'ENOENT'
            ? `docker config ${options.file} names the credential helper "${name}", but ${program} is not on PATH — install it, or remove it from the config and run docker login ${server}`
            : `credential helper ${program} could not start: ${e.message}`,
        ),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      // The helper protocol's answer when it holds nothing for the server. Only stderr ever reaches a message: stdout may hold the secret.
      const notFound = /credentials not found/i.test(stdout + stderr);
      if (code !== 0) {
        if (notFound) resolve(null);
        else reject(new RegistryError('credentials', `credential helper ${program} failed for ${server} (exit ${code}): ${stderr.trim().slice(0, 300) || 'no message on stderr'}`));
        return;
      }
      try {
        const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!answer.Secret) return resolve(null);
        // Docker's convention: the user name "<token>" marks an identity token.
        resolve(answer.Username === '<token>' ? { kind: 'identity-token', token: answer.Secret } : { kind: 'basic', username: answer.Username ?? '', password: answer.Secret });
      } catch {
        reject(new RegistryError('credentials', `credential helper ${program} answered something that is not JSON for ${server}`));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(server);
  });
}
