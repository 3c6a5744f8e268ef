// The OCI artifact a model version is pushed as: an image manifest with an
// artifactType of RunLens' own, the empty config, and three layers — the
// model file, a model card (lineage and approval) and the latest smoke-test
// report — with OCI annotations for source run, git commit and approver.
//
// The bytes depend only on what the registry recorded (creation time is the
// approval time, JSON is canonical), so pushing the same version twice, or to
// two registries, gives the same digest: the digest pins the version.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { canonicalJson } from '../registry/canonicalJson';
import type { Decision, ModelVersion, RegistryStore, StoredSmokeReport } from '../registry/types';
import { refOf } from '../registry/versions';
import { bufferBlob, fileBlob, type BlobSource } from './blobSource';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const MODEL_ARTIFACT_TYPE = 'application/vnd.runlens.model.v1+json';
export const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const MODEL_FILE_MEDIA_TYPE = 'application/vnd.runlens.model.file.v1';
export const MODEL_CARD_MEDIA_TYPE = 'application/vnd.runlens.model.card.v1+json';
export const SMOKE_REPORT_MEDIA_TYPE = 'application/vnd.runlens.smoke-report.v1+json';
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
export const MODEL_CARD_FILE = 'model-card.json';
export const SMOKE_REPORT_FILE = 'smoke-report.json';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
}

export interface ModelArtifact {
  manifest: OciManifest;
  /** The exact bytes PUT to the registry; their sha256 is the digest. */
  manifestBytes: Buffer;
  digest: string;
  /** Every blob the manifest refers to, the model file first (the one worth uploading before the small ones). */
  blobs: BlobSource[];
  /** Manifest plus blobs, bytes. */
  size: number;
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

/** The approval that let the version go: the latest 'approved' decision. */
export function approvalOf(registry: RegistryStore, version: ModelVersion): Decision | null {
  return registry.listDecisions(version.id).filter((d) => d.decision === 'approved').at(-1) ?? null;
}

export function buildModelCard(version: ModelVersion, approval: Decision | null, smoke: StoredSmokeReport | null): Record<string, unknown> {
  return {
    schema: 'runlens.model-card/v1',
    name: version.name,
    version: version.version,
    ref: refOf(version),
    file: { name: path.basename(version.filePath), sha256: version.sha256, size: version.size },
    description: version.description,
    registered: { at: new Date(version.registeredAt).toISOString(), by: version.registeredBy },
    sourceRun: version.run,
    runInference: version.runInference,
    git: version.git,
    datasets: version.datasets,
    approval: approval
      ? { by: approval.actor, at: new Date(approval.decidedAt).toISOString(), reason: approval.reason, overridden: approval.overridden, evaluation: approval.evaluation }
      : null,
    smokeTest: smoke ? { file: SMOKE_REPORT_FILE, ep: smoke.ep, ranAt: new Date(smoke.ranAt).toISOString(), passed: smoke.passed, sha256: smoke.sha256 } : null,
  };
}

export function buildModelArtifact(registry: RegistryStore, version: ModelVersion): ModelArtifact {
  const approval = approvalOf(registry, version);
  const smoke = registry.listSmokeReports(version.id).at(-1) ?? null;
  const fileName = path.basename(version.filePath);
  const modelDigest = `sha256:${version.sha256}`;

  const card = Buffer.from(canonicalJson(buildModelCard(version, approval, smoke)));
  const blobs: BlobSource[] = [fileBlob(modelDigest, version.size, version.filePath, fileName), bufferBlob(sha256Digest(card), card, MODEL_CARD_FILE)];
  const layers: Descriptor[] = [
    { mediaType: MODEL_FILE_MEDIA_TYPE, digest: modelDigest, size: version.size, annotations: { [TITLE_ANNOTATION]: fileName } },
    { mediaType: MODEL_CARD_MEDIA_TYPE, digest: blobs[1].digest, size: card.length, annotations: { [TITLE_ANNOTATION]: MODEL_CARD_FILE } },
  ];
  if (smoke) {
    // The same canonical text the registry stored and the approval's audit entry hashed: this layer's digest is that sha256.
    const report = Buffer.from(canonicalJson(smoke.report));
    const blob = bufferBlob(sha256Digest(report), report, SMOKE_REPORT_FILE);
    blobs.push(blob);
    layers.push({ mediaType: SMOKE_REPORT_MEDIA_TYPE, digest: blob.digest, size: report.length, annotations: { [TITLE_ANNOTATION]: SMOKE_REPORT_FILE } });
  }
  const empty = Buffer.from('{}');
  const config: Descriptor = { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: sha256Digest(empty), size: empty.length };
  blobs.push(bufferBlob(config.digest, empty, 'empty config'));

  const annotations: Record<string, string> = {
    'org.opencontainers.image.created': new Date(approval?.decidedAt ?? version.registeredAt).toISOString(),
    'org.opencontainers.image.title': `${version.name} v${version.version}`,
    ...(version.git.present && version.git.commit ? { 'org.opencontainers.image.revision': version.git.commit } : {}),
    ...(version.description ? { 'org.opencontainers.image.description': version.description } : {}),
    'io.runlens.model.name': version.name,
    'io.runlens.model.version': String(version.version),
    'io.runlens.model.sha256': version.sha256,
    ...(version.run ? { 'io.runlens.source-run': `${version.run.uid} (${version.run.name}, ${version.run.format})` } : {}),
    ...(approval ? { 'io.runlens.approved-by': approval.actor, 'io.runlens.approved-at': new Date(approval.decidedAt).toISOString() } : {}),
  };
  const manifest: OciManifest = { schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, artifactType: MODEL_ARTIFACT_TYPE, config, layers, annotations };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    blobs,
    size: manifestBytes.length + blobs.reduce((sum, b) => sum + b.size, 0),
  };
}
