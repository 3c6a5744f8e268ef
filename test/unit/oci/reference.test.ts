// Where an artifact goes, as people write it: registry, repository, tag,
// digest; HTTPS except on loopback; the registry never guessed.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { formatReference, isLoopbackHost, parseOciReference, registryBaseUrl } from '../../../src/core/oci/reference';

test('host:port, nested repositories, tags, digests and the default tag', () => {
  assert.deepEqual(parseOciReference('127.0.0.1:5000/models/face', { defaultTag: 'v3' }), { registry: '127.0.0.1:5000', apiHost: '127.0.0.1:5000', repository: 'models/face', tag: 'v3', digest: null });
  assert.equal(parseOciReference('ghcr.io/team/face:prod-1', { defaultTag: 'v3' }).tag, 'prod-1');
  const digest = `sha256:${'a'.repeat(64)}`;
  const pinned = parseOciReference(`localhost:5000/face@${digest}`, { defaultTag: null });
  assert.deepEqual([pinned.tag, pinned.digest], [null, digest]);
  assert.deepEqual(parseOciReference('docker.io/face', { defaultTag: 'v1' }), { registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'library/face', tag: 'v1', digest: null });
  assert.equal(formatReference(pinned, { digest }), `localhost:5000/face@${digest}`);
  assert.equal(formatReference(pinned, { tag: 'v2' }), 'localhost:5000/face:v2');
});

test('a missing registry, bad repository, tag or digest is refused with the form to write', () => {
  assert.throws(() => parseOciReference('face', { defaultTag: 'v1' }), /names no registry: write REGISTRY\/REPOSITORY\[:TAG\]/);
  assert.throws(() => parseOciReference('team/face', { defaultTag: 'v1' }), /"team" is not a registry host/);
  assert.throws(() => parseOciReference('ghcr.io/Team/Face', { defaultTag: 'v1' }), /repository "Team\/Face" is not valid/);
  assert.throws(() => parseOciReference('ghcr.io/face:-bad', { defaultTag: 'v1' }), /tag "-bad" is not valid/);
  assert.throws(() => parseOciReference('ghcr.io/face@sha256:abc', { defaultTag: null }), /the digest must be sha256:/);
  assert.throws(() => parseOciReference('ghcr.io/face', { defaultTag: null }), /names neither a tag nor a digest/);
});

test('plain HTTP only on loopback or when asked', () => {
  for (const host of ['localhost:5000', '127.0.0.1:5000', '127.3.2.1', '[::1]:5000']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['10.0.0.1:5000', 'ghcr.io', '127.example.com']) assert.ok(!isLoopbackHost(host), host);
  assert.equal(registryBaseUrl({ apiHost: '127.0.0.1:5000' }), 'http://127.0.0.1:5000');
  assert.equal(registryBaseUrl({ apiHost: 'ghcr.io' }), 'https://ghcr.io');
  assert.equal(registryBaseUrl({ apiHost: 'registry.lan:5000' }, true), 'http://registry.lan:5000');
});
