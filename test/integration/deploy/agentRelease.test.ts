// Push and deploy through the real agent process, over the same protocol the
// extension uses: a real docker-registry and a private dockerd on 127.0.0.1,
// a corpus model registered and approved in the agent's own database. Checks
// what the extension relies on: the shapes of the answers, a failed rollout
// reported as ok:false with the previous deployment restored, logs followed as
// notifications and ended by cancelling, credentials never in the agent log.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { goldenPathFor, readGolden } from '../../../src/core/models/golden';
import { encodeTensor } from '../../../src/core/deploy/tensorJson';
import { DEFAULT_SEED, materializeInputs, planInputs } from '../../../src/core/models/inputs';
import { inspectModel } from '../../../src/core/models/inspect';
import { runSmokeTest } from '../../../src/core/models/smoke';
import { agentRequests } from '../../../src/shared/protocol';
import { startAgent, type AgentHandle } from '../../support/agentProcess';
import { dockerUnavailableReason, startTestEngine, type TestEngine } from '../../support/dockerEngine';
import { startRegistry, type TestRegistry as OciRegistry } from '../../support/ociRegistry';
import { freePort, openTestRegistry, releaseOf, type TestRegistry } from './helpers';

const skip = dockerUnavailableReason();
let engine: TestEngine;
let oci: OciRegistry;
let reg: TestRegistry;
let agent: AgentHandle;
let port: number;
const workspace = process.cwd();
const t = (name: string, fn: () => Promise<void>) => test(name, { skip: skip ?? false }, fn);

before(async () => {
  if (skip) return;
  [engine, oci] = await Promise.all([startTestEngine(), startRegistry({ kind: 'basic', users: { ada: 'correct horse' } })]);
  reg = openTestRegistry('runlens-agent-release-');
  agent = startAgent(path.join(reg.dir, 'runlens.db'));
  port = await freePort();
});

after(async () => {
  await agent?.stop();
  reg?.close();
  await Promise.all([engine?.stop(), oci?.stop()]);
});

const onEngine = () => ({ dockerHost: engine.address, network: 'host' as const, workspace });

t('an unreachable engine is an answer, not an error: the view can say where it looked', async () => {
  const { engine: state, deployments } = await agent.request('deploy/list', { dockerHost: 'unix:///nonexistent/docker.sock' });
  assert.equal(state.reachable, false);
  assert.equal(state.host, 'unix:///nonexistent/docker.sock');
  assert.match(state.error ?? '', /nonexistent\/docker\.sock/);
  assert.deepEqual(deployments, []);
});

t('push with credentials from the request: pinned digest, state pushed, and the secret appears nowhere in the agent log', async () => {
  const v1 = reg.approve(await reg.register('cls', 'ppocr_mobile_v2_cls.onnx'));
  await assert.rejects(agent.request('release/push', { ref: 'cls@1', target: `${oci.host}/team/cls`, workspace, credentials: { username: 'ada', secret: 'wrong' } }), /rejected the credentials for user ada \(401\)/);
  const pushed = await agent.request('release/push', { ref: 'cls@1', target: `${oci.host}/team/cls`, workspace, credentials: { username: 'ada', secret: 'correct horse' } });
  assert.equal(pushed.reference, `${oci.host}/team/cls:v1`);
  assert.match(pushed.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(pushed.pinned, `${oci.host}/team/cls@${pushed.digest}`);
  assert.equal(pushed.version.state, 'pushed');
  const manifest = await oci.get(`/v2/team/cls/manifests/${pushed.digest}`, { Accept: 'application/vnd.oci.image.manifest.v1+json' });
  assert.equal(manifest.status, 200, 'the registry has the manifest the agent reported');
  const logs = agent.notifications.filter((n) => n.method === 'agent/log').map((n) => JSON.stringify(n.params));
  assert.ok(logs.some((l) => l.includes('release/push: done')), 'the push is logged');
  assert.ok(!logs.some((l) => l.includes('correct horse') || l.includes('"wrong"')) && !agent.stderr().includes('correct horse'), 'no secret in the agent log');
  assert.deepEqual(reg.releases(0).map(releaseOf).map((r) => [r.action, r.outcome]), [['push', 'failed'], ['push', 'succeeded']]);
  void v1;
});

t('deploy, list, metrics, followed logs; failing rollouts answer ok:false with the previous deployment serving again; rollback; gray release and promote', async () => {
  const started = await agent.request('deploy/start', { ref: 'cls@1', port, baseImage: 'local', memory: '512m', cpus: 1, ...onEngine() });
  assert.equal(started.ok, true, started.message);
  assert.match(started.message, new RegExp(`cls@1 serves at http://127\\.0\\.0\\.1:${port}`));
  assert.equal(started.deployment?.role, 'production');
  assert.equal(started.deployment?.health, 'healthy');
  assert.equal(started.deployment?.port, port);
  assert.deepEqual(started.checks.map((c) => [c.name, c.passed]), [['health', true], ['golden', true]]);

  const listed = await agent.request('deploy/list', { dockerHost: engine.address });
  assert.equal(listed.engine.reachable, true);
  assert.deepEqual(listed.deployments.map((d) => [d.deployment, d.role, d.version, d.state]), [['cls', 'production', 1, 'running']]);

  const metrics = await agent.request('deploy/metrics', { containerId: started.deployment!.containerId, dockerHost: engine.address });
  assert.equal(metrics.url, `http://127.0.0.1:${port}/metrics`);
  assert.match(metrics.text, /runlens_predict_requests_total\{[^}]*\} 1\b/, 'the golden check made one prediction');

  // Follow the logs: lines arrive as notifications; cancelling the request ends the stream.
  const source = new CancellationTokenSource();
  const following = agent.connection.sendRequest(agentRequests['deploy/logs'], { containerId: started.deployment!.containerId, follow: true, dockerHost: engine.address }, source.token);
  const deadline = Date.now() + 10_000;
  while (!agent.notifications.some((n) => n.method === 'deploy/logChunk') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const chunks = agent.notifications.filter((n) => n.method === 'deploy/logChunk');
  assert.ok(chunks.length > 0, 'log lines arrived as deploy/logChunk notifications');
  assert.ok(chunks.every((n) => n.method === 'deploy/logChunk' && n.params.containerId === started.deployment!.containerId));
  source.cancel();
  await following.catch(() => undefined);

  // v2 replaces v1 on its port (v1 stopped and kept); rolling back brings v1 back.
  reg.approve(await reg.register('cls', 'blazeface_front_128.onnx'));
  const second = await agent.request('deploy/start', { ref: 'cls@2', port, baseImage: 'local', ...onEngine() });
  assert.equal(second.ok, true, second.message);
  assert.match(second.message, /v1 kept for rollback/);
  const back = await agent.request('deploy/rollback', { deployment: 'cls', ...onEngine() });
  assert.equal(back.ok, true);
  assert.match(back.message, /cls rolled back from v2 to v1/);
  assert.equal(back.deployment?.version, 1);
  assert.equal(back.deployment?.health, 'healthy');

  // "Save as Golden" in the model card writes MODEL.golden.json beside the file: a deploy honours it without a flag.
  // This one was made from another input (seed 7) but claims the smoke-test seed, so v2 cannot reproduce it.
  const v2file = reg.registry.getVersion('cls', 2)!.filePath;
  const beside = goldenPathFor(v2file);
  await runSmokeTest(v2file, { runs: 1, warmup: 0, batchSizes: [], seed: 7, saveGolden: beside });
  fs.writeFileSync(beside, JSON.stringify({ ...readGolden(beside), inputs: { ...readGolden(beside).inputs, seed: DEFAULT_SEED } }));
  const mismatch = await agent.request('deploy/start', { ref: 'cls@2', port, baseImage: 'local', ...onEngine() });
  assert.equal(mismatch.ok, false);
  assert.match(mismatch.message, /cls@2 was not deployed: golden check failed/);
  assert.equal(mismatch.restored?.version, 1);
  assert.deepEqual(mismatch.checks.map((c) => [c.name, c.passed]), [['health', true], ['golden', false]]);
  fs.rmSync(beside);

  // v3 is not a model: its server exits at once; the answer says so and v1 serves again.
  reg.approve(await reg.register('cls', Buffer.from('not an onnx model\n')));
  const failed = await agent.request('deploy/start', { ref: 'cls@3', port, baseImage: 'local', ...onEngine() });
  assert.equal(failed.ok, false);
  assert.match(failed.message, /cls@3 was not deployed: the container \w+ exited with code \d+ before it was healthy[\s\S]*Protobuf parsing failed[\s\S]*rolled back: cls v1 serves on port/);
  assert.equal(failed.deployment, null);
  assert.equal(failed.restored?.version, 1);
  assert.equal(failed.restored?.health, 'healthy');
  assert.deepEqual(failed.checks.map((c) => [c.name, c.passed]), [['health', false]]);

  // A gray release through the protocol: 30 % to v2 behind the router, its figures, then promote.
  const gray = await agent.request('deploy/grayStart', { ref: 'cls@2', deployment: 'cls', candidatePercent: 30, baseImage: 'local', ...onEngine() });
  assert.equal(gray.candidatePercent, 30);
  assert.ok(gray.routerPort && gray.routerPort !== port, `the router has its own port: ${gray.routerPort}`);
  const inputs = materializeInputs(planInputs(inspectModel(reg.registry.getVersion('cls', 1)!.filePath).inputs, new Map(), DEFAULT_SEED));
  const body = JSON.stringify({ inputs: Object.fromEntries(inputs.map((i) => [i.name, encodeTensor(i.dtype, i.dims, i.data)])) });
  for (let i = 0; i < 10; i++) await (await fetch(`http://127.0.0.1:${gray.routerPort}/predict`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) })).arrayBuffer();
  const status = await agent.request('deploy/grayStatus', { deployment: 'cls', dockerHost: engine.address });
  assert.deepEqual(status.variants.map((v) => [v.role, v.version, v.requests]), [['production', 1, 7], ['candidate', 2, 3]]);
  assert.equal(status.significant, null, 'ten requests are not enough to tell');
  assert.match(status.verdict, /not enough data/);
  const listedGray = await agent.request('deploy/list', { dockerHost: engine.address });
  assert.deepEqual(listedGray.deployments.filter((d) => d.state === 'running').map((d) => d.role).sort(), ['candidate', 'production', 'router']);
  const promoted = await agent.request('deploy/promote', { deployment: 'cls', ...onEngine() });
  assert.equal(promoted.ok, true);
  assert.match(promoted.message, /cls now serves v2 on port \d+; v1 kept for rollback/);
  assert.equal(promoted.deployment?.version, 2);
  assert.equal(promoted.deployment?.role, 'production');

  await agent.request('deploy/remove', { deployment: 'cls', ...onEngine() });
  assert.deepEqual((await agent.request('deploy/list', { dockerHost: engine.address })).deployments, []);
  const actions = reg.releases(0).map(releaseOf).map((r) => `${r.action}:${r.outcome}`);
  for (const expected of ['deploy:succeeded', 'deploy:failed', 'rollback:succeeded', 'gray-start:succeeded', 'promote:succeeded', 'undeploy:succeeded']) assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`);
});
