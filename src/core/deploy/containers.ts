// Serving containers on an engine: create/start with RunLens' labels and
// limits, wait until healthy (noticing a container that exits), read logs,
// and find a deployment's containers again from their labels.
import type Docker from 'dockerode';
import { UserError } from '../errors';
import { describeDockerError, isDiskFull, type Engine } from './engine';
import { waitForHttpOk } from './http';
import { CONTAINER_PORT } from './image';
import { LABELS, type DeploymentRole } from './labels';

export type NetworkMode = 'bridge' | 'host';

export const DEFAULT_PORT = 8080;
export const DEFAULT_BIND_ADDRESS = '127.0.0.1';
export const DEFAULT_MEMORY = '1g';
export const DEFAULT_CPUS = 1;
export const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;
/** Log lines quoted in an error about a container that failed. */
const LOG_LINES_IN_ERRORS = 15;

export interface ContainerLimits {
  /** Bytes, or Docker's notation: 512m, 1g. */
  memory?: string | number;
  cpus?: number;
}

export interface NetworkSettings {
  /**
   * 'bridge' (default): the server listens on CONTAINER_PORT inside and is
   * published on bindAddress:port. 'host': the container shares the host's
   * network and the server itself listens on bindAddress:port (no Docker
   * bridge and no NAT: what engines started with --bridge=none need).
   */
  network?: NetworkMode;
  bindAddress?: string;
}

/** One RunLens container as listed from the engine. */
export interface ManagedContainer {
  id: string;
  name: string;
  image: string;
  deployment: string;
  role: DeploymentRole;
  model: string;
  version: number;
  sha256: string;
  port: number;
  host: string;
  network: NetworkMode;
  createdAt: number;
  /** Docker's state: running, exited, created, … */
  state: string;
  /** Docker's words, e.g. "Up 3 minutes", "Exited (2) 5 seconds ago". */
  status: string;
  labels: Record<string, string>;
}

export function parseMemory(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!m) throw new UserError('bad-argument', `--memory ${value}: use bytes or a number with k, m or g (e.g. 512m, 1g)`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = Math.round(Number(m[1]) * scale);
  // Docker refuses less than 6 MiB; a Node server with a model needs far more.
  if (bytes < 64 * 1024 ** 2) throw new UserError('bad-argument', `--memory ${value} is too small for a Node server with a model: give at least 64m`);
  return bytes;
}

export function parseCpus(value: number): number {
  if (!(value > 0) || value > 1024) throw new UserError('bad-argument', `--cpus ${value}: give a positive number of CPUs, e.g. 1 or 0.5`);
  return Math.round(value * 1e9);
}

function managedFrom(info: Docker.ContainerInfo): ManagedContainer {
  const l = info.Labels ?? {};
  return {
    id: info.Id,
    name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''),
    image: info.Image,
    deployment: l[LABELS.deployment] ?? '',
    role: (l[LABELS.role] ?? 'serving') as DeploymentRole,
    model: l[LABELS.modelName] ?? '',
    version: Number(l[LABELS.modelVersion] ?? 0),
    sha256: l[LABELS.modelSha256] ?? '',
    port: Number(l[LABELS.port] ?? 0),
    host: l.host ?? l['io.runlens.host'] ?? DEFAULT_BIND_ADDRESS,
    network: (l[LABELS.network] ?? 'bridge') as NetworkMode,
    createdAt: Number(l[LABELS.createdAt] ?? 0),
    state: info.State,
    status: info.Status,
    labels: l,
  };
}

/** Every RunLens container on the engine (optionally of one deployment), newest first. */
export async function listManagedContainers(engine: Engine, deployment?: string): Promise<ManagedContainer[]> {
  const label = [`${LABELS.managed}=true`, ...(deployment ? [`${LABELS.deployment}=${deployment}`] : [])];
  let infos: Docker.ContainerInfo[];
  try {
    infos = await engine.docker.listContainers({ all: true, filters: { label } });
  } catch (e) {
    throw new UserError('not-found', `cannot list containers on the Docker engine at ${engine.address}: ${describeDockerError(e)}`);
  }
  return infos.map(managedFrom).sort((a, b) => b.createdAt - a.createdAt);
}

export interface CreateServingContainer {
  image: string;
  deployment: string;
  role: DeploymentRole;
  model: { name: string; version: number; sha256: string };
  port: number;
  limits: ContainerLimits;
  network: NetworkSettings;
  /** Overrides the image's command (the router runs /app/router.js from a serving image). */
  cmd?: string[];
  env?: string[];
  extraLabels?: Record<string, string>;
}

export function urlOf(c: Pick<ManagedContainer, 'host' | 'port'>): string {
  const host = c.host === '0.0.0.0' ? '127.0.0.1' : c.host.includes(':') ? `[${c.host}]` : c.host;
  return `http://${host}:${c.port}`;
}

export async function createAndStart(engine: Engine, spec: CreateServingContainer): Promise<Docker.Container> {
  const network = spec.network.network ?? 'bridge';
  const host = spec.network.bindAddress ?? DEFAULT_BIND_ADDRESS;
  const createdAt = Date.now();
  const labels: Record<string, string> = {
    [LABELS.managed]: 'true',
    [LABELS.deployment]: spec.deployment,
    [LABELS.role]: spec.role,
    [LABELS.modelName]: spec.model.name,
    [LABELS.modelVersion]: String(spec.model.version),
    [LABELS.modelSha256]: spec.model.sha256,
    [LABELS.port]: String(spec.port),
    [LABELS.network]: network,
    [LABELS.createdAt]: String(createdAt),
    'io.runlens.host': host,
    ...spec.extraLabels,
  };
  const safe = spec.deployment.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  const name = `runlens-${safe}-${spec.role}-v${spec.model.version}-${createdAt.toString(36)}`;
  const env = [...(spec.env ?? []), ...(network === 'host' ? [`HOST=${host}`, `PORT=${spec.port}`] : [`HOST=0.0.0.0`, `PORT=${CONTAINER_PORT}`])];
  let container: Docker.Container | undefined;
  try {
    container = await engine.docker.createContainer({
      name,
      Image: spec.image,
      Labels: labels,
      Env: env,
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(network === 'bridge' ? { ExposedPorts: { [`${CONTAINER_PORT}/tcp`]: {} } } : {}),
      HostConfig: {
        // Without an init, node as PID 1 ignores SIGTERM and every stop waits for the kill timeout.
        Init: true,
        Memory: parseMemory(spec.limits.memory ?? DEFAULT_MEMORY),
        NanoCpus: parseCpus(spec.limits.cpus ?? DEFAULT_CPUS),
        NetworkMode: network,
        ...(network === 'bridge' ? { PortBindings: { [`${CONTAINER_PORT}/tcp`]: [{ HostIp: host, HostPort: String(spec.port) }] } } : {}),
        // No automatic restart while the checks run: a crashing server must show as exited, not loop.
        RestartPolicy: { Name: 'no' },
      },
    });
    await container.start();
    return container;
  } catch (e) {
    const why = describeDockerError(e);
    if (container) await container.remove({ force: true }).catch(() => undefined);
    if (/address already in use|port is already allocated/i.test(why)) {
      throw new UserError('bad-argument', `port ${spec.port} on ${host} is already in use (${why}); choose another with --port, or stop what listens there`);
    }
    if (isDiskFull(why)) throw new UserError('storage-unwritable', `the Docker engine at ${engine.address} has no space left to create the container (${why}); free space (docker system prune) and retry`);
    throw new UserError('bad-argument', `cannot start a container from ${spec.image} on ${engine.address}: ${why}`);
  }
}

/** The last lines a container wrote (stdout and stderr, in order). */
export async function lastLogLines(engine: Engine, id: string, lines = LOG_LINES_IN_ERRORS): Promise<string[]> {
  try {
    const raw = (await engine.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    // onnxruntime colours its warnings: strip the terminal escapes, error messages are read in editors and logs.
    return demuxFrames(raw).map((f) => f.text).join('').replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim());
  } catch {
    return [];
  }
}

/** Docker's multiplexed log format: 8-byte headers (stream, 3 zero bytes, big-endian length), then the payload. */
export function demuxFrames(raw: Buffer): { stream: 'stdout' | 'stderr'; text: string }[] {
  const frames: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  let offset = 0;
  // A TTY container's logs are not multiplexed: take them as they are.
  if (raw.length >= 8 && !(raw[0] <= 2 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0)) return [{ stream: 'stdout', text: raw.toString('utf8') }];
  while (offset + 8 <= raw.length) {
    const length = raw.readUInt32BE(offset + 4);
    frames.push({ stream: raw[offset] === 2 ? 'stderr' : 'stdout', text: raw.subarray(offset + 8, offset + 8 + length).toString('utf8') });
    offset += 8 + length;
  }
  return frames;
}

/**
 * Waits for /healthz to answer 200, checking between attempts that the
 * container still runs; a container that exited is reported with its exit
 * code and its last log lines.
 */
export async function waitHealthy(engine: Engine, container: Docker.Container, url: string, timeoutMs: number, signal?: AbortSignal): Promise<{ attempts: number; ms: number }> {
  const check = async () => {
    const info = await container.inspect();
    if (!info.State.Running) {
      const logs = await lastLogLines(engine, container.id);
      throw new ContainerExitedError(container.id, info.State.ExitCode, info.State.OOMKilled, logs);
    }
  };
  try {
    return await waitForHttpOk(`${url}/healthz`, { timeoutMs, attemptMs: 2000, intervalMs: 150, signal, check });
  } catch (e) {
    if (e instanceof ContainerExitedError) throw e;
    const logs = await lastLogLines(engine, container.id);
    throw new UserError('bad-argument', `the server did not become healthy: ${(e as Error).message}${logs.length ? `\nlast log lines:\n  ${logs.join('\n  ')}` : ''}`);
  }
}

export class ContainerExitedError extends UserError {
  constructor(
    readonly containerId: string,
    readonly exitCode: number,
    readonly oomKilled: boolean,
    readonly logs: string[],
  ) {
    super(
      'bad-argument',
      `the container ${containerId.slice(0, 12)} exited with code ${exitCode}${oomKilled ? ' (killed for exceeding its memory limit: raise --memory)' : ''} before it was healthy` +
        (logs.length ? `; last log lines:\n  ${logs.join('\n  ')}` : '; it wrote no logs'),
    );
    this.name = 'ContainerExitedError';
  }
}

export async function stopContainer(engine: Engine, id: string): Promise<void> {
  try {
    await engine.docker.getContainer(id).stop({ t: 10 });
  } catch (e) {
    // 304: already stopped.
    if ((e as { statusCode?: number }).statusCode !== 304) throw new UserError('bad-argument', `cannot stop container ${id.slice(0, 12)}: ${describeDockerError(e)}`);
  }
}

export async function removeContainer(engine: Engine, id: string): Promise<void> {
  try {
    await engine.docker.getContainer(id).remove({ force: true });
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw new UserError('bad-argument', `cannot remove container ${id.slice(0, 12)}: ${describeDockerError(e)}`);
  }
}
