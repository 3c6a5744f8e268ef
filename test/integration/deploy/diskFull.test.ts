// An engine whose disk fills up: a private dockerd whose data root is a small
// tmpfs. v1 is deployed while there is room; then the tmpfs is filled (a
// file of our own in it) and deploying v2 fails while its build context is
// written there: the message says the engine ran out of space and what to
// do, v1 keeps serving, and the audit log records the failure.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { deploy, type DeployContext } from '../../../src/core/deploy/deploy';
import { dockerUnavailableReason, startTestEngine, type TestEngine } from '../../support/dockerEngine';
import { deployer, freePort, openTestRegistry, releaseOf, sameNetworkOtherBytes, type TestRegistry } from './helpers';

const skip = dockerUnavailableReason();
let engine: TestEngine;
let reg: TestRegistry;

before(async () => {
  if (skip) return;
  // Room for the local base image (~105 MB: node and its libraries) and one serving image (~50 MB: onnxruntime and the model).
  engine = await startTestEngine({ tmpfsSize: '400m' });
  reg = openTestRegistry('runlens-deploy-full-');
});

after(async () => {
  reg?.close();
  await engine?.stop();
});

test('disk full on the engine: a clear message, the previous deployment keeps serving, the failure is audited', { skip: skip ?? false }, async () => {
  const ctx: DeployContext = { engine, registry: reg.registry, actor: deployer };
  const port = await freePort();
  const options = { baseImage: 'local', network: 'host' as const, port };
  const v1 = reg.approve(await reg.register('tiny', 'ppocr_mobile_v2_cls.onnx'));
  const v2 = reg.approve(await reg.register('tiny', sameNetworkOtherBytes('ppocr_mobile_v2_cls.onnx', 'tiny v2')));
  await deploy(ctx, v1, options);

  // Leave less than a megabyte: the next build context (~47 MB) cannot be stored.
  const filler = path.join(engine.dataRoot, 'filler');
  const { bavail, bsize } = fs.statfsSync(engine.dataRoot);
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (let left = bavail * bsize - (1 << 19); left > 0; left -= chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }

  const seq = reg.head();
  await assert.rejects(deploy(ctx, v2, options), (e: Error) => {
    assert.match(e.message, /ran out of disk space building runlens\/tiny:v2 \(.*no space left on device.*\); free space \(docker system prune\) and retry/i);
    return true;
  });
  const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { version: string }).version, '1', 'v1 still serves');
  const [entry] = reg.releases(seq).map(releaseOf);
  assert.deepEqual([entry.action, entry.outcome], ['deploy', 'failed']);
  assert.match(entry.error ?? '', /no space left on device/i);
  fs.rmSync(filler);
});
