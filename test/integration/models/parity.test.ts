// The EP parity check end to end on the corpus models, in the real worker
// process with onnxruntime-node. This machine has no GPU (WebGPU finds no
// adapter, the CUDA provider is not installed), so the machinery is proven on
// real outputs of two real CPU configurations: the reference with the
// runtime's graph optimizations against a candidate without them (fusions
// change float rounding, so the outputs differ by a little), and identical
// configurations (which must agree exactly). GPU providers are checked to be
// reported as unavailable with their reason, not as failures.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { decodeGoldenData, readGolden } from '../../../src/core/models/golden';
import { diffOutputs, runParityCheck, type ParityConfig, type ParityEntry } from '../../../src/core/models/parity';
import { runSmokeTest, SmokeCancelledError } from '../../../src/core/models/smoke';
import type { OutputTensor } from '../../../src/core/models/smokeProtocol';
import { parseArgs } from '../../../src/agent/args';
import { parityCommand } from '../../../src/agent/commands/parity';
import { copyCorpus, makeTempDir, repoRoot } from '../../support/fixtures';

const quick = { runs: 5, warmup: 1 };
const OPT_OFF: ParityConfig = { label: 'cpu, graph optimizations off', ep: 'cpu', graphOptimizationLevel: 'disabled', threads: 1 };
const REFERENCE: ParityConfig = { label: 'cpu', ep: 'cpu', threads: 1 };
const MODELS: Record<string, string[]> = {
  'silero_vad_v5.onnx': ['output', 'stateN'],
  'blazeface_front_128.onnx': ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'],
  'ppocr_mobile_v2_cls.onnx': ['softmax_0.tmp_0'],
};
const copies = new Map<string, string>();
const model = (name: string) => {
  if (!copies.has(name)) copies.set(name, copyCorpus(`models/${name}`));
  return copies.get(name)!;
};
const entry = (entries: ParityEntry[], label: string) => {
  const e = entries.find((c) => c.label === label);
  assert.ok(e, `candidate ${label} reported (got ${entries.map((c) => c.label).join(', ')})`);
  return e;
};

describe('EP parity check on the corpus models (real CPU configurations)', { timeout: 120_000 }, () => {
  for (const [name, outputs] of Object.entries(MODELS)) {
    test(`${name}: latency side by side, speedup, per-output differences within tolerance`, async () => {
      const r = await runParityCheck(model(name), { ...quick, reference: REFERENCE, candidates: [OPT_OFF] });
      assert.equal(r.reference.label, 'cpu');
      const ref = r.reference.timing;
      assert.equal(ref.latency.runs, quick.runs);
      assert.ok(ref.loadMs > 0 && ref.firstRunMs > 0 && ref.latency.p50Ms > 0, JSON.stringify(ref));
      const c = entry(r.candidates, OPT_OFF.label);
      assert.equal(c.status, 'ran');
      assert.equal(c.timing!.latency.runs, quick.runs);
      assert.ok(c.timing!.firstRunMs > 0 && c.timing!.latency.p50Ms > 0);
      assert.equal(c.speedup, ref.latency.p50Ms / c.timing!.latency.p50Ms, 'speedup = reference p50 / candidate p50');
      assert.deepEqual(c.outputs.map((o) => o.name), outputs, 'every output of the model is compared');
      for (const o of c.outputs) {
        assert.equal(o.problem, null);
        assert.ok(o.maxAbsDiff! >= 0 && o.maxAbsDiff! < 1e-3, `${o.name}: max abs diff ${o.maxAbsDiff}`);
        assert.ok(Number.isFinite(o.maxRelDiff!), `${o.name}: finite relative difference`);
        assert.ok(o.elements > 0 && o.worst !== null);
        assert.equal(Math.abs(o.worst!.candidate - o.worst!.reference), o.maxAbsDiff, 'the worst element carries the max abs diff');
      }
      assert.equal(c.pass, true, JSON.stringify(c.outputs));
      assert.equal(r.compared, 1);
      assert.equal(r.pass, true, r.problems.join('; '));
    });
  }

  test('identical configurations agree exactly: the differences are the optimizer, not noise', async () => {
    const r = await runParityCheck(model('blazeface_front_128.onnx'), { ...quick, reference: REFERENCE, candidates: [{ ...REFERENCE, label: 'cpu again' }, OPT_OFF] });
    const same = entry(r.candidates, 'cpu again');
    assert.deepEqual(same.outputs.map((o) => o.maxAbsDiff), [0, 0, 0, 0]);
    // Without fusions the float rounding differs: the diff machinery sees real, nonzero differences.
    const off = entry(r.candidates, OPT_OFF.label);
    assert.ok(off.outputs.some((o) => o.maxAbsDiff! > 0), `graph optimizations change some output: ${JSON.stringify(off.outputs.map((o) => o.maxAbsDiff))}`);
  });

  test('a zero tolerance turns those real differences into a failure naming the outputs', async () => {
    const r = await runParityCheck(model('blazeface_front_128.onnx'), { ...quick, reference: REFERENCE, candidates: [OPT_OFF], tolerances: { atol: 0, rtol: 0 } });
    const c = entry(r.candidates, OPT_OFF.label);
    const failing = c.outputs.filter((o) => !o.pass);
    assert.ok(failing.length > 0 && failing.every((o) => o.mismatches > 0 && o.maxAbsDiff! > 0));
    assert.equal(c.pass, false);
    assert.equal(r.pass, false);
    assert.match(r.problems[0], new RegExp(`^${OPT_OFF.label} computes different outputs than cpu: .*${failing[0].name.replace(/[.:]/g, '\\$&')} \\(max abs diff`));
  });

  test('a perturbed real output fails with the exact max abs and rel differences', async () => {
    const dir = makeTempDir();
    const goldenFile = path.join(dir, 'ppocr.golden.json');
    await runSmokeTest(model('ppocr_mobile_v2_cls.onnx'), { ...quick, saveGolden: goldenFile });
    const golden = readGolden(goldenFile);
    const real: OutputTensor[] = golden.outputs.map((o) => ({ name: o.name, dtype: o.dtype, dims: o.dims, data: Float32Array.from(decodeGoldenData(o.dtype, o.data) as Float32Array) }));
    const softmax = real[0].data as Float32Array;
    assert.equal(softmax.length, 2);
    const perturbed = real.map((o) => ({ ...o, data: Float32Array.from(o.data as Float32Array) }));
    (perturbed[0].data as Float32Array)[1] += 0.01;
    const [d] = diffOutputs(real, perturbed, { atol: 1e-4, rtol: 1e-3 });
    const delta = (perturbed[0].data as Float32Array)[1] - softmax[1]; // 0.01 after float32 rounding
    assert.ok(Math.abs(delta - 0.01) < 1e-6);
    assert.equal(d.maxAbsDiff, delta);
    assert.equal(d.maxRelDiff, delta / softmax[1]);
    assert.deepEqual(d.worst, { index: 1, reference: softmax[1], candidate: (perturbed[0].data as Float32Array)[1] });
    assert.equal(d.mismatches, 1);
    assert.equal(d.pass, false);
    assert.equal(diffOutputs(real, real, { atol: 0, rtol: 0 })[0].pass, true, 'the unperturbed outputs pass against themselves');
  });
});

describe('EP parity check: providers this machine cannot use', { timeout: 60_000 }, () => {
  test('a provider of another platform is reported unavailable with its reason, and nothing fails', async () => {
    const r = await runParityCheck(model('ppocr_mobile_v2_cls.onnx'), { ...quick, candidates: [{ label: 'dml', ep: 'dml' }, { label: 'coreml', ep: 'coreml' }] });
    const dml = entry(r.candidates, 'dml');
    assert.equal(dml.status, 'unavailable');
    assert.match(dml.reason!, /no dml execution provider \(dml exists only in the Windows build\); it offers: cpu/);
    assert.match(entry(r.candidates, 'coreml').reason!, /only in the macOS build/);
    assert.equal(dml.pass, null);
    assert.deepEqual(dml.outputs, []);
    assert.equal(r.compared, 0);
    assert.equal(r.pass, true, 'unavailable is not a failure');
    assert.ok(r.warnings.some((w) => /^dml is not available on this machine: /.test(w)));
    assert.ok(r.warnings.includes('no execution provider besides the reference could run here; nothing was compared'));
  });

  const cudaLibrary = path.join(repoRoot, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so');
  const cudaSkip = process.platform === 'linux' && process.arch === 'x64' && !fs.existsSync(cudaLibrary) ? false : 'the CUDA provider is installed here';
  test('by default every provider the runtime lists is tried; CUDA without its library says how to install it', { skip: cudaSkip }, async () => {
    const r = await runParityCheck(model('ppocr_mobile_v2_cls.onnx'), quick);
    const listed = r.runtime.backends.map((b) => b.name).filter((n) => n !== 'cpu');
    assert.deepEqual(r.candidates.map((c) => c.label), listed, 'one entry per listed provider, none silently skipped');
    const cuda = entry(r.candidates, 'cuda');
    assert.equal(cuda.status, 'unavailable');
    assert.match(cuda.reason!, /CUDA execution provider is not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    for (const c of r.candidates) assert.ok(c.status === 'ran' || c.reason, `${c.label}: a status and, when it did not run, a reason`);
  });

  test('cancelling stops the worker', async () => {
    const abort = new AbortController();
    const started = runParityCheck(model('silero_vad_v5.onnx'), { runs: 100_000, warmup: 0, reference: REFERENCE, candidates: [OPT_OFF], signal: abort.signal, onPhase: (phase) => phase === 'timing' && abort.abort() });
    await assert.rejects(started, SmokeCancelledError);
  });

  test('a text file renamed .onnx is a clear message naming it', async () => {
    const file = path.join(makeTempDir(), 'notes.onnx');
    fs.writeFileSync(file, 'these are my notes, not a model\n');
    await assert.rejects(runParityCheck(file, quick), (e: unknown) => isUserError(e) && e.message.includes(file));
  });
});

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await parityCommand.run(parseArgs(argv, parityCommand.flags), { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('runlens parity', { timeout: 120_000 }, () => {
  test('the table puts CPU and each provider side by side; unavailable ones say why; exit 0', async () => {
    const r = await cli([model('blazeface_front_128.onnx'), '--ep', 'cpu', '--graph-opt', 'disabled', '--ep', 'dml', '--runs', '3', '--warmup', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^EP\s+STATUS\s+LOAD\s+FIRST RUN\s+P50\s+P95\s+SPEED VS CPU\s+MAX ABS DIFF\s+MAX REL DIFF\s+RESULT$/m);
    assert.match(r.stdout, /^cpu \(reference\)\s+ran\s+.*\s1×\s.*reference$/m);
    assert.match(r.stdout, /^cpu \(graph-opt disabled\)\s+ran\s+.*(faster|slower|same speed).*PASS$/m);
    assert.match(r.stdout, /^dml \(graph-opt disabled\)\s+unavailable\s.*not compared$/m);
    assert.match(r.stdout, /^Identity:0\s+/m);
    assert.match(r.stdout, /^result: PASS \(1 of 2 provider\(s\) compared with cpu\)$/m);
    assert.match(r.stderr, /note: dml \(graph-opt disabled\) is not available on this machine: .*Windows/);
  });

  test('--json with zero tolerance: FAIL, exit 1, the numbers in the report', async () => {
    const r = await cli([model('blazeface_front_128.onnx'), '--ep', 'cpu', '--graph-opt', 'disabled', '--atol', '0', '--rtol', '0', '--runs', '3', '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { pass: boolean; tolerances: { atol: number }; candidates: { outputs: { maxAbsDiff: number; pass: boolean }[] }[] };
    assert.equal(report.pass, false);
    assert.equal(report.tolerances.atol, 0);
    assert.ok(report.candidates[0].outputs.some((o) => !o.pass && o.maxAbsDiff > 0));
    assert.match(r.stderr, /parity: FAIL: cpu \(graph-opt disabled\) computes different outputs than cpu/);
  });

  test('bad flags are user errors', async () => {
    await assert.rejects(cli([]), (e: unknown) => isUserError(e) && /needs a MODEL/.test(e.message));
    await assert.rejects(cli([model('silero_vad_v5.onnx'), '--ep', 'tpu']), (e: unknown) => isUserError(e) && /--ep tpu: expected one of cpu, cuda, webgpu/.test(e.message));
    await assert.rejects(cli([model('silero_vad_v5.onnx'), '--graph-opt', 'disabled']), (e: unknown) => isUserError(e) && /--graph-opt needs --ep/.test(e.message));
    await assert.rejects(cli([model('silero_vad_v5.onnx'), '--ep', 'cpu', '--graph-opt', 'max']), (e: unknown) => isUserError(e) && /expected one of disabled, basic, extended, all/.test(e.message));
  });
});
