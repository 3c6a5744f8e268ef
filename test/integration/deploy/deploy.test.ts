// Deployments on a real Docker engine (a private dockerd for this file), with
// real serving images made from this machine's Node and real corpus models:
// the happy path with an independent check of the served numbers, then each
// fault (pending version, golden mismatch, a container that exits, a taken
// port) with the previous deployment left serving and the audit log
// recording it, rollback on demand, a gray release, and removal.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { readGolden } from '../../../src/core/models/golden';
import { DEFAULT_SEED, materializeInputs, planInputs } from '../../../src/core/models/inputs';
import { inspectModel } from '../../../src/core/models/inspect';
import { loadOnnxRuntime } from '../../../src/core/models/ortRuntime';
import { runSmokeTest } from '../../../src/core/models/smoke';
import { deploy, listDeployments, readMetrics, rollback, streamLogs, undeploy, type DeployContext, type DeployOptions } from '../../../src/core/deploy/deploy';
import { abortGray, grayStatus, promote, startGrayRelease } from '../../../src/core/deploy/gray';
import { LABELS } from '../../../src/core/deploy/labels';
import { encodeTensor } from '../../../src/core/deploy/tensorJson';
import { dockerUnavailableReason, startTestEngine, type TestEngine } from '../../support/dockerEngine';
import { deployer, freePort, openTestRegistry, releaseOf, sameNetworkOtherBytes, type TestRegistry } from './helpers';

const skip = dockerUnavailableReason();
let engine: TestEngine;
let reg: TestRegistry;
let ctx: DeployContext;
let productionPort: number;
const progress: string[] = [];

before(async () => {
  if (skip) return;
  engine = await startTestEngine();
  reg = openTestRegistry('runlens-deploy-');
  ctx = { engine, registry: reg.registry, actor: deployer, onProgress: (line) => progress.push(line) };
  productionPort = await freePort();
});

after(async () => {
  reg?.close();
  // Stopping the engine removes its data root: containers and images go with it.
  await engine?.stop();
});

/** Host networking on 127.0.0.1: the private engine has no bridge, and tests send nothing off loopback. */
function options(extra: DeployOptions = {}): DeployOptions {
  return { baseImage: 'local', network: 'host', bindAddress: '127.0.0.1', port: productionPort, memory: '512m', cpus: 1, ...extra };
}

async function healthOf(port: number): Promise<{ status: number; version?: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
  const body = (await res.json()) as { version?: string };
  return { status: res.status, version: body.version };
}

const t = (name: string, fn: () => Promise<void>) => test(name, { skip: skip ?? false }, fn);

let v1: Awaited<ReturnType<TestRegistry['register']>>;
let v2: Awaited<ReturnType<TestRegistry['register']>>;

t('a pending version is refused before anything is built, and the refusal is audited', async () => {
  const seq = reg.head();
  const pending = await reg.register('vision', 'ppocr_mobile_v2_cls.onnx');
  await assert.rejects(deploy(ctx, pending, options()), /vision@1 cannot be deployed: rule "approved versions only" failed: it is pending; approve it first/);
  const [entry] = reg.releases(seq).map(releaseOf);
  assert.deepEqual([entry.action, entry.outcome], ['deploy', 'refused']);
  assert.equal((await listDeployments(engine)).length, 0, 'no container was created');
  v1 = reg.approve(pending);
  v2 = reg.approve(await reg.register('vision', sameNetworkOtherBytes('ppocr_mobile_v2_cls.onnx', 'vision v2: retrained')));
});

t('deploys v1: healthy, /predict gives what onnxruntime gives on this machine, /metrics counts, labels and audit say what runs', async () => {
  const seq = reg.head();
  const result = await deploy(ctx, v1, options());
  assert.equal(result.golden.reference, 'host-run');
  assert.match(result.golden.note ?? '', /no golden file/);
  assert.equal(result.golden.pass, true);
  assert.equal(result.replaced, null);
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '1' });
  assert.ok(progress.some((l) => /making base image runlens-base:node-/.test(l)), 'the base image was made from this machine\'s Node');

  // The served numbers against an independent in-process run of the same input.
  const plan = planInputs(inspectModel(v1.filePath).inputs, new Map(), DEFAULT_SEED);
  const inputs = materializeInputs(plan);
  const ort = loadOnnxRuntime();
  const session = await ort.InferenceSession.create(v1.filePath);
  const expected = await session.run(Object.fromEntries(inputs.map((i) => [i.name, new ort.Tensor(i.dtype, i.data as Float32Array, i.dims)])));
  await session.release();
  const res = await fetch(`${result.url}/predict`, {
    method: 'POST',
    body: JSON.stringify({ inputs: Object.fromEntries(inputs.map((i) => [i.name, encodeTensor(i.dtype, i.dims, i.data)])) }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { outputs: Record<string, { dtype: string; dims: number[]; data: number[] }> };
  for (const [name, tensor] of Object.entries(expected)) {
    assert.equal(body.outputs[name].dtype, tensor.type);
    assert.deepEqual(body.outputs[name].dims, [...tensor.dims]);
    assert.deepEqual(Float32Array.from(body.outputs[name].data), tensor.data, `output ${name} equals the host run bit for bit`);
  }

  const bad = await fetch(`${result.url}/predict`, { method: 'POST', body: '{"inputs": {"x": {"dtype": "float32", "dims": [2], "data": [1]}}}', signal: AbortSignal.timeout(5000) });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /dims \[2\] need 2 values, data has 1/);

  const metrics = await readMetrics(engine, 'vision');
  assert.equal(metrics.requests, 3, 'golden check + our prediction + the bad request');
  assert.deepEqual(metrics.errors, { badRequest: 1, runtime: 0 });
  assert.equal(metrics.latency.count, 3);
  assert.equal(metrics.latency.buckets.at(-1)?.le, Infinity);
  assert.match(metrics.text, /runlens_predict_requests_total\{model="vision",version="1"\} 3/);

  const image = await engine.docker.getImage(result.image.ref).inspect();
  assert.equal(image.Config.Labels[LABELS.modelSha256], v1.sha256);
  assert.equal(image.Config.Labels['org.opencontainers.image.version'], '1');
  const container = await engine.docker.getContainer(result.containerId).inspect();
  assert.equal(container.HostConfig.Init, true);
  assert.equal(container.HostConfig.Memory, 512 * 1024 * 1024);
  assert.equal(container.HostConfig.NanoCpus, 1e9);

  const [listed] = await listDeployments(engine);
  assert.deepEqual([listed.deployment, listed.version, listed.current, listed.health, listed.port, listed.state], ['vision', 1, true, 'healthy', productionPort, 'running']);

  const lines: string[] = [];
  await streamLogs(engine, 'vision', { onLine: (l) => lines.push(l) });
  assert.ok(lines.some((l) => l.includes(`listening on 127.0.0.1:${productionPort}`)), lines.join('\n'));

  const [entry] = reg.releases(seq).map(releaseOf);
  assert.deepEqual([entry.action, entry.outcome], ['deploy', 'succeeded']);
  assert.equal(entry.details?.containerId, result.containerId);
  assert.equal(reg.registry.getVersionById(v1.id)?.state, 'deployed');
});

t('a golden output that the new version does not reproduce: it is removed and v1 serves again', async () => {
  // A golden made from another input (seed 7) but claiming the smoke-test seed: the served output cannot match it.
  const golden = path.join(reg.dir, 'perturbed.golden.json');
  await runSmokeTest(v2.filePath, { runs: 1, warmup: 0, batchSizes: [], seed: 7, saveGolden: golden });
  const file = readGolden(golden);
  fs.writeFileSync(golden, JSON.stringify({ ...file, inputs: { ...file.inputs, seed: DEFAULT_SEED } }));
  const seq = reg.head();
  await assert.rejects(deploy(ctx, v2, options({ golden })), (e: Error) => {
    assert.match(e.message, /vision@2 was not deployed: golden check failed: the served output differs from the golden file/);
    assert.match(e.message, /rolled back: vision v1 serves on port \d+ again/);
    return true;
  });
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '1' });
  const records = reg.releases(seq).map(releaseOf);
  assert.deepEqual(records.map((r) => `${r.action} ${r.outcome}`), ['rollback succeeded', 'deploy failed']);
  assert.equal((await listDeployments(engine)).filter((d) => d.version === 2).length, 0, 'the failed container was removed');
});

t('a container that exits at once (a corrupt model baked in): its exit code and last log lines, v1 serves again', async () => {
  const corrupt = reg.approve(await reg.register('vision', Buffer.from('this is not an ONNX model')));
  const seq = reg.head();
  await assert.rejects(deploy(ctx, corrupt, options()), (e: Error) => {
    assert.match(e.message, /exited with code 2 before it was healthy; last log lines:/);
    assert.match(e.message, /cannot load model \/app\/model\.onnx/);
    assert.match(e.message, /rolled back: vision v1 serves/);
    return true;
  });
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '1' });
  const records = reg.releases(seq).map(releaseOf);
  assert.deepEqual(records.map((r) => `${r.action} ${r.outcome}`), ['rollback succeeded', 'deploy failed']);
  assert.match(records[1].error ?? '', /exited with code 2/);
});

t('a port another process listens on: refused with a clear message before building, v1 left running', async () => {
  const squatter = net.createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  try {
    const seq = reg.head();
    await assert.rejects(deploy(ctx, v2, options({ port })), new RegExp(`port ${port} on 127.0.0.1 is already in use by another process \\(not a RunLens deployment\\); choose another with --port`));
    assert.deepEqual(await healthOf(productionPort), { status: 200, version: '1' });
    const [entry] = reg.releases(seq).map(releaseOf);
    assert.deepEqual([entry.action, entry.outcome], ['deploy', 'failed']);
  } finally {
    squatter.close();
  }
});

t('v2 replaces v1 on the same port (v1 kept stopped); rollback on demand brings v1 back and removes v2', async () => {
  const result = await deploy(ctx, v2, options());
  assert.equal(result.replaced?.version, 1);
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '2' });
  const listed = await listDeployments(engine);
  assert.deepEqual(listed.map((d) => `v${d.version} ${d.state} ${d.current}`), ['v2 running true', 'v1 exited false']);

  const seq = reg.head();
  const back = await rollback(ctx, 'vision');
  assert.deepEqual([back.from.version, back.to.version], [2, 1]);
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '1' });
  assert.deepEqual((await listDeployments(engine)).map((d) => `v${d.version} ${d.state}`), ['v1 running']);
  const [entry] = reg.releases(seq).map(releaseOf);
  assert.deepEqual([entry.action, entry.outcome], ['rollback', 'succeeded']);
  await assert.rejects(rollback(ctx, 'vision'), /no previous deployment to roll back to/);
});

t('gray release: 30 % to the candidate through the router, per-variant figures and significance; abort, then promote', async () => {
  const [candidatePort, routerPort] = [await freePort(), await freePort()];
  const seq = reg.head();
  const gray = await startGrayRelease(ctx, v2, { ...options(), weight: 30, candidatePort, routerPort });
  assert.equal(gray.weight, 30);
  // The smoke-test input, a real prediction on both variants (the same network, so the same input fits both).
  const inputs = materializeInputs(planInputs(inspectModel(v1.filePath).inputs, new Map(), DEFAULT_SEED));
  const body = JSON.stringify({ inputs: Object.fromEntries(inputs.map((i) => [i.name, encodeTensor(i.dtype, i.dims, i.data)])) });
  const answers: { variant: string; status: number; version: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${gray.router.url}/predict`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    answers.push({ variant: res.headers.get('x-runlens-variant') ?? 'none', status: res.status, version: ((await res.json()) as { version: string }).version });
  }
  assert.ok(answers.every((a) => a.status === 200 && a.version === (a.variant === 'candidate' ? '2' : '1')), 'each variant answered with its own version');
  const count = (v: string) => answers.filter((a) => a.variant === v).length;
  assert.equal(count('candidate'), 30, 'smooth weighted round-robin: exactly 30 of 100');
  assert.equal(count('production'), 70);

  const status = await grayStatus(engine, 'vision');
  assert.deepEqual([status.production.requests, status.candidate.requests], [70, 30]);
  assert.deepEqual([status.production.errors, status.candidate.errors], [0, 0]);
  assert.equal(status.significance.latency.status, 'tested');
  assert.match(status.significance.latency.test, /Welch's t-test/);
  assert.ok(status.significance.latency.pValue! >= 0 && status.significance.latency.pValue! <= 1);
  assert.equal(status.significance.errorRate.pValue, 1, 'no errors on either side: no difference');
  assert.match(status.significance.summary, /latency: .*p = /);

  await abortGray(ctx, 'vision');
  assert.deepEqual((await listDeployments(engine)).map((d) => `${d.role} v${d.version} ${d.state}`), ['serving v1 running']);
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '1' });

  const again = await startGrayRelease(ctx, v2, { ...options(), weight: 30, candidatePort, routerPort });
  for (let i = 0; i < 10; i++) await (await fetch(`${again.router.url}/predict`, { method: 'POST', body, signal: AbortSignal.timeout(5000) })).arrayBuffer();
  const early = await grayStatus(engine, 'vision');
  assert.equal(early.significance.latency.status, 'not-enough-data');
  assert.match(early.significance.summary, /not enough data \(7 production \/ 3 candidate requests; at least 30 each\)/);

  const promoted = await promote(ctx, 'vision');
  assert.deepEqual([promoted.production.version, promoted.previous.version], [2, 1]);
  assert.deepEqual(await healthOf(productionPort), { status: 200, version: '2' });
  assert.deepEqual((await listDeployments(engine)).map((d) => `${d.role} v${d.version} ${d.state}`), ['serving v2 running', 'serving v1 exited']);

  const records = reg.releases(seq).map(releaseOf);
  assert.deepEqual(records.map((r) => `${r.action} ${r.outcome}`), ['gray-start succeeded', 'gray-abort succeeded', 'gray-start succeeded', 'promote succeeded']);
});

t('undeploy stops and removes every container of the deployment, audited', async () => {
  const seq = reg.head();
  const { removed } = await undeploy(ctx, 'vision');
  assert.equal(removed.length, 2);
  assert.deepEqual(await listDeployments(engine), []);
  const [entry] = reg.releases(seq).map(releaseOf);
  assert.deepEqual([entry.action, entry.outcome], ['undeploy', 'succeeded']);
  await assert.rejects(undeploy(ctx, 'vision'), /no deployment named vision/);
});
