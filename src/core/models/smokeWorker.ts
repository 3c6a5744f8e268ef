// The smoke-test worker: a child process of the agent that loads one model with
// onnxruntime-node and times it. It lives in its own process because a native
// runtime can crash (SIGSEGV, abort) or hang on a bad model; the agent only
// loses a child it can kill. Started by smoke.ts with `fork()`; it reads one
// SmokeWorkerRequest over IPC, reports phases as it goes, sends one result or
// one failure, and exits. The same process also runs EP parity checks (one
// model, the same inputs, several session configurations in turn).
import { Worker } from 'node:worker_threads';
import { materializeInputs, type InputPlan, type InputTensor } from './inputs';
import type { TensorSpec } from './inspect';
import { checkOutput } from './outputChecks';
import { acceleratedBackends, explainProviderFailure, firstLine, listBackends, loadOnnxRuntime, type BackendInfo, type ExecutionProvider, type OrtModule } from './ortRuntime';
import type {
  BatchThroughput,
  OutputTensor,
  ParityConfig,
  ParityRun,
  ParityWorkerRequest,
  ParityWorkerResult,
  SmokePhase,
  SmokeWorkerMessage,
  SmokeWorkerRequest,
  SmokeWorkerResult,
  WorkerRequest,
} from './smokeProtocol';
import { percentile } from './stats';

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;
type Feeds = Parameters<Session['run']>[0];
type Outputs = Awaited<ReturnType<Session['run']>>;

/** Larger batches are timed for at most this long (but at least 3 runs), so batch 32 of a slow model stays bounded. */
const BATCH_BUDGET_MS = 2000;

/** Failures that come from the runtime or the model, shown to the user as they are. */
class RuntimeFailure extends Error {}

export async function runSmokeWorker(request: SmokeWorkerRequest, send: (message: SmokeWorkerMessage) => void): Promise<SmokeWorkerResult> {
  let phase: SmokePhase = 'loading-runtime';
  const enter = (next: SmokePhase) => {
    phase = next;
    send({ type: 'phase', phase });
  };
  try {
    enter('loading-runtime');
    const ort = loadOnnxRuntime();
    const backends = listBackends(ort);

    enter('loading-model');
    const loaded = await createSession(ort, request, backends);
    const { session } = loaded;
    try {
      enter('first-run');
      const feeds = toFeeds(ort, materializeInputs(request.plan));
      let started = performance.now();
      let outputs = await runOnce(session, feeds);
      const firstRunMs = performance.now() - started;
      send({ type: 'first-result' });

      enter('warmup');
      for (let i = 0; i < request.warmup; i++) outputs = await runOnce(session, feeds);

      enter('timing');
      const timesMs: number[] = [];
      try {
        // session.run itself and nothing else between the two clock reads: the
        // figures must be what a bare loop would measure (bench/smokeOverhead.ts).
        for (let i = 0; i < request.runs; i++) {
          started = performance.now();
          outputs = await session.run(feeds);
          timesMs.push(performance.now() - started);
        }
      } catch (e) {
        throw new RuntimeFailure(messageOf(e));
      }
      const checks = checkOutputs(outputs, request.declaredOutputs, request.plan);
      const outputData = request.keepOutputs ? copyOutputs(outputs) : null;

      enter('batches');
      const batches: BatchThroughput[] = [];
      for (const batch of request.batchSizes) batches.push(await measureBatch(ort, session, request, batch, timesMs));

      return {
        runtimeVersion: ort.env.versions?.node ?? 'unknown',
        backends,
        ep: { requested: request.ep, used: loaded.used, fallbackReason: loaded.fallbackReason },
        loadMs: loaded.loadMs,
        firstRunMs,
        timesMs,
        batches,
        // maxRSS is in KiB on Linux and macOS: the child's peak, weights and arenas included.
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        outputs: checks,
        outputData,
      };
    } finally {
      await session.release().catch(() => undefined);
    }
  } catch (e) {
    throw Object.assign(e instanceof Error ? e : new Error(String(e)), { phase });
  }
}

/**
 * Runs the reference configuration and then each candidate on the same input
 * tensors. A candidate whose session cannot be created is reported as
 * unavailable with the reason in plain words; only the reference must run.
 */
export async function runParityWorker(request: ParityWorkerRequest, send: (message: SmokeWorkerMessage) => void): Promise<ParityWorkerResult> {
  let phase: SmokePhase = 'loading-runtime';
  const enter = (next: SmokePhase, detail?: string) => {
    phase = next;
    send({ type: 'phase', phase, detail });
  };
  try {
    enter('loading-runtime');
    const ort = loadOnnxRuntime();
    const backends = listBackends(ort);
    const candidates = request.candidates ?? acceleratedBackends(backends).map((ep): ParityConfig => ({ label: ep, ep }));
    const feeds = toFeeds(ort, materializeInputs(request.plan));

    const reference = await measureConfiguration(ort, request, request.reference, feeds, backends, enter);
    if (reference.status === 'unavailable') throw new RuntimeFailure(`the reference (${request.reference.label}) could not load the model: ${reference.reason}`);
    if (reference.status === 'failed') throw new RuntimeFailure(`the reference (${request.reference.label}) could not run the model: ${reference.error}`);
    const measured: ParityRun[] = [];
    for (const candidate of candidates) measured.push(await measureConfiguration(ort, request, candidate, feeds, backends, enter));
    return { runtimeVersion: ort.env.versions?.node ?? 'unknown', backends, reference, candidates: measured };
  } catch (e) {
    throw Object.assign(e instanceof Error ? e : new Error(String(e)), { phase });
  }
}

async function measureConfiguration(
  ort: OrtModule,
  request: ParityWorkerRequest,
  config: ParityConfig,
  feeds: Feeds,
  backends: BackendInfo[],
  enter: (phase: SmokePhase, detail: string) => void,
): Promise<ParityRun> {
  enter('loading-model', config.label);
  let started = performance.now();
  let session: Session;
  try {
    session = await ort.InferenceSession.create(request.modelPath, {
      logSeverityLevel: 2,
      executionProviders: [config.ep],
      ...(config.graphOptimizationLevel ? { graphOptimizationLevel: config.graphOptimizationLevel } : {}),
      ...(config.threads ? { intraOpNumThreads: config.threads } : {}),
    });
  } catch (e) {
    // The CPU provider always exists: its failure is the model's, not the machine's.
    if (config.ep === 'cpu') throw new RuntimeFailure(`onnxruntime could not load the model: ${messageOf(e)}`);
    return { config, status: 'unavailable', reason: explainProviderFailure(config.ep, messageOf(e), backends) };
  }
  const loadMs = performance.now() - started;
  try {
    enter('first-run', config.label);
    started = performance.now();
    let outputs = await session.run(feeds);
    const firstRunMs = performance.now() - started;
    enter('warmup', config.label);
    for (let i = 0; i < request.warmup; i++) outputs = await session.run(feeds);
    enter('timing', config.label);
    const timesMs: number[] = [];
    for (let i = 0; i < request.runs; i++) {
      started = performance.now();
      outputs = await session.run(feeds);
      timesMs.push(performance.now() - started);
    }
    return { config, status: 'ran', loadMs, firstRunMs, timesMs, outputs: copyOutputs(outputs) };
  } catch (e) {
    return { config, status: 'failed', error: firstLine(messageOf(e)), loadMs };
  } finally {
    await session.release().catch(() => undefined);
  }
}

async function createSession(ort: OrtModule, request: SmokeWorkerRequest, backends: BackendInfo[]): Promise<{ session: Session; used: ExecutionProvider; fallbackReason: string | null; loadMs: number }> {
  const base = { logSeverityLevel: 2 as const, ...(request.threads ? { intraOpNumThreads: request.threads } : {}) };
  let fallbackReason: string | null = null;
  if (request.ep !== 'cpu') {
    const started = performance.now();
    try {
      const session = await ort.InferenceSession.create(request.modelPath, { ...base, executionProviders: [request.ep] });
      return { session, used: request.ep, fallbackReason: null, loadMs: performance.now() - started };
    } catch (e) {
      fallbackReason = explainProviderFailure(request.ep, messageOf(e), backends);
    }
  }
  const started = performance.now();
  try {
    const session = await ort.InferenceSession.create(request.modelPath, { ...base, executionProviders: ['cpu'] });
    return { session, used: 'cpu', fallbackReason, loadMs: performance.now() - started };
  } catch (e) {
    throw new RuntimeFailure(`onnxruntime could not load the model: ${messageOf(e)}`);
  }
}

async function runOnce(session: Session, feeds: Feeds): Promise<Outputs> {
  try {
    return await session.run(feeds);
  } catch (e) {
    throw new RuntimeFailure(messageOf(e));
  }
}

function toFeeds(ort: OrtModule, tensors: InputTensor[]): Feeds {
  // The Tensor constructor's overloads are keyed by dtype; the plan guarantees data and dtype agree.
  return Object.fromEntries(tensors.map((t) => [t.name, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)]));
}

function checkOutputs(outputs: Outputs, declared: TensorSpec[], plan: InputPlan) {
  // Symbols the inputs fixed (e.g. a batch symbol shared with an output) must keep their value.
  const symbols = new Map<string, number>();
  for (const input of plan.inputs) for (const d of input.dims) if (d.declared.kind === 'symbol') symbols.set(d.declared.name, d.value);
  return Object.entries(outputs).map(([name, tensor]) =>
    checkOutput(name, tensor.type, tensor.dims, tensor.data as ArrayLike<number>, declared.find((d) => d.name === name), symbols),
  );
}

function copyOutputs(outputs: Outputs): OutputTensor[] {
  return Object.entries(outputs).map(([name, tensor]) => {
    const data = tensor.data as ArrayLike<number> & { slice?: () => ArrayLike<number> };
    // A copy, so IPC sends this tensor's bytes and not a larger buffer it may view.
    return { name, dtype: tensor.type, dims: [...tensor.dims], data: ArrayBuffer.isView(data) && data.slice ? data.slice() : Array.from(data) };
  });
}

async function measureBatch(ort: OrtModule, session: Session, request: SmokeWorkerRequest, batch: number, mainTimesMs: number[]): Promise<BatchThroughput> {
  const planned = request.plan.inputs.every((i) => i.dims.every((d) => !d.batch || d.value === batch));
  if (planned) {
    const p50 = percentile(mainTimesMs, 0.5);
    return { batch, runs: mainTimesMs.length, p50Ms: p50, itemsPerSec: Number.isFinite(p50) && p50 > 0 ? (batch * 1000) / p50 : null, error: null };
  }
  try {
    const feeds = toFeeds(ort, materializeInputs(request.plan, batch));
    await runOnce(session, feeds); // the first run at a new shape re-plans memory; not timed
    const times: number[] = [];
    const started = performance.now();
    while (times.length < Math.max(3, request.runs) && (times.length < 3 || performance.now() - started < BATCH_BUDGET_MS)) {
      const t = performance.now();
      await runOnce(session, feeds);
      times.push(performance.now() - t);
    }
    const p50 = percentile(times, 0.5);
    return { batch, runs: times.length, p50Ms: p50, itemsPerSec: p50 > 0 ? (batch * 1000) / p50 : null, error: null };
  } catch (e) {
    return { batch, runs: 0, p50Ms: null, itemsPerSec: null, error: firstLine(messageOf(e)) };
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- process entry ----------------------------------------------------------------

/**
 * onnxruntime-node runs a session synchronously on the main thread, so while a
 * model hangs this process handles no events: not the parent's disconnect, not
 * a timer. A small thread that needs no event loop of ours kills the process
 * when the parent is gone (it was killed itself, so nobody would ever stop us)
 * or when the deadline has passed.
 */
function startWatchdog(parentPid: number, deadline: number): void {
  const code = `
    const { workerData } = require('node:worker_threads');
    setInterval(() => {
      if (process.ppid !== workerData.parentPid || Date.now() > workerData.deadline) process.kill(process.pid, 'SIGKILL');
    }, 250);
  `;
  new Worker(code, { eval: true, workerData: { parentPid, deadline } }).unref();
}

function isUserFixable(e: unknown): boolean {
  return e instanceof RuntimeFailure || (e instanceof Error && e.name === 'UserError');
}

function startWorker(): void {
  const channel = process.send?.bind(process);
  if (!channel) {
    process.stderr.write('smokeWorker: started without an IPC channel; the RunLens agent starts this process itself\n');
    process.exit(2);
  }
  const send = (message: SmokeWorkerMessage) => channel(message);
  const parentPid = process.ppid;
  process.once('message', (request: WorkerRequest) => {
    startWatchdog(parentPid, request.deadline);
    const job: Promise<SmokeWorkerMessage> =
      request.type === 'parity' ? runParityWorker(request, send).then((result) => ({ type: 'parity-result', result })) : runSmokeWorker(request, send).then((result) => ({ type: 'result', result }));
    job.then(
      (message) => channel(message, undefined, {}, () => process.exit(0)),
      (e: unknown) => {
        const phase = (e as { phase?: SmokePhase }).phase ?? 'starting';
        const message = isUserFixable(e) ? messageOf(e) : String((e as Error)?.stack ?? e);
        channel({ type: 'failed', phase, message, userFixable: isUserFixable(e) } satisfies SmokeWorkerMessage, undefined, {}, () => process.exit(1));
      },
    );
  });
  // If the agent goes away, there is nobody to report to.
  process.once('disconnect', () => process.exit(0));
}

if (require.main === module) startWorker();
