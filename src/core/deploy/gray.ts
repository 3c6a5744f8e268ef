// Gray release: a candidate version beside production, and a router (our own,
// dist/router.js, run from the candidate's serving image, so from the same
// base image) that sends it a share of the traffic. grayStatus reads the
// router's per-variant figures and says whether the candidate differs
// significantly; promote makes the candidate production on production's
// port (the old production kept stopped for rollback); abortGray removes the
// candidate and the router and leaves production as it was. Each is audited.
import { UserError, describeError } from '../errors';
import type { ModelVersion } from '../registry/types';
import { refOf } from '../registry/versions';
import { DEFAULT_BASE_IMAGE, ensureBaseImage } from './baseImage';
import { createAndStart, DEFAULT_BIND_ADDRESS, DEFAULT_HEALTH_TIMEOUT_MS, listManagedContainers, removeContainer, stopContainer, urlOf, waitHealthy, type ManagedContainer } from './containers';
import { auditRelease, gateRelease, productionOf, rolloutImage, RolloutError, targetOf, versionOfContainer, type DeployContext, type DeployOptions, type DeploymentRef, type RolloutSettings } from './deploy';
import { pingEngine, type Engine } from './engine';
import { checkDeploymentOutput, describeGoldenFailure, type GoldenCheck } from './goldenCheck';
import { portInUse, readMetricsText } from './http';
import { buildServingImage, CONTAINER_PORT, type ServingImage } from './image';
import { LABELS } from './labels';
import { parsePrometheusText, sumSamples } from './prometheus';
import { compareVariants, type SignificanceReport, type VariantFigures } from './significance';

export const DEFAULT_CANDIDATE_WEIGHT = 30;

export interface GrayOptions extends DeployOptions {
  /** The candidate's share of traffic in percent (1..99). */
  weight?: number;
  /** Candidate's port (default: production's + 1). */
  candidatePort?: number;
  /** Router's port, where clients send traffic during the release (default: production's + 2). */
  routerPort?: number;
}

export interface GrayRelease {
  deployment: string;
  weight: number;
  production: DeploymentRef;
  candidate: DeploymentRef;
  router: { containerId: string; port: number; url: string };
  golden: GoldenCheck;
}

interface GrayParts {
  production: ManagedContainer;
  candidate: ManagedContainer;
  router: ManagedContainer;
}

const asRef = (c: ManagedContainer): DeploymentRef => ({ containerId: c.id, model: c.model, version: c.version, port: c.port });

async function findGray(engine: Engine, deployment: string): Promise<GrayParts> {
  const containers = await listManagedContainers(engine, deployment);
  const production = productionOf(containers);
  const candidate = containers.find((c) => c.role === 'candidate');
  const router = containers.find((c) => c.role === 'router');
  if (!candidate || !router || !production) {
    throw new UserError('not-found', `${deployment} has no gray release on ${engine.address}${!production ? ' (and no running production)' : ''}; start one with runlens deploy gray NAME@VERSION --deployment ${deployment}`);
  }
  return { production, candidate, router };
}

async function assertFree(engine: Engine, port: number, host: string, what: string): Promise<void> {
  const held = (await listManagedContainers(engine)).find((c) => c.state === 'running' && c.port === port);
  if (held) throw new UserError('bad-argument', `the ${what} port ${port} is held by ${held.deployment}'s ${held.role} container; choose another (--${what}-port)`);
  if (engine.address.startsWith('unix://') && (await portInUse(port, host))) throw new UserError('bad-argument', `the ${what} port ${port} on ${host} is already in use by another process; choose another (--${what}-port)`);
}

/** Where the router reaches a variant: the host port on host networking, the container's own address on a bridge. */
async function upstreamUrl(engine: Engine, c: ManagedContainer): Promise<string> {
  if (c.network === 'host') return urlOf(c);
  const info = await engine.docker.getContainer(c.id).inspect();
  const ip = (info.NetworkSettings as { IPAddress?: string }).IPAddress || Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
  if (!ip) throw new UserError('bad-argument', `container ${c.name} has no network address the router can reach`);
  return `http://${ip}:${CONTAINER_PORT}`;
}

export async function startGrayRelease(ctx: DeployContext, version: ModelVersion, options: GrayOptions = {}): Promise<GrayRelease> {
  const deployment = options.deployment ?? version.name;
  const weight = options.weight ?? DEFAULT_CANDIDATE_WEIGHT;
  const progress = ctx.onProgress ?? (() => undefined);
  const target = targetOf(ctx.engine, deployment);
  await gateRelease(ctx, version, 'gray-start', target);
  let candidateId: string | undefined;
  let routerId: string | undefined;
  let image: ServingImage | undefined;
  try {
    if (!(weight >= 1 && weight <= 99)) throw new UserError('bad-argument', `--weight ${weight}: give the candidate's share in percent, 1 to 99`);
    await pingEngine(ctx.engine);
    const containers = await listManagedContainers(ctx.engine, deployment);
    const production = productionOf(containers);
    if (!production) throw new UserError('not-found', `${deployment} has no running production deployment to release beside; deploy one first (runlens deploy NAME@VERSION)`);
    if (containers.some((c) => c.role === 'candidate' || c.role === 'router')) throw new UserError('bad-argument', `${deployment} already has a gray release; promote or abort it first`);
    const host = options.bindAddress ?? production.host ?? DEFAULT_BIND_ADDRESS;
    const network = { network: options.network ?? production.network, bindAddress: host };
    const candidatePort = options.candidatePort ?? production.port + 1;
    const routerPort = options.routerPort ?? production.port + 2;
    if (new Set([production.port, candidatePort, routerPort]).size !== 3) throw new UserError('bad-argument', `production, candidate and router need three different ports (got ${production.port}, ${candidatePort}, ${routerPort})`);
    await assertFree(ctx.engine, candidatePort, host, 'candidate');
    await assertFree(ctx.engine, routerPort, host, 'router');

    const base = await ensureBaseImage(ctx.engine, options.baseImage ?? DEFAULT_BASE_IMAGE, { ...options.localBase, onProgress: progress, signal: ctx.signal });
    image = await buildServingImage({ engine: ctx.engine, version, baseImage: base, artifactDigest: options.artifactDigest, workspace: options.workspace, assets: options.assets, onProgress: progress, signal: ctx.signal });
    progress(`starting candidate ${refOf(version)} on ${host}:${candidatePort}`);
    const candidateContainer = await createAndStart(ctx.engine, { image: image.ref, deployment, role: 'candidate', model: version, port: candidatePort, limits: options, network });
    candidateId = candidateContainer.id;
    const candidateUrl = urlOf({ host, port: candidatePort });
    await waitHealthy(ctx.engine, candidateContainer, candidateUrl, options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS, ctx.signal);
    const golden = await checkDeploymentOutput(candidateUrl, version.filePath, { golden: options.golden, signal: ctx.signal });
    if (!golden.pass) throw new UserError('bad-argument', `golden check failed: ${describeGoldenFailure(golden)}`);

    const candidate = (await listManagedContainers(ctx.engine, deployment)).find((c) => c.id === candidateId)!;
    const upstreams = [
      { variant: 'production', url: await upstreamUrl(ctx.engine, production), weight: 100 - weight },
      { variant: 'candidate', url: await upstreamUrl(ctx.engine, candidate), weight },
    ];
    progress(`starting the router on ${host}:${routerPort}: ${100 - weight} % production, ${weight} % candidate`);
    const routerContainer = await createAndStart(ctx.engine, {
      image: image.ref,
      deployment,
      role: 'router',
      model: version,
      port: routerPort,
      limits: { memory: '256m', cpus: options.cpus },
      network,
      cmd: ['node', '/app/router.js'],
      env: [`UPSTREAMS=${JSON.stringify(upstreams)}`],
      extraLabels: { [LABELS.weight]: String(weight) },
    });
    routerId = routerContainer.id;
    const routerUrl = urlOf({ host, port: routerPort });
    await waitHealthy(ctx.engine, routerContainer, routerUrl, 30_000, ctx.signal);

    const result: GrayRelease = { deployment, weight, production: asRef(production), candidate: asRef(candidate), router: { containerId: routerId, port: routerPort, url: routerUrl }, golden };
    auditRelease(ctx, version, { action: 'gray-start', outcome: 'succeeded', target: targetOf(ctx.engine, deployment, routerPort), digest: image.id, details: { weight, production: result.production, candidate: result.candidate, router: result.router, golden: { reference: golden.reference, pass: golden.pass } } });
    progress(`gray release of ${refOf(version)} running: send traffic to ${routerUrl}`);
    return result;
  } catch (e) {
    for (const id of [routerId, candidateId]) if (id) await removeContainer(ctx.engine, id).catch(() => undefined);
    auditRelease(ctx, version, { action: 'gray-start', outcome: 'failed', target, digest: image?.id ?? null, error: describeError(e), details: { weight } });
    if (candidateId) throw new UserError('bad-argument', `the gray release of ${refOf(version)} did not start: ${describeError(e)}; the candidate was removed and production is untouched`);
    throw e;
  }
}

export interface GrayStatus {
  deployment: string;
  weight: number;
  routerUrl: string;
  production: VariantFigures & { model: string; version: number };
  candidate: VariantFigures & { model: string; version: number };
  significance: SignificanceReport;
}

function figuresOf(samples: ReturnType<typeof parsePrometheusText>, variant: string): VariantFigures {
  const v = { variant };
  return {
    variant,
    requests: sumSamples(samples, 'runlens_router_requests_total', v),
    errors: sumSamples(samples, 'runlens_router_errors_total', v),
    latencyCount: sumSamples(samples, 'runlens_router_latency_seconds_count', v),
    latencySum: sumSamples(samples, 'runlens_router_latency_seconds_sum', v),
    latencySumSquares: sumSamples(samples, 'runlens_router_latency_seconds_sum_squares', v),
  };
}

/** The router's per-variant figures and whether the candidate differs significantly from production. */
export async function grayStatus(engine: Engine, deployment: string, options: { minimumSamples?: number; alpha?: number } = {}): Promise<GrayStatus> {
  const { production, candidate, router } = await findGray(engine, deployment);
  const url = `${urlOf(router)}/metrics`;
  const text = await readMetricsText(url, "the router's metrics");
  const samples = parsePrometheusText(text);
  const prod = figuresOf(samples, 'production');
  const cand = figuresOf(samples, 'candidate');
  return {
    deployment,
    weight: Number(router.labels[LABELS.weight] ?? DEFAULT_CANDIDATE_WEIGHT),
    routerUrl: urlOf(router),
    production: { ...prod, model: production.model, version: production.version },
    candidate: { ...cand, model: candidate.model, version: candidate.version },
    significance: compareVariants(prod, cand, options),
  };
}

/**
 * The candidate becomes production: a serving container from the candidate's
 * image on production's port (health and golden checks again; on failure the
 * old production is started again), then the candidate and router removed.
 */
export async function promote(ctx: DeployContext, deployment: string, settings: Omit<RolloutSettings, 'port'> = {}): Promise<{ deployment: string; production: DeploymentRef; previous: DeploymentRef }> {
  const { production, candidate, router } = await findGray(ctx.engine, deployment);
  const version = versionOfContainer(ctx.registry, candidate);
  if (!version) throw new UserError('not-found', `the candidate ${candidate.model} v${candidate.version} is not in this registry (or its file changed); abort the gray release instead`);
  const target = targetOf(ctx.engine, deployment, production.port);
  await gateRelease(ctx, version, 'promote', target);
  try {
    const image: ServingImage = { ref: candidate.image, id: (await ctx.engine.docker.getImage(candidate.image).inspect()).Id, dockerfile: 'template' };
    const outcome = await rolloutImage(ctx, { version, image, deployment, settings: { ...settings, port: production.port, network: production.network, bindAddress: production.host }, current: production });
    for (const c of [router, candidate]) {
      await stopContainer(ctx.engine, c.id);
      await removeContainer(ctx.engine, c.id);
    }
    auditRelease(ctx, version, { action: 'promote', outcome: 'succeeded', target, digest: image.id, details: { containerId: outcome.containerId, previous: asRef(production), removed: [asRef(candidate), asRef(router)], golden: { reference: outcome.golden.reference, pass: outcome.golden.pass } } });
    return { deployment, production: { containerId: outcome.containerId, model: version.name, version: version.version, port: outcome.port }, previous: asRef(production) };
  } catch (e) {
    auditRelease(ctx, version, { action: 'promote', outcome: 'failed', target, error: describeError(e), details: e instanceof RolloutError ? e.details : {} });
    throw e;
  }
}

/** Removes the candidate and the router; production keeps serving as it was. */
export async function abortGray(ctx: DeployContext, deployment: string): Promise<{ deployment: string; removed: DeploymentRef[] }> {
  const { candidate, router } = await findGray(ctx.engine, deployment);
  const version = versionOfContainer(ctx.registry, candidate);
  const target = targetOf(ctx.engine, deployment, router.port);
  try {
    for (const c of [router, candidate]) {
      await stopContainer(ctx.engine, c.id);
      await removeContainer(ctx.engine, c.id);
    }
  } catch (e) {
    if (version) auditRelease(ctx, version, { action: 'gray-abort', outcome: 'failed', target, error: describeError(e) });
    throw e;
  }
  const removed = [asRef(candidate), asRef(router)];
  if (version) auditRelease(ctx, version, { action: 'gray-abort', outcome: 'succeeded', target, details: { removed } });
  return { deployment, removed };
}
