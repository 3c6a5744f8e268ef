// WWW-Authenticate challenges as registries send them, and credentials read
// from Docker config files as `docker login` writes them.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseChallenges } from '../../../src/core/oci/challenge';
import { dockerConfigCredentials } from '../../../src/core/oci/dockerConfig';
import { makeTempDir } from '../../support/fixtures';

test('Bearer and Basic challenges, quoted values with commas and escapes', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/face:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/face:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry \\"Realm\\""'), [{ scheme: 'basic', params: { realm: 'Registry "Realm"' } }]);
  assert.deepEqual(
    parseChallenges('Basic realm=x, Bearer realm="https://t/token",error="insufficient_scope"').map((c) => [c.scheme, c.params]),
    [['basic', { realm: 'x' }], ['bearer', { realm: 'https://t/token', error: 'insufficient_scope' }]],
  );
  assert.deepEqual(parseChallenges(''), []);
});

function config(content: unknown): NodeJS.ProcessEnv {
  const dir = makeTempDir('runlens-docker-config-unit-');
  fs.writeFileSync(path.join(dir, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return { DOCKER_CONFIG: dir, PATH: '/nonexistent' };
}

test('auths entries match by host whatever URL form the key has; identity tokens and Docker Hub', async () => {
  const env = config({
    auths: {
      'https://registry.example.com/v1/': { auth: Buffer.from('ada:pa:ss').toString('base64') },
      'ghcr.io': { identitytoken: 'refresh-xyz' },
      'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
    },
  });
  const source = dockerConfigCredentials({ env });
  assert.deepEqual(await source.lookup('registry.example.com'), { kind: 'basic', username: 'ada', password: 'pa:ss' });
  assert.deepEqual(await source.lookup('ghcr.io'), { kind: 'identity-token', token: 'refresh-xyz' });
  assert.deepEqual(await source.lookup('docker.io'), { kind: 'basic', username: 'hub', password: 'pw' });
  assert.equal(await source.lookup('other.example.com'), null);
});

test('no config is no credentials; a broken one or a missing helper is an error naming the file', async () => {
  assert.equal(await dockerConfigCredentials({ env: { DOCKER_CONFIG: makeTempDir('runlens-docker-none-') } }).lookup('ghcr.io'), null);
  const broken = config('{ not json');
  await assert.rejects(dockerConfigCredentials({ env: broken }).lookup('ghcr.io'), (e: Error) => e.message.includes(path.join(broken.DOCKER_CONFIG!, 'config.json')) && /is not valid JSON/.test(e.message));
  await assert.rejects(dockerConfigCredentials({ env: config({ credHelpers: { 'ghcr.io': 'gone' } }) }).lookup('ghcr.io'), /names the credential helper "gone", but docker-credential-gone is not on PATH/);
});
