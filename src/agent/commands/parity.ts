// `runlens parity MODEL`: the same synthetic inputs through the CPU execution
// provider and each other provider, in a worker process; latency side by side
// and the largest output differences against a tolerance. Exit 0 when every
// provider that ran matches CPU (unavailable ones are reported, not failed),
// 1 when one differs or cannot run the model, 130 when interrupted.
import { UserError } from '../../core/errors';
import { DEFAULT_ATOL, DEFAULT_RTOL } from '../../core/models/golden';
import { DEFAULT_SEED, parseShapeOverrides } from '../../core/models/inputs';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../core/models/ortRuntime';
import { PARITY_DEFAULT_RUNS, PARITY_DEFAULT_WARMUP, runParityCheck, type ParityConfig, type ParityReport } from '../../core/models/parity';
import { DEFAULT_TIMEOUT_S } from '../../core/models/smoke';
import { describeSpeedup } from '../../shared/speedup';
import type { CliIO, Command } from '../command';
import { renderTable } from '../table';
import { formatMs, formatNumber } from './modelFormat';
import { numberFlag, secondsFlag, stringFlag } from './smoke';
import { runWorkerReport } from './workerReport';

const GRAPH_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
type GraphLevel = (typeof GRAPH_LEVELS)[number];

export const parityCommand: Command = {
  usage: 'runlens parity MODEL [--ep webgpu,cuda,...] [--graph-opt LEVEL] [--runs N] [--warmup N] [--shape NAME=DIMS[,...]] [--atol X] [--rtol X] [--timeout SECONDS] [--json]',
  summary:
    'EP parity check: run an ONNX model on the same synthetic inputs with the CPU execution provider and with each other provider this machine offers; ' +
    'report per provider whether it is available (and why not), load/first-run/p50 latency next to CPU, the speedup, and the largest absolute and relative output differences from CPU with pass/fail.',
  flags: {
    ep: { value: true, description: `providers to compare with CPU, comma-separated or repeated: ${EXECUTION_PROVIDERS.join(', ')} (default: every provider besides CPU that onnxruntime-node lists here)` },
    'graph-opt': { value: true, description: `graph optimization level of the compared providers: ${GRAPH_LEVELS.join(', ')} (default: the runtime's); --ep cpu --graph-opt disabled shows what the optimizer changes` },
    runs: { value: true, description: `timed runs per provider (default ${PARITY_DEFAULT_RUNS})` },
    warmup: { value: true, description: `untimed runs per provider after the first (default ${PARITY_DEFAULT_WARMUP})` },
    shape: { value: true, description: 'input shapes for dynamic dims, comma-separated: x=1x3x224x224,mask=1x128 (a scalar: sr=)' },
    seed: { value: true, description: `seed of the synthetic inputs (default ${DEFAULT_SEED})` },
    threads: { value: true, description: "onnxruntime intra-op threads of every session (default: the runtime's choice)" },
    atol: { value: true, description: `absolute tolerance (default ${DEFAULT_ATOL})` },
    rtol: { value: true, description: `relative tolerance (default ${DEFAULT_RTOL}); an element passes when |ep − cpu| <= atol + rtol·|cpu|` },
    timeout: { value: true, description: `stop the worker after SECONDS (default ${DEFAULT_TIMEOUT_S})` },
    json: { value: false, description: 'print the report as JSON' },
  },
  async run(args, io) {
    const model = args.positionals[0];
    if (!model) throw new UserError('bad-argument', 'parity needs a MODEL (.onnx file)');
    if (args.positionals.length > 1) throw new UserError('bad-argument', 'parity takes one MODEL');
    const threads = numberFlag(args, 'threads', { integer: true, min: 1 });
    const graphLevel = stringFlag(args, 'graph-opt') as GraphLevel | undefined;
    if (graphLevel !== undefined && !GRAPH_LEVELS.includes(graphLevel)) throw new UserError('bad-argument', `--graph-opt ${graphLevel}: expected one of ${GRAPH_LEVELS.join(', ')}`);
    const eps = (args.lists.get('ep') ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    for (const ep of eps) if (!(EXECUTION_PROVIDERS as readonly string[]).includes(ep)) throw new UserError('bad-argument', `--ep ${ep}: expected one of ${EXECUTION_PROVIDERS.join(', ')}`);
    const candidates = eps.length
      ? [...new Set(eps)].map((ep): ParityConfig => ({ label: graphLevel ? `${ep} (graph-opt ${graphLevel})` : ep, ep: ep as ExecutionProvider, graphOptimizationLevel: graphLevel, threads }))
      : undefined;
    if (!candidates && graphLevel) throw new UserError('bad-argument', '--graph-opt needs --ep: name the providers it applies to');

    return runWorkerReport<ParityReport>(args, io, {
      command: 'parity',
      stopping: 'stopping the parity worker…',
      cancelled: () => 'parity check cancelled; the worker was stopped',
      warningLabel: 'note',
      print: printParityReport,
      run: (signal, status) =>
        runParityCheck(model, {
          candidates,
          reference: { label: 'cpu', ep: 'cpu', threads },
          runs: numberFlag(args, 'runs', { integer: true, min: 1 }),
          warmup: numberFlag(args, 'warmup', { integer: true, min: 0 }),
          shapes: parseShapeOverrides(stringFlag(args, 'shape')),
          seed: numberFlag(args, 'seed', { integer: true, min: 0 }),
          tolerances: { atol: numberFlag(args, 'atol', { min: 0 }), rtol: numberFlag(args, 'rtol', { min: 0 }) },
          timeoutMs: secondsFlag(args, 'timeout'),
          signal,
          onPhase: (phase, detail) => status(`${detail ? `${detail}: ` : ''}${phase}`),
        }),
    });
  },
};

const STATUS_WORDS: Record<ParityReport['candidates'][number]['status'], string> = { ran: 'ran', unavailable: 'unavailable', failed: 'FAILED TO RUN' };

export function printParityReport(r: ParityReport, io: CliIO): void {
  const ref = r.reference;
  io.out(`model      ${r.model.file} (sha256 ${r.model.sha256.slice(0, 12)}…)`);
  io.out(`runtime    onnxruntime-node ${r.runtime.version}; listed providers: ${r.runtime.backends.map((b) => b.name).join(', ')}`);
  io.out(`inputs     seed ${r.seed}: ${r.inputs.map((i) => `${i.name}=${i.shape.join('x') || 'scalar'}`).join(', ')}`);
  io.out(`timing     ${r.runs} runs per provider after ${r.warmup} warm-up; tolerance atol ${r.tolerances.atol}, rtol ${r.tolerances.rtol}`);
  io.out('');
  const rows = [
    [`${ref.label} (reference)`, 'ran', formatMs(ref.timing.loadMs), formatMs(ref.timing.firstRunMs), formatMs(ref.timing.latency.p50Ms), formatMs(ref.timing.latency.p95Ms), '1×', '-', '-', 'reference'],
    ...r.candidates.map((c) => {
      const t = c.timing;
      const compared = c.outputs.filter((o) => o.maxAbsDiff !== null);
      const maxAbs = compared.length ? Math.max(...compared.map((o) => o.maxAbsDiff!)) : null;
      const maxRel = compared.length ? Math.max(...compared.map((o) => o.maxRelDiff!)) : null;
      const result = c.status === 'ran' ? (c.pass ? 'PASS' : 'FAIL') : c.status === 'failed' ? 'FAIL' : 'not compared';
      return [c.label, STATUS_WORDS[c.status], formatMs(t?.loadMs), formatMs(t?.firstRunMs), formatMs(t?.latency.p50Ms), formatMs(t?.latency.p95Ms), describeSpeedup(c.speedup), formatNumber(maxAbs, 3), formatNumber(maxRel, 3), result];
    }),
  ];
  io.out(renderTable(['EP', 'STATUS', 'LOAD', 'FIRST RUN', 'P50', 'P95', 'SPEED VS CPU', 'MAX ABS DIFF', 'MAX REL DIFF', 'RESULT'], rows, 40));
  for (const c of r.candidates) {
    if (c.status !== 'ran') {
      io.out(`\n${c.label}: ${c.status === 'unavailable' ? 'not available here' : 'could not run the model'}: ${c.reason}`);
      continue;
    }
    io.out(`\n${c.label} vs ${ref.label}, per output`);
    io.out(
      renderTable(
        ['OUTPUT', 'MAX ABS DIFF', 'MAX REL DIFF', 'WORST ELEMENT', 'OUTSIDE TOLERANCE', 'RESULT'],
        c.outputs.map((o) => [
          o.name,
          formatNumber(o.maxAbsDiff, 3),
          formatNumber(o.maxRelDiff, 3),
          o.worst ? `[${o.worst.index}] ${formatNumber(o.worst.reference, 9)} vs ${formatNumber(o.worst.candidate, 9)}` : '-',
          o.problem ?? `${o.mismatches}/${o.elements}`,
          o.pass ? 'pass' : 'FAIL',
        ]),
        60,
      ),
    );
  }
  io.out(`\nresult: ${r.pass ? 'PASS' : 'FAIL'} (${r.compared} of ${r.candidates.length} provider(s) compared with ${ref.label})`);
}
