// `REGISTRY/REPO[:TAG][@DIGEST]`, the way people write where an artifact goes.
// The registry part is always explicit: an artifact pushed by mistake to
// Docker Hub because a host name was left out is not recoverable.
import { UserError } from '../errors';

export interface OciReference {
  /** host[:port] as written (what credentials and messages are keyed on). */
  registry: string;
  /** Where the distribution API answers: docker.io is served by registry-1.docker.io. */
  apiHost: string;
  repository: string;
  tag: string | null;
  digest: string | null;
}

// The distribution spec's grammar for repository path components and tags.
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Whether a digest has the only form RunLens writes and checks (sha256, lowercase hex). */
export function isSha256Digest(text: string): boolean {
  return DIGEST.test(text);
}

/**
 * Parses a reference; `defaultTag` fills in a missing tag (push names the tag
 * after the version) and may be null where a digest alone is fine (pull).
 */
export function parseOciReference(text: string, options: { defaultTag: string | null }): OciReference {
  const input = text.trim();
  const slash = input.indexOf('/');
  if (slash <= 0) throw new UserError('bad-argument', `"${text}" names no registry: write REGISTRY/REPOSITORY[:TAG], e.g. 127.0.0.1:5000/models/face:v3 or ghcr.io/team/face`);
  const registry = input.slice(0, slash);
  if (!looksLikeRegistryHost(registry)) {
    throw new UserError('bad-argument', `"${text}": "${registry}" is not a registry host (it needs a dot, a port, or to be localhost): write REGISTRY/REPOSITORY[:TAG], e.g. docker.io/${input}`);
  }
  let rest = input.slice(slash + 1);
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isSha256Digest(digest)) throw new UserError('bad-argument', `"${text}": the digest must be sha256: followed by 64 lowercase hex digits`);
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new UserError('bad-argument', `"${text}": tag "${tag}" is not valid (letters, digits, _ . -; at most 128; not starting with . or -)`);
  }
  let repository = rest;
  const dockerHub = registry === 'docker.io' || registry === 'index.docker.io';
  if (dockerHub && repository && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) {
    throw new UserError('bad-argument', `"${text}": repository "${repository}" is not valid (lowercase letters, digits and . _ - separated by /)`);
  }
  if (!tag && !digest) tag = options.defaultTag;
  if (!tag && !digest) throw new UserError('bad-argument', `"${text}" names neither a tag nor a digest: add :TAG or @sha256:...`);
  return { registry, apiHost: dockerHub ? 'registry-1.docker.io' : registry, repository, tag, digest };
}

function looksLikeRegistryHost(part: string): boolean {
  return part === 'localhost' || part.includes('.') || part.includes(':') || part.startsWith('[');
}

/** The host without its port, IPv6 brackets removed. */
export function hostName(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

export function isLoopbackHost(registry: string): boolean {
  const host = hostName(registry).toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The API's base URL. Plain HTTP only where nothing crosses the network
 * (loopback), or when the user asked for it; credentials would otherwise
 * travel in the clear.
 */
export function registryBaseUrl(ref: Pick<OciReference, 'apiHost'>, plainHttp = false): string {
  return `${plainHttp || isLoopbackHost(ref.apiHost) ? 'http' : 'https'}://${ref.apiHost}`;
}

/** `registry/repo:tag` (or `@digest`), as shown to people and recorded in the audit log. */
export function formatReference(ref: Pick<OciReference, 'registry' | 'repository'>, at: { tag?: string | null; digest?: string | null }): string {
  const base = `${ref.registry}/${ref.repository}`;
  if (at.digest) return `${base}@${at.digest}`;
  return at.tag ? `${base}:${at.tag}` : base;
}
