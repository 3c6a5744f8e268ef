// The smoke test end to end: a real worker process running onnxruntime-node on
// the corpus models, golden files, and every way it must fail without taking
// the caller down (bad model, missing weights, runtime errors, hangs, crashes).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { lcg, parseShapeOverrides, DEFAULT_SEED } from '../../../src/core/models/inputs';
import { runSmokeTest, SmokeCancelledError, type SmokeReport } from '../../../src/core/models/smoke';
import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { buildModel, BFLOAT16, endlessLoopModel, externalDataModel, externalWeights, FLOAT } from '../../unit/models/onnxBuilder';

const quick = { runs: 5, warmup: 1 };

/** Alive and not a zombie waiting for a parent that is gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

// One copy of each corpus model and one temp folder for the whole file
// (each makeTempDir adds a process 'exit' listener).
const copies = new Map<string, string>();
function corpusModel(name: string): string {
  if (!copies.has(name)) copies.set(name, copyCorpus(`models/${name}`));
  return copies.get(name)!;
}
const tmp = makeTempDir('runlens-smoke-');
let dirs = 0;
function freshDir(): string {
  const dir = path.join(tmp, String(++dirs));
  fs.mkdirSync(dir);
  return dir;
}

function output(report: SmokeReport, name: string) {
  const o = report.outputs.find((x) => x.name === name);
  assert.ok(o, `output ${name} reported`);
  return o;
}

function near(actual: number | null, expected: number, tolerance: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

// The corpus README's figures ("output = 0.023560941", blazeface min -5.4065 / max -1.6019,
// softmax [0.3105, 0.6895]) were measured on "deterministic LCG uniform values in [-1, 1]"
// without saying which LCG, seed or draw order; no common LCG and seed we tried gives them.
// So these tests check the README's shapes and the RunLens generator's own, documented
// input (Numerical Recipes LCG, seed 42, see inputs.ts), whose outputs were measured once
// with onnxruntime-node 1.30.0 on CPU and are pinned here.
describe('smoke test on the corpus models (CPU, in a worker process)', () => {
  test('silero_vad_v5 with input [1, 512], zero state and sr = 16000', async () => {
    const report = await runSmokeTest(corpusModel('silero_vad_v5.onnx'), quick);
    assert.deepEqual(report.inputs.map((i) => [i.name, i.shape]), [
      ['input', [1, 512]],
      ['state', [2, 1, 128]],
      ['sr', []],
    ]);
    const out = output(report, 'output');
    assert.deepEqual(out.dims, [1, 1]);
    assert.equal(out.shapeProblem, null);
    near(out.min, 0.013993591, 1e-4, 'speech probability');
    assert.deepEqual(output(report, 'stateN').dims, [2, 1, 128]);
    assert.equal(report.ep.used, 'cpu');
    assert.equal(report.runtime.version, '1.30.0');
    assert.ok(report.runtime.backends.some((b) => b.name === 'cpu'));
    assert.ok(report.loadMs > 0 && report.firstRunMs > 0 && report.latency.p50Ms > 0);
    assert.ok(report.latency.p50Ms <= report.latency.p95Ms && report.latency.p95Ms <= report.latency.p99Ms);
    assert.equal(report.latency.runs, 5);
    assert.ok(report.startToFirstResultMs! > report.loadMs);
    assert.ok(report.peakRssBytes > 20 * 1024 * 1024, `worker RSS ${report.peakRssBytes}`);
    // Batch is dynamic: 1, 8 and 32 all run (the state follows the batch).
    assert.deepEqual(report.throughput!.map((b) => [b.batch, b.error]), [
      [1, null],
      [8, null],
      [32, null],
    ]);
    assert.ok(report.throughput!.every((b) => b.itemsPerSec! > 0));
    assert.equal(report.pass, true, report.problems.join('; '));
  });

  test('blazeface_front_128: fixed NHWC input, four outputs, no batch throughput', async () => {
    const report = await runSmokeTest(corpusModel('blazeface_front_128.onnx'), quick);
    assert.deepEqual(report.inputs[0].shape, [1, 128, 128, 3]);
    const scores = output(report, 'Identity:0');
    assert.deepEqual(scores.dims, [1, 512, 1]);
    near(scores.min, -5.393761, 1e-3, 'Identity:0 min');
    near(scores.max, -1.247935, 1e-3, 'Identity:0 max');
    assert.equal(report.outputs.length, 4);
    assert.ok(report.outputs.every((o) => o.shapeProblem === null && o.nan === 0 && o.posInf + o.negInf === 0));
    assert.equal(report.throughput, null);
    assert.equal(report.pass, true);
  });

  test('ppocr_mobile_v2_cls with x [1, 3, 48, 192]: a softmax over two classes', async () => {
    const report = await runSmokeTest(corpusModel('ppocr_mobile_v2_cls.onnx'), { ...quick, shapes: parseShapeOverrides('x=1x3x48x192') });
    assert.deepEqual(report.inputs[0].shape, [1, 3, 48, 192]);
    const softmax = output(report, 'softmax_0.tmp_0');
    assert.deepEqual(softmax.dims, [1, 2]);
    near(softmax.min, 0.409402, 1e-3, 'softmax min');
    near(softmax.max, 0.590598, 1e-3, 'softmax max');
    near(softmax.mean, 0.5, 1e-6, 'softmax sums to 1');
    assert.equal(report.throughput!.length, 3);
    assert.equal(report.pass, true);
  });
});

describe('golden outputs', () => {
  test('a run matches its own golden file and fails against a perturbed input', async () => {
    const model = corpusModel('silero_vad_v5.onnx');
    const golden = path.join(freshDir(), 'silero.golden.json');
    const saved = await runSmokeTest(model, { ...quick, saveGolden: golden });
    assert.equal(saved.golden.saved, golden);

    const again = await runSmokeTest(model, { ...quick, golden });
    assert.equal(again.golden.comparison!.pass, true, JSON.stringify(again.golden.comparison));
    assert.ok(again.golden.comparison!.outputs.every((o) => o.maxAbsDiff! <= 1e-5 && o.cosine! > 0.99999));
    assert.equal(again.pass, true);

    const perturbed = await runSmokeTest(model, { ...quick, golden, seed: DEFAULT_SEED + 1 });
    const comparison = perturbed.golden.comparison!;
    assert.equal(comparison.pass, false);
    assert.ok(comparison.outputs.some((o) => o.mismatches > 0 && o.maxAbsDiff! > 1e-3));
    assert.ok(comparison.notes.some((n) => /seed 43, golden made with seed 42/.test(n)), comparison.notes.join('; '));
    assert.equal(perturbed.pass, false);
    assert.match(perturbed.problems.join('; '), /differ from the golden file/);
  });
});

describe('models with external data', () => {
  test('loads weights from the file next to the model', async () => {
    const dir = freshDir();
    const model = path.join(dir, 'add.onnx');
    fs.writeFileSync(model, externalDataModel('weights.bin'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), externalWeights());
    const golden = path.join(dir, 'golden.json');
    const report = await runSmokeTest(model, { ...quick, saveGolden: golden });
    // Y = X + W, X being the generator's first two values.
    const random = lcg(DEFAULT_SEED);
    const x = Float32Array.of(random() * 2 - 1, random() * 2 - 1);
    const expected = Float32Array.of(x[0] + 1.5, x[1] - 2);
    const y = output(report, 'Y');
    near(y.min, Math.min(...expected), 1e-6, 'Y min');
    near(y.max, Math.max(...expected), 1e-6, 'Y max');
  });

  test('a missing external file is a user error naming it, before any worker starts', async () => {
    const dir = freshDir();
    const model = path.join(dir, 'add.onnx');
    fs.writeFileSync(model, externalDataModel('weights.bin'));
    await assert.rejects(runSmokeTest(model, { ...quick, workerScript: path.join(dir, 'no-worker.js') }), (e: unknown) => {
      assert.ok(isUserError(e));
      assert.ok(e.message.includes(path.join(dir, 'weights.bin')), e.message);
      assert.match(e.message, /tensor "W"/);
      return true;
    });
  });
});

describe('failures are reported, never fatal', () => {
  test('bad files: truncated, text, empty', async () => {
    const dir = freshDir();
    const silero = fs.readFileSync(corpusModel('silero_vad_v5.onnx'));
    const cases: [string, Buffer | string, RegExp][] = [
      ['cut.onnx', silero.subarray(0, silero.length - 1000), /protobuf decoding failed at byte \d+/],
      ['notes.onnx', 'just some notes\n', /looks like a text file/],
      ['empty.onnx', '', /the file is empty/],
    ];
    for (const [name, content, pattern] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      await assert.rejects(runSmokeTest(file, quick), (e: unknown) => isUserError(e) && e.message.includes(file) && pattern.test(e.message), name);
    }
  });

  test('an input dtype the generator cannot make', async () => {
    const file = path.join(freshDir(), 'bf16.onnx');
    fs.writeFileSync(
      file,
      buildModel({
        irVersion: 8,
        opsets: [{ domain: '', version: 13 }],
        graph: { name: 'g', nodes: [{ opType: 'Cast', inputs: ['w'], outputs: ['y'], attributes: [{ name: 'to', type: 2, i: FLOAT }] }], inputs: [{ name: 'w', elemType: BFLOAT16, shape: [2] }], outputs: [{ name: 'y', elemType: FLOAT, shape: [2] }] },
      }),
    );
    await assert.rejects(runSmokeTest(file, quick), (e: unknown) => isUserError(e) && /input "w" has dtype bfloat16/.test(e.message));
  });

  test("the runtime's own error reaches the user, with the inputs that were used", async () => {
    const model = corpusModel('silero_vad_v5.onnx');
    await assert.rejects(runSmokeTest(model, { ...quick, shapes: parseShapeOverrides('input=1x100') }), (e: unknown) => {
      assert.ok(isUserError(e), String(e));
      assert.match(e.message, /failed while running the model for the first time/);
      assert.match(e.message, /Non-zero status code returned while running/);
      assert.match(e.message, /input=1x100.*--shape/);
      return true;
    });
  });

  test('a model that never finishes is stopped by the timeout', async () => {
    const file = path.join(freshDir(), 'endless.onnx');
    fs.writeFileSync(file, endlessLoopModel());
    const started = Date.now();
    await assert.rejects(runSmokeTest(file, { ...quick, timeoutMs: 3000 }), (e: unknown) => isUserError(e) && /timed out after 3 s while running the model for the first time; the worker was stopped/.test(e.message));
    assert.ok(Date.now() - started < 10_000);
  });

  test('cancellation stops the worker', async () => {
    const file = path.join(freshDir(), 'endless.onnx');
    fs.writeFileSync(file, endlessLoopModel());
    const abort = new AbortController();
    const started = Date.now();
    await assert.rejects(
      runSmokeTest(file, { ...quick, signal: abort.signal, onPhase: (phase) => phase === 'first-run' && setTimeout(() => abort.abort(), 200) }),
      (e: unknown) => e instanceof SmokeCancelledError,
    );
    assert.ok(Date.now() - started < 10_000);
  });

  test('a hanging worker does not outlive an agent that was killed', async () => {
    const file = path.join(freshDir(), 'endless.onnx');
    fs.writeFileSync(file, endlessLoopModel());
    const smokeModule = path.join(__dirname, '..', '..', '..', 'src', 'core', 'models', 'smoke.js');
    const script = `require(${JSON.stringify(smokeModule)}).runSmokeTest(${JSON.stringify(file)}, {
      timeoutMs: 600000,
      onWorkerStart: (pid) => console.log('worker ' + pid),
      onPhase: (phase) => phase === 'first-run' && setTimeout(() => console.log('hanging'), 300),
    }).catch(() => {});`;
    const agent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    await new Promise<void>((resolve) => agent.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d).includes('hanging') && resolve()));
    const pid = Number(/worker (\d+)/.exec(stdout)![1]);
    assert.ok(isRunning(pid), 'the worker is running the endless model');
    agent.kill('SIGKILL');
    const started = Date.now();
    while (isRunning(pid) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(isRunning(pid), false, 'the orphaned worker stopped itself');
  });

  test('a worker that crashes (SIGSEGV) or exits is reported with its phase and last words', async () => {
    const dir = freshDir();
    const model = corpusModel('blazeface_front_128.onnx');
    const segv = path.join(dir, 'segv.js');
    fs.writeFileSync(segv, "process.on('message', () => { process.send({ type: 'phase', phase: 'loading-model' }, () => { process.stderr.write('native code went wrong\\n'); process.kill(process.pid, 'SIGSEGV'); }); });\n");
    await assert.rejects(runSmokeTest(model, { ...quick, workerScript: segv }), (e: unknown) => {
      assert.ok(isUserError(e), String(e));
      assert.match(e.message, /stopped unexpectedly \(killed by SIGSEGV\) while loading the model/);
      assert.match(e.message, /native code went wrong/);
      return true;
    });
    const exits = path.join(dir, 'exit.js');
    fs.writeFileSync(exits, 'process.exit(3);\n');
    await assert.rejects(runSmokeTest(model, { ...quick, workerScript: exits }), (e: unknown) => isUserError(e) && /exit code 3\) while starting/.test(e.message));
  });

  test('a requested GPU provider that is not there falls back to CPU and says why', async () => {
    const report = await runSmokeTest(corpusModel('blazeface_front_128.onnx'), { ...quick, ep: 'cuda' });
    if (report.ep.used === 'cuda') return; // a machine with the CUDA provider installed
    assert.equal(report.ep.used, 'cpu');
    assert.match(report.ep.fallbackReason!, /CUDA execution provider is not installed/);
    assert.ok(report.warnings.some((w) => /ran on CPU instead of cuda/.test(w)));
    assert.equal(report.pass, true);
  });
});
