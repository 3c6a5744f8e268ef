// Uploads an artifact's blobs, then writes the tag. The tag (the manifest
// PUT) comes last and only once every blob is verified present with its size,
// so an interrupted or cancelled push leaves no tag pointing at missing data.
// A blob upload cut midway starts over in a fresh upload session, a bounded
// number of times with growing pauses.
import type { ModelArtifact } from './artifact';
import { MANIFEST_MEDIA_TYPE } from './artifact';
import type { BlobSource } from './blobSource';
import { blobExists, DEFAULT_CHUNK_SIZE, ping, putManifest, uploadBlob } from './distribution';
import { isRegistryError, RegistryError } from './errors';
import type { RegistrySession } from './session';

export interface PushProgress {
  phase: 'connecting' | 'uploading' | 'verifying' | 'tagging';
  /** The blob being uploaded (its file name). */
  blob?: string;
  bytesDone: number;
  bytesTotal: number;
  message: string;
}

export interface PushOptions {
  tag: string;
  signal?: AbortSignal;
  onProgress?: (progress: PushProgress) => void;
  chunkSize?: number;
  /** Upload attempts per blob (first try included). */
  maxAttempts?: number;
  /** Pause before the second attempt; doubled for each further one. */
  retryDelayMs?: number;
  /** Called when an attempt failed and another follows (for logs). */
  onRetry?: (blob: string, attempt: number, error: Error) => void;
}

export interface PushResult {
  digest: string;
  /** Blobs the registry already had (not uploaded again). */
  skipped: string[];
  uploaded: string[];
}

export async function pushArtifact(session: RegistrySession, artifact: ModelArtifact, options: PushOptions): Promise<PushResult> {
  const total = artifact.blobs.reduce((sum, b) => sum + b.size, 0);
  let done = 0;
  const report = (phase: PushProgress['phase'], message: string, blob?: string, extra = 0) =>
    options.onProgress?.({ phase, blob, bytesDone: done + extra, bytesTotal: total, message });

  report('connecting', `connecting to ${session.registry}`);
  await ping(session, 'push', options.signal);

  const skipped: string[] = [];
  const uploaded: string[] = [];
  for (const blob of artifact.blobs) {
    const present = await blobExists(session, blob.digest, options.signal);
    if (present.exists) {
      skipped.push(blob.label);
    } else {
      await uploadWithRetries(session, blob, options, (sent) => report('uploading', `uploading ${blob.label}`, blob.label, sent));
      uploaded.push(blob.label);
    }
    done += blob.size;
    report('uploading', present.exists ? `${blob.label} already in the registry` : `uploaded ${blob.label}`, blob.label);
  }

  report('verifying', 'verifying every blob is in the registry');
  for (const blob of artifact.blobs) {
    const present = await blobExists(session, blob.digest, options.signal);
    if (!present.exists || (present.size !== null && present.size !== blob.size)) {
      throw new RegistryError('protocol', `${session.where}: ${blob.label} (${blob.digest}) is ${present.exists ? `${present.size} bytes, not ${blob.size},` : 'missing'} after its upload — nothing was tagged; push again`);
    }
  }

  if (options.signal?.aborted) throw session.cancelled();
  report('tagging', `tagging ${options.tag}`);
  const answered = await putManifest(session, options.tag, artifact.manifestBytes, MANIFEST_MEDIA_TYPE, options.signal);
  if (answered && answered !== artifact.digest) {
    throw new RegistryError('digest-mismatch', `${session.where}: the registry stored the manifest under ${answered}, not its sha256 ${artifact.digest} — it may rewrite manifests; the tag ${options.tag} points at ${answered}`);
  }
  return { digest: artifact.digest, skipped, uploaded };
}

async function uploadWithRetries(session: RegistrySession, blob: BlobSource, options: PushOptions, onBytes: (sent: number) => void): Promise<void> {
  const attempts = Math.max(1, options.maxAttempts ?? 3);
  const firstDelay = options.retryDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await uploadBlob(session, blob, { chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE, signal: options.signal, onBytes });
      return;
    } catch (e) {
      const retriable = isRegistryError(e, 'interrupted') || isRegistryError(e, 'unreachable') || (isRegistryError(e, 'protocol') && /answered 5\d\d/.test(e.message));
      if (!retriable) throw e;
      if (attempt >= attempts) {
        throw new RegistryError(
          'interrupted',
          `${session.where}: the upload of ${blob.label} (${blob.size} bytes) failed ${attempts} time(s); the last attempt: ${(e as Error).message} — nothing was tagged; check the connection to the registry and push again`,
        );
      }
      options.onRetry?.(blob.label, attempt, e as Error);
      await pause(firstDelay * 2 ** (attempt - 1), options.signal);
      if (options.signal?.aborted) throw session.cancelled();
    }
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
