// Reading one MLflow metric file (`metrics/<key>`): "timestamp value step"
// lines, straight from the file's bytes, in bounded chunks, resuming at a
// cursor. Its own module so that the text worker (textWorker.ts) can run the
// same code on the second half of a big read without loading the rest of the
// MLflow reader.
import * as fs from 'node:fs';
import { HEAD_BYTES, headHashOf } from './fileCursor';
import { emptySeries, giveReadBuffer, SeriesBuilder, takeReadBuffer, type Float64Series } from './series';
import type { FileCursor } from './types';
import { WarningCollector, parseFiniteToken, parseNumberToken, scanDecimalBytes, scannedDecimal, stripByteOrderMark, throwIfAborted } from './text';
/**
 * One file's problems: the first few messages and how many there were. Metric
 * files are read several at a time; their logs are handed to the source's
 * WarningCollector afterwards, in key order, exactly as if each problem had
 * been added there. A cursor keeps the log, so that later reads, which see
 * only appended bytes, still report what the earlier bytes had.
 */
export class ProblemLog {
  messages: string[] = [];
  count = 0;

  constructor(readonly file: string) {}

  add(message: string): void {
    this.count++;
    if (this.messages.length < MAX_REMEMBERED_PROBLEMS) this.messages.push(message);
  }

  addLine(lineNumber: number, message: string): void {
    this.add(`line ${lineNumber}: ${message}`);
  }

  /** Into `warnings`, as if each problem had been added there (it caps each file at fewer messages than are kept here). */
  replayInto(warnings: WarningCollector): void {
    for (const message of this.messages) warnings.add(this.file, message);
    const last = this.messages[this.messages.length - 1] ?? '';
    for (let i = this.messages.length; i < this.count; i++) warnings.add(this.file, last);
  }
}

/** WarningCollector's cap per file: a log keeps that many messages, and counts the rest. */
export const MAX_REMEMBERED_PROBLEMS = 20;

/**
 * One metric's history, in file order (MLflow repeats steps legitimately).
 * Columns: timestamp (ms), value, step, then whatever MLflow 3 appends (run
 * id, dataset name and digest), which is ignored. MLflow 0.x wrote two
 * columns; their step is 0. Bad lines become warnings; a last line without a
 * newline that does not parse, or that has fewer columns than the lines
 * before it, is a write in progress and is skipped quietly.
 */
export function parseMetricHistory(text: string, file: string, warnings: WarningCollector): Float64Series {
  const log = new ProblemLog(file);
  const parser = new MetricLineParser(log);
  const bytes = Buffer.from(stripByteOrderMark(text), 'utf8');
  const stop = parser.parseLines(bytes, 0, bytes.length);
  parser.finish(bytes, stop, bytes.length);
  log.replayInto(warnings);
  return parser.points.finish();
}

/** What a metric file's cursor remembers between reads (FileCursor.state). */
export interface MetricCursorState {
  v: typeof METRIC_STATE_VERSION;
  /** Column count of the first complete line (0 before one): a shorter unterminated last line is still being written. */
  columns: number;
  /** Line breaks before the cursor, so that warnings name the right line. */
  lines: number;
  /** The bytes before the cursor end with CR: an LF right at the cursor completes that CRLF. */
  cr: boolean;
  /** The unterminated last line (as latin1) whose point was already returned; it starts at the cursor. */
  tail?: string;
  /** Problems reported for the bytes before the cursor (the first few, and how many): repeated on later reads, which do not see those bytes. */
  problems?: string[];
  problemCount?: number;
}

export const METRIC_STATE_VERSION = 1;
/** Read size for metric files: big enough for few system calls, small enough that eight files read at once hold little. */
const METRIC_CHUNK_BYTES = 2 * 1024 * 1024;

/** What the last read of a file reported, back into `log`. */
export function restoreProblems(log: ProblemLog, state: MetricCursorState | undefined): void {
  log.messages = [...(state?.problems ?? [])];
  log.count = Math.max(state?.problemCount ?? 0, log.messages.length);
}

export function metricStateOf(cursor: FileCursor | undefined): MetricCursorState | undefined {
  const state = cursor?.state as Partial<MetricCursorState> | undefined;
  if (!state || state.v !== METRIC_STATE_VERSION || typeof state.columns !== 'number' || typeof state.lines !== 'number') return undefined;
  return state as MetricCursorState;
}

const enum Byte {
  Tab = 9,
  LineFeed = 10,
  VerticalTab = 11,
  FormFeed = 12,
  CarriageReturn = 13,
  Space = 32,
}

/**
 * Timestamps and steps are plain integers nearly always: 1 to 15 digits (so
 * exact) not followed by a point or an exponent. Those are read here, in a
 * loop small enough to inline, into scannedDecimal[0]; returns the index
 * after them, or -1 for anything else (scanDecimalBytes decides that).
 */
function scanInteger(bytes: Uint8Array, start: number, limit: number): number {
  let i = start;
  let value = 0;
  while (i < limit) {
    const digit = bytes[i] - 0x30;
    if (digit >>> 0 > 9) break;
    value = value * 10 + digit;
    i++;
  }
  if (i === start || i - start > 15 || i >= limit) return -1;
  const next = bytes[i];
  if (next === 0x2e || next === 0x65 || next === 0x45) return -1; // ".", "e", "E": more number follows
  decimalOut[0] = value;
  return i;
}

/** scannedDecimal under a module-local name: an imported name is a property lookup on every use. */
const decimalOut = scannedDecimal;

/** The whitespace String.prototype.trim and /\s/ know, restricted to ASCII (anything else takes the text path). */
function isBlank(c: number): boolean {
  return c === Byte.Space || c === Byte.Tab || c === Byte.VerticalTab || c === Byte.FormFeed;
}

/**
 * Turns metric-file bytes into points. Lines made of plain ASCII decimals
 * (nearly all of them) are parsed straight from the bytes; any other line
 * (nan, inf, non-ASCII blanks, errors) goes through the text functions, so
 * both paths agree on every value and every warning.
 */
export class MetricLineParser {
  readonly points: SeriesBuilder;
  /** Column count of the first complete line parsed (0: none yet). */
  columns = 0;
  /** Line breaks consumed so far. */
  lines = 0;
  /** The last byte consumed was a CR: an LF next completes it. */
  cr = false;

  constructor(
    readonly problems: ProblemLog,
    /** Points expected (a hint for the first allocation). */
    expected = 0,
    /** Where the points go (a builder that goes on after this parser); a new one otherwise. */
    points?: SeriesBuilder,
  ) {
    this.points = points ?? new SeriesBuilder(expected);
  }

  /**
   * Parses every complete line in bytes[start, limit) and returns where the
   * first incomplete one starts (limit when none is left).
   */
  parseLines(bytes: Uint8Array, start: number, limit: number): number {
    const points = this.points;
    // Local names: imports compile to property lookups on the module object.
    const decoded = scannedDecimal;
    const scanDecimal = scanDecimalBytes;
    let i = start;
    if (this.cr && i < limit) {
      if (bytes[i] === Byte.LineFeed) i++;
      this.cr = false;
    }
    while (i < limit) {
      const lineStart = i;
      // The fast path: "timestamp value[ step[ more...]]" between optional blanks, then a line break.
      let c = bytes[i];
      while (isBlank(c) && ++i < limit) c = bytes[i];
      if (i >= limit) return lineStart;
      if (c === Byte.LineFeed || c === Byte.CarriageReturn) {
        i = this.endLine(bytes, i, limit);
        continue;
      }
      let slow = false;
      let columns = 0;
      let timestamp = 0;
      let value = 0;
      let step = 0;
      let end = scanInteger(bytes, i, limit);
      if (end < 0) end = scanDecimal(bytes, i, limit);
      if (end >= limit) return lineStart;
      if (end >= 0) {
        timestamp = decoded[0];
        columns = 1;
        i = end;
        c = bytes[i];
        while (isBlank(c) && ++i < limit) c = bytes[i];
        if (i >= limit) return lineStart;
        if (i > end && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
          end = scanDecimal(bytes, i, limit);
          if (end >= limit) return lineStart;
          if (end >= 0) {
            value = decoded[0];
            columns = 2;
            i = end;
            c = bytes[i];
            while (isBlank(c) && ++i < limit) c = bytes[i];
            if (i >= limit) return lineStart;
            if (i > end && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
              end = scanInteger(bytes, i, limit);
              if (end < 0) end = scanDecimal(bytes, i, limit);
              if (end >= limit) return lineStart;
              if (end >= 0) {
                step = decoded[0];
                columns = 3;
                i = end;
                c = bytes[i];
                // Then blanks, maybe MLflow 3's extra columns (counted, as long as they are plain ASCII).
                let inField = !isBlank(c) && c !== Byte.LineFeed && c !== Byte.CarriageReturn;
                if (inField) slow = true; // the step runs into something that is not a number
                while (!slow && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
                  if (c >= 0x80) slow = true;
                  else if (isBlank(c)) inField = false;
                  else if (!inField) {
                    inField = true;
                    columns++;
                  }
                  if (++i >= limit) return lineStart;
                  c = bytes[i];
                }
              } else slow = true;
            } else if (c !== Byte.LineFeed && c !== Byte.CarriageReturn) slow = true;
          } else slow = true;
        } else if (c !== Byte.LineFeed && c !== Byte.CarriageReturn) slow = true;
      } else slow = true;
      if (!slow && columns >= 2) {
        if (this.columns === 0) this.columns = columns;
        points.push(step, value, timestamp);
        if (c === Byte.LineFeed) {
          this.lines++;
          i++;
        } else {
          i = this.endLine(bytes, i, limit);
        }
        continue;
      }
      // The text path for this one line (nan, inf, non-ASCII, a problem to report): find its end first.
      let lineEnd = i;
      while (lineEnd < limit && bytes[lineEnd] !== Byte.LineFeed && bytes[lineEnd] !== Byte.CarriageReturn) lineEnd++;
      if (lineEnd >= limit) return lineStart;
      this.textLine(bytes, lineStart, lineEnd, true, true);
      i = this.endLine(bytes, lineEnd, limit);
    }
    return i;
  }

  /** Consumes the line break at bytes[i]; a CR at the very end may be the first half of a CRLF. */
  private endLine(bytes: Uint8Array, i: number, limit: number): number {
    this.lines++;
    if (bytes[i] === Byte.CarriageReturn) {
      if (i + 1 >= limit) {
        this.cr = true;
        return i + 1;
      }
      if (bytes[i + 1] === Byte.LineFeed) return i + 2;
    }
    return i + 1;
  }

  /**
   * One line through the text functions. Returns whether it gave a point.
   * `emit` false re-parses a line whose point was returned by an earlier read.
   */
  textLine(bytes: Uint8Array, start: number, end: number, terminated: boolean, emit: boolean): boolean {
    const lineNumber = this.lines + 1;
    const trimmed = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8').trim();
    if (trimmed === '') return false;
    const fields = trimmed.split(/\s+/);
    const parsed = parseMetricFields(fields);
    if (typeof parsed === 'string') {
      if (terminated) this.problems.addLine(lineNumber, parsed);
      return false;
    }
    if (!terminated && this.columns !== 0 && fields.length < this.columns) return false;
    if (terminated && this.columns === 0) this.columns = fields.length;
    if (emit) this.points.push(parsed.step, parsed.value, parsed.timestamp);
    return true;
  }

  /**
   * The unterminated rest bytes[start, end) of a file: a line still being
   * written. Its point is returned when it parses with all its columns (a
   * cut-off step would be caught on the next read: see MetricCursorState.tail).
   * Returns the tail to remember, if a point was returned.
   */
  finish(bytes: Uint8Array, start: number, end: number): string | undefined {
    if (start >= end) return undefined;
    return this.textLine(bytes, start, end, false, true) ? Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1') : undefined;
  }
}

export interface MetricFileRead {
  series: Float64Series;
  cursor: FileCursor;
  /**
   * The unterminated last line whose point an earlier read returned is now
   * different (it was cut inside its step): the stored series is wrong, so
   * the run must be read in full.
   */
  conflict: boolean;
  /** With `leaveUnfinished`: the unterminated rest the read ended with (not cut at its budget), undecided. */
  unfinished?: Uint8Array;
}

interface MetricReadOptions {
  /** The file, already open (left open); otherwise it is opened and closed here. */
  handle?: fs.promises.FileHandle;
  /**
   * Return an unterminated last line as `unfinished` instead of deciding
   * whether it is a point: a part read without the file's first lines
   * (parseWorker.ts) does not know the column count that decides it.
   */
  leaveUnfinished?: boolean;
  /** Push the points into this builder, which the caller finishes (the result's series is then empty). */
  into?: SeriesBuilder;
}

/** Points to size a read's columns for: about 36 bytes a line, at most a 16 MiB slice's worth. */
export function pointsExpectedIn(bytes: number): number {
  return Math.min(bytes, METRIC_CHUNK_BYTES * 8) / 36;
}

/**
 * Reads a metric file from `resume` (a cursor of an earlier read, with its
 * state) or from the start, in bounded chunks, to the size the file had when
 * it was opened; or, with `maxBytes`, to the last whole line within about
 * that many bytes (on to the end of the first line when none ends within
 * them, so every call makes progress). A read cut there returns a cursor
 * whose size is its offset: the next read sees the rest as appended.
 */
export async function readMetricFile(
  file: string,
  problems: ProblemLog,
  resume: FileCursor | undefined,
  signal: AbortSignal | undefined,
  maxBytes = Infinity,
  options: MetricReadOptions = {},
): Promise<MetricFileRead> {
  const resumeState = metricStateOf(resume);
  const handle = options.handle ?? (await fs.promises.open(file, 'r'));
  // From the read-buffer pool; nothing returned refers to its bytes (strings and heads are copies).
  let buffer: Buffer | undefined;
  // The read of the next chunk, started before this one is parsed.
  let ahead: { buffer: Buffer; position: number; length: number; read: Promise<number> } | undefined;
  const settleAhead = async () => {
    if (!ahead) return;
    const pending = ahead;
    ahead = undefined;
    await pending.read.catch(() => 0);
    giveReadBuffer(pending.buffer);
  };
  try {
    const stat = await handle.stat();
    const size = stat.size;
    let offset = 0;
    if (resume && resumeState) offset = resume.offset;
    // Where this read means to stop; moved on only to finish a first line.
    let limit = maxBytes === Infinity ? size : Math.min(size, offset + Math.max(1, Math.floor(maxBytes)));
    // About 40 bytes a line ("1700000000000 0.123456789 1234\n"): one allocation for most files.
    const parser = new MetricLineParser(problems, pointsExpectedIn(limit - offset), options.into);
    if (resume && resumeState) {
      parser.columns = resumeState.columns;
      parser.lines = resumeState.lines;
      parser.cr = resumeState.cr;
      restoreProblems(problems, resumeState);
    }
    buffer = takeReadBuffer(Math.min(METRIC_CHUNK_BYTES, Math.max(limit - offset, 0)) + 1);
    let carried = 0; // bytes at the front of `buffer` that belong to an unfinished line
    let position = offset; // file offset of buffer[0]
    let readTo = offset; // file offset up to which bytes are in hand
    let head: Buffer | undefined;
    let tailChecked = !resumeState?.tail;
    let tailUnchanged = false;
    let cut = false; // stopped at the budget, before the end of the file

    while (readTo < size) {
      throwIfAborted(signal);
      if (readTo >= limit) {
        // The budget is spent. Stop at the last whole line, unless none was consumed yet.
        if (position > offset && tailChecked) {
          cut = true;
          break;
        }
        limit = Math.min(size, readTo + METRIC_CHUNK_BYTES);
      }
      const want = Math.min(METRIC_CHUNK_BYTES, limit - readTo);
      if (buffer.length < carried + want) {
        // A line longer than the chunk (or a small first buffer): grow, keeping the carried bytes.
        const bigger = takeReadBuffer(carried + Math.max(want, METRIC_CHUNK_BYTES));
        buffer.copy(bigger, 0, 0, carried);
        giveReadBuffer(buffer);
        buffer = bigger;
      }
      let got: number;
      if (ahead && ahead.position === readTo && ahead.length === want) {
        // Read while the chunk before was parsed: only a copy from here.
        const next = ahead;
        ahead = undefined;
        got = await next.read;
        next.buffer.copy(buffer, carried, 0, got);
        giveReadBuffer(next.buffer);
      } else {
        await settleAhead();
        got = await readFully(handle, buffer, carried, want, readTo);
      }
      if (got === 0) break; // truncated meanwhile: what is in hand is all there is
      readTo += got;
      // Start reading the next chunk now: the disk (or the page cache copy) works while this one is parsed.
      const nextWant = Math.min(METRIC_CHUNK_BYTES, limit - readTo);
      if (got === want && nextWant > 0) {
        const aheadBuffer = takeReadBuffer(nextWant);
        ahead = { buffer: aheadBuffer, position: readTo, length: nextWant, read: readFully(handle, aheadBuffer, 0, nextWant, readTo) };
      }
      let available = carried + got;
      if (position === 0 && head === undefined) {
        head = Buffer.from(buffer.subarray(0, Math.min(available, HEAD_BYTES)));
        // A UTF-8 byte-order mark (Windows editors) is not part of the first line.
        if (available >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
          buffer.copy(buffer, 0, 3, available);
          available -= 3;
          position = 3;
        }
      }
      let start = 0;
      if (!tailChecked) {
        // The line at the cursor was returned already: it must still be the same, now maybe finished.
        const tail = Buffer.from(resumeState!.tail!, 'latin1');
        if (available < tail.length && readTo < size) {
          carried = available;
          continue;
        }
        tailChecked = true;
        const same = available >= tail.length && buffer.subarray(0, tail.length).equals(tail);
        const next = available > tail.length ? buffer[tail.length] : -1;
        if (!same || (next !== -1 && next !== Byte.LineFeed && next !== Byte.CarriageReturn)) {
          return { series: emptySeries(), cursor: resume!, conflict: true };
        }
        if (next === -1) {
          // Still unfinished and unchanged: nothing new.
          tailUnchanged = true;
          carried = available;
          break;
        }
        parser.textLine(buffer, 0, tail.length, true, false);
        parser.lines++;
        start = tail.length + 1;
        if (next === Byte.CarriageReturn) {
          if (start < available) {
            if (buffer[start] === Byte.LineFeed) start++;
          } else {
            parser.cr = true;
          }
        }
      }
      const stop = parser.parseLines(buffer, start, available);
      // Keep the unfinished line for the next chunk.
      carried = available - stop;
      buffer.copy(buffer, 0, stop, available);
      position += stop;
    }

    // Fewer bytes at the cursor than the remembered tail: it was rewritten, not appended to.
    if (!tailChecked) return { series: emptySeries(), cursor: resume!, conflict: true };
    // What is left is a line without its line break: maybe still being written,
    // unless this read stopped at its budget, which cut it (the next read has it whole).
    let tail: string | undefined;
    let unfinished: Uint8Array | undefined;
    if (tailUnchanged) tail = resumeState!.tail;
    else if (carried > 0 && !cut) {
      // Its own ArrayBuffer (not the pool's, nor Node's shared slab): it may be transferred to another thread.
      if (options.leaveUnfinished) unfinished = new Uint8Array(buffer.subarray(0, carried));
      else tail = parser.finish(buffer, 0, carried);
    }
    const state: MetricCursorState = { v: METRIC_STATE_VERSION, columns: parser.columns, lines: parser.lines, cr: parser.cr };
    if (tail !== undefined) state.tail = tail;
    if (problems.count > 0) {
      state.problems = problems.messages;
      state.problemCount = problems.count;
    }
    // A cut read describes the file as if it ended at the cursor (see FormatReader.read).
    const cursorSize = cut ? position : Math.max(readTo, offset);
    const headLength = Math.min(cursorSize, HEAD_BYTES);
    const headHash =
      resume && resumeState && resume.size >= HEAD_BYTES
        ? resume.headHash
        : head && head.length >= headLength
          ? headHashOf(head.subarray(0, headLength))
          : await headHashOfHandle(handle, cursorSize);
    return {
      series: options.into ? emptySeries() : parser.points.finish(),
      cursor: { path: file, size: cursorSize, mtimeMs: stat.mtimeMs, offset: position, headHash, state },
      conflict: false,
      ...(unfinished ? { unfinished } : {}),
    };
  } finally {
    await settleAhead();
    if (buffer) giveReadBuffer(buffer);
    if (!options.handle) await handle.close();
  }
}

/** Reads until `length` bytes or the end of the file (it may have been truncated meanwhile). */
export async function readFully(handle: fs.promises.FileHandle, into: Buffer, at: number, length: number, position: number): Promise<number> {
  let total = 0;
  while (total < length) {
    const { bytesRead } = await handle.read(into, at + total, length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}

export async function headHashOfHandle(handle: fs.promises.FileHandle, size: number): Promise<string> {
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  const got = await readFully(handle, head, 0, head.length, 0);
  return headHashOf(head.subarray(0, got));
}

function parseMetricFields(fields: string[]): { timestamp: number; value: number; step: number } | string {
  if (fields.length < 2) return `expected "timestamp value step", found only "${fields.join(' ')}"`;
  const timestamp = parseFiniteToken(fields[0]);
  if (timestamp === undefined) return `timestamp "${fields[0]}" is not a number`;
  const value = parseNumberToken(fields[1]);
  if (value === undefined) return `value "${fields[1]}" is not a number`;
  let step = 0;
  if (fields.length >= 3) {
    const parsedStep = parseFiniteToken(fields[2]);
    if (parsedStep === undefined) return `step "${fields[2]}" is not a number`;
    step = parsedStep;
  }
  return { timestamp, value, step };
}

