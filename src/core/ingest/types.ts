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

/**
 * How a re-read run relates to what the store holds:
 * - 'replace' (default): this is the whole run; its stored params, tags, summaries and series are replaced.
 * - 'append': metrics hold only points logged after the previous read; they are appended.
 *   Params, tags and summaries are complete and replace the stored ones.
 * - 'keep': the run's files did not change; the store keeps it exactly as it is (only `key` is read).
 */
export type RunUpdate = 'replace' | 'append' | 'keep';

export interface ParsedRun {
  /** Stable within its source across re-reads (MLflow run id, TB dir relative to the log root, `version_3`, ...). */
  key: string;
  update?: RunUpdate;
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

/** What is remembered about one file between reads, so the next read can continue where this one stopped. */
export interface FileCursor {
  path: string;
  size: number;
  mtimeMs: number;
  /** Byte offset just after the last complete record or line that was consumed. */
  offset: number;
  /** Hash of the file's first bytes: a different head means the file was rewritten, not appended to. */
  headHash: string;
  /** Reader-private, JSON-serializable state needed to continue (a CSV header, the current Keras segment...). */
  state?: unknown;
}

export interface ParsedSource {
  format: LogFormat;
  /** One cursor per file read; files without one are remembered as fully read. */
  cursors?: FileCursor[];
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
  /**
   * Parse one source. Throws only for bugs; bad files become warnings.
   * With `previous` (the cursors of the last read, by path) a reader may read
   * only what was appended and mark runs 'append' or 'keep'; without it, or
   * when a file shrank or its head changed, it reads that run in full.
   * A reader that ignores `previous` is correct, only slower.
   */
  read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>): Promise<ParsedSource>;
}
