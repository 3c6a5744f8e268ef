// Deployments of approved model versions on a Docker engine. A deployment is
// a name (default: the model's) and the serving containers that carry its
// labels: the newest running one is production; older stopped ones are kept
// for rollback. The engine is the only record of what runs; the audit log
// records every action and its outcome (release.ts).
//
// deploy: gate (approved, file as approved) → base image → serving image →
// container → /healthz → golden check → deployed. If the previous deployment
// holds the port it is stopped first (kept); if the new one fails, it is
// removed and the previous started again, and both steps are audited.
import type Docker from 'dockerode';
import { UserError, describeError } from '../errors';
import type { Actor } from '../registry/identity';
import { assertFileMatchesRegistration, assertReleasable, recordRelease, type ReleaseAction, type ReleaseRecord } from '../registry/release';
import type { ModelVersion, RegistryStore } from '../registry/types';
import { refOf } from '../registry/versions';
import { DEFAULT_BASE_IMAGE, ensureBaseImage, type LocalBaseOptions, type Progress } from './baseImage';
import {
  createAndStart,
  demuxFrames,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_BIND_ADDRESS,
  listManagedContainers,
  removeContainer,
  stopContainer,
  urlOf,
  waitHealthy,
  type ContainerLimits,
  type ManagedContainer,
  type NetworkSettings,
} from './containers';
import { describeDockerError, pingEngine, type Engine } from './engine';
import { checkDeploymentOutput, describeGoldenFailure, type GoldenCheck } from './goldenCheck';
import { getText, portInUse, readMetricsText } from './http';
import { buildServingImage, type ServingAssets, type ServingImage } from './image';
import { parsePrometheusText, sumSamples, type Sample } from './prometheus';

/** What every action needs: where, who, and where its audit goes. */
export interface DeployContext {
  engine: Engine;
  registry: RegistryStore;
  actor: Actor;
  onProgress?: Progress;
  signal?: AbortSignal;
}

export interface RolloutSettings extends ContainerLimits, NetworkSettings {
  /** Host port (default: the current deployment's, else 8080). */
  port?: number;
  /** Golden file for the output check; absent: this machine's CPU run is the reference. */
  golden?: string;
  healthTimeoutMs?: number;
}

export interface DeployOptions extends RolloutSettings {
  /** Deployment name (default: the model name). */
  deployment?: string;
  /** Base image, or 'local' (made from this machine's Node). Default node:20-bookworm-slim. */
  baseImage?: string;
  /** Workspace whose .runlens/Dockerfile overrides the template. */
  workspace?: string;
  /** Digest of the pushed OCI artifact, recorded as a label when known. */
  artifactDigest?: string | null;
  localBase?: Omit<LocalBaseOptions, 'onProgress' | 'signal'>;
  assets?: ServingAssets;
}

export interface DeploymentRef {
  containerId: string;
  model: string;
  version: number;
  port: number;
}

export interface DeployResult {
  deployment: string;
  model: string;
  version: number;
  sha256: string;
  image: ServingImage;
  containerId: string;
  port: number;
  url: string;
  health: { attempts: number; ms: number };
  golden: GoldenCheck;
  /** The deployment this one replaced, stopped and kept for rollback. */
  replaced: DeploymentRef | null;
}

const refOfContainer = (c: ManagedContainer): DeploymentRef => ({ containerId: c.id, model: c.model, version: c.version, port: c.port });

function targetOf(engine: Engine, deployment: string, port?: number): string {
  return `${engine.address} deployment ${deployment}${port ? ` on port ${port}` : ''}`;
}

function progressOf(ctx: DeployContext): Progress {
  return ctx.onProgress ?? (() => undefined);
}

/** The version a container serves, as registered (for its audit entries); null when this database does not know it. */
function versionOfContainer(registry: RegistryStore, c: Pick<ManagedContainer, 'model' | 'version' | 'sha256'>): ModelVersion | null {
  const v = registry.getVersion(c.model, c.version);
  return v && v.sha256 === c.sha256 ? v : null;
}

function audit(ctx: DeployContext, version: ModelVersion, record: ReleaseRecord): ModelVersion {
  return recordRelease(ctx.registry, version, record, { actor: ctx.actor });
}

/** Runs the release gate, auditing a refusal. */
async function gate(ctx: DeployContext, version: ModelVersion, action: ReleaseAction, target: string): Promise<void> {
  try {
    assertReleasable(version, 'deploy');
    await assertFileMatchesRegistration(version);
  } catch (e) {
    audit(ctx, version, { action, outcome: 'refused', target, error: describeError(e) });
    throw e;
  }
}

export function productionOf(containers: readonly ManagedContainer[]): ManagedContainer | undefined {
  return containers.find((c) => c.role === 'serving' && c.state === 'running');
}

/** Refuses a port held by another RunLens container or (on a local engine) by any other process; the current deployment's own port is fine. */
async function assertPortFree(ctx: DeployContext, port: number, host: string, current: ManagedContainer | undefined): Promise<void> {
  if (current && current.port === port) return;
  const all = await listManagedContainers(ctx.engine);
  const holder = all.find((c) => c.state === 'running' && c.port === port);
  if (holder) throw new UserError('bad-argument', `port ${port} is held by ${holder.deployment}'s ${holder.role} container (${holder.model} v${holder.version}, ${holder.id.slice(0, 12)}); choose another with --port`);
  // Only meaningful when the engine runs on this machine (a unix socket): its ports are ours.
  if (ctx.engine.address.startsWith('unix://') && (await portInUse(port, host))) {
    throw new UserError('bad-argument', `port ${port} on ${host} is already in use by another process (not a RunLens deployment); choose another with --port, or stop what listens there`);
  }
}

interface RolloutRequest {
  version: ModelVersion;
  image: ServingImage;
  deployment: string;
  settings: RolloutSettings;
  current: ManagedContainer | undefined;
}

interface RolloutOutcome {
  containerId: string;
  port: number;
  url: string;
  health: { attempts: number; ms: number };
  golden: GoldenCheck;
  replaced: DeploymentRef | null;
}

/** Why a rollout failed and what happened to the previous deployment, for the error and the audit. */
class RolloutError extends UserError {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super('bad-argument', message);
  }
}

/**
 * Starts `image` as the deployment's production, replacing `current`.
 * Failure after the container was created: remove it, bring `current` back
 * (audited as a rollback), and throw a RolloutError that says so.
 */
async function rollout(ctx: DeployContext, request: RolloutRequest): Promise<RolloutOutcome> {
  const progress = progressOf(ctx);
  const { version, image, deployment, settings, current } = request;
  const port = settings.port ?? current?.port ?? DEFAULT_PORT;
  const host = settings.bindAddress ?? DEFAULT_BIND_ADDRESS;
  await assertPortFree(ctx, port, host, current);

  let stoppedCurrent = false;
  if (current && current.port === port) {
    progress(`stopping ${current.model} v${current.version} (${current.id.slice(0, 12)}), which holds port ${port}; it is kept for rollback`);
    await stopContainer(ctx.engine, current.id);
    stoppedCurrent = true;
  }
  let container: Docker.Container | undefined;
  let health: { attempts: number; ms: number } | undefined;
  let golden: GoldenCheck | undefined;
  try {
    progress(`starting ${refOf(version)} on ${host}:${port} (${settings.network ?? 'bridge'} network)`);
    container = await createAndStart(ctx.engine, {
      image: image.ref,
      deployment,
      role: 'serving',
      model: { name: version.name, version: version.version, sha256: version.sha256 },
      port,
      limits: settings,
      network: settings,
    });
    const url = urlOf({ host, port });
    health = await waitHealthy(ctx.engine, container, url, settings.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS, ctx.signal);
    progress(`healthy after ${health.ms} ms; checking one prediction against ${settings.golden ? `golden ${settings.golden}` : "this machine's CPU run"}`);
    golden = await checkDeploymentOutput(url, version.filePath, { golden: settings.golden, signal: ctx.signal });
    if (!golden.pass) throw new UserError('bad-argument', `golden check failed: ${describeGoldenFailure(golden)}`);
    if (current && !stoppedCurrent) {
      progress(`stopping the previous deployment ${current.model} v${current.version} on port ${current.port}; it is kept for rollback`);
      await stopContainer(ctx.engine, current.id);
    }
    // Checks passed: from now on the engine restarts it (after a reboot, a crash).
    await container.update({ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } }).catch(() => undefined);
    return { containerId: container.id, port, url, health, golden, replaced: current ? refOfContainer(current) : null };
  } catch (e) {
    const why = describeError(e);
    const details: Record<string, unknown> = { port, image: image.ref, containerId: container?.id ?? null, health: health ?? null, golden: golden ? summarizeGolden(golden) : null };
    if (container) {
      progress(`removing the failed container ${container.id.slice(0, 12)}`);
      await removeContainer(ctx.engine, container.id).catch(() => undefined);
    }
    let rollbackNote = current ? `; ${current.model} v${current.version} kept running on port ${current.port}` : '; nothing was running before';
    if (current && stoppedCurrent) {
      rollbackNote = await restorePrevious(ctx, current, version, why);
      details.rolledBackTo = refOfContainer(current);
    }
    throw new RolloutError(`${refOf(version)} was not deployed: ${why}${rollbackNote}`, details);
  }
}

function summarizeGolden(g: GoldenCheck): Record<string, unknown> {
  return { reference: g.reference, file: g.file, pass: g.pass, outputs: g.comparison?.outputs.map((o) => ({ name: o.name, pass: o.pass, maxAbsDiff: o.maxAbsDiff, mismatches: o.mismatches })) ?? [] };
}

/** Starts the previous production again after a failed rollout; audits it as a rollback. Returns the sentence for the error. */
async function restorePrevious(ctx: DeployContext, previous: ManagedContainer, failed: ModelVersion, why: string): Promise<string> {
  const progress = progressOf(ctx);
  const target = targetOf(ctx.engine, previous.deployment, previous.port);
  const previousVersion = versionOfContainer(ctx.registry, previous) ?? failed;
  progress(`rolling back: starting ${previous.model} v${previous.version} (${previous.id.slice(0, 12)}) again`);
  try {
    const container = ctx.engine.docker.getContainer(previous.id);
    await container.start();
    const health = await waitHealthy(ctx.engine, container, urlOf(previous), DEFAULT_HEALTH_TIMEOUT_MS, ctx.signal);
    audit(ctx, previousVersion, {
      action: 'rollback',
      outcome: 'succeeded',
      target,
      details: { reason: `deploy of ${refOf(failed)} failed: ${why}`, to: refOfContainer(previous), from: { model: failed.name, version: failed.version }, automatic: true, healthMs: health.ms },
    });
    return `; rolled back: ${previous.model} v${previous.version} serves on port ${previous.port} again`;
  } catch (e) {
    audit(ctx, previousVersion, { action: 'rollback', outcome: 'failed', target, error: describeError(e), details: { to: refOfContainer(previous), automatic: true } });
    return `; the rollback to ${previous.model} v${previous.version} ALSO failed (${describeError(e)}): nothing serves on port ${previous.port}; see runlens deploy logs ${previous.deployment}`;
  }
}

/** Deploys an approved version. Every outcome (refused, failed, succeeded) is in the audit log. */
export async function deploy(ctx: DeployContext, version: ModelVersion, options: DeployOptions = {}): Promise<DeployResult> {
  const deployment = options.deployment ?? version.name;
  const progress = progressOf(ctx);
  await gate(ctx, version, 'deploy', targetOf(ctx.engine, deployment, options.port));
  let image: ServingImage | undefined;
  try {
    await pingEngine(ctx.engine);
    const containers = await listManagedContainers(ctx.engine, deployment);
    if (containers.some((c) => c.role === 'candidate' && c.state === 'running')) {
      throw new UserError('bad-argument', `${deployment} has a gray release running; promote or abort it first (runlens deploy promote|abort ${deployment})`);
    }
    const current = productionOf(containers);
    const port = options.port ?? current?.port ?? DEFAULT_PORT;
    // Refuse a taken port before minutes of building.
    await assertPortFree(ctx, port, options.bindAddress ?? DEFAULT_BIND_ADDRESS, current);
    const base = await ensureBaseImage(ctx.engine, options.baseImage ?? DEFAULT_BASE_IMAGE, { ...options.localBase, onProgress: progress, signal: ctx.signal });
    image = await buildServingImage({ engine: ctx.engine, version, baseImage: base, artifactDigest: options.artifactDigest, workspace: options.workspace, assets: options.assets, onProgress: progress, signal: ctx.signal });
    const outcome = await rollout(ctx, { version, image, deployment, settings: { ...options, port }, current });
    audit(ctx, version, {
      action: 'deploy',
      outcome: 'succeeded',
      target: targetOf(ctx.engine, deployment, outcome.port),
      digest: image.id,
      details: { deployment, image: image.ref, containerId: outcome.containerId, port: outcome.port, network: options.network ?? 'bridge', golden: summarizeGolden(outcome.golden), replaced: outcome.replaced },
    });
    progress(`deployed ${refOf(version)} as ${deployment} at ${outcome.url}`);
    return { deployment, model: version.name, version: version.version, sha256: version.sha256, image, ...outcome };
  } catch (e) {
    audit(ctx, version, {
      action: 'deploy',
      outcome: 'failed',
      target: targetOf(ctx.engine, deployment, options.port),
      digest: image?.id ?? null,
      error: describeError(e),
      details: e instanceof RolloutError ? { deployment, ...e.details } : { deployment },
    });
    throw e;
  }
}

export interface RollbackResult {
  deployment: string;
  /** What serves now. */
  to: DeploymentRef;
  /** What was removed. */
  from: DeploymentRef;
}

/**
 * Rolls a deployment back to the one before it: the current container is
 * stopped, the previous one started and checked healthy, then the current
 * one removed (so a second rollback goes one further back). If the previous
 * one does not come up, the current one is started again.
 */
export async function rollback(ctx: DeployContext, deployment: string): Promise<RollbackResult> {
  const progress = progressOf(ctx);
  const containers = await listManagedContainers(ctx.engine, deployment);
  const current = productionOf(containers);
  if (!current) throw new UserError('not-found', `${deployment} has no running deployment on ${ctx.engine.address} to roll back (see runlens deployments)`);
  const previous = containers.find((c) => c.role === 'serving' && c.id !== current.id && c.createdAt < current.createdAt);
  const currentVersion = versionOfContainer(ctx.registry, current);
  const target = targetOf(ctx.engine, deployment, current.port);
  if (!previous) {
    const message = `${deployment} has no previous deployment to roll back to (only ${current.model} v${current.version} was kept on ${ctx.engine.address})`;
    if (currentVersion) audit(ctx, currentVersion, { action: 'rollback', outcome: 'refused', target, error: message });
    throw new UserError('not-found', message);
  }
  const previousVersion = versionOfContainer(ctx.registry, previous) ?? currentVersion;
  const record = (r: Omit<ReleaseRecord, 'action' | 'target'>) => previousVersion && audit(ctx, previousVersion, { action: 'rollback', target: targetOf(ctx.engine, deployment, previous.port), ...r });
  progress(`rolling ${deployment} back from ${current.model} v${current.version} to ${previous.model} v${previous.version}`);
  await stopContainer(ctx.engine, current.id);
  try {
    const container = ctx.engine.docker.getContainer(previous.id);
    await container.start();
    await waitHealthy(ctx.engine, container, urlOf(previous), DEFAULT_HEALTH_TIMEOUT_MS, ctx.signal);
  } catch (e) {
    await stopContainer(ctx.engine, previous.id).catch(() => undefined);
    await ctx.engine.docker.getContainer(current.id).start().catch(() => undefined);
    const message = `rollback of ${deployment} to ${previous.model} v${previous.version} failed: ${describeError(e)}; ${current.model} v${current.version} was started again`;
    record({ outcome: 'failed', error: message, details: { from: refOfContainer(current), to: refOfContainer(previous), automatic: false } });
    throw new UserError('bad-argument', message);
  }
  await removeContainer(ctx.engine, current.id);
  record({ outcome: 'succeeded', details: { from: refOfContainer(current), to: refOfContainer(previous), automatic: false } });
  progress(`${deployment} serves ${previous.model} v${previous.version} at ${urlOf(previous)}`);
  return { deployment, to: refOfContainer(previous), from: refOfContainer(current) };
}

/** Stops and removes every container of a deployment (production, kept versions, a gray release's candidate and router). */
export async function undeploy(ctx: DeployContext, deployment: string): Promise<{ deployment: string; removed: DeploymentRef[] }> {
  const containers = await listManagedContainers(ctx.engine, deployment);
  if (containers.length === 0) throw new UserError('not-found', `no deployment named ${deployment} on ${ctx.engine.address} (see runlens deployments)`);
  const current = productionOf(containers) ?? containers[0];
  const version = versionOfContainer(ctx.registry, current);
  const target = targetOf(ctx.engine, deployment, current.port);
  try {
    for (const c of containers) {
      progressOf(ctx)(`removing ${c.role} ${c.model} v${c.version} (${c.id.slice(0, 12)})`);
      await stopContainer(ctx.engine, c.id);
      await removeContainer(ctx.engine, c.id);
    }
  } catch (e) {
    if (version) audit(ctx, version, { action: 'undeploy', outcome: 'failed', target, error: describeError(e) });
    throw e;
  }
  const removed = containers.map(refOfContainer);
  if (version) audit(ctx, version, { action: 'undeploy', outcome: 'succeeded', target, details: { removed } });
  return { deployment, removed };
}

export type Health = 'healthy' | 'unhealthy' | 'loading' | 'stopped';

export interface DeploymentInfo {
  deployment: string;
  role: ManagedContainer['role'];
  /** Production: the running serving container; kept: stopped ones available for rollback. */
  current: boolean;
  model: string;
  version: number;
  sha256: string;
  containerId: string;
  containerName: string;
  image: string;
  state: string;
  status: string;
  health: Health;
  port: number;
  url: string;
  createdAt: number;
}

/** Every RunLens container on the engine, with a live /healthz probe of the running ones. */
export async function listDeployments(engine: Engine, options: { probeTimeoutMs?: number } = {}): Promise<DeploymentInfo[]> {
  const containers = await listManagedContainers(engine);
  const production = new Set<string>();
  for (const c of containers) if (c.role === 'serving' && c.state === 'running' && !containers.some((o) => o !== c && o.deployment === c.deployment && o.role === 'serving' && o.state === 'running' && o.createdAt > c.createdAt)) production.add(c.id);
  return Promise.all(
    containers.map(async (c): Promise<DeploymentInfo> => {
      let health: Health = 'stopped';
      if (c.state === 'running') {
        try {
          const r = await getText(`${urlOf(c)}/healthz`, options.probeTimeoutMs ?? 1500);
          health = r.status === 200 ? 'healthy' : r.status === 503 ? 'loading' : 'unhealthy';
        } catch {
          health = 'unhealthy';
        }
      }
      return {
        deployment: c.deployment,
        role: c.role,
        current: production.has(c.id),
        model: c.model,
        version: c.version,
        sha256: c.sha256,
        containerId: c.id,
        containerName: c.name,
        image: c.image,
        state: c.state,
        status: c.status,
        health,
        port: c.port,
        url: urlOf(c),
        createdAt: c.createdAt,
      };
    }),
  );
}

/** A deployment name (its production, else its newest container) or a container id (prefix). */
export async function resolveContainer(engine: Engine, target: string, role?: ManagedContainer['role']): Promise<ManagedContainer> {
  const all = await listManagedContainers(engine);
  const ofDeployment = all.filter((c) => c.deployment === target && (!role || c.role === role));
  const found = (role ? ofDeployment.find((c) => c.state === 'running') : productionOf(ofDeployment)) ?? ofDeployment[0] ?? all.find((c) => target.length >= 6 && (c.id.startsWith(target) || c.name === target));
  if (!found) throw new UserError('not-found', `no deployment or RunLens container "${target}" on ${engine.address} (see runlens deployments)`);
  return found;
}

export interface LogOptions {
  follow?: boolean;
  /** Lines from the end to start with (default all). */
  tail?: number;
  signal?: AbortSignal;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** Streams a container's logs line by line until it ends (or, with follow, until the signal aborts or the container stops). */
export async function streamLogs(engine: Engine, target: string, options: LogOptions): Promise<void> {
  const c = await resolveContainer(engine, target);
  const container = engine.docker.getContainer(c.id);
  const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const emit = (stream: 'stdout' | 'stderr', text: string) => {
    const lines = (pending[stream] + text).split('\n');
    pending[stream] = lines.pop() ?? '';
    for (const line of lines) options.onLine(line, stream);
  };
  const flush = () => {
    for (const stream of ['stdout', 'stderr'] as const) if (pending[stream]) options.onLine(pending[stream], stream);
  };
  try {
    if (!options.follow) {
      const raw = (await container.logs({ stdout: true, stderr: true, follow: false, tail: options.tail ?? 'all' } as never)) as unknown as Buffer;
      for (const f of demuxFrames(raw)) emit(f.stream, f.text);
      flush();
      return;
    }
    const stream = (await container.logs({ stdout: true, stderr: true, follow: true, tail: options.tail ?? 'all', abortSignal: options.signal } as never)) as unknown as NodeJS.ReadableStream;
    let buffered = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        // Emit whole frames only; keep a partial one for the next chunk.
        let offset = 0;
        while (offset + 8 <= buffered.length) {
          const length = buffered.readUInt32BE(offset + 4);
          if (offset + 8 + length > buffered.length) break;
          emit(buffered[offset] === 2 ? 'stderr' : 'stdout', buffered.subarray(offset + 8, offset + 8 + length).toString('utf8'));
          offset += 8 + length;
        }
        buffered = buffered.subarray(offset);
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', (e: Error) => (options.signal?.aborted ? resolve() : reject(e)));
      options.signal?.addEventListener('abort', () => {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        resolve();
      });
    });
    flush();
  } catch (e) {
    if (options.signal?.aborted) return;
    throw new UserError('bad-argument', `cannot read the logs of ${c.name}: ${describeDockerError(e)}`);
  }
}

export interface ServingMetrics {
  deployment: string;
  model: string;
  version: number;
  url: string;
  requests: number;
  errors: { badRequest: number; runtime: number };
  latency: { count: number; sumSeconds: number; meanMs: number | null; buckets: { le: number; count: number }[] };
  samples: Sample[];
  text: string;
}

/** Reads a deployment's (or container's) /metrics and sums it up. */
export async function readMetrics(engine: Engine, target: string): Promise<ServingMetrics> {
  const c = await resolveContainer(engine, target);
  if (c.state !== 'running') throw new UserError('bad-argument', `${c.name} is ${c.state}; only a running container has metrics`);
  const url = `${urlOf(c)}/metrics`;
  const text = await readMetricsText(url, 'metrics');
  const samples = parsePrometheusText(text);
  const count = sumSamples(samples, 'runlens_predict_latency_seconds_count');
  const sum = sumSamples(samples, 'runlens_predict_latency_seconds_sum');
  const buckets = samples.filter((s) => s.name === 'runlens_predict_latency_seconds_bucket').map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }));
  return {
    deployment: c.deployment,
    model: c.model,
    version: c.version,
    url,
    requests: sumSamples(samples, 'runlens_predict_requests_total'),
    errors: { badRequest: sumSamples(samples, 'runlens_predict_errors_total', { reason: 'bad_request' }), runtime: sumSamples(samples, 'runlens_predict_errors_total', { reason: 'runtime' }) },
    latency: { count, sumSeconds: sum, meanMs: count ? (sum / count) * 1000 : null, buckets },
    samples,
    text,
  };
}

// Shared with gray.ts -------------------------------------------------------

export { audit as auditRelease, gate as gateRelease, rollout as rolloutImage, targetOf, versionOfContainer, RolloutError };
