// The agent <-> extension protocol: JSON-RPC 2.0 over the agent's stdio.
// Every request and notification is declared here once, as a discriminated
// union member with its params and result; both sides derive their typed
// endpoints from it, so a method added here and not handled is a compile error.
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { IngestSummary } from '../core/ingest/engine';
import type { LogFormat, RunStatus } from '../core/ingest/types';
import type { ApproveOutcome, Evaluation } from '../core/registry/approval';
import type { VerifyResult } from '../core/registry/audit';
import type { ModelSummary, ModelVersion } from '../core/registry/types';
import type { RegisterResult } from '../core/registry/versions';
import type { WireNumber, Wired } from './wireNumbers';
import type { ReleaseRequests } from './releaseProtocol';
import type { CompareSummaryResult, DivergenceParams, DivergenceResult, DownsampledSeriesParams, DownsampledSeriesResult } from './compareWire';

/** Bumped on any incompatible change; the extension refuses a mismatching agent. */
// 2: runs and experiments carry a displayName (distinctLabels.ts); chart series may miss their epoch.
export const PROTOCOL_VERSION = 2;

export interface WireRunSummary {
  id: number;
  uid: string;
  name: string;
  /** The name, told apart from the other runs of its experiment with the same name by their folders (distinctLabels.ts). */
  displayName: string;
  format: LogFormat;
  sourceRoot: string;
  experimentKey: string;
  experimentName: string;
  path: string;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  lastWrite: number | null;
  seriesCount: number;
  paramCount: number;
  pointCount: number;
  label: string | null;
  starred: boolean;
  hidden: boolean;
  /** One or two metrics worth showing next to the name (validation loss, accuracy...). */
  headline: { key: string; lastValue: WireNumber; lastStep: WireNumber }[];
}

export interface WireSeriesSummary {
  key: string;
  pointCount: number;
  stepMin: number | null;
  stepMax: number | null;
  valueMin: WireNumber | null;
  valueMax: WireNumber | null;
  lastValue: WireNumber;
  lastStep: WireNumber;
}

export interface WireRunDetail extends WireRunSummary {
  note: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  summaries: Record<string, WireNumber | string>;
  series: WireSeriesSummary[];
}

export interface WireSeries {
  runId: number;
  key: string;
  steps: WireNumber[];
  values: WireNumber[];
  walls: WireNumber[];
}

export interface HelloParams {
  clientName: string;
  protocolVersion: number;
}

export interface HelloResult {
  agentVersion: string;
  protocolVersion: number;
  nodeVersion: string;
  nodePath: string;
  databasePath: string;
  schemaVersion: number;
  formats: LogFormat[];
}

export interface IngestParams {
  paths: string[];
  /** Re-read every source even if its files look unchanged. */
  force?: boolean;
}

/** What an ingest did, as the agent reports it (the per-series changes travel in runs/changed). */
export type IngestReport = Omit<IngestSummary, 'changedRoots' | 'changes'>;

export interface ListRunsParams {
  text?: string;
  includeHidden?: boolean;
  sourceRoot?: string;
  experimentKey?: string;
  limit?: number;
  offset?: number;
}

export interface ListRunsResult {
  runs: WireRunSummary[];
  total: number;
}

export interface WireExperiment {
  sourceRoot: string;
  format: LogFormat;
  key: string;
  name: string;
  /** The name, told apart from other experiments of the same name by their folders (distinctLabels.ts). */
  displayName: string;
  lifecycle: 'active' | 'deleted';
  runCount: number;
  lastError: string | null;
}

export interface WireSeriesChange {
  runId: number;
  runUid: string;
  runName: string;
  key: string;
  newPoints: number;
  lastStep: WireNumber;
  lastValue: WireNumber;
}

export interface WatchParams {
  /** Folders to watch (workspace folders). */
  roots: string[];
  /** Extra glob patterns to ignore (files.watcherExclude, user globs). */
  ignore: string[];
  /** Poll instead of native events (network drives). */
  usePolling: boolean;
  /** Quiet time before a burst of changes is ingested. */
  debounceMs: number;
}

export interface WatchStatus {
  watching: boolean;
  paused: boolean;
  roots: string[];
  watchedPaths: number;
}

export interface WireModelSummary {
  path: string;
  size: number;
  /** The default-domain opset; null when unreadable or none. */
  opset: number | null;
  irVersion: number | null;
  producer: string | null;
  inputs: number;
  outputs: number;
  /** Why the file could not be inspected (truncated, not ONNX...). */
  error: string | null;
  lastSmoke: { startedAt: number; provider: string; passed: boolean; p50Ms: number | null } | null;
}

export interface SmokeParams {
  path: string;
  ep?: 'cpu' | 'cuda' | 'webgpu';
  runs?: number;
  warmup?: number;
  /** `name=1x3x224x224,other=...`, as on the command line. */
  shapes?: string;
  /** Save this run's outputs as the golden file at this path. */
  saveGolden?: string;
  /** Compare the outputs with the golden file at this path. */
  golden?: string;
}

export interface ParityParams {
  path: string;
  /** Providers to compare with CPU; default: every other provider the runtime lists. */
  eps?: string[];
  runs?: number;
  warmup?: number;
  shapes?: string;
  atol?: number;
  rtol?: number;
}

/** The latest stored results of one model, for its card. */
export interface ModelResults {
  /** A SmokeReport in wire form, or null. */
  smoke: unknown;
  /** A ParityReport in wire form, or null. */
  parity: unknown;
  /** The model's golden file (`MODEL.golden.json` beside it) and when it was written. */
  golden: { path: string; exists: boolean; createdAt: string | null };
}

/** Model registry requests; each `workspace` is where the approver's identity and the policy file come from. */
export interface RegistryRequests {
  'registry/models': { params: Record<string, never>; result: { models: Wired<ModelSummary[]> } };
  'registry/versions': { params: { name: string }; result: { versions: Wired<ModelVersion[]> } };
  'registry/register': { params: { file: string; name: string; run?: string; workspace: string }; result: Wired<RegisterResult> };
  'registry/evaluate': { params: { ref: string; workspace: string }; result: Wired<Evaluation> };
  'registry/approve': { params: { ref: string; reason: string; override: boolean; workspace: string }; result: Wired<ApproveOutcome> };
  'registry/reject': { params: { ref: string; reason: string; workspace: string }; result: Wired<ModelVersion> };
  'registry/alias': { params: { ref: string; alias: string; reason?: string; workspace: string }; result: null };
  'registry/archive': { params: { ref: string; reason?: string; workspace: string }; result: Wired<ModelVersion> };
  'audit/verify': { params: Record<string, never>; result: Wired<VerifyResult> };
}

type RegistryRequestUnion = { [M in keyof RegistryRequests]: { method: M; params: RegistryRequests[M]['params']; result: RegistryRequests[M]['result'] } }[keyof RegistryRequests];
type ReleaseRequestUnion = { [M in keyof ReleaseRequests]: { method: M; params: ReleaseRequests[M]['params']; result: ReleaseRequests[M]['result'] } }[keyof ReleaseRequests];
export type { ReleaseRequests };

export type AgentRequest =
  | RegistryRequestUnion
  | ReleaseRequestUnion
  | { method: 'agent/hello'; params: HelloParams; result: HelloResult }
  | { method: 'workspace/ingest'; params: IngestParams; result: IngestReport }
  | { method: 'experiments/list'; params: Record<string, never>; result: { experiments: WireExperiment[] } }
  | { method: 'runs/list'; params: ListRunsParams; result: ListRunsResult }
  | { method: 'runs/get'; params: { id: number }; result: WireRunDetail | null }
  | { method: 'series/get'; params: { runId: number; key: string; stepMin?: number; stepMax?: number }; result: WireSeries | null }
  | { method: 'series/downsampled'; params: DownsampledSeriesParams; result: DownsampledSeriesResult }
  | { method: 'compare/summary'; params: { runIds: number[] }; result: CompareSummaryResult }
  | { method: 'compare/divergence'; params: DivergenceParams; result: DivergenceResult }
  | { method: 'runs/annotate'; params: { id: number; label?: string; note?: string; starred?: boolean; hidden?: boolean }; result: null }
  | { method: 'runs/reindex'; params: { id: number }; result: IngestReport }
  | { method: 'models/list'; params: { roots: string[] }; result: { models: WireModelSummary[] } }
  /** A ModelInspection (src/core/models/inspect.ts) through toWireDeep. */
  | { method: 'models/inspect'; params: { path: string }; result: unknown }
  /** A SmokeReport (src/core/models/smoke.ts) through toWireDeep; kept in the store. */
  | { method: 'models/smoke'; params: SmokeParams; result: unknown }
  /** A ParityReport (src/core/models/parity.ts) through toWireDeep; kept in the store. */
  | { method: 'models/parity'; params: ParityParams; result: unknown }
  | { method: 'models/results'; params: { path: string }; result: ModelResults }
  | { method: 'watch/start'; params: WatchParams; result: WatchStatus }
  | { method: 'watch/setPaused'; params: { paused: boolean }; result: WatchStatus }
  | { method: 'watch/stop'; params: Record<string, never>; result: WatchStatus }
  | { method: 'agent/shutdown'; params: Record<string, never>; result: null };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface ProgressParams {
  /** Correlates with the request that started the work. */
  operation: 'ingest' | 'smoke' | 'registry' | 'release';
  done: number;
  total: number;
  message: string;
}

export type AgentNotification =
  | { method: 'agent/log'; params: { level: LogLevel; message: string } }
  | { method: 'agent/progress'; params: ProgressParams }
  | { method: 'runs/changed'; params: { sourceRoots: string[]; changes: WireSeriesChange[] } }
  /** Lines of a followed container log (deploy/logs with follow). */
  | { method: 'deploy/logChunk'; params: { containerId: string; text: string } };

export type AgentRequestMethod = AgentRequest['method'];
export type AgentNotificationMethod = AgentNotification['method'];
export type RequestParams<M extends AgentRequestMethod> = Extract<AgentRequest, { method: M }>['params'];
export type RequestResult<M extends AgentRequestMethod> = Extract<AgentRequest, { method: M }>['result'];
export type NotificationParams<M extends AgentNotificationMethod> = Extract<AgentNotification, { method: M }>['params'];

/** Mapped over the unions: leaving out a method is a type error. */
export const agentRequests: { [M in AgentRequestMethod]: RequestType<RequestParams<M>, RequestResult<M>, void> } = {
  'agent/hello': new RequestType('agent/hello'),
  'workspace/ingest': new RequestType('workspace/ingest'),
  'experiments/list': new RequestType('experiments/list'),
  'runs/list': new RequestType('runs/list'),
  'runs/get': new RequestType('runs/get'),
  'series/get': new RequestType('series/get'),
  'series/downsampled': new RequestType('series/downsampled'),
  'compare/summary': new RequestType('compare/summary'),
  'compare/divergence': new RequestType('compare/divergence'),
  'runs/annotate': new RequestType('runs/annotate'),
  'runs/reindex': new RequestType('runs/reindex'),
  'models/list': new RequestType('models/list'),
  'models/inspect': new RequestType('models/inspect'),
  'models/smoke': new RequestType('models/smoke'),
  'models/parity': new RequestType('models/parity'),
  'models/results': new RequestType('models/results'),
  'registry/models': new RequestType('registry/models'),
  'registry/versions': new RequestType('registry/versions'),
  'registry/register': new RequestType('registry/register'),
  'registry/evaluate': new RequestType('registry/evaluate'),
  'registry/approve': new RequestType('registry/approve'),
  'registry/reject': new RequestType('registry/reject'),
  'registry/alias': new RequestType('registry/alias'),
  'registry/archive': new RequestType('registry/archive'),
  'audit/verify': new RequestType('audit/verify'),
  'release/push': new RequestType('release/push'),
  'deploy/list': new RequestType('deploy/list'),
  'deploy/start': new RequestType('deploy/start'),
  'deploy/rollback': new RequestType('deploy/rollback'),
  'deploy/remove': new RequestType('deploy/remove'),
  'deploy/logs': new RequestType('deploy/logs'),
  'deploy/metrics': new RequestType('deploy/metrics'),
  'deploy/grayStart': new RequestType('deploy/grayStart'),
  'deploy/grayStatus': new RequestType('deploy/grayStatus'),
  'deploy/promote': new RequestType('deploy/promote'),
  'deploy/grayAbort': new RequestType('deploy/grayAbort'),
  'watch/start': new RequestType('watch/start'),
  'watch/setPaused': new RequestType('watch/setPaused'),
  'watch/stop': new RequestType('watch/stop'),
  'agent/shutdown': new RequestType('agent/shutdown'),
};

export const agentNotifications: { [M in AgentNotificationMethod]: NotificationType<NotificationParams<M>> } = {
  'agent/log': new NotificationType('agent/log'),
  'agent/progress': new NotificationType('agent/progress'),
  'runs/changed': new NotificationType('runs/changed'),
  'deploy/logChunk': new NotificationType('deploy/logChunk'),
};

/** The agent implements one handler per request; the type makes the set exhaustive. */
export type AgentRequestHandlers = {
  [M in AgentRequestMethod]: (params: RequestParams<M>, token: { isCancellationRequested: boolean; onCancellationRequested: (listener: () => void) => unknown }) => Promise<RequestResult<M>> | RequestResult<M>;
};

export type AgentNotificationHandlers = {
  [M in AgentNotificationMethod]: (params: NotificationParams<M>) => void;
};
