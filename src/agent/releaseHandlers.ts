// The agent's side of push and deploy, for the editor: the same core functions
// `runlens model push` and `runlens deploy` call, over the protocol, mapped to
// the extension's shapes (src/shared/releaseProtocol.ts). Registry credentials
// arrive in the push request and go no further than the OCI client: this file
// never logs request parameters.
import { describeError } from '../core/errors';
import { connectEngine, pingEngine, type Engine } from '../core/deploy/engine';
import { deploy, listDeployments, readMetrics, rollback, RolloutError, streamLogs, undeploy, type DeployContext, type DeploymentInfo } from '../core/deploy/deploy';
import { abortGray, grayStatus, promote, startGrayRelease, type GrayStatus } from '../core/deploy/gray';
import { pushApprovedVersion } from '../core/oci';
import { resolveActor } from '../core/registry/identity';

import type { RegistryStore } from '../core/registry/types';
import { resolveVersion } from '../core/registry/versions';
import type { ReleaseRequests, WireDeployment, WireGrayStatus } from '../shared/releaseProtocol';
import { toWireDeep, type Wired } from '../shared/wireNumbers';
import type { ModelVersion } from '../core/registry/types';

type Handlers = {
  [M in keyof ReleaseRequests]: (
    params: ReleaseRequests[M]['params'],
    signal: AbortSignal,
    progress: (message: string) => void,
    logChunk: (containerId: string, text: string) => void,
  ) => Promise<ReleaseRequests[M]['result']>;
};

export function deploymentToWire(d: DeploymentInfo): WireDeployment {
  return {
    containerId: d.containerId,
    containerName: d.containerName,
    deployment: d.deployment,
    role: d.role === 'serving' ? (d.current ? 'production' : 'standby') : d.role,
    model: d.model,
    version: d.version,
    sha256: d.sha256,
    image: d.image,
    state: d.state,
    health: d.health === 'healthy' ? 'healthy' : d.health === 'unhealthy' ? 'unhealthy' : 'unknown',
    host: d.url ? new URL(d.url).hostname : null,
    port: d.port,
    createdAt: d.createdAt,
  };
}

export function grayToWire(s: GrayStatus): WireGrayStatus {
  const mean = (sum: number, count: number) => (count > 0 ? (sum / count) * 1000 : null);
  const { latency, errorRate } = s.significance;
  return {
    deployment: s.deployment,
    candidatePercent: s.weight,
    routerPort: Number(new URL(s.routerUrl).port) || null,
    variants: [
      { role: 'production', version: s.production.version, requests: s.production.requests, errors: s.production.errors, meanLatencyMs: mean(s.production.latencySum, s.production.latencyCount) },
      { role: 'candidate', version: s.candidate.version, requests: s.candidate.requests, errors: s.candidate.errors, meanLatencyMs: mean(s.candidate.latencySum, s.candidate.latencyCount) },
    ],
    verdict: s.significance.summary,
    significant: latency.significant === null && errorRate.significant === null ? null : Boolean(latency.significant || errorRate.significant),
  };
}

export class ReleaseService {
  /** The registry on the agent's one database connection (the server owns it). */
  constructor(private readonly registry: RegistryStore) {}

  private async context(params: { dockerHost?: string; workspace?: string }, signal: AbortSignal, progress: (m: string) => void): Promise<DeployContext> {
    return { engine: connectEngine(params.dockerHost), registry: this.registry, actor: await resolveActor(params.workspace ?? process.cwd()), onProgress: progress, signal };
  }

  private async describe(engine: Engine, containerId: string): Promise<WireDeployment | null> {
    const found = (await listDeployments(engine)).find((d) => d.containerId === containerId);
    return found ? deploymentToWire(found) : null;
  }

  readonly handlers: Handlers = {
    'release/push': async ({ ref, target, plainHttp, credentials, workspace }, signal, progress) => {
      const registry = this.registry;
      const version = resolveVersion(registry, ref);
      const result = await pushApprovedVersion({
        registry,
        version,
        target,
        plainHttp,
        credentials: credentials ? { kind: 'basic', username: credentials.username, password: credentials.secret } : undefined,
        signal,
        onProgress: (p) => progress(p.message),
        actor: await resolveActor(workspace),
      });
      return {
        reference: result.target,
        digest: result.digest,
        pinned: result.reference,
        size: result.size,
        credentialSource: credentials ? 'VS Code SecretStorage' : 'Docker config (or none)',
        version: toWireDeep(result.version) as Wired<ModelVersion>,
      };
    },
    'deploy/list': async ({ dockerHost }) => {
      const engine = connectEngine(dockerHost);
      try {
        await pingEngine(engine, 3000);
      } catch (e) {
        return { engine: { reachable: false, host: engine.address, error: describeError(e) }, deployments: [] };
      }
      return { engine: { reachable: true, host: engine.address, error: null }, deployments: (await listDeployments(engine)).map(deploymentToWire) };
    },
    'deploy/start': async (params, signal, progress) => {
      const ctx = await this.context(params, signal, progress);
      const version = resolveVersion(ctx.registry, params.ref);
      try {
        const result = await deploy(ctx, version, {
          port: params.port,
          baseImage: params.baseImage,
          memory: params.memory,
          cpus: params.cpus,
          network: params.network,
          workspace: params.workspace,
        });
        const golden = result.golden;
        return {
          ok: true,
          message: `${params.ref} serves at ${result.url} (healthy after ${result.health.ms} ms; output matches ${golden.reference === 'golden-file' ? 'its golden output' : "this machine's CPU run"})${result.replaced ? `; v${result.replaced.version} kept for rollback` : ''}`,
          deployment: await this.describe(ctx.engine, result.containerId),
          restored: null,
          checks: [
            { name: 'health', passed: true, detail: `/healthz answered 200 after ${result.health.attempts} attempt(s), ${result.health.ms} ms` },
            { name: 'golden', passed: golden.pass, detail: golden.reference === 'golden-file' ? `against ${golden.file}` : "against this machine's CPU run (no golden output saved)" },
          ],
        };
      } catch (e) {
        if (!(e instanceof RolloutError)) throw e;
        const restoredId = (e.details.rolledBackTo as { containerId?: string } | undefined)?.containerId;
        const health = e.details.health as { ms: number } | null;
        const golden = e.details.golden as { pass: boolean } | null;
        return {
          ok: false,
          message: e.message,
          deployment: null,
          restored: restoredId ? await this.describe(ctx.engine, restoredId) : null,
          checks: [
            { name: 'health', passed: health !== null, detail: health ? `healthy after ${health.ms} ms` : 'never became healthy' },
            ...(golden ? [{ name: 'golden', passed: golden.pass, detail: golden.pass ? 'matches' : 'outputs differ beyond the tolerance' }] : []),
          ],
        };
      }
    },
    'deploy/rollback': async (params, signal, progress) => {
      const ctx = await this.context(params, signal, progress);
      const result = await rollback(ctx, params.deployment);
      return {
        ok: true,
        message: `${params.deployment} rolled back from v${result.from.version} to v${result.to.version} (port ${result.to.port})`,
        deployment: await this.describe(ctx.engine, result.to.containerId),
        restored: null,
        checks: [{ name: 'health', passed: true, detail: `v${result.to.version} answered /healthz` }],
      };
    },
    'deploy/remove': async (params, signal, progress) => {
      await undeploy(await this.context(params, signal, progress), params.deployment);
      return null;
    },
    'deploy/logs': async ({ containerId, tail, follow, dockerHost }, signal, _progress, logChunk) => {
      const lines: string[] = [];
      await streamLogs(connectEngine(dockerHost), containerId, {
        follow,
        tail,
        signal,
        onLine: (line) => (follow ? logChunk(containerId, `${line}\n`) : lines.push(line)),
      });
      return { text: lines.join('\n') };
    },
    'deploy/metrics': async ({ containerId, dockerHost }) => {
      const metrics = await readMetrics(connectEngine(dockerHost), containerId);
      return { url: metrics.url, text: metrics.text };
    },
    'deploy/grayStart': async (params, signal, progress) => {
      const ctx = await this.context(params, signal, progress);
      const version = resolveVersion(ctx.registry, params.ref);
      await startGrayRelease(ctx, version, { deployment: params.deployment, weight: params.candidatePercent, candidatePort: params.port, baseImage: params.baseImage, memory: params.memory, cpus: params.cpus, network: params.network, workspace: params.workspace });
      return grayToWire(await grayStatus(ctx.engine, params.deployment));
    },
    'deploy/grayStatus': async ({ deployment, dockerHost }) => grayToWire(await grayStatus(connectEngine(dockerHost), deployment)),
    'deploy/promote': async (params, signal, progress) => {
      const ctx = await this.context(params, signal, progress);
      const result = await promote(ctx, params.deployment, { network: params.network });
      return {
        ok: true,
        message: `${params.deployment} now serves v${result.production.version} on port ${result.production.port}; v${result.previous.version} kept for rollback`,
        deployment: await this.describe(ctx.engine, result.production.containerId),
        restored: null,
        checks: [],
      };
    },
    'deploy/grayAbort': async (params, signal, progress) => {
      await abortGray(await this.context(params, signal, progress), params.deployment);
      return null;
    },
  };
}

