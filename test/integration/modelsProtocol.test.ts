// Models through the agent protocol, as the Models view uses them: the real
// corpus models plus a broken file, inspected, smoke-tested in the worker,
// and the result kept in the store.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/shared/protocol';
import { startAgent, type AgentHandle } from '../support/agentProcess';
import { corpusDir, makeTempDir } from '../support/fixtures';

let agent: AgentHandle;
let ws: string;

before(async () => {
  ws = makeTempDir('runlens-models-');
  for (const f of fs.readdirSync(path.join(corpusDir(), 'models')).filter((f) => f.endsWith('.onnx'))) {
    fs.copyFileSync(path.join(corpusDir(), 'models', f), path.join(ws, f));
  }
  fs.mkdirSync(path.join(ws, 'broken'));
  fs.writeFileSync(path.join(ws, 'broken', 'notes.onnx'), 'this is a text file, not a model\n');
  agent = startAgent(path.join(makeTempDir(), 'models.db'));
  await agent.request('agent/hello', { clientName: 'test', protocolVersion: PROTOCOL_VERSION });
});

after(async () => {
  await agent.stop();
});

test('models/list finds every .onnx with size and opset, and says what is wrong with a broken one', async () => {
  const { models } = await agent.request('models/list', { roots: [ws] });
  const byName = new Map(models.map((m) => [path.basename(m.path), m]));
  assert.deepEqual([...byName.keys()].sort(), ['blazeface_front_128.onnx', 'notes.onnx', 'ppocr_mobile_v2_cls.onnx', 'silero_vad_v5.onnx']);
  const silero = byName.get('silero_vad_v5.onnx')!;
  assert.equal(silero.size, fs.statSync(path.join(ws, 'silero_vad_v5.onnx')).size);
  assert.equal(silero.opset, 16);
  assert.equal(silero.inputs, 3);
  assert.equal(silero.error, null);
  const broken = byName.get('notes.onnx')!;
  assert.ok(broken.error && broken.error.includes('notes.onnx'), `error names the file: ${broken.error}`);
  assert.equal(broken.opset, null);
});

test('models/inspect returns the full inspection', async () => {
  const inspection = (await agent.request('models/inspect', { path: path.join(ws, 'ppocr_mobile_v2_cls.onnx') })) as {
    inputs: { name: string; shape: { kind: string; name?: string }[] }[];
  };
  assert.equal(inspection.inputs[0].name, 'x');
  assert.deepEqual(inspection.inputs[0].shape.map((d) => d.kind), ['symbol', 'fixed', 'symbol', 'symbol']);
});

test('models/smoke runs the model in the worker, reports progress, and the Models list remembers the result', { timeout: 120_000 }, async () => {
  const model = path.join(ws, 'ppocr_mobile_v2_cls.onnx');
  const from = agent.notifications.length;
  const report = (await agent.request('models/smoke', { path: model, runs: 10, warmup: 2, shapes: 'x=1x3x48x192' })) as {
    pass: boolean;
    ep: { used: string };
    latency: { p50Ms: number };
    outputs: { name: string; nanCount?: number }[];
  };
  assert.equal(report.pass, true);
  assert.equal(report.ep.used, 'cpu');
  assert.ok(report.latency.p50Ms > 0);
  assert.ok(agent.notifications.slice(from).some((n) => n.method === 'agent/progress' && n.params.operation === 'smoke'), 'smoke progress was reported');
  const { models } = await agent.request('models/list', { roots: [ws] });
  const listed = models.find((m) => m.path === model)!;
  assert.ok(listed.lastSmoke, 'the smoke test is remembered');
  assert.equal(listed.lastSmoke.passed, true);
  assert.equal(listed.lastSmoke.p50Ms, report.latency.p50Ms);
});

test('a smoke test of a broken file is an error naming it, and the agent keeps working', async () => {
  await assert.rejects(agent.request('models/smoke', { path: path.join(ws, 'broken', 'notes.onnx') }), /notes\.onnx/);
  const { models } = await agent.request('models/list', { roots: [ws] });
  assert.equal(models.length, 4);
});

test('models/parity compares providers in the worker; models/results returns it next to the last smoke test, which it does not replace', { timeout: 120_000 }, async () => {
  const model = path.join(ws, 'ppocr_mobile_v2_cls.onnx');
  const before = (await agent.request('models/list', { roots: [ws] })).models.find((m) => m.path === model)!.lastSmoke;
  const from = agent.notifications.length;
  // A second CPU session with the same options agrees exactly; dml does not exist on this platform.
  const report = (await agent.request('models/parity', { path: model, eps: ['cpu', 'dml'], runs: 5, warmup: 1 })) as {
    pass: boolean;
    compared: number;
    candidates: { label: string; status: string; reason: string | null; outputs: { name: string; maxAbsDiff: number }[] }[];
  };
  assert.equal(report.pass, true);
  assert.equal(report.compared, 1);
  assert.deepEqual(report.candidates.map((c) => [c.label, c.status]), [['cpu', 'ran'], ['dml', 'unavailable']]);
  assert.deepEqual(report.candidates[0].outputs.map((o) => [o.name, o.maxAbsDiff]), [['softmax_0.tmp_0', 0]]);
  assert.match(report.candidates[1].reason!, /Windows/);
  assert.ok(agent.notifications.slice(from).some((n) => n.method === 'agent/progress' && /^dml: loading-model$/.test(n.params.message)), 'progress names the provider');

  const results = await agent.request('models/results', { path: model });
  assert.deepEqual(results.parity, JSON.parse(JSON.stringify(report)), 'the stored parity report is the one returned');
  assert.equal((results.smoke as { ep: { used: string } }).ep.used, 'cpu', 'the last smoke test is still there');
  assert.deepEqual(results.golden, { path: path.join(ws, 'ppocr_mobile_v2_cls.golden.json'), exists: false, createdAt: null });
  const after = (await agent.request('models/list', { roots: [ws] })).models.find((m) => m.path === model)!.lastSmoke;
  assert.deepEqual(after, before, "a parity check is not the model's last smoke test");
});

test('a smoke test can save the golden file beside the model, and models/results reports it', { timeout: 120_000 }, async () => {
  const model = path.join(ws, 'silero_vad_v5.onnx');
  const golden = path.join(ws, 'silero_vad_v5.golden.json');
  await agent.request('models/smoke', { path: model, runs: 3, warmup: 0, saveGolden: golden });
  const saved = await agent.request('models/results', { path: model });
  assert.equal(saved.golden.exists, true);
  assert.ok(saved.golden.createdAt && !Number.isNaN(Date.parse(saved.golden.createdAt)));
  const compared = (await agent.request('models/smoke', { path: model, runs: 3, warmup: 0, golden })) as { golden: { comparison: { pass: boolean } } };
  assert.equal(compared.golden.comparison.pass, true);
  assert.equal(((await agent.request('models/results', { path: model })).smoke as { golden: { comparison: { pass: boolean } } }).golden.comparison.pass, true);
});
