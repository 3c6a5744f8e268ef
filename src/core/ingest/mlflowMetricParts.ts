// A big read of one MLflow metric file in two parts on two cores
// (parseWorker.ts): this thread reads from the cursor to a line break near
// the middle, the parse worker from there to the end, both with
// readMetricFile, and the two are joined into exactly what one read would
// have returned. Anything that keeps the worker's part from counting (no
// worker, the worker died or failed, the file was replaced at its path, the
// first part did not end at the split) makes this thread read on from where
// its part ended, as a later slice would. When a read stops at its budget,
// the worker's part of the file's next read is asked for at once (PartAhead),
// so that the worker parses while the engine writes.
import * as fs from 'node:fs';
import { HEAD_BYTES } from './fileCursor';
import {
  MAX_REMEMBERED_PROBLEMS,
  METRIC_STATE_VERSION,
  MetricLineParser,
  ProblemLog,
  headHashOfHandle,
  metricStateOf,
  pointsExpectedIn,
  readMetricFile,
  type MetricCursorState,
  type MetricFileRead,
} from './mlflowMetricFile';
import { currentParseWorker, onParseWorkerStop, recycleOnWorker, shouldSplitRead, splitBalance, startPartOnWorker, type PartRequest, type SplitBalance, type StartedPart } from './parseWorker';
import type { ParseWorkerReply, PartProblem } from './parseWorkerProtocol';
import { recycleSeries, SeriesBuilder } from './series';
import type { FileCursor } from './types';

type WorkerPart = Extract<ParseWorkerReply, { type: 'mlflow-metric-part' }>;

/** How far past the middle a line break is looked for; a read whose middle line is longer stays whole. */
const SPLIT_SEARCH_BYTES = 64 * 1024;

/**
 * The worker's part of the read of a file expected next, asked for as soon
 * as a read stopped at its budget, so that the worker parses it while the
 * engine writes what this read returned. The next read of that file takes it
 * only if it is that read exactly: same worker, same file (identity, size,
 * modification and status change times unchanged since it was asked for),
 * same start and budget. Otherwise it is cancelled. Its range is whole within
 * the file as it was then (start plus budget did not reach the end), so
 * growth cannot change where it ends.
 */
interface PartAhead {
  file: string;
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  /** Status change time: a rewrite in place whose modification time was put back (rsync -t, touch -r) still changes it. */
  ctimeNs: bigint;
  start: number;
  maxBytes: number;
  split: number;
  part: StartedPart;
  askedAt: number;
}

/**
 * Parts asked for ahead, by file: a run's metric files are read several at a
 * time, so each file's next read must find its own part, not another's.
 */
const partsAhead = new Map<string, PartAhead>();

/** Parts kept asked for ahead at most (a run's big files read in one slice); the oldest goes first. */
const MAX_PARTS_AHEAD = 4;

/**
 * The largest budget a read was given since the worker started: what the
 * next read of a file gets when it is not its first in a slice (the read
 * that starts a file may get only what the files before it left).
 */
let largestBudget = 0;

/** Parts asked for ahead that a read took, and those cancelled (for tests). */
export const partsAheadCounts = { taken: 0, cancelled: 0 };

/** readMetricFile (same arguments, same result), split in two parts when the read is big. */
export async function readMetricFileInParts(
  file: string,
  problems: ProblemLog,
  resume: FileCursor | undefined,
  signal: AbortSignal | undefined,
  maxBytes = Infinity,
): Promise<MetricFileRead> {
  const start = resume && metricStateOf(resume) ? resume.offset : 0;
  const handle = await fs.promises.open(file, 'r');
  try {
    const identity = await handle.stat({ bigint: true });
    const size = Number(identity.size);
    const limit = maxBytes === Infinity ? size : Math.min(size, start + Math.max(1, Math.floor(maxBytes)));
    if (maxBytes !== Infinity) largestBudget = Math.max(largestBudget, maxBytes);
    const ahead = takePartAhead(file, identity, start, maxBytes);
    let split: number | undefined;
    let second: StartedPart;
    let balance: SplitBalance;
    if (ahead) {
      ({ split, part: second } = ahead);
      balance = splitBalance('mlflow-metric-part');
    } else {
      if (limit - start < 2 || !shouldSplitRead(limit - start)) return await readMetricFile(file, problems, resume, signal, maxBytes, { handle });
      balance = splitBalance('mlflow-metric-part');
      split = await lineStartAfter(handle, start, start + Math.floor((limit - start) * (1 - balance.share(limit - start))), limit, size);
      if (split === undefined) return await readMetricFile(file, problems, resume, signal, maxBytes, { handle });
      second = startPartOnWorker(metricPartRequest(file, identity, split, maxBytes === Infinity ? null : limit - split));
    }

    const started = performance.now();
    if (ahead) balance.recordHeadStart(started - ahead.askedAt);
    // One builder for the whole read: this part's points, then the worker's (or this thread's rest) appended.
    const points = new SeriesBuilder(pointsExpectedIn(limit - start) + 1);
    let first: MetricFileRead;
    try {
      first = await readMetricFile(file, problems, resume, signal, split - start, { handle, into: points });
    } catch (error) {
      dropPart(second); // cancelled or unreadable: the worker's part is not wanted either
      throw error;
    }
    const firstMs = performance.now() - started;
    if (first.conflict) {
      dropPart(second);
      recycleSeries([points.finish()]);
      return first;
    }
    const secondPart = first.cursor.offset === split ? await second.reply : (dropPart(second), undefined);
    if (secondPart?.type === 'mlflow-metric-part') {
      balance.record(split - start, firstMs, secondPart.offset - split, secondPart.elapsedMs);
      const joined = await joinWorkerPart(file, first, points, secondPart, problems, handle);
      await askNextPartAhead(file, identity, handle, joined.cursor.offset, largestBudget, balance);
      return joined;
    }

    // This thread reads on from where its part ended, as the next slice would have.
    const rest = await readMetricFile(file, problems, first.cursor, signal, maxBytes === Infinity ? Infinity : Math.max(1, limit - first.cursor.offset), { handle, into: points });
    return { ...rest, series: points.finish() };
  } finally {
    await handle.close();
  }
}

function metricPartRequest(file: string, identity: fs.BigIntStats, from: number, maxBytes: number | null): PartRequest {
  return { type: 'mlflow-metric-part', file, dev: identity.dev, ino: identity.ino, from, maxBytes };
}

/** The part asked for ahead if this read is the one it was asked for, else undefined (and it is cancelled). */
function takePartAhead(file: string, identity: fs.BigIntStats, start: number, maxBytes: number): PartAhead | undefined {
  const ahead = partsAhead.get(file);
  if (!ahead) return undefined;
  partsAhead.delete(file);
  const same =
    ahead.part.worker !== undefined &&
    ahead.part.worker === currentParseWorker() &&
    ahead.file === file &&
    ahead.dev === identity.dev &&
    ahead.ino === identity.ino &&
    ahead.size === identity.size &&
    ahead.mtimeNs === identity.mtimeNs &&
    ahead.ctimeNs === identity.ctimeNs &&
    ahead.start === start &&
    ahead.maxBytes === maxBytes;
  if (same) {
    partsAheadCounts.taken++;
    return ahead;
  }
  partsAheadCounts.cancelled++;
  dropPart(ahead.part);
  return undefined;
}

/**
 * After a read that stopped at its budget with a whole budget's worth still
 * in the file: asks the worker for its part of the next read now (see
 * PartAhead), placed for the head start it gets.
 */
async function askNextPartAhead(file: string, identity: fs.BigIntStats, handle: fs.promises.FileHandle, next: number, maxBytes: number, balance: SplitBalance): Promise<void> {
  if (maxBytes === Infinity || next + maxBytes > Number(identity.size) || !shouldSplitRead(maxBytes)) return;
  const limit = next + Math.max(1, Math.floor(maxBytes));
  const split = await lineStartAfter(handle, next, next + Math.floor((limit - next) * (1 - balance.share(limit - next, true))), limit, Number(identity.size));
  if (split === undefined) return;
  const replaced = partsAhead.get(file);
  if (replaced) {
    partsAhead.delete(file);
    dropPart(replaced.part);
  }
  if (partsAhead.size >= MAX_PARTS_AHEAD) {
    const [oldest, part] = partsAhead.entries().next().value!;
    partsAhead.delete(oldest);
    dropPart(part.part);
  }
  partsAhead.set(file, {
    file,
    dev: identity.dev,
    ino: identity.ino,
    size: identity.size,
    mtimeNs: identity.mtimeNs,
    ctimeNs: identity.ctimeNs,
    start: next,
    maxBytes,
    split,
    part: startPartOnWorker(metricPartRequest(file, identity, split, limit - split)),
    askedAt: performance.now(),
  });
}

/** Gives up a part: the worker stops parsing it, and the columns of a reply that comes anyway go back to it. */
function dropPart(part: StartedPart): void {
  part.cancel();
  void part.reply.then((reply) => {
    if (reply?.type === 'mlflow-metric-part') recycleOnWorker([reply.steps, reply.values, reply.walls]);
  });
}

// The ingest ended: the parts asked for ahead will not be read (their worker is gone with their columns).
onParseWorkerStop(() => {
  partsAhead.clear();
  largestBudget = 0;
});

/**
 * The start of the first line that begins at or after `middle` (after
 * `start`) and before `limit`: the byte after a line feed (a CR alone is not
 * looked for, so a file with old Mac line breaks is read whole). When the
 * read stops at its budget (`limit` before the file's `size`), a line must
 * also end before `limit` after it: otherwise the second part could only
 * make progress by reading past the budget, where one read would have
 * stopped at the split. Undefined when there is no such line within
 * SPLIT_SEARCH_BYTES.
 */
async function lineStartAfter(handle: fs.promises.FileHandle, start: number, middle: number, limit: number, size: number): Promise<number | undefined> {
  const from = middle - 1;
  const length = Math.min(SPLIT_SEARCH_BYTES, limit - from);
  if (from < start || length <= 0) return undefined;
  const probe = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(probe, 0, length, from);
  const bytes = probe.subarray(0, bytesRead);
  const lineFeed = bytes.indexOf(0x0a);
  if (lineFeed < 0) return undefined;
  const split = from + lineFeed + 1;
  if (split <= start || split >= limit) return undefined;
  if (limit < size) {
    // A line break (LF, or a CR the parser also ends lines on) in [split, limit), among the bytes probed.
    const after = bytes.subarray(lineFeed + 1, Math.min(bytesRead, limit - from));
    if (after.indexOf(0x0a) < 0 && after.indexOf(0x0d) < 0) return undefined;
  }
  return split;
}

/** The first part's read joined with the worker's: the lines before the split settle line numbers, the column count and the unfinished last line. */
async function joinWorkerPart(
  file: string,
  first: MetricFileRead,
  points: SeriesBuilder,
  second: WorkerPart,
  problems: ProblemLog,
  handle: fs.promises.FileHandle,
): Promise<MetricFileRead> {
  const before = metricStateOf(first.cursor)!;
  for (const [line, message] of second.problems) {
    if (line === 0) problems.add(message);
    else problems.addLine(before.lines + line, message);
  }
  problems.count += second.problemCount - second.problems.length;

  const lines = before.lines + second.lines;
  const columns = before.columns !== 0 ? before.columns : second.columns;
  points.append(second);
  recycleOnWorker([second.steps, second.values, second.walls]);
  let tail: string | undefined;
  if (second.unfinished) {
    // Decided here, where the file's first complete line (and so the column count) is known.
    const finisher = new MetricLineParser(new ProblemLog(file), 1);
    finisher.columns = columns;
    finisher.lines = lines;
    tail = finisher.finish(second.unfinished, 0, second.unfinished.length);
    points.append(finisher.points.finish());
  }

  const state: MetricCursorState = { v: METRIC_STATE_VERSION, columns, lines, cr: second.cr };
  if (tail !== undefined) state.tail = tail;
  if (problems.count > 0) {
    state.problems = problems.messages;
    state.problemCount = problems.count;
  }
  // The first part hashed at most its own bytes; a head that reaches past the split is hashed whole.
  const headHash = first.cursor.size >= HEAD_BYTES || second.size <= first.cursor.size ? first.cursor.headHash : await headHashOfHandle(handle, second.size);
  return {
    series: points.finish(),
    cursor: { path: file, size: second.size, mtimeMs: second.mtimeMs, offset: second.offset, headHash, state },
    conflict: false,
  };
}

/**
 * The worker's side: the part of `file` from `from` (a line start), read as
 * if resumed there with nothing known about the lines before. 'replaced'
 * when the file at the path is no longer the one the request names.
 */
export async function readMetricPart(
  file: string,
  dev: bigint,
  ino: bigint,
  from: number,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Omit<WorkerPart, 'id' | 'elapsedMs'> | 'replaced'> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const identity = await handle.stat({ bigint: true });
    if (identity.dev !== dev || identity.ino !== ino) return 'replaced';
    const log = new PartProblemLog(file);
    const state: MetricCursorState = { v: METRIC_STATE_VERSION, columns: 0, lines: 0, cr: false };
    const at: FileCursor = { path: file, size: from, mtimeMs: 0, offset: from, headHash: '', state };
    // Columns of a whole slice's size, finished untrimmed: every part's are of one pooled size, and go back to the pool whole.
    const points = new SeriesBuilder(pointsExpectedIn(Infinity));
    const read = await readMetricFile(file, log, at, signal, maxBytes, { handle, leaveUnfinished: true, into: points });
    const series = points.finish(false);
    const after = metricStateOf(read.cursor)!;
    return {
      type: 'mlflow-metric-part',
      steps: series.steps,
      values: series.values,
      walls: series.walls,
      lines: after.lines,
      columns: after.columns,
      cr: after.cr,
      problems: log.parts,
      problemCount: log.count,
      unfinished: read.unfinished ?? null,
      size: read.cursor.size,
      offset: read.cursor.offset,
      mtimeMs: read.cursor.mtimeMs,
    };
  } finally {
    await handle.close();
  }
}

/** A part's problems with their line numbers apart (counted from the part's first line), for the requesting thread to renumber. */
class PartProblemLog extends ProblemLog {
  readonly parts: PartProblem[] = [];

  override add(message: string): void {
    this.record(0, message);
  }

  override addLine(lineNumber: number, message: string): void {
    this.record(lineNumber, message);
  }

  private record(line: number, message: string): void {
    this.count++;
    if (this.parts.length < MAX_REMEMBERED_PROBLEMS) this.parts.push([line, message]);
  }
}
