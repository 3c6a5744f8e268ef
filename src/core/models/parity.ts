// EP parity check: the same synthetic inputs through the CPU execution
// provider (the reference) and through each other provider this machine
// offers, in one isolated worker process; per provider: available or why not,
// latency next to CPU's, the speedup, and the largest absolute and relative
// difference of each output from CPU's, judged against a tolerance. GPUs are
// not assumed to compute the same thing: on real models they often do not.
import { DEFAULT_ATOL, DEFAULT_RTOL, tensorValues, type Tolerances } from './golden';
import { planInputs, DEFAULT_SEED } from './inputs';
import type { ExecutionProvider } from './ortRuntime';
import { checkRunCounts, describePlannedInputs, inspectRunnable, modelFacts, runWorker, type PlannedInputReport, type SmokeReport, type WorkerOptions } from './smoke';
import type { OutputTensor, ParityConfig, ParityRun, ParityWorkerRequest } from './smokeProtocol';
import { summarizeLatency, type LatencySummary } from './stats';

export type { ParityConfig } from './smokeProtocol';

/** Each configuration is loaded and timed in turn, so fewer runs than a smoke test keep the check quick. */
export const PARITY_DEFAULT_RUNS = 20;
export const PARITY_DEFAULT_WARMUP = 3;

export interface ParityOptions extends WorkerOptions {
  /** The configurations to compare with the reference; default: every provider besides CPU that the runtime lists here. */
  candidates?: ParityConfig[];
  /** Default: the CPU provider with the runtime's default options. */
  reference?: ParityConfig;
  runs?: number;
  warmup?: number;
  shapes?: ReadonlyMap<string, number[]>;
  seed?: number;
  tolerances?: Partial<Tolerances>;
}

export interface ElementDiff {
  index: number;
  reference: number;
  candidate: number;
}

export interface OutputDiff {
  name: string;
  elements: number;
  /** null when there is nothing to subtract (shape or dtype differ, strings). */
  maxAbsDiff: number | null;
  /** |candidate − reference| / max(|reference|, atol): a reference near zero does not blow it up. */
  maxRelDiff: number | null;
  /** Where the largest absolute difference is (flat index). */
  worst: ElementDiff | null;
  /** Elements outside atol + rtol·|reference|, NaN against a number included. */
  mismatches: number;
  problem: string | null;
  pass: boolean;
}

export interface ParityTiming {
  loadMs: number;
  firstRunMs: number;
  latency: LatencySummary;
}

export interface ParityEntry {
  label: string;
  ep: ExecutionProvider;
  /** unavailable: this machine cannot create a session with it (not a failure of the model); failed: it loaded but could not run the model. */
  status: ParityRun['status'];
  /** Why it is unavailable, or the runtime's error when it failed. */
  reason: string | null;
  timing: ParityTiming | null;
  /** Reference p50 divided by this p50: 2 means twice as fast as the reference, 0.5 twice as slow. */
  speedup: number | null;
  outputs: OutputDiff[];
  /** null when it did not run, so there was nothing to compare. */
  pass: boolean | null;
}

export interface ParityReport {
  model: SmokeReport['model'];
  seed: number;
  inputs: PlannedInputReport[];
  runtime: SmokeReport['runtime'];
  tolerances: Tolerances;
  runs: number;
  warmup: number;
  reference: { label: string; ep: ExecutionProvider; timing: ParityTiming };
  candidates: ParityEntry[];
  /** Candidates whose outputs were compared with the reference. */
  compared: number;
  /** No candidate that ran differs beyond the tolerance, and none failed to run. */
  pass: boolean;
  problems: string[];
  warnings: string[];
  runtimeLog: string[];
}

export const CPU_REFERENCE: ParityConfig = { label: 'cpu', ep: 'cpu' };

export async function runParityCheck(modelPath: string, options: ParityOptions = {}): Promise<ParityReport> {
  const runs = options.runs ?? PARITY_DEFAULT_RUNS;
  const warmup = options.warmup ?? PARITY_DEFAULT_WARMUP;
  checkRunCounts(runs, warmup);
  const tolerances: Tolerances = { atol: options.tolerances?.atol ?? DEFAULT_ATOL, rtol: options.tolerances?.rtol ?? DEFAULT_RTOL };
  const inspection = inspectRunnable(modelPath);
  const plan = planInputs(inspection.inputs, options.shapes, options.seed ?? DEFAULT_SEED);
  const request: ParityWorkerRequest = {
    type: 'parity',
    modelPath: inspection.file,
    plan,
    warmup,
    runs,
    reference: options.reference ?? CPU_REFERENCE,
    candidates: options.candidates ?? null,
    deadline: 0,
  };
  const { result, stderr } = await runWorker(request, options);
  if (result.reference.status !== 'ran') throw new Error(`parity worker returned a reference that did not run (${result.reference.status})`);
  const reference = result.reference;
  const referenceTiming = timingOf(reference);
  const candidates = result.candidates.map((run) => judge(run, reference.outputs, referenceTiming, tolerances));

  const problems: string[] = [];
  const warnings: string[] = [];
  for (const c of candidates) {
    if (c.status === 'unavailable') warnings.push(`${c.label} is not available on this machine: ${c.reason}`);
    else if (c.status === 'failed') problems.push(`${c.label} loaded the model but could not run it: ${c.reason}`);
    else if (c.pass === false) {
      const worst = c.outputs.filter((o) => !o.pass).map((o) => (o.problem ? `${o.name} (${o.problem})` : `${o.name} (max abs diff ${o.maxAbsDiff}, ${o.mismatches}/${o.elements} outside tolerance)`));
      problems.push(`${c.label} computes different outputs than ${reference.config.label}: ${worst.join(', ')}`);
    }
  }
  const compared = candidates.filter((c) => c.status === 'ran').length;
  if (candidates.length === 0) warnings.push('this onnxruntime-node offers no execution provider besides CPU here; nothing to compare');
  else if (compared === 0) warnings.push('no execution provider besides the reference could run here; nothing was compared');
  return {
    model: modelFacts(inspection),
    seed: plan.seed,
    inputs: describePlannedInputs(plan),
    runtime: { version: result.runtimeVersion, backends: result.backends },
    tolerances,
    runs,
    warmup,
    reference: { label: reference.config.label, ep: reference.config.ep, timing: referenceTiming },
    candidates,
    compared,
    pass: problems.length === 0,
    problems,
    warnings,
    runtimeLog: stderr,
  };
}

function timingOf(run: Extract<ParityRun, { status: 'ran' }>): ParityTiming {
  return { loadMs: run.loadMs, firstRunMs: run.firstRunMs, latency: summarizeLatency(run.timesMs) };
}

function judge(run: ParityRun, referenceOutputs: OutputTensor[], referenceTiming: ParityTiming, tolerances: Tolerances): ParityEntry {
  const base = { label: run.config.label, ep: run.config.ep, status: run.status };
  switch (run.status) {
    case 'unavailable':
      return { ...base, reason: run.reason, timing: null, speedup: null, outputs: [], pass: null };
    case 'failed':
      return { ...base, reason: run.error, timing: null, speedup: null, outputs: [], pass: false };
    case 'ran': {
      const timing = timingOf(run);
      const p50 = timing.latency.p50Ms;
      const speedup = p50 > 0 && Number.isFinite(p50) ? referenceTiming.latency.p50Ms / p50 : null;
      const outputs = diffOutputs(referenceOutputs, run.outputs, tolerances);
      return { ...base, reason: null, timing, speedup, outputs, pass: outputs.every((o) => o.pass) };
    }
    default: {
      const never: never = run;
      throw new Error(`unknown parity run ${JSON.stringify(never)}`);
    }
  }
}

/** Each reference output against the candidate's output of the same name. */
export function diffOutputs(reference: readonly OutputTensor[], candidate: readonly OutputTensor[], tolerances: Tolerances): OutputDiff[] {
  return reference.map((ref) => {
    const cand = candidate.find((c) => c.name === ref.name);
    const unmatched = (problem: string): OutputDiff => ({ name: ref.name, elements: ref.data.length, maxAbsDiff: null, maxRelDiff: null, worst: null, mismatches: ref.data.length, problem, pass: false });
    if (!cand) return unmatched('missing from the candidate');
    if (cand.dtype !== ref.dtype) return unmatched(`dtype ${cand.dtype}, reference ${ref.dtype}`);
    if (cand.dims.join('x') !== ref.dims.join('x')) return unmatched(`shape [${cand.dims.join(', ')}], reference [${ref.dims.join(', ')}]`);
    return diffValues(ref.name, tensorValues(ref), tensorValues(cand), tolerances);
  });
}

/**
 * Element-wise difference of two equally long value lists. An element passes
 * when |c − r| <= atol + rtol·|r| (numpy.allclose); NaN passes only against
 * NaN and an infinity only against the same infinity.
 */
export function diffValues(name: string, reference: ArrayLike<number> | string[], candidate: ArrayLike<number> | string[], t: Tolerances): OutputDiff {
  const n = reference.length;
  if (typeof reference[0] === 'string' || typeof candidate[0] === 'string') {
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (reference[i] !== candidate[i]) mismatches++;
    return { name, elements: n, maxAbsDiff: null, maxRelDiff: null, worst: null, mismatches, problem: null, pass: mismatches === 0 };
  }
  const r = reference as ArrayLike<number>;
  const c = candidate as ArrayLike<number>;
  // The scale below which a reference value counts as zero for the relative difference.
  const floor = Math.max(t.atol, Number.MIN_VALUE);
  let maxAbs = 0;
  let maxRel = 0;
  let worst: ElementDiff | null = null;
  let mismatches = 0;
  for (let i = 0; i < n; i++) {
    const x = r[i];
    const y = c[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      const same = Number.isNaN(x) ? Number.isNaN(y) : x === y;
      if (!same) mismatches++;
      continue;
    }
    const diff = Math.abs(y - x);
    if (worst === null || diff > maxAbs) {
      worst = { index: i, reference: x, candidate: y };
      maxAbs = diff;
    }
    maxRel = Math.max(maxRel, diff / Math.max(Math.abs(x), floor));
    if (diff > t.atol + t.rtol * Math.abs(x)) mismatches++;
  }
  return { name, elements: n, maxAbsDiff: maxAbs, maxRelDiff: maxRel, worst, mismatches, problem: null, pass: mismatches === 0 };
}
