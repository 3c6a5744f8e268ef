// `runlens smoke`: load a model in a child process, run it on deterministic
// synthetic inputs, and report timings, memory, output sanity and (optionally)
// agreement with golden outputs. The agent only plans, supervises and reports;
// the native runtime lives in the worker (smokeWorker.ts), which is killed on
// timeout or cancellation and whose crash becomes a message, not an agent crash.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { compareWithGolden, readGolden, writeGolden, DEFAULT_ATOL, DEFAULT_RTOL, type GoldenComparison, type GoldenFile, type Tolerances } from './golden';
import { describeFill, planInputs, shapeAt, DEFAULT_SEED, type DimSource, type InputPlan } from './inputs';
import { formatShape, inspectModel, type ModelInspection } from './inspect';
import type { ExecutionProvider } from './ortRuntime';
import type { OutputCheck } from './outputChecks';
import type { BatchThroughput, ParityWorkerRequest, ParityWorkerResult, SmokePhase, SmokeWorkerMessage, SmokeWorkerRequest, SmokeWorkerResult, WorkerRequest } from './smokeProtocol';
import { summarizeLatency, type LatencySummary } from './stats';

export const DEFAULT_RUNS = 50;
export const DEFAULT_WARMUP = 5;
export const DEFAULT_TIMEOUT_S = 120;
export const THROUGHPUT_BATCHES = [1, 8, 32];

/** How a worker is supervised: the same for smoke tests and parity checks. */
export interface WorkerOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** `detail` names the configuration a parity check is at. */
  onPhase?: (phase: SmokePhase, detail?: string) => void;
  /** Called with the worker's process id once it is started (for logs). */
  onWorkerStart?: (pid: number) => void;
  /** The worker script to fork; the default sits next to this module (dist/ or out/). */
  workerScript?: string;
}

export interface SmokeOptions extends WorkerOptions {
  ep?: ExecutionProvider;
  runs?: number;
  warmup?: number;
  /** Input shapes by name (from --shape). */
  shapes?: ReadonlyMap<string, number[]>;
  seed?: number;
  /** onnxruntime intra-op threads; unset = the runtime's default. */
  threads?: number;
  saveGolden?: string;
  golden?: string;
  tolerances?: Partial<Tolerances>;
  /** Batch sizes for throughput when the batch dim is dynamic. */
  batchSizes?: number[];
}

export interface PlannedInputReport {
  name: string;
  dtype: string;
  declared: string;
  shape: number[];
  /** How each dim was chosen, e.g. "p2o.DynamicDimension.0=1 (batch)". */
  choices: string[];
  fill: string;
}

export interface SmokeReport {
  model: Pick<ModelInspection, 'file' | 'fileSize' | 'sha256' | 'irVersion' | 'opset' | 'producerName' | 'producerVersion'>;
  seed: number;
  inputs: PlannedInputReport[];
  runtime: { version: string; backends: { name: string; bundled: boolean }[] };
  ep: SmokeWorkerResult['ep'];
  loadMs: number;
  firstRunMs: number;
  /** Wall time from starting the worker to its first output (process start + runtime + load + first run). */
  startToFirstResultMs: number | null;
  warmup: number;
  latency: LatencySummary;
  /** null when the model fixes its batch size. */
  throughput: BatchThroughput[] | null;
  peakRssBytes: number;
  outputs: OutputCheck[];
  /** The runtime's warnings (stderr of the worker), without colour codes. */
  runtimeLog: string[];
  golden: { saved: string | null; comparison: GoldenComparison | null };
  pass: boolean;
  problems: string[];
  warnings: string[];
}

/** Cancelled through the AbortSignal: not an error the user has to read about. */
export class SmokeCancelledError extends Error {
  constructor() {
    super('smoke test cancelled; the worker was stopped');
    this.name = 'SmokeCancelledError';
  }
}

export function defaultWorkerScript(): string {
  // The bundle (dist/agent.js → dist/smokeWorker.js) and tsc's out/ keep the worker beside this module.
  return path.join(__dirname, 'smokeWorker.js');
}

/** Checks --runs and --warmup (shared by smoke tests and parity checks). */
export function checkRunCounts(runs: number, warmup: number): void {
  if (!Number.isInteger(runs) || runs < 1) throw new UserError('bad-argument', `--runs must be a whole number of at least 1, not ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new UserError('bad-argument', `--warmup must be a whole number of at least 0, not ${warmup}`);
}

/** Inspects a model about to be run, refusing it (naming the files) when external data it needs is missing. */
export function inspectRunnable(modelPath: string): ModelInspection {
  const inspection = inspectModel(modelPath);
  const missing = inspection.externalData.filter((e) => !e.exists);
  if (missing.length > 0) {
    const list = missing.slice(0, 3).map((m) => `${m.path} (tensor "${m.tensor}")`).join(', ');
    throw new UserError('not-found', `${inspection.file}: ${missing.length} external data file reference(s) point to missing files: ${list}${missing.length > 3 ? ', …' : ''}; copy them next to the model`);
  }
  return inspection;
}

/** The model facts every run report repeats. */
export function modelFacts(inspection: ModelInspection): SmokeReport['model'] {
  const { file, fileSize, sha256, irVersion, opset, producerName, producerVersion } = inspection;
  return { file, fileSize, sha256, irVersion, opset, producerName, producerVersion };
}

export async function runSmokeTest(modelPath: string, options: SmokeOptions = {}): Promise<SmokeReport> {
  const runs = options.runs ?? DEFAULT_RUNS;
  const warmup = options.warmup ?? DEFAULT_WARMUP;
  checkRunCounts(runs, warmup);
  const tolerances: Tolerances = { atol: options.tolerances?.atol ?? DEFAULT_ATOL, rtol: options.tolerances?.rtol ?? DEFAULT_RTOL };

  const inspection = inspectRunnable(modelPath);
  const plan = planInputs(inspection.inputs, options.shapes, options.seed ?? DEFAULT_SEED);
  // Read the golden file before running, so a bad path fails in milliseconds, not after the runs.
  const golden = options.golden ? readGolden(options.golden) : null;

  const request: SmokeWorkerRequest = {
    type: 'run',
    modelPath: inspection.file,
    ep: options.ep ?? 'cpu',
    plan,
    warmup,
    runs,
    batchSizes: plan.batchDynamic ? (options.batchSizes ?? THROUGHPUT_BATCHES) : [],
    threads: options.threads ?? null,
    declaredOutputs: inspection.outputs,
    keepOutputs: Boolean(options.saveGolden || golden),
    // Set again when the worker starts; the worker's own backstop, a little after our timeout.
    deadline: 0,
  };
  const worker = await runWorker(request, options);
  const { result } = worker;

  let saved: string | null = null;
  if (options.saveGolden && result.outputData) {
    writeGolden(options.saveGolden, { model: { file: path.basename(inspection.file), sha256: inspection.sha256 }, inputs: inputsOf(plan) }, result.outputData);
    saved = path.resolve(options.saveGolden);
  }
  let comparison: GoldenComparison | null = null;
  if (golden && result.outputData) {
    comparison = compareWithGolden(options.golden!, golden, result.outputData, tolerances);
    comparison.notes.push(...goldenNotes(golden, inspection, plan));
  }
  return assemble(inspection, plan, request, worker, { saved, comparison });
}

function inputsOf(plan: InputPlan): GoldenFile['inputs'] {
  return { seed: plan.seed, shapes: Object.fromEntries(plan.inputs.map((i) => [i.name, shapeAt(i)])) };
}

/** What differs between the golden's run and this one: the likely reason for a failure. */
function goldenNotes(golden: GoldenFile, inspection: ModelInspection, plan: InputPlan): string[] {
  const notes: string[] = [];
  if (golden.model.sha256 !== inspection.sha256) notes.push(`the model file differs from the one the golden file was made from (sha256 ${golden.model.sha256.slice(0, 12)}… vs ${inspection.sha256.slice(0, 12)}…)`);
  const now = inputsOf(plan);
  if (golden.inputs.seed !== now.seed) notes.push(`inputs differ: seed ${now.seed}, golden made with seed ${golden.inputs.seed}`);
  for (const [name, shape] of Object.entries(now.shapes)) {
    const then = golden.inputs.shapes[name];
    if (then && then.join('x') !== shape.join('x')) notes.push(`input ${name} has shape ${shape.join('x')}, golden made with ${then.join('x')}`);
  }
  return notes;
}

export interface WorkerOutcome<R> {
  result: R;
  startToFirstResultMs: number | null;
  stderr: string[];
}

/** How long after our timeout the worker's watchdog kills it if we could not (we were killed ourselves). */
const WORKER_GRACE_MS = 5000;

const PHASE_WORDS: Record<SmokePhase, string> = {
  starting: 'starting',
  'loading-runtime': 'loading onnxruntime-node',
  'loading-model': 'loading the model',
  'first-run': 'running the model for the first time',
  warmup: 'warming up',
  timing: 'timing runs',
  batches: 'measuring batch throughput',
};

type ResultOf<R extends WorkerRequest> = R extends ParityWorkerRequest ? ParityWorkerResult : SmokeWorkerResult;

const JOB_WORDS: Record<WorkerRequest['type'], string> = { run: 'smoke test', parity: 'EP parity check' };

/** Runs the worker process and supervises it: timeout, cancellation, crash. */
export function runWorker<R extends WorkerRequest>(request: R, options: WorkerOptions): Promise<WorkerOutcome<ResultOf<R>>> {
  const script = options.workerScript ?? defaultWorkerScript();
  if (!fs.existsSync(script)) throw new UserError('not-found', `the smoke-test worker ${script} is missing; rebuild RunLens (npm run build)`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_S * 1000;
  if (options.signal?.aborted) return Promise.reject(new SmokeCancelledError());

  return new Promise<WorkerOutcome<ResultOf<R>>>((resolve, reject) => {
    const started = performance.now();
    // execArgv: [] so flags of the parent (--test, --inspect) do not follow the worker.
    const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    if (child.pid !== undefined) options.onWorkerStart?.(child.pid);
    const stderr = new LineTail(200);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    let phase: SmokePhase = 'starting';
    let firstResultMs: number | null = null;
    let settled = false;

    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = () => {
      kill();
      settle(() => reject(new SmokeCancelledError()));
    };
    const timer = setTimeout(() => {
      kill();
      settle(() =>
        reject(new UserError('bad-argument', `${JOB_WORDS[request.type]} timed out after ${formatSeconds(timeoutMs)} while ${PHASE_WORDS[phase]}; the worker was stopped. A larger --timeout may help if the model is just slow${tailText(stderr)}`)),
      );
    }, timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (message: SmokeWorkerMessage) => {
      switch (message.type) {
        case 'phase':
          phase = message.phase;
          options.onPhase?.(phase, message.detail);
          return;
        case 'first-result':
          firstResultMs = performance.now() - started;
          return;
        case 'result':
        case 'parity-result':
          // The worker answers the kind of job it was sent ('run' → 'result', 'parity' → 'parity-result').
          settle(() => resolve({ result: message.result as ResultOf<R>, startToFirstResultMs: firstResultMs, stderr: stderr.lines() }));
          // The worker exits by itself; make sure a runtime stuck in its teardown does not linger.
          setTimeout(kill, 5000).unref();
          return;
        case 'failed':
          settle(() => {
            if (message.userFixable) reject(new UserError('bad-argument', `${request.modelPath}: failed while ${PHASE_WORDS[message.phase]}: ${message.message}${inputsHint(request, message.phase)}`));
            else reject(new Error(`smoke worker failed while ${PHASE_WORDS[message.phase]}: ${message.message}`));
          });
          return;
        default: {
          const never: never = message;
          return never;
        }
      }
    });
    child.on('error', (e) => {
      kill();
      settle(() => reject(new Error(`could not start the smoke-test worker (${script}): ${e.message}`)));
    });
    // 'close' comes after the IPC channel and pipes are drained, so a result sent just before exiting is never lost.
    child.on('close', (code, signal) => {
      settle(() =>
        reject(
          new UserError(
            'bad-argument',
            `the smoke-test worker stopped unexpectedly (${signal ? `killed by ${signal}` : `exit code ${code}`}) while ${PHASE_WORDS[phase]}: the model or the runtime crashed; the agent is unaffected${tailText(stderr)}`,
          ),
        ),
      );
    });
    // A send that fails means the worker is already gone; 'close' reports that with its exit status.
    child.send({ ...request, deadline: Date.now() + timeoutMs + WORKER_GRACE_MS }, (error) => void error);
  });
}

function inputsHint(request: WorkerRequest, phase: SmokePhase): string {
  if (phase !== 'first-run') return '';
  const shapes = request.plan.inputs.map((i) => `${i.name}=${shapeAt(i).join('x') || 'scalar'}`).join(',');
  return `. The synthetic inputs were ${shapes}; if the model needs other shapes, pass them with --shape`;
}

function tailText(tail: LineTail): string {
  const lines = tail.lines().filter((l) => !/\[W:onnxruntime/.test(l)).slice(-5);
  return lines.length ? `. Last output of the worker:\n  ${lines.join('\n  ')}` : '';
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** The last N lines written by the worker, without terminal colour codes. */
class LineTail {
  private readonly buffer: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      const clean = line.replace(/\x1b\[[0-9;]*m/g, '').trimEnd();
      if (clean) this.buffer.push(clean);
    }
    if (this.buffer.length > this.max) this.buffer.splice(0, this.buffer.length - this.max);
  }
  lines(): string[] {
    return this.partial ? [...this.buffer, this.partial] : [...this.buffer];
  }
}

function assemble(inspection: ModelInspection, plan: InputPlan, request: SmokeWorkerRequest, worker: WorkerOutcome<SmokeWorkerResult>, golden: SmokeReport['golden']): SmokeReport {
  const { result } = worker;
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const o of result.outputs) {
    if (o.shapeProblem) problems.push(`output ${o.name}: shape ${o.shapeProblem}`);
    const nonFinite = [o.nan && `${o.nan} NaN`, o.posInf && `${o.posInf} +Inf`, o.negInf && `${o.negInf} -Inf`].filter(Boolean);
    if (nonFinite.length) warnings.push(`output ${o.name} has ${nonFinite.join(', ')} on the synthetic input`);
  }
  if (result.ep.fallbackReason) warnings.push(`ran on CPU instead of ${result.ep.requested}: ${result.ep.fallbackReason}`);
  for (const b of result.batches) if (b.error) warnings.push(`batch ${b.batch} did not run: ${b.error}`);
  if (golden.comparison && !golden.comparison.pass) {
    const failing = golden.comparison.outputs.filter((o) => !o.pass).map((o) => o.name);
    problems.push(`outputs differ from the golden file ${golden.comparison.file}: ${failing.join(', ')}`);
  }
  return {
    model: modelFacts(inspection),
    seed: plan.seed,
    inputs: describePlannedInputs(plan),
    runtime: { version: result.runtimeVersion, backends: result.backends },
    ep: result.ep,
    loadMs: result.loadMs,
    firstRunMs: result.firstRunMs,
    startToFirstResultMs: worker.startToFirstResultMs,
    warmup: request.warmup,
    latency: summarizeLatency(result.timesMs),
    throughput: request.batchSizes.length ? result.batches : null,
    peakRssBytes: result.peakRssBytes,
    outputs: result.outputs,
    runtimeLog: worker.stderr,
    golden,
    pass: problems.length === 0,
    problems,
    warnings,
  };
}

/** The inputs as a report shows them: shapes used, and how each dynamic dim was chosen. */
export function describePlannedInputs(plan: InputPlan): PlannedInputReport[] {
  return plan.inputs.map((i) => ({
    name: i.name,
    dtype: i.dtype,
    declared: formatShape(i.dims.map((d) => d.declared)),
    shape: shapeAt(i),
    choices: i.dims.filter((d) => d.source !== 'declared').map((d) => `${d.declared.kind === 'symbol' ? d.declared.name : '?'}=${d.value} (${SOURCE_WORDS[d.source]})`),
    fill: describeFill(i.fill, i.dtype),
  }));
}

const SOURCE_WORDS: Record<DimSource, string> = {
  declared: 'declared',
  override: '--shape',
  batch: 'batch default',
  symbol: 'same symbol as another input',
  'spatial-default': 'image size default',
  default: 'default',
};
