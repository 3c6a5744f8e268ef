// The labels RunLens puts on serving images and containers. The engine is
// the only record of what runs where: listing deployments reads these back,
// so nothing about a deployment needs to be kept anywhere else.
export const LABELS = {
  /** Marks everything RunLens created on an engine. */
  managed: 'io.runlens.managed',
  deployment: 'io.runlens.deployment',
  /** 'serving' (production and the versions kept for rollback), 'candidate' or 'router' (gray release). */
  role: 'io.runlens.role',
  modelName: 'io.runlens.model.name',
  modelVersion: 'io.runlens.model.version',
  modelSha256: 'io.runlens.model.sha256',
  artifactDigest: 'io.runlens.artifact.digest',
  /** The host port the server answers on. */
  port: 'io.runlens.port',
  /** Epoch ms: orders a deployment's containers (newest = current). */
  createdAt: 'io.runlens.created-at',
  network: 'io.runlens.network',
  /** Gray release: the candidate's share of traffic in percent (on the router). */
  weight: 'io.runlens.weight',
} as const;

export type DeploymentRole = 'serving' | 'candidate' | 'router';
