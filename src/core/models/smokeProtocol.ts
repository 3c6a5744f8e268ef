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

export type SmokeWorkerMessage =
  | { type: 'phase'; phase: SmokePhase }
  | { type: 'first-result' }
  | { type: 'result'; result: SmokeWorkerResult }
  /** `userFixable`: a runtime or model error to show as is (not a RunLens bug). */
  | { type: 'failed'; phase: SmokePhase; message: string; userFixable: boolean };
