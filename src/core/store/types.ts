// The store's public surface. Kept narrow and free of SQLite types so that a
// PostgreSQL backend (a team's shared tracking server) can implement it later.
import type { FileCursor, IngestWarning, LogFormat, ParsedSource, RunStatus } from '../ingest/types';

export type { FileCursor };

export interface SourceRecord {
  id: number;
  root: string;
  format: LogFormat;
  ingestedAt: number;
  lastError: string | null;
  files: FileCursor[];
}

export interface RunQuery {
  /** Case-insensitive substring of the run name, experiment name, uid or path. */
  text?: string;
  sourceRoot?: string;
  experimentKey?: string;
  includeHidden?: boolean;
  limit?: number;
  offset?: number;
}

export interface HeadlineMetric {
  key: string;
  lastValue: number;
}

export interface RunSummary {
  id: number;
  uid: string;
  name: string;
  format: LogFormat;
  sourceRoot: string;
  experimentKey: string;
  experimentName: string;
  /** The run's key within its experiment, as the reader gave it (MLflow run id, `version_0`, `segment-2`...). */
  runKey: string;
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
}

export interface SeriesSummary {
  id: number;
  key: string;
  pointCount: number;
  stepMin: number | null;
  stepMax: number | null;
  /** Over non-NaN values; null when the series has no non-NaN value. */
  valueMin: number | null;
  valueMax: number | null;
  /** NaN is a legitimate last value. */
  lastValue: number;
  lastStep: number;
  lastWall: number;
}

export interface RunDetail extends RunSummary {
  note: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  summaries: Record<string, number | string>;
  series: SeriesSummary[];
}

export interface SeriesPoints {
  steps: Float64Array;
  values: Float64Array;
  walls: Float64Array;
}

export interface StepRange {
  min: number;
  max: number;
}

/** What one read changed in one series: for `runlens watch` lines and live updates. */
export interface SeriesChange {
  runId: number;
  runUid: string;
  runName: string;
  key: string;
  /** Points added by this read (a re-read run: new total minus old total). */
  newPoints: number;
  lastStep: number;
  lastValue: number;
}

export interface ReplaceSourceResult {
  sourceId: number;
  runs: number;
  points: number;
  removedRuns: number;
  changes: SeriesChange[];
}

export interface StoreStats {
  sources: number;
  runs: number;
  series: number;
  points: number;
  chunks: number;
}

/** An experiment as the tree groups runs: one MLflow experiment, one TB log dir, one CSV file... */
export interface ExperimentGroup {
  sourceRoot: string;
  format: LogFormat;
  key: string;
  name: string;
  lifecycle: 'active' | 'deleted';
  runCount: number;
  lastError: string | null;
}

/** What the user adds to a run; stored by RunLens, never written to the user's files. Empty string clears. */
export interface RunAnnotation {
  label?: string;
  note?: string;
  starred?: boolean;
  hidden?: boolean;
}

/**
 * Parity checks share the smoke-test table (same model row, same report
 * column); their provider column reads "parity:" and the providers compared,
 * which keeps them out of the latest smoke test.
 */
export const PARITY_PROVIDER_PREFIX = 'parity:';

export type ModelCheckKind = 'smoke' | 'parity';

/** One smoke test of one model file, as stored (the report is the agent's JSON). */
export interface SmokeTestRecord {
  modelPath: string;
  sha256: string;
  startedAt: number;
  provider: string;
  passed: boolean;
  report: string;
}

export interface RunStore {
  readonly path: string;
  schemaVersion(): number;
  close(): void;

  listSources(): SourceRecord[];
  getSource(root: string): SourceRecord | undefined;
  /**
   * Writes what one read of a source produced, atomically: each run replaced,
   * appended to or kept as its `update` says; runs the read did not mention are
   * removed, unless `parsed.complete` is false (one slice of a longer read, see
   * FormatReader.read: the runs it does not mention are not reached yet and
   * stay as they are). Runs are matched by key so that user annotations
   * (label, note, star, hidden) survive a re-read. `files` become the source's
   * cursors.
   */
  replaceSource(parsed: ParsedSource, files: FileCursor[], warnings?: IngestWarning[]): ReplaceSourceResult;
  removeSource(root: string): void;

  /** Appends points to a run's series, creating it; fills the last partial chunk first. */
  appendPoints(runId: number, key: string, points: { steps: ArrayLike<number>; values: ArrayLike<number>; walls: ArrayLike<number> }): void;

  listExperiments(): ExperimentGroup[];
  annotateRun(runId: number, annotation: RunAnnotation): void;
  /** Every series' last value for these runs (for headline metrics in lists). */
  lastValues(runIds: readonly number[]): Map<number, { key: string; lastValue: number; lastStep: number; pointCount: number }[]>;
  listRuns(query?: RunQuery): { runs: RunSummary[]; total: number };
  /** Every run of one experiment (hidden ones too), name and path only: what labels that tell them apart need. */
  runNames(sourceRoot: string, experimentKey: string): { id: number; name: string; path: string }[];
  getRun(idOrUid: number | string): RunDetail | undefined;
  /** Resolves a user-typed reference: numeric id, uid, uid prefix, or exact run name. */
  findRuns(reference: string): RunSummary[];
  readSeries(runId: number, key: string, range?: StepRange): SeriesPoints | undefined;
  stats(): StoreStats;

  /** Keeps a smoke test's result with the model file it ran on (path + content hash). */
  recordSmokeTest(record: SmokeTestRecord, size: number): void;
  /** The newest smoke test of each of these model files. */
  /** The latest smoke test (or, with kind 'parity', the latest parity check) of each model. */
  latestSmokeTests(modelPaths: readonly string[], kind?: ModelCheckKind): Map<string, SmokeTestRecord>;
}

export type { RunStatus };
