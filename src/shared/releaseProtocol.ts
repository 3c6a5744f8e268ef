// The part of the agent protocol that takes an approved version out of the
// editor: push to an OCI registry, deployments on a Docker engine, gray
// releases. Declared apart from protocol.ts (which unions it in) because its
// shapes are the extension's view of the deploy module, not the module's own
// records: the agent maps one to the other in src/agent/releaseHandlers.ts.
import type { ModelVersion } from '../core/registry/types';
import type { Wired } from './wireNumbers';

/**
 * Credentials the extension read from SecretStorage for the registry host.
 * They travel in the request only (stdio to a child process), are never
 * logged by the agent and never stored in the database.
 */
export interface RegistryCredentials {
  username: string;
  /** A password or an access token. */
  secret: string;
}

export interface WirePushResult {
  /** REGISTRY/REPO:TAG as pushed. */
  reference: string;
  /** The manifest digest: sha256:... */
  digest: string;
  /** REGISTRY/REPO@sha256:..., the reference that cannot move. */
  pinned: string;
  /** Bytes of all layers. */
  size: number;
  /** Where the credentials came from: none, the request (SecretStorage), the Docker config, a credential helper. */
  credentialSource: string;
  version: Wired<ModelVersion>;
}

export type DeploymentRole = 'production' | 'candidate' | 'router' | 'standby';

export interface WireDeployment {
  containerId: string;
  containerName: string;
  /** The deployment this container belongs to (production, its candidate and router share it). */
  deployment: string;
  role: DeploymentRole;
  model: string;
  version: number;
  sha256: string;
  image: string;
  /** Docker's state: running, exited, created... */
  state: string;
  /** From /healthz when running; 'unknown' when not probed or stopped. */
  health: 'healthy' | 'unhealthy' | 'unknown';
  /** The host port it serves on (127.0.0.1 unless configured otherwise). */
  host: string | null;
  port: number | null;
  createdAt: number;
}

export interface WireDeployResult {
  ok: boolean;
  /** One line for the user: what happened and, on failure, why and what was done about it. */
  message: string;
  deployment: WireDeployment | null;
  /** The deployment that serves now after a failed deploy (the previous one, restarted), if any. */
  restored: WireDeployment | null;
  checks: { name: string; passed: boolean; detail: string }[];
}

export interface WireVariantStats {
  role: 'production' | 'candidate';
  version: number;
  requests: number;
  errors: number;
  meanLatencyMs: number | null;
}

export interface WireGrayStatus {
  deployment: string;
  candidatePercent: number;
  routerPort: number | null;
  variants: WireVariantStats[];
  /** Plain words: which test, the p-values and sample sizes, and the verdict ("not enough data" below the minimum). */
  verdict: string;
  significant: boolean | null;
}

/** Which engine: `unix:///path/docker.sock`, `tcp://host:port`; absent: DOCKER_HOST, else the default socket. */
interface OnEngine {
  dockerHost?: string;
  /** bridge (default: the port published on 127.0.0.1) or host (the server itself listens on 127.0.0.1; for engines without a bridge). */
  network?: 'bridge' | 'host';
}

export interface ReleaseRequests {
  'release/push': { params: { ref: string; target: string; plainHttp?: boolean; credentials?: RegistryCredentials; workspace: string }; result: WirePushResult };
  'deploy/list': { params: OnEngine; result: { engine: { reachable: boolean; host: string; error: string | null }; deployments: WireDeployment[] } };
  'deploy/start': { params: OnEngine & { ref: string; port?: number; baseImage?: string; memory?: string; cpus?: number; workspace: string }; result: WireDeployResult };
  'deploy/rollback': { params: OnEngine & { deployment: string; workspace: string }; result: WireDeployResult };
  'deploy/remove': { params: OnEngine & { deployment: string; workspace: string }; result: null };
  /** With follow, the request stays open and the lines arrive as deploy/logChunk notifications until the container stops or the request is cancelled. */
  'deploy/logs': { params: OnEngine & { containerId: string; tail?: number; follow?: boolean }; result: { text: string } };
  'deploy/metrics': { params: OnEngine & { containerId: string }; result: { url: string; text: string } };
  'deploy/grayStart': { params: OnEngine & { ref: string; deployment: string; candidatePercent: number; port?: number; baseImage?: string; memory?: string; cpus?: number; workspace: string }; result: WireGrayStatus };
  'deploy/grayStatus': { params: OnEngine & { deployment: string }; result: WireGrayStatus };
  'deploy/promote': { params: OnEngine & { deployment: string; workspace: string }; result: WireDeployResult };
  'deploy/grayAbort': { params: OnEngine & { deployment: string; workspace: string }; result: null };
}
