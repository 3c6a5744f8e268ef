// Pushing approved model versions to a real registry (Debian's docker-registry,
// distribution 2.8, started by the test on 127.0.0.1) and pulling them back:
// anonymous, Basic (htpasswd) and the Bearer token flow with a token server of
// the test's own; Docker config credentials and a credential helper on PATH;
// the release gate; an unreachable registry; wrong credentials; uploads cut
// midway by a proxy. Every case asserts on what the registry holds and what
// the audit log recorded.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerConfigCredentials, isRegistryError, MODEL_ARTIFACT_TYPE, pullModelArtifact, pushApprovedVersion, type CredentialSource } from '../../../src/core/oci';
import type { Actor } from '../../../src/core/registry/identity';

import type { ModelVersion, RegistryStore } from '../../../src/core/registry/types';
import { registerModelVersion } from '../../../src/core/registry/versions';

import { agentScript } from '../../support/agentProcess';
import { startCuttingProxy } from '../../support/cuttingProxy';
import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { freePort, startRegistry, type TestRegistry } from '../../support/ociRegistry';
import { openStore } from '../../../src/core/database/open';

const ada: Actor = { display: 'Ada <ada@example.com>', name: 'Ada', email: 'ada@example.com', source: 'git' };
const tmp = makeTempDir('runlens-oci-push-');
const workspace = path.join(tmp, 'workspace');
const dbFile = path.join(tmp, 'runlens.db');
const noCredentials: CredentialSource = { description: 'none (test)', lookup: async () => null };
const fastRetries = { retryDelayMs: 20 };
let registry: RegistryStore;
let gitCommit: string;
let modelBytes: Buffer;

const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', ...args], { cwd: workspace, encoding: 'utf8' }).trim();
}

/** Registers a copy of a corpus model as the next version of `name`; approved with a stored smoke report unless told otherwise. */
async function version(name: string, options: { approve?: boolean; model?: string } = {}): Promise<ModelVersion> {
  const file = path.join(workspace, 'models', `${name}.onnx`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(copyCorpus(`models/${options.model ?? 'blazeface_front_128.onnx'}`), file);
  const runs = openStore(dbFile).runs;
  let v: ModelVersion;
  try {
    v = (await registerModelVersion(registry, runs, { file, name, datasets: [], workspace, actor: ada })).version;
  } finally {
    runs.close();
  }
  if (options.approve === false) return v;
  return registry.transition({
    versionId: v.id,
    to: 'approved',
    at: Date.UTC(2025, 0, 2, 3, 4, 5),
    actor: ada.display,
    decision: { decision: 'approved', reason: 'beats production on the holdout set', overridden: false, evaluation: { pass: true } },
    smokeReports: [{ ep: 'cpu', ranAt: Date.UTC(2025, 0, 2), passed: true, report: { model: path.basename(file), ep: 'cpu', latencyMs: { p50: 1.5, p95: 2.25 }, outputs: 2 } }],
    events: ({ before, decisionId }) => [{ kind: 'approve', model: before.name, version: before.version, payload: { versionId: before.id, decisionId, from: before.state, to: 'approved', reason: 'ok' } }],
  }).version;
}

function releases(name: string): { outcome: string; target: string; digest: string | null; error: string | null; details?: { retries?: string[] } }[] {
  return registry
    .readAudit()
    .filter((e) => e.kind === 'release' && e.model === name)
    .map((e) => JSON.parse(e.payload) as { outcome: string; target: string; digest: string | null; error: string | null; details?: { retries?: string[] } });
}

async function manifestStatus(reg: TestRegistry, repo: string, tag: string): Promise<number> {
  const res = await reg.get(`/v2/${repo}/manifests/${tag}`, { accept: 'application/vnd.oci.image.manifest.v1+json' });
  await res.arrayBuffer();
  return res.status;
}

before(() => {
  fs.mkdirSync(workspace, { recursive: true });
  git('init', '-q');
  fs.writeFileSync(path.join(workspace, 'train.py'), 'print("train")\n');
  git('add', 'train.py');
  git('commit', '-q', '-m', 'training script');
  gitCommit = git('rev-parse', 'HEAD');
  modelBytes = fs.readFileSync(copyCorpus('models/blazeface_front_128.onnx'));
  registry = openStore(dbFile).registry;
});
after(() => registry.close());

describe('anonymous registry', () => {
  let reg: TestRegistry;
  before(async () => (reg = await startRegistry()));
  after(() => reg.stop());

  test('an approved version is pushed as an OCI artifact, pinned by digest, pulled back byte for byte, and audited', async () => {
    const v = await version('face');
    const progress: string[] = [];
    const result = await pushApprovedVersion({ registry, version: v, target: `${reg.host}/models/face`, credentialSource: noCredentials, actor: ada, onProgress: (p) => progress.push(p.phase) });

    assert.equal(result.target, `${reg.host}/models/face:v1`, 'the tag defaults to v<version>');
    assert.equal(result.reference, `${reg.host}/models/face@${result.digest}`);
    assert.deepEqual(new Set(progress), new Set(['connecting', 'uploading', 'verifying', 'tagging']));

    // What the registry itself holds under the tag.
    const res = await reg.get('/v2/models/face/manifests/v1', { accept: 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(`sha256:${sha256(bytes)}`, result.digest);
    assert.equal(res.headers.get('docker-content-digest'), result.digest);
    const manifest = JSON.parse(bytes.toString()) as { artifactType: string; config: { mediaType: string; size: number }; layers: { mediaType: string; digest: string; annotations: Record<string, string> }[]; annotations: Record<string, string> };
    assert.equal(manifest.artifactType, MODEL_ARTIFACT_TYPE);
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(manifest.config.size, 2);
    assert.deepEqual(manifest.layers.map((l) => l.annotations['org.opencontainers.image.title']), ['face.onnx', 'model-card.json', 'smoke-report.json']);
    assert.equal(manifest.layers[0].digest, `sha256:${sha256(modelBytes)}`);
    const smokeReport = registry.listSmokeReports(v.id)[0];
    assert.equal(manifest.layers[2].digest, `sha256:${smokeReport.sha256}`, 'the report layer is the stored report the approval hashed');
    assert.equal(manifest.annotations['org.opencontainers.image.revision'], gitCommit);
    assert.equal(manifest.annotations['org.opencontainers.image.created'], '2025-01-02T03:04:05.000Z');
    assert.equal(manifest.annotations['io.runlens.model.name'], 'face');
    assert.equal(manifest.annotations['io.runlens.model.version'], '1');
    assert.equal(manifest.annotations['io.runlens.model.sha256'], v.sha256);
    assert.equal(manifest.annotations['io.runlens.approved-by'], ada.display);
    assert.equal(manifest.annotations['io.runlens.approved-at'], '2025-01-02T03:04:05.000Z');

    const out = path.join(tmp, 'pulled-face');
    const pulled = await pullModelArtifact({ reference: result.reference, outDir: out, credentialSource: noCredentials });
    assert.equal(pulled.digest, result.digest);
    assert.deepEqual(fs.readFileSync(path.join(out, 'face.onnx')), modelBytes);
    const card = JSON.parse(fs.readFileSync(path.join(out, 'model-card.json'), 'utf8')) as { name: string; version: number; file: { sha256: string }; git: { commit: string }; approval: { by: string; reason: string } };
    assert.deepEqual([card.name, card.version, card.file.sha256, card.git.commit], ['face', 1, v.sha256, gitCommit]);
    assert.deepEqual([card.approval.by, card.approval.reason], [ada.display, 'beats production on the holdout set']);
    assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.partial')).length, 0);

    assert.equal(result.version.state, 'pushed', 'the first push moves approved → pushed');
    assert.deepEqual(
      releases('face').map((r) => [r.outcome, r.target, r.digest]),
      [['succeeded', `${reg.host}/models/face:v1`, result.digest]],
    );

    // The same version again: the same bytes and digest, every blob already there.
    const again = await pushApprovedVersion({ registry, version: result.version, target: `${reg.host}/models/face:latest`, credentialSource: noCredentials, actor: ada });
    assert.equal(again.digest, result.digest);
    assert.deepEqual(again.uploaded, []);
    assert.equal(again.skipped.length, 4);
  });

  test('a pull refuses a manifest whose digest is not the one expected, and writes nothing', async () => {
    const v = await version('expect');
    const { digest } = await pushApprovedVersion({ registry, version: v, target: `${reg.host}/models/expect`, credentialSource: noCredentials, actor: ada });
    const out = path.join(tmp, 'pulled-expect');
    const wrong = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(pullModelArtifact({ reference: `${reg.host}/models/expect:v1`, outDir: out, expectedDigest: wrong, credentialSource: noCredentials }), (e: Error) =>
      isRegistryError(e, 'digest-mismatch') && e.message.includes(digest) && e.message.includes(wrong) && e.message.includes(`registry ${reg.host}, repository models/expect`),
    );
    assert.equal(fs.existsSync(out), false);
    await assert.rejects(pullModelArtifact({ reference: `${reg.host}/models/expect:v9`, outDir: out, credentialSource: noCredentials }), /no manifest v9/);
  });

  test('a large model goes in PATCH chunks that the registry reassembles exactly', async () => {
    const v = await version('chunked', { model: 'silero_vad_v5.onnx' });
    const result = await pushApprovedVersion({ registry, version: v, target: `${reg.host}/models/chunked`, credentialSource: noCredentials, actor: ada, transfer: { chunkSize: 256 * 1024 } });
    const out = path.join(tmp, 'pulled-chunked');
    await pullModelArtifact({ reference: result.reference, outDir: out, credentialSource: noCredentials });
    assert.equal(sha256(fs.readFileSync(path.join(out, 'chunked.onnx'))), v.sha256);
  });

  test('unapproved versions and changed files are refused before any request, naming the rule; the refusal is audited', async () => {
    let connections = 0;
    const listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const target = `127.0.0.1:${(listener.address() as net.AddressInfo).port}/models/gate`;
    try {
      const pending = await version('gate', { approve: false });
      await assert.rejects(pushApprovedVersion({ registry, version: pending, target, credentialSource: noCredentials, actor: ada }), /gate@1 cannot be pushed: rule "approved versions only" failed: it is pending/);
      const approved = await version('gate');
      fs.appendFileSync(approved.filePath, 'retrained');
      await assert.rejects(pushApprovedVersion({ registry, version: approved, target, credentialSource: noCredentials, actor: ada }), /rule "file as approved" failed: .*changed since it was registered/);
    } finally {
      listener.close();
    }
    assert.equal(connections, 0, 'nothing was sent to the registry');
    assert.deepEqual(releases('gate').map((r) => [r.outcome, r.target]), [['refused', `${target}:v1`], ['refused', `${target}:v2`]]);
  });

  test('a blob upload cut midway is retried in a fresh upload session and the push succeeds', async () => {
    const proxy = await startCuttingProxy(reg.port, 1);
    try {
      const v = await version('flaky');
      const result = await pushApprovedVersion({ registry, version: v, target: `${proxy.host}/models/flaky`, credentialSource: noCredentials, actor: ada, transfer: fastRetries });
      assert.equal(proxy.cuts, 1);
      assert.equal(await manifestStatus(reg, 'models/flaky', 'v1'), 200);
      const out = path.join(tmp, 'pulled-flaky');
      await pullModelArtifact({ reference: `${reg.host}/models/flaky@${result.digest}`, outDir: out, credentialSource: noCredentials });
      assert.deepEqual(fs.readFileSync(path.join(out, 'flaky.onnx')), modelBytes);
      const [entry] = releases('flaky');
      assert.equal(entry.outcome, 'succeeded');
      assert.match(entry.details!.retries![0], /flaky\.onnx attempt 1: .*connection to registry 127\.0\.0\.1:\d+ broke during the upload of flaky\.onnx/);
    } finally {
      await proxy.close();
    }
  });

  test('uploads cut every time fail with what happened, and no tag exists afterwards', async () => {
    const proxy = await startCuttingProxy(reg.port, Infinity);
    try {
      const v = await version('broken');
      await assert.rejects(
        pushApprovedVersion({ registry, version: v, target: `${proxy.host}/models/broken`, credentialSource: noCredentials, actor: ada, transfer: { ...fastRetries, maxAttempts: 3 } }),
        (e: Error) => isRegistryError(e, 'interrupted') && /registry 127\.0\.0\.1:\d+, repository models\/broken: the upload of broken\.onnx \(442005 bytes\) failed 3 time\(s\).*nothing was tagged/.test(e.message),
      );
      assert.equal(proxy.cuts, 3);
      assert.equal(await manifestStatus(reg, 'models/broken', 'v1'), 404, 'the registry has no tag for the failed push');
      assert.equal(registry.getVersionById(v.id)!.state, 'approved');
      const [entry] = releases('broken');
      assert.equal(entry.outcome, 'failed');
      assert.match(entry.error!, /failed 3 time\(s\)/);
    } finally {
      await proxy.close();
    }
  });

  test('an unreachable registry is named with what to do, and the failure audited', async () => {
    const port = await freePort();
    const v = await version('nowhere');
    await assert.rejects(
      pushApprovedVersion({ registry, version: v, target: `127.0.0.1:${port}/models/nowhere`, credentialSource: noCredentials, actor: ada }),
      (e: Error) => e.message === `cannot reach registry 127.0.0.1:${port}: connection refused — is it running?`,
    );
    assert.deepEqual(releases('nowhere').map((r) => [r.outcome, r.error]), [['failed', `cannot reach registry 127.0.0.1:${port}: connection refused — is it running?`]]);
  });
});

describe('Basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  before(async () => (reg = await startRegistry({ kind: 'basic', users: { ada: 's3cret-pass' } })));
  after(() => reg.stop());

  test('right credentials push; wrong ones and none are refused with a message that never holds the password', async () => {
    const v = await version('basic');
    const wrong = pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/basic`, credentials: { kind: 'basic', username: 'ada', password: 'not-it' }, actor: ada });
    await assert.rejects(wrong, (e: Error) => e.message === `registry ${reg.host} rejected the credentials for user ada (401) on repository team/basic — check the username/password or \`docker login ${reg.host}\`` && !e.message.includes('not-it'));
    await assert.rejects(pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/basic`, credentialSource: noCredentials, actor: ada }), /requires credentials for repository team\/basic \(401\)/);
    const ok = await pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/basic`, credentials: { kind: 'basic', username: 'ada', password: 's3cret-pass' }, actor: ada });
    assert.equal(await manifestStatus(reg, 'team/basic', 'v1'), 200);
    assert.deepEqual(releases('basic').map((r) => r.outcome), ['failed', 'failed', 'succeeded']);
    assert.equal(releases('basic')[2].digest, ok.digest);
    const log = registry.readAudit().map((e) => e.payload).join('\n');
    assert.ok(!log.includes('s3cret-pass') && !log.includes('not-it'), 'no password in the audit log');
  });

  test("the Docker config's base64 auth entry is used when no credentials are given", async () => {
    const dir = makeTempDir('runlens-docker-config-');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from('ada:s3cret-pass').toString('base64') } } }));
    const v = await version('dockercfg');
    await pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/dockercfg`, credentialSource: dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }), actor: ada });
    assert.equal(await manifestStatus(reg, 'team/dockercfg', 'v1'), 200);
  });

  test('the real CLI pushes with --password-stdin and pulls back with the digest checked', () => {
    const env = { ...process.env, RUNLENS_DB: dbFile, DOCKER_CONFIG: makeTempDir('runlens-empty-docker-') };
    const cli = (args: string[], input?: string) => spawnSync(process.execPath, [agentScript, ...args], { cwd: workspace, env, input, encoding: 'utf8', timeout: 60_000 });
    return version('cli').then(() => {
      const push = cli(['model', 'push', 'cli@1', '--to', `${reg.host}/team/cli`, '--username', 'ada', '--password-stdin', '--json'], 's3cret-pass\n');
      assert.equal(push.status, 0, push.stderr);
      const pushed = JSON.parse(push.stdout) as { digest: string; reference: string; state: string; layers: unknown[] };
      assert.equal(pushed.state, 'pushed');
      assert.equal(pushed.layers.length, 3);
      assert.match(push.stderr, /\[push\] tagging v1/);
      const out = path.join(tmp, 'cli-pulled');
      const pull = cli(['model', 'pull', `${reg.host}/team/cli:v1`, '--out', out, '--digest', pushed.digest, '--username', 'ada', '--password-stdin'], 's3cret-pass');
      assert.equal(pull.status, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(`pulled ${reg.host}/team/cli@${pushed.digest} \\(digest verified\\)`));
      assert.deepEqual(fs.readFileSync(path.join(out, 'cli.onnx')), modelBytes);
      const refused = cli(['model', 'push', 'cli@1', '--to', `${reg.host}/team/cli`]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /requires credentials for repository team\/cli/);
    });
  });
});

describe('token auth (Bearer challenge, RS256 JWTs)', () => {
  let reg: TestRegistry;
  let helperDir: string;
  before(async () => {
    reg = await startRegistry({ kind: 'token', users: { ada: 'tok-pass' }, identityTokens: { 'refresh-123': 'ada' } });
    // A credential helper as docker-credential-* programs are: `get`, server on stdin, JSON on stdout.
    helperDir = makeTempDir('runlens-cred-helper-');
    fs.writeFileSync(
      path.join(helperDir, 'docker-credential-test'),
      `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\nif [ "$server" = "${reg.host}" ]; then echo '{"ServerURL":"${reg.host}","Username":"ada","Secret":"tok-pass"}'; else echo "credentials not found in native keychain"; exit 1; fi\n`,
      { mode: 0o755 },
    );
  });
  after(() => reg.stop());

  test('the token flow runs: challenge, token for repository:REPO:pull,push with Basic, retry with the Bearer token', async () => {
    const v = await version('bearer');
    const result = await pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/bearer`, credentials: { kind: 'basic', username: 'ada', password: 'tok-pass' }, actor: ada });
    assert.ok(reg.tokenRequests.some((r) => r.scope === 'repository:team/bearer:pull,push' && r.user === 'ada' && r.granted));
    assert.equal(await manifestStatus(reg, 'team/bearer', 'v1'), 200);
    const out = path.join(tmp, 'pulled-bearer');
    await pullModelArtifact({ reference: result.reference, outDir: out, credentials: { kind: 'basic', username: 'ada', password: 'tok-pass' } });
    assert.deepEqual(fs.readFileSync(path.join(out, 'bearer.onnx')), modelBytes);
  });

  test('wrong credentials are refused at the token server, named, and audited', async () => {
    const v = await version('badtoken');
    await assert.rejects(
      pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/badtoken`, credentials: { kind: 'basic', username: 'ada', password: 'nope' }, actor: ada }),
      (e: Error) => isRegistryError(e, 'unauthorized') && e.message.startsWith(`registry ${reg.host} rejected the credentials for user ada (401)`),
    );
    assert.equal(releases('badtoken')[0].outcome, 'failed');
  });

  test('credentials from a Docker config credential helper on PATH, and an identity token from auths', async () => {
    const configDir = makeTempDir('runlens-docker-helper-');
    fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'test' } }));
    const env = { ...process.env, DOCKER_CONFIG: configDir, PATH: `${helperDir}${path.delimiter}${process.env.PATH}` };
    const v = await version('helper');
    await pushApprovedVersion({ registry, version: v, target: `${reg.host}/team/helper`, credentialSource: dockerConfigCredentials({ env }), actor: ada });
    assert.equal(await manifestStatus(reg, 'team/helper', 'v1'), 200);

    const missing = makeTempDir('runlens-docker-missing-');
    fs.writeFileSync(path.join(missing, 'config.json'), JSON.stringify({ credsStore: 'nosuchhelper' }));
    await assert.rejects(
      pushApprovedVersion({ registry, version: await version('nohelper'), target: `${reg.host}/team/nohelper`, credentialSource: dockerConfigCredentials({ env: { ...env, DOCKER_CONFIG: missing } }), actor: ada }),
      /names the credential helper "nosuchhelper", but docker-credential-nosuchhelper is not on PATH/,
    );

    const tokenConfig = makeTempDir('runlens-docker-identity-');
    fs.writeFileSync(path.join(tokenConfig, 'config.json'), JSON.stringify({ auths: { [reg.host]: { identitytoken: 'refresh-123' } } }));
    await pushApprovedVersion({ registry, version: await version('identity'), target: `${reg.host}/team/identity`, credentialSource: dockerConfigCredentials({ env: { DOCKER_CONFIG: tokenConfig } }), actor: ada });
    assert.equal(await manifestStatus(reg, 'team/identity', 'v1'), 200);
  });
});
