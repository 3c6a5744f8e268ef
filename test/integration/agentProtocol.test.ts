// The real agent process, spoken to over stdio JSON-RPC exactly as the
// extension does: ingest a real MLflow store from the corpus into a temp
// database and read it back, value for value, against the corpus' expected.json.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { PROTOCOL_VERSION, type WireSeries } from '../../src/shared/protocol';
import { fromWire } from '../../src/shared/wireNumbers';
import { startAgent, type AgentHandle } from '../support/agentProcess';
import { copyCorpus, makeTempDir, readExpected } from '../support/fixtures';

interface ExpectedMlflow {
  experiments: {
    experiment_id: string;
    name: string;
    runs: { run_id: string; tag_runName: string; status: string; params: Record<string, string>; metrics: Record<string, { n: number; last_line: { ts: number; value: number; step: number } }> }[];
  }[];
}

const CASE = 'logs/mlflow/pytorch-mnist-mlflow1';
let agent: AgentHandle;
let workspace: string;
let dbPath: string;

before(() => {
  workspace = copyCorpus(CASE);
  dbPath = path.join(makeTempDir(), 'agent.db');
  agent = startAgent(dbPath);
});

after(async () => {
  await agent.stop();
});

test('hello reports the protocol, the Node running the agent and the database', async () => {
  const hello = await agent.request('agent/hello', { clientName: 'test', protocolVersion: PROTOCOL_VERSION });
  assert.equal(hello.protocolVersion, PROTOCOL_VERSION);
  assert.equal(hello.nodeVersion, process.version);
  assert.equal(hello.databasePath, dbPath);
  assert.ok(hello.formats.includes('mlflow'));
});

test('ingest through the protocol stores exactly what the MLflow files say', async () => {
  const report = await agent.request('workspace/ingest', { paths: [workspace] });
  const expected = readExpected<ExpectedMlflow>(CASE);
  const expectedRuns = expected.experiments.flatMap((e) => e.runs.map((r) => ({ ...r, experiment: e.name })));
  assert.equal(report.runs, expectedRuns.length);
  assert.ok(agent.notifications.some((n) => n.method === 'agent/progress'), 'progress notifications were sent');
  assert.ok(agent.notifications.some((n) => n.method === 'runs/changed'), 'runs/changed was sent');

  const { runs, total } = await agent.request('runs/list', {});
  assert.equal(total, expectedRuns.length);
  for (const want of expectedRuns) {
    const got = runs.find((r) => r.name === want.tag_runName);
    assert.ok(got, `run ${want.tag_runName} listed`);
    assert.equal(got.status, want.status.toLowerCase());
    assert.equal(got.experimentName, want.experiment);
    const detail = (await agent.request('runs/get', { id: got.id }))!;
    assert.deepEqual(detail.params, want.params);
    assert.deepEqual(detail.series.map((s) => s.key).sort(), Object.keys(want.metrics).sort());
    for (const [key, metric] of Object.entries(want.metrics)) {
      const series: WireSeries = (await agent.request('series/get', { runId: got.id, key }))!;
      assert.equal(series.values.length, metric.n, `${key} point count`);
      const last = series.values.length - 1;
      assert.equal(fromWire(series.values[last]), metric.last_line.value, `${key} last value`);
      assert.equal(fromWire(series.steps[last]), metric.last_line.step);
      assert.equal(fromWire(series.walls[last]), metric.last_line.ts);
    }
  }
});

test('a second ingest of unchanged files reads nothing again', async () => {
  const report = await agent.request('workspace/ingest', { paths: [workspace] });
  assert.equal(report.sourcesRead, 0);
  assert.equal(report.sourcesUnchanged, report.sourcesFound);
});

test('experiments/list groups runs by experiment', async () => {
  const { experiments } = await agent.request('experiments/list', {});
  const mnist = experiments.find((e) => e.name === 'MNIST-MLP');
  assert.ok(mnist);
  assert.equal(mnist.format, 'mlflow');
  assert.equal(mnist.runCount, 13);
});

test('a second agent on the same database exits with a message naming it, and the first keeps working', async () => {
  const second = startAgent(dbPath);
  const { code } = await second.exited;
  second.connection.dispose();
  assert.equal(code, 1);
  assert.match(second.stderr(), /Another RunLens agent \(pid \d+/);
  assert.ok(second.stderr().includes(dbPath));
  const { total } = await agent.request('runs/list', {});
  assert.equal(total, 13);
});

test('shutdown closes the database and releases the lock', async () => {
  await agent.stop();
  const { code } = await agent.exited;
  assert.equal(code, 0);
  assert.ok(!fs.existsSync(`${dbPath}.lock`));
});
