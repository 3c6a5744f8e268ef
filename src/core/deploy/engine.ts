// The Docker engine a deployment goes to: found from --docker-host, else
// DOCKER_HOST, else the default socket; every failure to reach it says where
// it looked and what to do.
import Docker from 'dockerode';
import { UserError } from '../errors';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface Engine {
  docker: Docker;
  /** Where it is, for messages and audit targets (e.g. unix:///var/run/docker.sock). */
  address: string;
}

/** unix:///path, /path, tcp://host:port or http://host:port. */
export function connectEngine(dockerHost: string | undefined = process.env.DOCKER_HOST): Engine {
  const address = dockerHost && dockerHost.trim() ? dockerHost.trim() : `unix://${DEFAULT_DOCKER_SOCKET}`;
  if (address.startsWith('unix://')) return { docker: new Docker({ socketPath: address.slice('unix://'.length) }), address };
  if (address.startsWith('/')) return { docker: new Docker({ socketPath: address }), address: `unix://${address}` };
  const m = /^(tcp|http|https):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(address);
  if (!m) throw new UserError('bad-argument', `docker host "${address}" is not understood: use unix:///path/to/docker.sock or tcp://HOST:PORT`);
  return { docker: new Docker({ protocol: m[1] === 'https' ? 'https' : 'http', host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) }), address };
}

/** Rejects after `ms` with `what` named, and aborts the operation through the signal it was given. */
export async function withTimeout<T>(what: string, ms: number, run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'));
      reject(new Error(`${what} did not answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([run(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

export async function pingEngine(engine: Engine, timeoutMs = 5000): Promise<void> {
  try {
    await withTimeout(`the Docker engine at ${engine.address}`, timeoutMs, (signal) => engine.docker.ping({ abortSignal: signal } as never) as unknown as Promise<unknown>);
  } catch (e) {
    throw new UserError('not-found', `cannot reach the Docker engine at ${engine.address}: ${describeDockerError(e)}; start Docker, or point --docker-host (or DOCKER_HOST) at a running engine`);
  }
}

/** Docker API errors carry the engine's own message in `json.message`; socket errors a code. */
export function describeDockerError(e: unknown): string {
  const err = e as { json?: { message?: string }; reason?: string; code?: string; message?: string; statusCode?: number };
  if (err?.json?.message) return err.json.message;
  if (err?.code === 'ECONNREFUSED' || err?.code === 'ENOENT') return `${err.code} (nothing listens there)`;
  if (err?.code === 'EACCES') return 'EACCES (no permission on the socket: add yourself to the docker group, or use a rootless engine)';
  return err?.message ?? String(e);
}

/** The engine's "no space left on device" in any of its wordings. */
export function isDiskFull(text: string): boolean {
  return /no space left on device|ENOSPC|disk quota exceeded/i.test(text);
}
