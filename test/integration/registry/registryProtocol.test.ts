// The registry as the editor uses it: through the agent's protocol, on a real
// corpus run and a real model, with a policy that passes and one that blocks.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { PROTOCOL_VERSION } from '../../../src/shared/protocol';
import { fromWire } from '../../../src/shared/wireNumbers';
import { startAgent, type AgentHandle } from '../../support/agentProcess';
import { copyCorpus, corpusDir, makeTempDir } from '../../support/fixtures';

let agent: AgentHandle;
let workspace: string;
let model: string;
let databasePath: string;
const RUN_DIR = 'mlruns/1/f8b0899d2d2c42c6a73b7ca8c256e3d6';

before(async () => {
  workspace = copyCorpus('logs/mlflow/pytorch-mnist-mlflow1');
  model = path.join(workspace, RUN_DIR, 'artifacts', 'face.onnx');
  fs.mkdirSync(path.dirname(model), { recursive: true });
  fs.copyFileSync(path.join(corpusDir(), 'models', 'blazeface_front_128.onnx'), model);
  // The approver's identity comes from git config: give the agent its own.
  const home = makeTempDir('runlens-registry-home-');
  fs.writeFileSync(path.join(home, '.gitconfig'), '[user]\n\tname = Protocol Tester\n\temail = tester@example.com\n');
  process.env.HOME = home;
  process.env.GIT_CONFIG_GLOBAL = path.join(home, '.gitconfig');
  databasePath = path.join(makeTempDir(), 'registry.db');
  agent = startAgent(databasePath);
  await agent.request('agent/hello', { clientName: 'test', protocolVersion: PROTOCOL_VERSION });
  await agent.request('workspace/ingest', { paths: [workspace] });
});

after(async () => {
  await agent.stop();
});

function writePolicy(policy: object): void {
  fs.mkdirSync(path.join(workspace, '.runlens'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.runlens', 'policy.json'), JSON.stringify(policy));
}

test('register infers the source run from the path and snapshots its params and metrics', async () => {
  const result = await agent.request('registry/register', { file: model, name: 'face', workspace });
  assert.equal(result.version.version, 1);
  assert.equal(result.version.state, 'pending');
  assert.equal(result.version.run?.params.lr, '0.001');
  const { models } = await agent.request('registry/models', {});
  assert.deepEqual(models.map((m) => m.name), ['face']);
});

test('a failing metric rule blocks approval and records nothing; an override is recorded', async () => {
  writePolicy({ version: 1, metrics: [{ metric: 'test_micro_accuracy', op: '>=', value: 0.99 }] });
  const evaluation = await agent.request('registry/evaluate', { ref: 'face@1', workspace });
  assert.equal(evaluation.pass, false);
  const failing = evaluation.rules.find((r) => r.status === 'fail')!;
  assert.match(failing.evidence, /0\.943/);
  const blocked = await agent.request('registry/approve', { ref: 'face@1', reason: 'ship it', override: false, workspace });
  assert.equal(blocked.status, 'blocked');
  assert.equal((await agent.request('registry/versions', { name: 'face' })).versions[0].state, 'pending');
  const overridden = await agent.request('registry/approve', { ref: 'face@1', reason: 'known gap, accepted', override: true, workspace });
  assert.equal(overridden.status, 'approved');
  assert.equal(overridden.overridden, true);
});

test('aliases move, illegal transitions are refused with the allowed ones, and the audit chain verifies', async () => {
  await agent.request('registry/alias', { ref: 'face@1', alias: 'production', workspace });
  const [v1] = (await agent.request('registry/versions', { name: 'face' })).versions;
  assert.deepEqual(v1.aliases, ['production']);
  await assert.rejects(agent.request('registry/reject', { ref: 'face@1', reason: 'too late', workspace }), /approved/);
  const verify = await agent.request('audit/verify', {});
  assert.equal(verify.ok, true, JSON.stringify(verify.problems));
  assert.ok(fromWire(verify.entries) >= 4, `register, approve, override, alias: ${verify.entries} entries`);
});

test('the agent holds one connection to its database, shared by runs, the registry and releases', async () => {
  // Every store of the agent was used above (ingest, register, approve, alias, verify); list both once more.
  await agent.request('runs/list', {});
  await agent.request('registry/models', {});
  const fds = fs.readdirSync(`/proc/${agent.child.pid}/fd`).map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${agent.child.pid}/fd/${fd}`);
    } catch {
      return ''; // closed while listing
    }
  });
  assert.equal(fds.filter((target) => target === databasePath).length, 1, `open descriptors of ${databasePath}: ${fds.filter((t) => t.startsWith(databasePath)).join(', ')}`);
});
