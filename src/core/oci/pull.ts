// Fetches an artifact by tag or digest into a folder and proves it is the one
// that was pushed: the manifest's sha256 must be the digest asked for (or the
// one the caller expects), and each layer is hashed while it streams to disk;
// a layer whose bytes do not match is deleted and the pull fails.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_MEDIA_TYPE, sha256Digest, TITLE_ANNOTATION, type Descriptor, type OciManifest } from './artifact';
import { getBlob, getManifest } from './distribution';
import { RegistryError } from './errors';
import type { RegistrySession } from './session';

export interface PulledFile {
  path: string;
  digest: string;
  size: number;
  mediaType: string;
}

export interface PullResult {
  digest: string;
  manifest: OciManifest;
  files: PulledFile[];
}

export async function pullArtifact(
  session: RegistrySession,
  reference: { tag: string | null; digest: string | null },
  options: { outDir: string; expectedDigest?: string | null; signal?: AbortSignal; onProgress?: (message: string) => void },
): Promise<PullResult> {
  const wanted = reference.digest ?? reference.tag!;
  options.onProgress?.(`fetching manifest ${wanted}`);
  const { bytes } = await getManifest(session, wanted, [MANIFEST_MEDIA_TYPE], options.signal);
  const digest = sha256Digest(bytes);
  for (const expected of [reference.digest, options.expectedDigest]) {
    if (expected && expected !== digest) {
      throw new RegistryError('digest-mismatch', `${session.where}: the manifest of ${wanted} has sha256 ${digest}, not the expected ${expected} — the tag was moved or the registry returned other bytes; nothing was written`);
    }
  }
  let manifest: OciManifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as OciManifest;
  } catch {
    throw new RegistryError('protocol', `${session.where}: the manifest of ${wanted} is not JSON`);
  }
  if (!Array.isArray(manifest.layers)) throw new RegistryError('protocol', `${session.where}: the manifest of ${wanted} has no layers (is it an image index?)`);

  fs.mkdirSync(options.outDir, { recursive: true });
  const files: PulledFile[] = [];
  for (const layer of manifest.layers) {
    const name = layerFileName(layer, session);
    options.onProgress?.(`downloading ${name}`);
    files.push(await downloadLayer(session, layer, path.join(options.outDir, name), options.signal));
  }
  return { digest, manifest, files };
}

function layerFileName(layer: Descriptor, session: RegistrySession): string {
  const title = layer.annotations?.[TITLE_ANNOTATION];
  const fallback = layer.digest.replace(':', '-');
  if (!title) return fallback;
  // A title is the registry's text: never let it climb out of the output folder.
  const base = path.basename(title);
  if (base !== title || base === '.' || base === '..' || base === '') throw new RegistryError('protocol', `${session.where}: layer title "${title}" is not a plain file name; refusing to write it`);
  return base;
}

async function downloadLayer(session: RegistrySession, layer: Descriptor, file: string, signal?: AbortSignal): Promise<PulledFile> {
  const res = await getBlob(session, layer.digest, signal);
  const hash = crypto.createHash('sha256');
  let size = 0;
  const partial = `${file}.partial`;
  try {
    await pipeline(
      Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      fs.createWriteStream(partial),
      { signal },
    );
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== layer.digest || size !== layer.size) {
      throw new RegistryError('digest-mismatch', `${session.where}: layer ${path.basename(file)} arrived as ${size} bytes with ${digest}, but the manifest says ${layer.size} bytes with ${layer.digest} — not written`);
    }
    fs.renameSync(partial, file);
    return { path: file, digest, size, mediaType: layer.mediaType };
  } catch (e) {
    fs.rmSync(partial, { force: true });
    if (signal?.aborted) throw session.cancelled();
    if (e instanceof RegistryError) throw e;
    throw new RegistryError('interrupted', `${session.where}: the download of ${path.basename(file)} broke: ${(e as Error).message}`);
  }
}
