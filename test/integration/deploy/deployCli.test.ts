// `runlens deploy` and `runlens deployments` as users run them: the real CLI
// (dist/agent.js) against a private engine, with progress on stderr and
// results on stdout.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { agentScript } from '../../support/agentProcess';
import { dockerUnavailableReason, startTestEngine, type TestEngine } from '../../support/dockerEngine';
import { freePort, openTestRegistry, type TestRegistry } from './helpers';

const skip = dockerUnavailableReason();
let engine: TestEngine;
let reg: TestRegistry;

before(async () => {
  if (skip) return;
  engine = await startTestEngine();
  reg = openTestRegistry('runlens-deploy-cli-');
});

after(async () => {
  reg?.close();
  await engine?.stop();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [agentScript, ...args, '--db', path.join(reg.dir, 'runlens.db'), '--docker-host', engine.address], { cwd: reg.dir, env: { ...process.env, DOCKER_HOST: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('deploy, list, metrics, stop through the CLI; a pending version exits 1 naming the rule', { skip: skip ?? false }, async () => {
  const pending = await reg.register('cli-model', 'ppocr_mobile_v2_cls.onnx');
  const refused = await cli(['deploy', 'cli-model@1', '--base-image', 'local', '--network', 'host']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cli-model@1 cannot be deployed: rule "approved versions only" failed/);
  reg.approve(pending);

  const port = await freePort();
  const deployed = await cli(['deploy', 'cli-model@1', '--base-image', 'local', '--network', 'host', '--port', String(port), '--memory', '512m']);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stderr, /\[deploy\] building runlens\/cli-model:v1 FROM runlens-base:/);
  assert.match(deployed.stdout, new RegExp(`deployed cli-model@1 as cli-model: http://127\\.0\\.0\\.1:${port}`));
  assert.match(deployed.stdout, /matches this machine's CPU run \(no golden file given\)/);

  const listed = await cli(['deployments', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const [d] = JSON.parse(listed.stdout) as { deployment: string; version: number; health: string; port: number; current: boolean }[];
  assert.deepEqual([d.deployment, d.version, d.health, d.port, d.current], ['cli-model', 1, 'healthy', port, true]);

  const metrics = await cli(['deploy', 'metrics', 'cli-model', '--json']);
  assert.equal((JSON.parse(metrics.stdout) as { requests: number }).requests, 1, 'the golden check prediction');

  const stopped = await cli(['deploy', 'stop', 'cli-model']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /cli-model: removed 1 container\(s\)/);
  assert.match((await cli(['deployments'])).stdout, /no RunLens deployments on this engine/);
  const wrong = await cli(['deploy', 'rollback']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /deploy rollback needs a DEPLOYMENT name/);
});
