// The OCI distribution API calls RunLens uses, on one repository: ping, blob
// HEAD/upload/GET, manifest PUT/GET. Each checks the status it expects and
// turns anything else into a message naming the registry and repository.
import type { BlobSource } from './blobSource';
import { RegistryError } from './errors';
import { discard, registryErrorText, type RegistrySession } from './session';

/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

async function unexpected(session: RegistrySession, res: Response, what: string): Promise<RegistryError> {
  const detail = await registryErrorText(res);
  if (res.status === 403) return new RegistryError('denied', `${session.where}: the registry denied the ${what} (403: ${detail}) — check that your account may push to this repository`);
  if (res.status === 404) return new RegistryError('not-found', `${session.where}: not found during the ${what} (404: ${detail}) — check the repository name`);
  return new RegistryError('protocol', `${session.where}: the registry answered ${res.status} to the ${what}: ${detail}`);
}

/** GET /v2/: proves the registry is there and, with push access, that the credentials are good before any upload. */
export async function ping(session: RegistrySession, access: 'pull' | 'push', signal?: AbortSignal): Promise<void> {
  const res = await session.request('GET', '/v2/', { access, signal, what: 'API check (GET /v2/)' });
  if (!res.ok) throw await unexpected(session, res, 'API check (GET /v2/)');
  await discard(res);
}

export async function blobExists(session: RegistrySession, digest: string, signal?: AbortSignal): Promise<{ exists: boolean; size: number | null }> {
  const res = await session.request('HEAD', `/v2/${session.repository}/blobs/${digest}`, { access: 'push', signal, what: `check of blob ${digest.slice(0, 19)}` });
  await discard(res);
  if (res.status === 404) return { exists: false, size: null };
  if (!res.ok) throw await unexpected(session, res, `check of blob ${digest.slice(0, 19)}`);
  const length = res.headers.get('content-length');
  return { exists: true, size: length === null ? null : Number(length) };
}

/**
 * One upload session from POST to the final PUT. Small blobs go in the PUT;
 * large ones in PATCH chunks, each continuing at the Location and offset the
 * registry answered (its Range header), then an empty PUT with the digest.
 */
export async function uploadBlob(session: RegistrySession, blob: BlobSource, options: { chunkSize: number; signal?: AbortSignal; onBytes?: (sent: number) => void }): Promise<void> {
  const what = `upload of ${blob.label}`;
  const start = await session.request('POST', `/v2/${session.repository}/blobs/uploads/`, { access: 'push', signal: options.signal, what, headers: { 'content-length': '0' } });
  if (start.status !== 202) throw await unexpected(session, start, what);
  await discard(start);
  let location = uploadLocation(session, start, what);
  let offset = 0;
  if (blob.size > options.chunkSize) {
    while (offset < blob.size) {
      const chunk = await blob.read(offset, options.chunkSize);
      const res = await session.request('PATCH', location, {
        access: 'push',
        signal: options.signal,
        timeoutMs: null,
        what,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
        body: () => chunk,
      });
      if (res.status !== 202) throw await unexpected(session, res, what);
      await discard(res);
      location = uploadLocation(session, res, what);
      // The registry says how much it holds; continue from there, not from what we think we sent.
      const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
      offset = range ? Number(range[1]) + 1 : offset + chunk.length;
      options.onBytes?.(offset);
    }
  }
  const rest = offset < blob.size ? await blob.read(offset, blob.size - offset) : Buffer.alloc(0);
  const res = await session.request('PUT', withQuery(location, 'digest', blob.digest), {
    access: 'push',
    signal: options.signal,
    timeoutMs: rest.length ? null : undefined,
    what,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(rest.length) },
    body: () => rest,
  });
  if (res.status !== 201) {
    const error = await unexpected(session, res, what);
    if (/DIGEST_INVALID/.test(error.message)) throw new RegistryError('digest-mismatch', `${session.where}: the registry computed another digest for ${blob.label} than ${blob.digest} — the file changed during the push; nothing was tagged`);
    throw error;
  }
  await discard(res);
  options.onBytes?.(blob.size);
}

function uploadLocation(session: RegistrySession, res: Response, what: string): string {
  const location = res.headers.get('location');
  if (!location) throw new RegistryError('protocol', `${session.where}: the registry answered the ${what} without a Location for the upload`);
  return session.url(location);
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

export async function putManifest(session: RegistrySession, reference: string, manifest: Buffer, mediaType: string, signal?: AbortSignal): Promise<string | null> {
  const what = `manifest upload (${reference})`;
  const res = await session.request('PUT', `/v2/${session.repository}/manifests/${reference}`, { access: 'push', signal, what, headers: { 'content-type': mediaType }, body: () => manifest });
  if (res.status !== 201) throw await unexpected(session, res, what);
  await discard(res);
  return res.headers.get('docker-content-digest');
}

export async function getManifest(session: RegistrySession, reference: string, accept: readonly string[], signal?: AbortSignal): Promise<{ bytes: Buffer; mediaType: string | null; digestHeader: string | null }> {
  const what = `manifest download (${reference})`;
  const res = await session.request('GET', `/v2/${session.repository}/manifests/${reference}`, { access: 'pull', signal, what, headers: { accept: accept.join(', ') } });
  if (res.status === 404) {
    await discard(res);
    throw new RegistryError('not-found', `${session.where}: no manifest ${reference} — check the tag or digest (runlens model push prints the pinned reference)`);
  }
  if (!res.ok) throw await unexpected(session, res, what);
  return { bytes: Buffer.from(await res.arrayBuffer()), mediaType: res.headers.get('content-type'), digestHeader: res.headers.get('docker-content-digest') };
}

/** The blob's body as a stream; the caller verifies its digest while reading. */
export async function getBlob(session: RegistrySession, digest: string, signal?: AbortSignal): Promise<Response> {
  const what = `download of blob ${digest.slice(0, 19)}`;
  const res = await session.request('GET', `/v2/${session.repository}/blobs/${digest}`, { access: 'pull', signal, timeoutMs: null, what });
  if (!res.ok || !res.body) throw await unexpected(session, res, what);
  return res;
}
