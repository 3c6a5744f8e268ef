// The release gate and its audit: only approved versions whose file still has
// the approved bytes may leave; every attempt is an audit entry; the first
// successful push/deploy moves the state, later ones only add entries.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { verifyStore } from '../../../src/core/registry/audit';
import { hashFile } from '../../../src/core/registry/fingerprint';
import type { Actor } from '../../../src/core/registry/identity';

import { assertFileMatchesRegistration, assertReleasable, recordRelease } from '../../../src/core/registry/release';
import type { ModelVersion, RegistryStore } from '../../../src/core/registry/types';
import { makeTempDir } from '../../support/fixtures';
import { openStore } from '../../../src/core/database/open';

const tmp = makeTempDir('runlens-release-');
const ada: Actor = { display: 'Ada <ada@example.com>', name: 'Ada', email: 'ada@example.com', source: 'git' };

async function registerFile(registry: RegistryStore, name: string, bytes: string): Promise<ModelVersion> {
  const file = path.join(tmp, `${name}-${bytes.length}.onnx`);
  fs.writeFileSync(file, bytes);
  const { sha256, size } = await hashFile(file);
  return registry.registerVersion(
    { name, filePath: file, sha256, size, description: null, runUid: null, run: null, runInference: { how: 'none', note: 'test' }, git: { present: false, reason: 'test' }, datasets: [] },
    Date.now(),
    ada.display,
    (v) => [{ kind: 'register', model: v.name, version: v.version, payload: { versionId: v.id, filePath: v.filePath, sha256: v.sha256, size: v.size } }],
  );
}

function approve(registry: RegistryStore, v: ModelVersion): ModelVersion {
  return registry.transition({
    versionId: v.id,
    to: 'approved',
    at: Date.now(),
    actor: ada.display,
    decision: { decision: 'approved', reason: 'ok', overridden: false, evaluation: { pass: true } },
    events: ({ before, decisionId }) => [{ kind: 'approve', model: before.name, version: before.version, payload: { versionId: before.id, decisionId, from: before.state, to: 'approved', reason: 'ok', overridden: false, evaluation: { pass: true } } }],
  }).version;
}

test('a pending version is refused with the rule that failed and how to pass it', async () => {
  const registry = openStore(path.join(tmp, 'gate.db')).registry;
  try {
    const v = await registerFile(registry, 'gate', 'abc');
    assert.throws(
      () => assertReleasable(v, 'push'),
      (e: Error) => isUserError(e) && /gate@1 cannot be pushed: rule "approved versions only" failed: it is pending; approve it first \(runlens model approve gate@1/.test(e.message),
    );
    assertReleasable(approve(registry, v), 'deploy');
  } finally {
    registry.close();
  }
});

test('a file changed after registration is refused, naming the file and both digests', async () => {
  const registry = openStore(path.join(tmp, 'bytes.db')).registry;
  try {
    const v = await registerFile(registry, 'bytes', 'approved bytes');
    await assertFileMatchesRegistration(v);
    fs.writeFileSync(v.filePath, 'retrained bytes');
    await assert.rejects(assertFileMatchesRegistration(v), (e: Error) => e.message.includes(v.filePath) && /changed since it was registered/.test(e.message) && e.message.includes(v.sha256.slice(0, 12)));
    fs.rmSync(v.filePath);
    await assert.rejects(assertFileMatchesRegistration(v), /cannot be read/);
  } finally {
    registry.close();
  }
});

test('first push moves approved → pushed, a second push and a failed deploy only add entries, a deploy moves to deployed', async () => {
  const registry = openStore(path.join(tmp, 'flow.db')).registry;
  try {
    const v = approve(registry, await registerFile(registry, 'flow', 'model'));
    const pushed = recordRelease(registry, v, { action: 'push', outcome: 'succeeded', target: '127.0.0.1:5000/flow:v1', digest: 'sha256:' + 'd'.repeat(64) }, { actor: ada });
    assert.equal(pushed.state, 'pushed');
    assert.equal(recordRelease(registry, pushed, { action: 'push', outcome: 'succeeded', target: '127.0.0.1:5001/flow:v1', digest: 'sha256:' + 'd'.repeat(64) }, { actor: ada }).state, 'pushed');
    const failed = recordRelease(registry, pushed, { action: 'deploy', outcome: 'failed', target: 'engine/flow', error: 'health check failed' }, { actor: ada });
    assert.equal(failed.state, 'pushed', 'a failed deployment changes no state');
    assert.equal(recordRelease(registry, failed, { action: 'deploy', outcome: 'succeeded', target: 'engine/flow' }, { actor: ada }).state, 'deployed');
    const kinds = registry.readAudit().map((e) => [e.kind, (JSON.parse(e.payload) as { action?: string; outcome?: string }).outcome ?? null]);
    assert.deepEqual(kinds, [
      ['register', null],
      ['approve', null],
      ['push', null],
      ['release', 'succeeded'],
      ['release', 'succeeded'],
      ['release', 'failed'],
      ['deploy', null],
      ['release', 'succeeded'],
    ]);
    const verified = verifyStore(registry);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  } finally {
    registry.close();
  }
});

test('an approved version deploys without a push', async () => {
  const registry = openStore(path.join(tmp, 'direct.db')).registry;
  try {
    const v = approve(registry, await registerFile(registry, 'direct', 'model'));
    assert.equal(recordRelease(registry, v, { action: 'deploy', outcome: 'succeeded', target: 'engine/direct' }, { actor: ada }).state, 'deployed');
    assert.equal(verifyStore(registry).ok, true);
  } finally {
    registry.close();
  }
});
