// The messages between an ingest and its parse worker (parseWorker.ts,
// parseWorkerThread.ts): a big read of a text log is split at a line break,
// this thread parses the first part and the worker the second, at once.
//
// A request names the file by path and identity (dev and ino, as bigints so
// that inode numbers above 2^53 never compare equal by rounding): the worker
// opens the file itself and refuses another file found at that path. The
// worker starts with no knowledge of the lines before its part, so whatever
// depends on them (line numbers in problems, the column count of the file's
// first line) comes back raw and is settled by the requesting thread.

/** One problem of a worker's part: the line number counts from the part's first line (1). */
export type PartProblem = [line: number, message: string];

export type ParseWorkerRequest =
  | {
      type: 'mlflow-metric-part';
      id: number;
      file: string;
      dev: bigint;
      ino: bigint;
      /** Where the part starts: the first byte after a line feed. */
      from: number;
      /** Bytes the part may read (see readMetricFile's maxBytes); null: to the end of the file. */
      maxBytes: number | null;
    }
  | {
      type: 'lightning-rows';
      id: number;
      /** For messages only: the bytes come with the request. */
      file: string;
      header: string[];
      /** Whole lines of metrics.csv, from a group boundary on (lightningParts.ts), the first row starting a (step, epoch) group. */
      bytes: Uint8Array;
    }
  | {
      /** Columns of earlier replies, copied out and given back: the worker's next parts fill them (no reply). */
      type: 'recycle';
      columns: Float64Array[];
    }
  | {
      /** The part asked for as `id` is no longer wanted (a part asked for ahead that the next read did not match): stop and reply 'failed'. */
      type: 'cancel';
      id: number;
    }
  | { type: 'stop' };

export type ParseWorkerReply =
  | {
      type: 'mlflow-metric-part';
      id: number;
      steps: Float64Array;
      values: Float64Array;
      walls: Float64Array;
      /** Line breaks consumed in the part. */
      lines: number;
      /** Column count of the part's first parsed line (0: none). */
      columns: number;
      /** The part ended with a CR (an LF next completes it). */
      cr: boolean;
      /** The first problems, and how many there were in all. */
      problems: PartProblem[];
      problemCount: number;
      /** The unterminated rest after the last line break, when the read did not stop at its budget: the caller decides whether it is a point. */
      unfinished: Uint8Array | null;
      /** The cursor the part ends at, as readMetricFile gives it. */
      size: number;
      offset: number;
      mtimeMs: number;
      /** How long the worker took, from the request to the reply: what balances the next split (SplitBalance). */
      elapsedMs: number;
    }
  | {
      type: 'lightning-rows';
      id: number;
      /** Per series that got points, in header order: name, steps, values, walls. */
      series: Array<[name: string, steps: Float64Array, values: Float64Array, walls: Float64Array]>;
      /** Line breaks consumed. */
      lines: number;
      /** The part's continuation, its rows counted from 0 (lightningTable.ts TableContinuation). */
      rows: number;
      /** The request's bytes, given back for the requesting thread's read buffers. */
      bytes: Uint8Array;
      /** Some row's step was not a number, so its step is its row index, which only the requesting thread knows: that thread parses the part again. */
      usedRowIndexStep: boolean;
      problems: PartProblem[];
      problemCount: number;
      elapsedMs: number;
    }
  | {
      type: 'failed';
      id: number;
      message: string;
      /** The file at the path is not the one asked for (replaced meanwhile): the caller reads the part itself. */
      replaced: boolean;
    };
