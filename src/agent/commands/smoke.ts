// `runlens smoke MODEL`: load and run a model on synthetic inputs in a worker
// process; exit 0 when every check passes, 1 when one fails (or the model
// cannot run), 130 when interrupted.
import { UserError } from '../../core/errors';
import { DEFAULT_ATOL, DEFAULT_RTOL } from '../../core/models/golden';
import { DEFAULT_SEED, parseShapeOverrides } from '../../core/models/inputs';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../core/models/ortRuntime';
import { DEFAULT_RUNS, DEFAULT_TIMEOUT_S, DEFAULT_WARMUP, runSmokeTest, type SmokeReport } from '../../core/models/smoke';
import type { ParsedArgs } from '../args';
import type { CliIO, Command } from '../command';
import { renderTable } from '../table';
import { formatBytes, formatMs, formatNumber } from './modelFormat';
import { runWorkerReport } from './workerReport';

export const smokeCommand: Command = {
  usage: 'runlens smoke MODEL [--ep cpu|cuda|webgpu] [--runs N] [--warmup N] [--shape NAME=1x3x224x224[,NAME=DIMS...]] [--save-golden FILE] [--golden FILE] [--timeout SECONDS] [--json]',
  summary:
    'Load an ONNX model in a separate process and run it on deterministic synthetic inputs: load and first-run time, latency percentiles, ' +
    'batch throughput, peak memory, NaN/Inf and shape checks, and comparison with golden outputs.',
  flags: {
    ep: { value: true, description: `execution provider: ${EXECUTION_PROVIDERS.join(', ')} (default cpu; falls back to cpu, saying why)` },
    runs: { value: true, description: `timed runs (default ${DEFAULT_RUNS})` },
    warmup: { value: true, description: `untimed runs after the first (default ${DEFAULT_WARMUP})` },
    shape: { value: true, description: 'input shapes for dynamic dims, comma-separated: x=1x3x224x224,mask=1x128 (a scalar: sr=)' },
    seed: { value: true, description: `seed of the synthetic inputs (default ${DEFAULT_SEED})` },
    threads: { value: true, description: "onnxruntime intra-op threads (default: the runtime's choice)" },
    'save-golden': { value: true, description: "save this run's outputs to FILE as a reference" },
    golden: { value: true, description: 'compare outputs with a golden FILE (fails the check when they differ)' },
    atol: { value: true, description: `absolute tolerance for --golden (default ${DEFAULT_ATOL})` },
    rtol: { value: true, description: `relative tolerance for --golden (default ${DEFAULT_RTOL})` },
    timeout: { value: true, description: `stop the worker after SECONDS (default ${DEFAULT_TIMEOUT_S})` },
    json: { value: false, description: 'print the report as JSON' },
  },
  async run(args, io) {
    const model = args.positionals[0];
    if (!model) throw new UserError('bad-argument', 'smoke needs a MODEL (.onnx file)');
    if (args.positionals.length > 1) throw new UserError('bad-argument', 'smoke takes one MODEL');
    const ep = (stringFlag(args, 'ep') ?? 'cpu') as ExecutionProvider;
    if (!EXECUTION_PROVIDERS.includes(ep)) throw new UserError('bad-argument', `--ep ${ep}: expected one of ${EXECUTION_PROVIDERS.join(', ')}`);

    return runWorkerReport<SmokeReport>(args, io, {
      command: 'smoke',
      stopping: 'stopping the smoke-test worker…',
      cancelled: (e) => e.message,
      warningLabel: 'warning',
      print: printReport,
      run: (signal, status) =>
        runSmokeTest(model, {
          ep,
          runs: numberFlag(args, 'runs', { integer: true, min: 1 }),
          warmup: numberFlag(args, 'warmup', { integer: true, min: 0 }),
          shapes: parseShapeOverrides(stringFlag(args, 'shape')),
          seed: numberFlag(args, 'seed', { integer: true, min: 0 }),
          threads: numberFlag(args, 'threads', { integer: true, min: 1 }),
          saveGolden: stringFlag(args, 'save-golden'),
          golden: stringFlag(args, 'golden'),
          tolerances: { atol: numberFlag(args, 'atol', { min: 0 }), rtol: numberFlag(args, 'rtol', { min: 0 }) },
          timeoutMs: secondsFlag(args, 'timeout'),
          signal,
          onPhase: (phase) => status(phase),
        }),
    });
  },
};

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function numberFlag(args: ParsedArgs, name: string, rule: { integer?: boolean; min: number }): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < rule.min || (rule.integer && !Number.isInteger(v))) {
    throw new UserError('bad-argument', `--${name} ${text}: expected ${rule.integer ? 'a whole number' : 'a number'} of at least ${rule.min}`);
  }
  return v;
}

export function secondsFlag(args: ParsedArgs, name: string): number | undefined {
  const seconds = numberFlag(args, name, { min: 0 });
  if (seconds === 0) throw new UserError('bad-argument', `--${name} must be more than 0 seconds`);
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

export function printReport(r: SmokeReport, io: CliIO): void {
  const available = r.runtime.backends.filter((b) => b.bundled).map((b) => b.name);
  const separate = r.runtime.backends.filter((b) => !b.bundled).map((b) => b.name);
  const ep = r.ep.fallbackReason ? `${r.ep.used} (requested ${r.ep.requested}: ${r.ep.fallbackReason})` : r.ep.used;
  const header: [string, string][] = [
    ['model', `${r.model.file} (${formatBytes(r.model.fileSize)}, opset ${r.model.opset ?? '-'}, sha256 ${r.model.sha256.slice(0, 12)}…)`],
    ['runtime', `onnxruntime-node ${r.runtime.version}; providers: ${available.join(', ')}${separate.length ? ` (installed separately: ${separate.join(', ')})` : ''}`],
    ['ran on', ep],
    ['load', formatMs(r.loadMs)],
    ['first run', formatMs(r.firstRunMs)],
    ['start to first result', `${formatMs(r.startToFirstResultMs)} (worker start + runtime + load + first run)`],
    ['peak memory', `${formatBytes(r.peakRssBytes)} (worker RSS)`],
  ];
  if (r.runtimeLog.length) header.push(['runtime log', `${r.runtimeLog.length} line(s) from onnxruntime (warnings are usually harmless; all of them under "runtimeLog" in --json)`]);
  const width = Math.max(...header.map(([k]) => k.length));
  for (const [k, v] of header) io.out(`${k.padEnd(width)}  ${v}`);

  io.out(`\ninputs (seed ${r.seed})`);
  io.out(renderTable(['NAME', 'DTYPE', 'DECLARED', 'USED', 'FILL', 'CHOSEN'], r.inputs.map((i) => [i.name, i.dtype, i.declared, i.shape.join('x') || 'scalar', i.fill, i.choices.join('; ') || '-']), 80));

  const l = r.latency;
  io.out(`\nlatency (${l.runs} runs after ${r.warmup} warm-up)`);
  io.out(renderTable(['P50', 'P95', 'P99', 'MEAN', 'MIN', 'MAX'], [[l.p50Ms, l.p95Ms, l.p99Ms, l.meanMs, l.minMs, l.maxMs].map(formatMs)]));

  if (r.throughput) {
    io.out('\nthroughput (dynamic batch)');
    io.out(renderTable(['BATCH', 'RUNS', 'P50', 'ITEMS/S', 'NOTE'], r.throughput.map((b) => [String(b.batch), String(b.runs), formatMs(b.p50Ms), b.itemsPerSec === null ? '-' : formatNumber(b.itemsPerSec, 4), b.error ?? ''])));
  } else {
    io.out('\nthroughput: the model fixes its batch size; see latency');
  }

  io.out('\noutputs');
  io.out(
    renderTable(
      ['NAME', 'DTYPE', 'SHAPE', 'NAN', 'INF', 'MIN', 'MAX', 'CHECK'],
      r.outputs.map((o) => [o.name, o.dtype, o.dims.join('x') || 'scalar', String(o.nan), String(o.posInf + o.negInf), formatNumber(o.min), formatNumber(o.max), o.shapeProblem ? `shape: ${o.shapeProblem}` : o.nan + o.posInf + o.negInf ? 'non-finite values' : 'ok']),
      60,
    ),
  );

  if (r.golden.saved) io.out(`\ngolden outputs saved to ${r.golden.saved}`);
  const c = r.golden.comparison;
  if (c) {
    io.out(`\ngolden comparison with ${c.file} (atol ${c.tolerances.atol}, rtol ${c.tolerances.rtol}): ${c.pass ? 'PASS' : 'FAIL'}`);
    io.out(
      renderTable(
        ['OUTPUT', 'MAX ABS DIFF', 'MAX REL DIFF', 'COSINE', 'MISMATCHES', 'RESULT'],
        c.outputs.map((o) => [o.name, formatNumber(o.maxAbsDiff, 3), formatNumber(o.maxRelDiff, 3), formatNumber(o.cosine, 8), o.problem ?? `${o.mismatches}/${o.elements}`, o.pass ? 'pass' : 'FAIL']),
        60,
      ),
    );
    for (const note of c.notes) io.out(`  note: ${note}`);
  }
  io.out(`\nresult: ${r.pass ? 'PASS' : 'FAIL'}`);
}
