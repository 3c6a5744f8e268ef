// What every log-format reader produces. Readers are pure: files in, runs out.
// They never touch the store; the ingest engine decides what to persist.

export type LogFormat = 'mlflow' | 'tensorboard' | 'lightning' | 'keras' | 'dvclive';

export const LOG_FORMATS: readonly LogFormat[] = ['mlflow', 'tensorboard', 'lightning', 'keras', 'dvclive'];

export type RunStatus = 'running' | 'finished' | 'failed' | 'killed' | 'scheduled' | 'unknown';

/**
 * One metric series, in the order the points were logged (not re-sorted: MLflow
 * and DVCLive files legitimately repeat steps). Values are kept exactly as read:
 * NaN, +Infinity and -Infinity are data. Wall times are milliseconds since the
 * epoch (may be fractional, e.g. TensorBoard's double seconds * 1000); NaN when
 * the format records none.
 */
export interface MetricSeriesData {
  steps: number[];
  values: number[];
  walls: number[];
}

export interface ParsedRun {
  /** Stable within its source across re-reads (MLflow run id, TB dir relative to the log root, `version_3`, ...). */
  key: string;
  name: string;
  /** Absolute path of the run's directory, or of its file for single-file formats. */
  path: string;
  status: RunStatus;
  /** Milliseconds since the epoch. */
  startTime?: number;
  endTime?: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricSeriesData>;
  /** Final values that have no series (DVCLive summaries, MLflow-only-once values). */
  summaries: Record<string, number | string>;
}

export interface ParsedExperiment {
  /** Stable within its source (MLflow experiment id, the log dir's relative path, ...). */
  key: string;
  name: string;
  lifecycle: 'active' | 'deleted';
  runs: ParsedRun[];
}

/** A problem in one file. Readers report these and keep everything they could read. */
export interface IngestWarning {
  file: string;
  message: string;
}

export interface ParsedSource {
  format: LogFormat;
  /** Absolute path of the source root (the `mlruns` dir, the TB log dir, the CSV file, ...). */
  root: string;
  experiments: ParsedExperiment[];
  warnings: IngestWarning[];
}

/** A unit found on disk that one reader will parse as a whole. */
export interface SourceCandidate {
  format: LogFormat;
  root: string;
  /** Every file the reader will read for this source; their sizes and mtimes fingerprint it. */
  files: string[];
}

export interface FormatReader {
  readonly format: LogFormat;
  /**
   * Given every file path under a workspace folder (absolute, '/'-separated, after
   * ignore rules), return the sources this reader claims. Must not read files
   * other than cheap header sniffs, because it runs on every change.
   */
  discover(files: readonly string[]): Promise<SourceCandidate[]>;
  /** Parse one source completely. Throws only for bugs; bad files become warnings. */
  read(candidate: SourceCandidate, signal?: AbortSignal): Promise<ParsedSource>;
}
