// Pushing a registered model version: the release gate first (approved, file
// unchanged since registration), then the artifact upload, and every attempt
// — refused, failed or succeeded — recorded as a 'release' audit entry with
// its target and digest. A first successful push moves approved → pushed.
import { describeError, UserError } from '../errors';
import type { Actor } from '../registry/identity';
import { assertFileMatchesRegistration, assertReleasable, recordRelease } from '../registry/release';
import type { ModelVersion, RegistryStore } from '../registry/types';
import { buildModelArtifact } from './artifact';
import { explicitCredentials, type CredentialSource, type RegistryCredentials } from './credentials';
import { dockerConfigCredentials } from './dockerConfig';
import { pushArtifact, type PushProgress } from './push';
import { pullArtifact, type PullResult } from './pull';
import { formatReference, parseOciReference } from './reference';
import { RegistrySession } from './session';

export interface PushVersionRequest {
  registry: RegistryStore;
  version: ModelVersion;
  /** `REGISTRY/REPO[:TAG]`; the tag defaults to `v<version>`. */
  target: string;
  /** Explicit credentials (from SecretStorage or --password-stdin); without them the Docker config is used. */
  credentials?: RegistryCredentials | null;
  /** Where credentials come from when none are given; defaults to the user's Docker config. */
  credentialSource?: CredentialSource;
  plainHttp?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: PushProgress) => void;
  actor: Actor;
  /** Tuning, mainly for tests: chunk size, attempts per blob, first retry pause. */
  transfer?: { chunkSize?: number; maxAttempts?: number; retryDelayMs?: number; requestTimeoutMs?: number };
  now?: () => number;
}

export interface PushVersionResult {
  digest: string;
  /** `registry/repo:tag` as pushed. */
  target: string;
  /** `registry/repo@sha256:...`: what deploys and pulls should name. */
  reference: string;
  /** Manifest plus blobs, bytes. */
  size: number;
  layers: { mediaType: string; digest: string; size: number; title: string | null }[];
  uploaded: string[];
  skipped: string[];
  /** The version as stored after the push (state pushed after the first one). */
  version: ModelVersion;
}

function credentialSourceFor(request: Pick<PushVersionRequest, 'credentials' | 'credentialSource'>): CredentialSource {
  if (request.credentials) return explicitCredentials(request.credentials);
  return request.credentialSource ?? dockerConfigCredentials();
}

export async function pushApprovedVersion(request: PushVersionRequest): Promise<PushVersionResult> {
  const { registry, actor } = request;
  let version = request.version;
  const ref = parseOciReference(request.target, { defaultTag: `v${version.version}` });
  if (ref.digest) throw new UserError('bad-argument', `push --to ${request.target}: name a tag, not a digest (the digest is the result of the push)`);
  const target = formatReference(ref, { tag: ref.tag });
  const record = { now: request.now, actor };

  try {
    assertReleasable(version, 'push');
    await assertFileMatchesRegistration(version);
  } catch (e) {
    recordRelease(registry, version, { action: 'push', outcome: 'refused', target, error: describeError(e) }, record);
    throw e;
  }

  const artifact = buildModelArtifact(registry, version);
  const session = new RegistrySession({ target: ref, credentials: credentialSourceFor(request), plainHttp: request.plainHttp, requestTimeoutMs: request.transfer?.requestTimeoutMs });
  const retries: string[] = [];
  try {
    const pushed = await pushArtifact(session, artifact, {
      tag: ref.tag!,
      signal: request.signal,
      onProgress: request.onProgress,
      chunkSize: request.transfer?.chunkSize,
      maxAttempts: request.transfer?.maxAttempts,
      retryDelayMs: request.transfer?.retryDelayMs,
      onRetry: (blob, attempt, error) => retries.push(`${blob} attempt ${attempt}: ${error.message}`),
    });
    const reference = formatReference(ref, { digest: pushed.digest });
    version = recordRelease(
      registry,
      version,
      { action: 'push', outcome: 'succeeded', target, digest: pushed.digest, details: { reference, size: artifact.size, uploaded: pushed.uploaded, skipped: pushed.skipped, retries } },
      record,
    );
    return {
      digest: pushed.digest,
      target,
      reference,
      size: artifact.size,
      layers: artifact.manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, title: l.annotations?.['org.opencontainers.image.title'] ?? null })),
      uploaded: pushed.uploaded,
      skipped: pushed.skipped,
      version,
    };
  } catch (e) {
    recordRelease(registry, version, { action: 'push', outcome: 'failed', target, digest: artifact.digest, error: describeError(e), details: { retries } }, record);
    throw e;
  }
}

export interface PullRequest {
  /** `REGISTRY/REPO:TAG` or `REGISTRY/REPO@sha256:...`. */
  reference: string;
  outDir: string;
  expectedDigest?: string | null;
  credentials?: RegistryCredentials | null;
  credentialSource?: CredentialSource;
  plainHttp?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export async function pullModelArtifact(request: PullRequest): Promise<PullResult & { reference: string }> {
  const ref = parseOciReference(request.reference, { defaultTag: null });
  const session = new RegistrySession({ target: ref, credentials: credentialSourceFor(request), plainHttp: request.plainHttp });
  const result = await pullArtifact(session, ref, { outDir: request.outDir, expectedDigest: request.expectedDigest, signal: request.signal, onProgress: request.onProgress });
  return { ...result, reference: formatReference(ref, { digest: result.digest }) };
}
