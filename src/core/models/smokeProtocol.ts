// The messages between the agent and its smoke-test worker process (Node IPC
// with the 'advanced' serialization, so typed arrays travel as they are).
import type { InputPlan } from './inputs';
import type { TensorSpec } from './inspect';
import type { BackendInfo, ExecutionProvider } from './ortRuntime';
import type { OutputCheck } from './outputChecks';

export interface SmokeWorkerRequest {
  type: 'run';
  modelPath: string;
  ep: ExecutionProvider;
  plan: InputPlan;
  warmup: number;
  runs: number;
  /** Batch sizes to measure throughput at (empty when the model's batch is fixed). */
  batchSizes: number[];
  /** onnxruntime intra-op threads; null = the runtime's default. */
  threads: number | null;
  declaredOutputs: TensorSpec[];
  /** Send the last run's output tensors back (for golden files). */
  keepOutputs: boolean;
  /** Epoch ms after which the worker kills itself, should its parent not manage to. */
  deadline: number;
}

export type SmokePhase = 'starting' | 'loading-runtime' | 'loading-model' | 'first-run' | 'warmup' | 'timing' | 'batches';

export interface BatchThroughput {
  batch: number;
  runs: number;
  p50Ms: number | null;
  itemsPerSec: number | null;
  /** The runtime's error when the model refused this batch size. */
  error: string | null;
}

export interface OutputTensor {
  name: string;
  dtype: string;
  dims: number[];
  data: ArrayLike<number | bigint | string>;
}

export interface SmokeWorkerResult {
  runtimeVersion: string;
  backends: BackendInfo[];
  ep: { requested: ExecutionProvider; used: ExecutionProvider; fallbackReason: string | null };
  loadMs: number;
  firstRunMs: number;
  timesMs: number[];
  batches: BatchThroughput[];
  peakRssBytes: number;
  outputs: OutputCheck[];
  outputData: OutputTensor[] | null;
}

/** One session configuration of a parity check: an execution provider and the session options that matter for speed and numerics. */
export interface ParityConfig {
  /** How the report names this configuration (e.g. "webgpu", or "cpu, graph optimizations off"). */
  label: string;
  ep: ExecutionProvider;
  /** onnxruntime's graph optimization level; unset = the runtime's default ('all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Intra-op threads; unset = the runtime's default. */
  threads?: number;
}

/** The same inputs through a reference configuration and each candidate, in one worker. */
export interface ParityWorkerRequest {
  type: 'parity';
  modelPath: string;
  plan: InputPlan;
  warmup: number;
  runs: number;
  reference: ParityConfig;
  /** null: every provider besides CPU that the runtime lists on this machine. */
  candidates: ParityConfig[] | null;
  /** Epoch ms after which the worker kills itself, should its parent not manage to. */
  deadline: number;
}

/** One configuration as measured; `unavailable` when its session could not be created on this machine. */
export type ParityRun =
  | { config: ParityConfig; status: 'unavailable'; reason: string }
  /** The session loaded but running it failed (the runtime's words). */
  | { config: ParityConfig; status: 'failed'; error: string; loadMs: number }
  | { config: ParityConfig; status: 'ran'; loadMs: number; firstRunMs: number; timesMs: number[]; outputs: OutputTensor[] };

export interface ParityWorkerResult {
  runtimeVersion: string;
  backends: BackendInfo[];
  reference: ParityRun;
  candidates: ParityRun[];
}

export type WorkerRequest = SmokeWorkerRequest | ParityWorkerRequest;

export type SmokeWorkerMessage =
  /** `detail`: which configuration a parity check is at. */
  | { type: 'phase'; phase: SmokePhase; detail?: string }
  | { type: 'first-result' }
  | { type: 'result'; result: SmokeWorkerResult }
  | { type: 'parity-result'; result: ParityWorkerResult }
  /** `userFixable`: a runtime or model error to show as is (not a RunLens bug). */
  | { type: 'failed'; phase: SmokePhase; message: string; userFixable: boolean };
