// What every log-format reader produces. Readers are pure: files in, runs out.
// They never touch the store; the ingest engine decides what to persist.

export type LogFormat = 'mlflow' | 'tensorboard' | 'lightning' | 'keras' | 'dvclive';

export const LOG_FORMATS: readonly LogFormat[] = ['mlflow', 'tensorboard', 'lightning', 'keras', 'dvclive'];

export type RunStatus = 'running' | 'finished' | 'failed' | 'killed' | 'scheduled' | 'unknown';

/**
 * One metric series, in the order the points were logged (not re-sorted: MLflow
 * and DVCLive files legitimately repeat steps). Values are kept exactly as read:
 * NaN, +Infinity, -Infinity and -0 are data. Wall times are milliseconds since
 * the epoch (may be fractional, e.g. TensorBoard's double seconds * 1000); NaN
 * when the format records none.
 *
 * Columns have equal lengths. The readers give Float64Arrays (built with
 * SeriesBuilder, series.ts; possibly views into a larger buffer): a point
 * costs 24 bytes and no boxing, and the store encodes straight from them.
 * Any array-like is accepted (tests and other callers build plain arrays).
 */
export interface MetricSeriesData {
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
  walls: ArrayLike<number>;
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
  /**
   * One cursor per file read. In a complete read, files without one are
   * remembered as fully read. In a slice (`complete: false`) a file without
   * one is remembered as not read at all: see FormatReader.read.
   */
  cursors?: FileCursor[];
  /** Absolute path of the source root (the `mlruns` dir, the TB log dir, the CSV file, ...). */
  root: string;
  experiments: ParsedExperiment[];
  /**
   * Every problem found so far in the bytes behind the cursors (a reader
   * remembers earlier problems in its cursors' state and says them again), so
   * the last slice's warnings are the whole source's.
   */
  warnings: IngestWarning[];
  /**
   * False when the read stopped at its byte budget (ReadLimits) with more to
   * read: this is one slice, and the caller reads again from `cursors`.
   * Absent means true.
   */
  complete?: boolean;
}

/** How much one call of FormatReader.read may take in. */
export interface ReadLimits {
  /**
   * Stop once about this many bytes of new data were read (whole lines and
   * records: one that straddles the limit is finished, and one call always
   * makes progress, however small the limit).
   */
  maxBytes: number;
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
   *
   * Streaming. With `limits`, a reader may stop once it has taken in about
   * `limits.maxBytes` of new data and return `complete: false`: a slice. The
   * caller stores the slice (one transaction) and calls read again with the
   * slice's cursors as `previous`, until a read returns complete. So memory
   * is bounded by the budget, not by the file, and a cancel between slices
   * leaves a store that the next ingest simply continues. The contract of a
   * slice:
   * - Each cursor describes exactly the part of its file whose points the
   *   store holds once the slice is written. A file cut at the budget gets a
   *   cursor whose `size` is its `offset` (the file as if it ended there; its
   *   `headHash` covers min(size, HEAD_BYTES) bytes), so the next read sees
   *   the rest as appended and continues the run with 'append'.
   * - A file without a cursor is read from its start by the next read, so
   *   the store must hold none of its points, or the next read must read its
   *   run anew ('replace'). So a run this slice 'replace'd gets no cursor for
   *   the files it did not reach (their old points are gone), while the files
   *   of runs it appended to, kept or did not reach at all keep their
   *   `previous` cursor (vanished files included: the next read must still
   *   notice they vanished). (A run not reached that must be read anew, like
   *   an MLflow run whose experiment's meta.yaml changed, gets no cursors.)
   * - Runs and experiments the slice does not mention are not reached yet:
   *   the store leaves them as they are. Only a complete read removes runs.
   * - Warnings are cumulative (see ParsedSource.warnings).
   * A reader that ignores `limits` returns complete reads and is correct.
   */
  read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>, limits?: ReadLimits): Promise<ParsedSource>;
}
