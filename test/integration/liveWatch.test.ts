// Live tracking through the agent protocol, on real files: the second half of
// real logs (copied from the corpus) is appended in pieces while the agent
// watches, and what the agent stores must equal a fresh read of the finished
// files, with no duplicate points. Also: rewrites, deletions, renames and a
// burst of 10,000 unrelated file events.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { PROTOCOL_VERSION, type AgentNotification, type WireRunSummary } from '../../src/shared/protocol';
import { fromWire } from '../../src/shared/wireNumbers';
import { startAgent, type AgentHandle } from '../support/agentProcess';
import { corpusDir, makeTempDir } from '../support/fixtures';

let agent: AgentHandle;
let ws: string;

const TB_SOURCE = 'logs/tensorboard/lightning-lstm-single-file/lightning_logs/version_0';
const LIGHTNING_SOURCE = 'logs/lightning-csv/sparse-train-val-rows/lightning_logs';
const KERAS_SOURCE = 'logs/keras-csv/append-mode-restarts/training_log.csv';

/** Byte offsets where TFRecord records end: [8-byte length][4 crc][data][4 crc]. */
function recordEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  let offset = 0;
  while (offset + 12 <= bytes.length) {
    const length = Number(bytes.readBigUInt64LE(offset));
    offset += 12 + length + 4;
    if (offset > bytes.length) break;
    ends.push(offset);
  }
  return ends;
}

/** Offsets just after each '\n'. */
function lineEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) ends.push(i + 1);
  return ends;
}

interface GrowingFile {
  target: string;
  full: Buffer;
  /** Cut points: the file starts at cuts[0] bytes and grows through the rest. */
  cuts: number[];
}

function prepare(target: string, full: Buffer, ends: number[]): GrowingFile {
  const half = ends[Math.floor(ends.length / 2)];
  const quarter = ends[Math.floor((ends.length * 3) / 4)];
  // The third piece ends in the middle of a record/line: it must wait for the rest.
  const cuts = [half, quarter, quarter + Math.max(1, Math.floor((ends[ends.length - 1] - quarter) / 3)), full.length];
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, full.subarray(0, cuts[0]));
  return { target, full, cuts };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; agent stderr: ${agent.stderr()}; last notifications: ${JSON.stringify(agent.notifications.slice(-5)).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const changesSince = (from: number) =>
  agent.notifications.slice(from).filter((n): n is Extract<AgentNotification, { method: 'runs/changed' }> => n.method === 'runs/changed');

async function allRuns(): Promise<WireRunSummary[]> {
  return (await agent.request('runs/list', { includeHidden: true })).runs;
}

/** Every stored point of every run under `root`, as comparable plain data. */
async function snapshot(handle: AgentHandle, root: string): Promise<Record<string, Record<string, [unknown, unknown][]>>> {
  const out: Record<string, Record<string, [unknown, unknown][]>> = {};
  const { runs } = await handle.request('runs/list', { includeHidden: true });
  for (const run of runs.filter((r) => r.path.startsWith(root))) {
    const detail = (await handle.request('runs/get', { id: run.id }))!;
    const series: Record<string, [unknown, unknown][]> = {};
    for (const s of detail.series) {
      const points = (await handle.request('series/get', { runId: run.id, key: s.key }))!;
      series[s.key] = points.steps.map((step, i) => [step, points.values[i]]);
    }
    out[`${path.relative(root, run.path)}::${run.name}`] = series;
  }
  return out;
}

before(async () => {
  ws = makeTempDir('runlens-live-');
  agent = startAgent(path.join(makeTempDir(), 'live.db'));
  await agent.request('agent/hello', { clientName: 'test', protocolVersion: PROTOCOL_VERSION });
});

after(async () => {
  await agent.stop();
});

test('appended records and lines arrive live and equal a fresh read of the finished files', { timeout: 120_000 }, async () => {
  const corpus = corpusDir();
  const tbDir = path.join(corpus, TB_SOURCE);
  const tbName = fs.readdirSync(tbDir).find((f) => f.startsWith('events.out.tfevents'))!;
  const tbFull = fs.readFileSync(path.join(tbDir, tbName));
  const lightningFull = fs.readFileSync(path.join(corpus, LIGHTNING_SOURCE, 'version_0', 'metrics.csv'));
  const kerasFull = fs.readFileSync(path.join(corpus, KERAS_SOURCE));
  fs.mkdirSync(path.join(ws, 'lightning_logs', 'version_0'), { recursive: true });
  fs.copyFileSync(path.join(corpus, LIGHTNING_SOURCE, 'version_0', 'hparams.yaml'), path.join(ws, 'lightning_logs', 'version_0', 'hparams.yaml'));
  const files = [
    prepare(path.join(ws, 'tb_logs', 'version_0', tbName), tbFull, recordEnds(tbFull)),
    prepare(path.join(ws, 'lightning_logs', 'version_0', 'metrics.csv'), lightningFull, lineEnds(lightningFull)),
    prepare(path.join(ws, 'keras', 'training_log.csv'), kerasFull, lineEnds(kerasFull)),
  ];
  await agent.request('workspace/ingest', { paths: [ws] });
  const watch = await agent.request('watch/start', { roots: [ws], ignore: [], usePolling: false, debounceMs: 50 });
  assert.equal(watch.watching, true);

  for (let piece = 1; piece < 4; piece++) {
    const from = agent.notifications.length;
    for (const f of files) fs.appendFileSync(f.target, f.full.subarray(f.cuts[piece - 1], f.cuts[piece]));
    await waitFor(`changes after piece ${piece}`, () => (changesSince(from).length > 0 ? true : undefined));
    // Let every file's change land before the next piece.
    await new Promise((r) => setTimeout(r, 400));
  }
  // A fresh agent on a fresh database reads the finished files once.
  const fresh = startAgent(path.join(makeTempDir(), 'fresh.db'));
  try {
    await fresh.request('workspace/ingest', { paths: [ws] });
    const expected = await snapshot(fresh, ws);
    const live = await waitFor('the live store to converge', async () => {
      const s = await snapshot(agent, ws);
      return JSON.stringify(s) === JSON.stringify(expected) ? s : undefined;
    });
    const tbRun = Object.keys(live).find((k) => k.startsWith('version_0::') || k.includes('tb_logs'))!;
    assert.ok(tbRun, `a TensorBoard run among ${Object.keys(live).join(', ')}`);
    assert.equal(live[tbRun].train_loss.length, 7691, 'every train_loss point of the corpus file, once');
  } finally {
    await fresh.stop();
  }
});

test('a rewritten file (Lightning adds a column) is re-read once, and its data is right', { timeout: 60_000 }, async () => {
  const csv = path.join(ws, 'lightning_logs', 'version_0', 'metrics.csv');
  // Lightning writes CRLF (Python's csv module); keep the file's own line ending.
  const text = fs.readFileSync(csv, 'utf8');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const before = text.split(eol);
  const rewritten = [`${before[0]},new_metric`, ...before.slice(1).filter(Boolean).map((l, i) => `${l},${i}`)].join(eol) + eol;
  const from = agent.notifications.length;
  fs.writeFileSync(csv, rewritten);
  const changed = await waitFor('the rewrite to be read', () => {
    const c = changesSince(from).flatMap((n) => n.params.changes).filter((x) => x.key === 'new_metric');
    return c.length ? c : undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  const all = changesSince(from).flatMap((n) => n.params.changes).filter((x) => x.key === 'new_metric');
  assert.equal(all.length, 1, `new_metric reported once, got ${JSON.stringify(all)}`);
  assert.equal(changed[0].newPoints, before.slice(1).filter(Boolean).length);
  const run = (await allRuns()).find((r) => r.format === 'lightning')!;
  const series = (await agent.request('series/get', { runId: run.id, key: 'new_metric' }))!;
  assert.deepEqual(series.values.map(fromWire), Array.from({ length: series.values.length }, (_, i) => i));
});

test('a deleted log and a renamed run folder converge to what is on disk', { timeout: 60_000 }, async () => {
  fs.rmSync(path.join(ws, 'keras', 'training_log.csv'));
  await waitFor('the Keras runs to go', async () => ((await allRuns()).some((r) => r.format === 'keras') ? undefined : true));
  fs.renameSync(path.join(ws, 'lightning_logs', 'version_0'), path.join(ws, 'lightning_logs', 'version_7'));
  const runs = await waitFor('version_7 to replace version_0', async () => {
    const r = (await allRuns()).filter((x) => x.format === 'lightning');
    return r.length === 1 && r[0].name === 'version_7' ? r : undefined;
  });
  assert.ok(runs[0].pointCount > 0);
});

test('a burst of 10,000 unrelated file events neither crashes the agent nor delays a real change', { timeout: 120_000 }, async () => {
  const noise = path.join(ws, 'checkpoints_dump');
  fs.mkdirSync(noise);
  const tbFile = fs
    .readdirSync(path.join(ws, 'tb_logs', 'version_0'))
    .map((f) => path.join(ws, 'tb_logs', 'version_0', f))
    .find((f) => f.includes('tfevents'))!;
  const before = (await allRuns()).find((r) => r.format === 'tensorboard')!.pointCount;
  for (let i = 0; i < 10_000; i++) fs.writeFileSync(path.join(noise, `n${i}.txt`), String(i));
  // One real change in the middle of the storm: a record copied from the file itself.
  const bytes = fs.readFileSync(tbFile);
  const ends = recordEnds(bytes);
  const lastRecord = bytes.subarray(ends[ends.length - 2], ends[ends.length - 1]);
  fs.appendFileSync(tbFile, lastRecord);
  const after = await waitFor('the appended record', async () => {
    const n = (await allRuns()).find((r) => r.format === 'tensorboard')!.pointCount;
    return n > before ? n : undefined;
  }, 60_000);
  assert.equal(after, before + 1, 'exactly one new point');
  const status = await agent.request('watch/setPaused', { paused: false });
  assert.equal(status.watching, true);
  assert.equal(agent.child.exitCode, null, 'the agent is alive');
});
