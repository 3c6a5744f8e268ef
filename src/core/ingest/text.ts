// Small text helpers shared by the file-based readers: reading files that may
// be mid-write, splitting lines and delimited rows, parsing numbers the way
// Python writes them, and collecting per-file warnings without flooding.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HEAD_BYTES, headHashOf } from './fileCursor';
import { giveReadBuffer, takeReadBuffer } from './series';
import type { FileCursor, IngestWarning } from './types';

const BYTE_ORDER_MARK = '\uFEFF';

/** Reads a whole file as UTF-8 and drops a leading byte-order mark (Windows editors add one). */
export async function readTextFile(file: string): Promise<string> {
  const text = await fs.promises.readFile(file, 'utf8');
  return stripByteOrderMark(text);
}

export function stripByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
}

/**
 * Reads at most `maxBytes` from the start of a file, for cheap format sniffing
 * during discovery. A multi-byte character cut at the end becomes U+FFFD, which
 * is harmless for header checks.
 */
export async function readFileHead(file: string, maxBytes = 4096): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
    return stripByteOrderMark(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

export interface TextLine {
  text: string;
  /** 1-based, as an editor shows it. */
  lineNumber: number;
  /** False only for a last line with no line break after it: possibly still being written. */
  terminated: boolean;
}

/**
 * Splits on LF, CRLF or a lone CR. A trailing line break does not produce an
 * extra empty line; a last line without one is returned with `terminated: false`.
 */
export function splitLines(text: string): TextLine[] {
  const lines: TextLine[] = [];
  let start = 0;
  let lineNumber = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 /* \n */ || ch === 13 /* \r */) {
      lines.push({ text: text.slice(start, i), lineNumber: lineNumber++, terminated: true });
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  if (start < text.length) {
    lines.push({ text: text.slice(start), lineNumber, terminated: false });
  }
  return lines;
}

const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_A_NUMBER = /^[+-]?nan$/i;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

/**
 * Parses a number as Python, NumPy, Java or JavaScript print it, including
 * `nan`, `NaN`, `inf`, `-inf` and `Infinity` (they are data, never errors).
 * Returns undefined for anything else, including the empty string, which
 * `Number()` would silently turn into 0.
 */
export function parseNumberToken(token: string): number | undefined {
  const trimmed = token.trim();
  if (trimmed === '') return undefined;
  if (DECIMAL_NUMBER.test(trimmed)) return Number(trimmed);
  if (NOT_A_NUMBER.test(trimmed)) return NaN;
  const infinity = INFINITY.exec(trimmed);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

/** A finite number for steps, epochs and timestamps; undefined otherwise. */
export function parseFiniteToken(token: string): number | undefined {
  const value = parseNumberToken(token);
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/**
 * Splits one row of a delimited file the way Python's csv module writes it:
 * fields containing the delimiter or quotes are wrapped in double quotes, and
 * quotes inside are doubled. Unquoted fields are returned as-is.
 */
export function splitDelimitedRow(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inQuotes) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        cell += ch;
      }
    } else if (ch === '"' && cell === '') {
      inQuotes = true;
    } else if (line.startsWith(delimiter, i)) {
      cells.push(cell);
      cell = '';
      i += delimiter.length - 1;
    } else {
      cell += ch;
    }
  }
  cells.push(cell);
  return cells;
}

export interface DelimitedRow {
  cells: string[];
  lineNumber: number;
  /** False for a last line with no line break: the writer may still be appending it. */
  terminated: boolean;
}

export interface DelimitedTable {
  header: string[];
  rows: DelimitedRow[];
}

/**
 * Header plus rows of a CSV/TSV file. Blank lines are skipped. A row whose
 * field count differs from the header's is reported and skipped, except a
 * last line without a line break, which is a row still being written and is
 * skipped quietly. Returns undefined for a file with no header yet.
 */
export function parseDelimitedTable(text: string, delimiter: string, file: string, warnings: WarningCollector): DelimitedTable | undefined {
  const lines = splitLines(text).filter((line) => line.text.trim() !== '');
  if (lines.length === 0) return undefined;
  const [headerLine, ...dataLines] = lines;
  // A header cut mid-write would invent a truncated column name; wait for the rest.
  if (!headerLine.terminated) return undefined;
  const header = splitDelimitedRow(headerLine.text, delimiter).map((name) => name.trim());
  const rows: DelimitedRow[] = [];
  for (const line of dataLines) {
    const cells = splitDelimitedRow(line.text, delimiter);
    if (cells.length !== header.length) {
      if (line.terminated) {
        warnings.addLine(file, line.lineNumber, `expected ${header.length} fields like the header, found ${cells.length}; row skipped`);
      }
      continue;
    }
    rows.push({ cells, lineNumber: line.lineNumber, terminated: line.terminated });
  }
  return { header, rows };
}

/**
 * Parses JSON as Python's `json.dump` writes it, which by default emits the
 * non-standard tokens `NaN`, `Infinity` and `-Infinity` for non-finite floats.
 * Throws SyntaxError like JSON.parse for anything else that is malformed.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (firstError) {
    const rewritten = quoteNonFiniteTokens(text);
    if (rewritten === text) throw firstError;
    return JSON.parse(rewritten, (_key, value: unknown) => {
      if (value === NON_FINITE_MARKERS.NaN) return NaN;
      if (value === NON_FINITE_MARKERS.Infinity) return Infinity;
      if (value === NON_FINITE_MARKERS['-Infinity']) return -Infinity;
      return value;
    });
  }
}

// Sentinels that cannot collide with real strings in practice (they contain a NUL).
const NON_FINITE_MARKERS = {
  NaN: '\u0000runlens:NaN',
  Infinity: '\u0000runlens:Infinity',
  '-Infinity': '\u0000runlens:-Infinity',
} as const;

/** Replaces bare NaN/Infinity/-Infinity tokens (outside strings) by quoted sentinels. */
function quoteNonFiniteTokens(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (ch === '"') {
        inString = false;
      }
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    const token = (['-Infinity', 'Infinity', 'NaN'] as const).find((t) => text.startsWith(t, i));
    if (token) {
      out += JSON.stringify(NON_FINITE_MARKERS[token]);
      i += token.length - 1;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Collects warnings for one read, capping how many a single file may add so
 * that one corrupt 100k-line file cannot bury every other message.
 */
export class WarningCollector {
  private readonly warnings: IngestWarning[] = [];
  private readonly countByFile = new Map<string, number>();

  constructor(private readonly maxPerFile = 20) {}

  add(file: string, message: string): void {
    const count = (this.countByFile.get(file) ?? 0) + 1;
    this.countByFile.set(file, count);
    if (count <= this.maxPerFile) this.warnings.push({ file, message });
  }

  /** A problem on one line; the message names the 1-based line number. */
  addLine(file: string, lineNumber: number, message: string): void {
    this.add(file, `line ${lineNumber}: ${message}`);
  }

  /**
   * What was said about `file` so far: its first messages (up to the cap) and
   * how many there were. Kept in a file's cursor (rememberProblems), so that a
   * later read, which sees only the bytes after the cursor, says them again.
   */
  problemsOf(file: string): { messages: string[]; count: number } {
    const count = this.countByFile.get(file) ?? 0;
    if (count === 0) return { messages: [], count: 0 };
    return { messages: this.warnings.filter((w) => w.file === file).map((w) => w.message), count };
  }

  /** Says again, as if added now, what problemsOf returned for `file` in an earlier read. */
  replay(file: string, messages: readonly string[], count: number): void {
    for (const message of messages) this.add(file, message);
    // Beyond the cap only the count matters (list() says how many more there were).
    const last = messages[messages.length - 1] ?? '';
    for (let i = messages.length; i < count; i++) this.add(file, last);
  }

  /** The warnings, with one closing note per file that hit the cap. */
  list(): IngestWarning[] {
    const result = [...this.warnings];
    for (const [file, count] of this.countByFile) {
      if (count > this.maxPerFile) {
        result.push({ file, message: `${count - this.maxPerFile} more problems in this file were not listed` });
      }
    }
    return result;
  }
}

/** Turns an unknown thrown value into a one-line reason for a warning. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

/** Absolute paths with '/' separators, the form discovery receives. */
export function toPosixPath(file: string): string {
  return file.split(path.sep).join('/');
}

/**
 * Every regular file under `dir` (absolute, '/'-separated, sorted). Used when a
 * candidate arrives without a file list, and by tests to feed discovery.
 */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(current, { withFileTypes: true });
    } catch {
      return; // vanished or unreadable: nothing to list
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) found.push(toPosixPath(full));
    }
  }
  await walk(path.resolve(dir));
  return found.sort();
}

/** Stops a long read promptly when the caller gives up on it. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error ? signal.reason : new Error('The read was aborted');
  }
}

/** Runs `work` over `items` with at most `limit` in flight, keeping result order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Is `file` inside `dir` (both '/'-separated)? */
export function isInside(file: string, dir: string): boolean {
  return file.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Problems remembered in a cursor's state (see WarningCollector.problemsOf). */
export interface RememberedProblems {
  problems?: string[];
  problemCount?: number;
}

/** `state` with what `warnings` holds about `file` so far (nothing added when there is nothing to say). */
export function rememberProblems<T extends object>(state: T, warnings: WarningCollector, file: string): T & RememberedProblems {
  const { messages, count } = warnings.problemsOf(file);
  const out: T & RememberedProblems = { ...state };
  delete out.problems;
  delete out.problemCount;
  if (count > 0) {
    out.problems = messages;
    out.problemCount = count;
  }
  return out;
}

/** Says again what a cursor's state remembers about its file's bytes before the cursor. */
export function replayProblems(state: unknown, warnings: WarningCollector, file: string): void {
  if (state === null || typeof state !== 'object') return;
  const { problems, problemCount } = state as RememberedProblems;
  if (!Array.isArray(problems) || !problems.every((p) => typeof p === 'string')) return;
  warnings.replay(file, problems, typeof problemCount === 'number' ? problemCount : problems.length);
}

// ---------------------------------------------------------------------------
// Incremental reading of line-based tables (CSV/TSV appenders). A reader keeps
// a byte offset just after the last whole line it consumed; the next read
// decodes only the bytes after it. Offsets always sit right after a line
// break, and '\n'/'\r' never occur inside a UTF-8 multi-byte sequence, so
// decoding from an offset can never split a character.

/** What one read of a file from some byte offset found, as bytes. */
export interface LineBytes {
  /**
   * Size and mtime of the file as opened: the cursor records what was read,
   * not what a later stat sees. When the read stopped at its byte budget,
   * `size` is `completeEnd`: the cursor then describes the file as if it
   * ended there, and the next read sees the rest as appended.
   */
  size: number;
  mtimeMs: number;
  /** Hash of the first min(size, HEAD_BYTES) bytes (fileCursor.ts), taken from the same open file. */
  headHash: string;
  /** Byte offset the read started at. */
  start: number;
  /** Byte offset just after the last complete line: where the next read continues. */
  completeEnd: number;
  /** The bytes [start + bom, completeEnd): whole lines only; a byte-order mark at offset 0 is left out. */
  complete: Buffer;
  /** The bytes [completeEnd, size): a last line without its line break, possibly still being written (empty when none, and when truncated). */
  tail: Buffer;
  /** The read stopped at its byte budget before the end of the file. */
  truncated: boolean;
}

/** What one read of a file from some byte offset found, decoded. */
export interface LineChunk extends Omit<LineBytes, 'complete' | 'tail'> {
  /** Decoded [start, completeEnd): whole lines only; a byte-order mark at offset 0 is dropped. */
  complete: string;
  /** Decoded [completeEnd, size): a last line without its line break, possibly still being written ('' when none). */
  tail: string;
}

/**
 * Where the whole lines of `bytes` end. A final '\r' does not count: it may
 * be the first half of a CRLF whose '\n' is not written yet, and consuming it
 * would make the next read start with a phantom empty line.
 */
function completeLinesEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i];
    if (byte === 10) return i + 1;
    if (byte === 13 && i < bytes.length - 1) return i + 1;
  }
  return 0;
}

/** Whether bytes[0, end) hold anything but line breaks and ASCII blanks. */
function hasContent(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const b = bytes[i];
    if (b !== 10 && b !== 13 && b !== 32 && b !== 9 && b !== 11 && b !== 12) return true;
  }
  return false;
}

/** Splits text like completeLinesEnd splits bytes: [whole lines, unterminated rest]. */
export function splitCompleteLines(text: string): [complete: string, tail: string] {
  for (let i = text.length - 1; i >= 0; i--) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || (ch === 13 && i < text.length - 1)) return [text.slice(0, i + 1), text.slice(i + 1)];
  }
  return ['', text];
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Reads `file` from byte `start` to its current end, or, with `maxBytes`, to
 * about `maxBytes` past `start`: the read then stops at the last whole line
 * within them (reading on to the end of a line that holds something other
 * than blanks when there is none, so every call makes progress), and
 * `truncated` says so.
 */
export async function readLineBytesFrom(file: string, start: number, maxBytes = Infinity): Promise<LineBytes> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const st = await handle.stat();
    const from = Math.min(start, st.size);
    const available = st.size - from;
    let want = Math.min(available, maxBytes === Infinity ? available : Math.max(1, Math.floor(maxBytes)));
    let buffer = takeReadBuffer(want);
    let filled = 0;
    let end = 0;
    for (;;) {
      while (filled < want) {
        const { bytesRead } = await handle.read(buffer, filled, want - filled, from + filled);
        if (bytesRead === 0) break; // truncated while reading: keep what was there
        filled += bytesRead;
      }
      const atEnd = filled < want || want === available;
      if (atEnd) break;
      end = completeLinesEnd(buffer.subarray(0, filled));
      if (end > 0 && hasContent(buffer, end)) break;
      // No whole line with content yet: read on (doubling), so that a line longer than the budget is still read.
      want = Math.min(available, want * 2);
      const bigger = takeReadBuffer(want);
      buffer.copy(bigger, 0, 0, filled);
      giveReadBuffer(buffer);
      buffer = bigger;
    }
    const bytes = buffer.subarray(0, filled);
    const reachedEnd = from + filled >= st.size || filled < want;
    if (reachedEnd) end = completeLinesEnd(bytes);
    const truncated = !reachedEnd;
    const size = truncated ? from + end : from + filled;
    let head: Uint8Array;
    const headLength = Math.min(size, HEAD_BYTES);
    if (from === 0) {
      head = bytes.subarray(0, headLength);
    } else {
      const headBuffer = Buffer.alloc(headLength);
      const { bytesRead } = await handle.read(headBuffer, 0, headBuffer.length, 0);
      head = headBuffer.subarray(0, bytesRead);
    }
    const bom = from === 0 && bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2] ? 3 : 0;
    return {
      size,
      mtimeMs: st.mtimeMs,
      headHash: headHashOf(head),
      start: from,
      completeEnd: from + end,
      complete: bytes.subarray(Math.min(bom, end), end),
      tail: truncated ? bytes.subarray(end, end) : bytes.subarray(Math.max(bom, end)),
      truncated,
    };
  } finally {
    await handle.close();
  }
}

/**
 * Gives the buffer behind a readLineBytesFrom result back to the read-buffer
 * pool: call it once nothing refers to `complete` or `tail` any more.
 */
export function releaseLineBytes(chunk: LineBytes): void {
  giveReadBuffer(chunk.complete);
}

/** readLineBytesFrom, decoded as UTF-8. */
export async function readLinesFrom(file: string, start: number, maxBytes = Infinity): Promise<LineChunk> {
  const chunk = await readLineBytesFrom(file, start, maxBytes);
  const { complete, tail, ...rest } = chunk;
  const decoded = { ...rest, complete: complete.toString('utf8'), tail: tail.toString('utf8') };
  releaseLineBytes(chunk);
  return decoded;
}

/** UTF-8 length of a string, to turn header text back into a byte offset. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Data rows of a delimited chunk whose header was read earlier. Line numbers
 * continue after `linesBefore`. With `unterminated`, the text is a last line
 * still being written: its rows are marked so, and a wrong field count is
 * skipped quietly instead of reported.
 */
export function parseDelimitedRows(
  text: string,
  delimiter: string,
  fieldCount: number,
  file: string,
  warnings: WarningCollector,
  linesBefore: number,
  unterminated = false,
): DelimitedRow[] {
  const rows: DelimitedRow[] = [];
  for (const line of splitLines(text)) {
    if (line.text.trim() === '') continue;
    const lineNumber = linesBefore + line.lineNumber;
    const terminated = line.terminated && !unterminated;
    const cells = splitDelimitedRow(line.text, delimiter);
    if (cells.length !== fieldCount) {
      if (terminated) warnings.addLine(file, lineNumber, `expected ${fieldCount} fields like the header, found ${cells.length}; row skipped`);
      continue;
    }
    rows.push({ cells, lineNumber, terminated });
  }
  return rows;
}

/** Number of lines in text made of whole lines (what a cursor's line count advances by). */
export function countLines(completeText: string): number {
  return splitLines(completeText).length;
}

/** A small file read whole (YAML, JSON summaries), with the cursor that says so. */
export async function readWholeTextFile(file: string): Promise<{ text: string; cursor: FileCursor }> {
  // Stat before reading: a write in between then leaves an older mtime on the cursor, so the next read notices it.
  const st = await fs.promises.stat(file);
  const bytes = await fs.promises.readFile(file);
  // The hash of the whole content lets a touched or re-saved but identical
  // file count as unchanged, beyond the HEAD_BYTES the head hash covers.
  const state: WholeFileState = { contentHash: headHashOf(bytes) };
  return {
    text: stripByteOrderMark(bytes.toString('utf8')),
    cursor: { path: file, size: bytes.length, mtimeMs: st.mtimeMs, offset: bytes.length, headHash: headHashOf(bytes.subarray(0, HEAD_BYTES)), state },
  };
}

interface WholeFileState {
  contentHash: string;
}

/**
 * The cursor of a file read with readWholeTextFile, brought up to date, when
 * its content is still what the cursor describes (same size and mtime, or same
 * size and content hash: touched or saved again unchanged); undefined when it
 * changed, vanished or was never read.
 */
export async function unchangedWholeFile(file: string, cursor: FileCursor | undefined): Promise<FileCursor | undefined> {
  if (!cursor) return undefined;
  try {
    const st = await fs.promises.stat(file);
    if (st.size !== cursor.size) return undefined;
    if (st.mtimeMs === cursor.mtimeMs) return cursor;
    const state = cursor.state as Partial<WholeFileState> | undefined;
    if (typeof state?.contentHash !== 'string') return undefined;
    return headHashOf(await fs.promises.readFile(file)) === state.contentHash ? { ...cursor, mtimeMs: st.mtimeMs } : undefined;
  } catch {
    return undefined; // gone or unreadable: the read that follows reports it
  }
}

// ---------------------------------------------------------------------------
// Exact decimal parsing straight from bytes, for the hot loops of big metric
// files. Allocating a string per token and calling Number() on it costs
// hundreds of nanoseconds; these functions do the common cases with a few
// floating-point operations and give exactly the double Number() would.
// Whatever they are not certain about is left to the caller's text path.

/** Returned by parseDecimalBytes when the fast path cannot decide: parse the token's text instead. */
export const NOT_FAST = Symbol('not-fast');

/**
 * Where scanDecimalBytes leaves its value. A typed array, because a double
 * returned from a function that is not inlined is boxed on the heap, and the
 * hot loops call it tens of millions of times.
 */
export const scannedDecimal = new Float64Array(1);
// The same array under a module-local name: compiled to CommonJS, every use of
// an exported name is a property lookup on `exports`.
const decimalOut = scannedDecimal;

/** 10^0 .. 10^22: every one is exactly representable as a double. */
const EXACT_POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const TWO_POW_53 = 9007199254740992;
/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729;

// The bits of one double (little-endian host: word 1 is the high word).
const bitsF64 = new Float64Array(1);
const bitsU32 = new Uint32Array(bitsF64.buffer);

/**
 * Powers of ten up to this far from 0 are scaled here (in steps of at most
 * 10^22, the largest exact one); beyond, the text path decides. 10^-88 covers
 * a 19-digit mantissa down to about 10^-70.
 */
const MAX_SCALED_EXPONENT = 88;

// The double-double being scaled (scaleWideMantissa): a module-level pair, so that no helper returns two numbers.
let ddHead = 0;
let ddTail = 0;

/** The rounding error of a * b: a * b = fl(a * b) + twoProductError(a, b, fl(a * b)) exactly (Dekker, no FMA in JS). */
function twoProductError(a: number, b: number, product: number): number {
  let split = SPLITTER * a;
  const aHigh = split - (split - a);
  const aLow = a - aHigh;
  split = SPLITTER * b;
  const bHigh = split - (split - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/** (ddHead + ddTail) times or divided by `scale` (an exact power of ten), as a double-double again. */
function scaleDoubleDouble(multiply: boolean, scale: number): void {
  const h = ddHead;
  const l = ddTail;
  if (multiply) {
    ddHead = h * scale;
    ddTail = twoProductError(h, scale, ddHead) + l * scale;
  } else {
    ddHead = h / scale;
    // back + backError = ddHead * scale exactly; h - back is exact (Sterbenz).
    const back = ddHead * scale;
    ddTail = (h - back - twoProductError(ddHead, scale, back) + l) / scale;
  }
}

/**
 * Correctly rounded m * 10^e for an integer m < 10^19 given as
 * high * 10^lowDigits + low (high < 10^15, lowDigits <= 4), |e| <= 22, into
 * scannedDecimal[0]; false when the result is too close to a rounding midpoint
 * to decide here. Computes m * 10^e as a double-double (about 100 good bits),
 * then rounds once. Products use Dekker's exact two-product (no FMA in JS).
 */
function scaleWideMantissa(high: number, lowDigits: number, low: number, e: number): boolean {
  // m = s + t exactly: high * 10^lowDigits = p + pe (Dekker), p + low = s + se (Knuth's two-sum).
  const c10 = EXACT_POW10[lowDigits];
  const p = high * c10;
  let split = SPLITTER * high;
  let aHigh = split - (split - high);
  let aLow = high - aHigh;
  split = SPLITTER * c10;
  let bHigh = split - (split - c10);
  let bLow = c10 - bHigh;
  const pe = aHigh * bHigh - p + aHigh * bLow + aLow * bHigh + aLow * bLow;
  const s = p + low;
  const bVirtual = s - p;
  const se = p - (s - bVirtual) + (low - bVirtual);
  const t = se + pe; // both are integers below 2^11 in magnitude: exact
  const scale = EXACT_POW10[e >= 0 ? e : -e];
  let head: number;
  let tail: number;
  if (e >= 0) {
    head = s * scale;
    split = SPLITTER * s;
    aHigh = split - (split - s);
    aLow = s - aHigh;
    split = SPLITTER * scale;
    bHigh = split - (split - scale);
    bLow = scale - bHigh;
    tail = aHigh * bHigh - head + aHigh * bLow + aLow * bHigh + aLow * bLow + t * scale;
  } else {
    head = s / scale;
    // back + backError = head * scale exactly; s - back is exact (Sterbenz).
    const back = head * scale;
    split = SPLITTER * head;
    aHigh = split - (split - head);
    aLow = head - aHigh;
    split = SPLITTER * scale;
    bHigh = split - (split - scale);
    bLow = scale - bHigh;
    const backError = aHigh * bHigh - back + aHigh * bLow + aLow * bHigh + aLow * bLow;
    tail = (s - back - backError + t) / scale;
  }
  const x = head + tail;
  // How far head + tail lies from x, against half the gap between x and its neighbours.
  const distance = Math.abs(head - x + tail);
  bitsF64[0] = x;
  const highWord = bitsU32[1];
  if ((highWord & 0xfffff) === 0 && bitsU32[0] === 0) return false; // a power of two: the gap below is half the gap above
  // Half a gap: 2^(exponent - 1023 - 53), built from its bits (x is far from the subnormal range here).
  bitsU32[1] = (((highWord >>> 20) & 0x7ff) - 53) << 20;
  bitsU32[0] = 0;
  const halfGap = bitsF64[0];
  // The double-double is off by ~2^-100 relative; 2^-20 of half a gap is a wide margin.
  if (Math.abs(distance - halfGap) <= halfGap * 9.5367431640625e-7) return false;
  decimalOut[0] = x;
  return true;
}

/**
 * scaleWideMantissa for any |e| <= MAX_SCALED_EXPONENT and high < 2^53: the
 * double-double is scaled in steps of at most 10^22 (each further step costs
 * about 2^-104 more; still about 100 good bits). Kept apart from
 * scaleWideMantissa, whose one-step path with plain locals is the hot one,
 * although they share their first and last lines: as one function, every
 * 17-digit value paid for the steps (a Lightning CSV 10 % slower to read),
 * and even sharing those lines through helpers over a typed array cost 3-6 %.
 */
function scaleFarMantissa(high: number, lowDigits: number, low: number, e: number): boolean {
  // m = s + t exactly: high * 10^lowDigits = p + pe (Dekker), p + low = s + se (Knuth's two-sum).
  const c10 = EXACT_POW10[lowDigits];
  const p = high * c10;
  const pe = twoProductError(high, c10, p);
  const s = p + low;
  const bVirtual = s - p;
  const se = p - (s - bVirtual) + (low - bVirtual);
  ddHead = s;
  ddTail = se + pe; // both are integers below 2^11 in magnitude: exact
  let magnitude = e >= 0 ? e : -e;
  while (magnitude > 22) {
    // The tail stays within an ulp of the head after each step, so the next one needs no renormalizing.
    scaleDoubleDouble(e >= 0, EXACT_POW10[22]);
    magnitude -= 22;
  }
  scaleDoubleDouble(e >= 0, EXACT_POW10[magnitude]);
  const head = ddHead;
  const tail = ddTail;
  const x = head + tail;
  // How far head + tail lies from x, against half the gap between x and its neighbours.
  const distance = Math.abs(head - x + tail);
  bitsF64[0] = x;
  const highWord = bitsU32[1];
  if ((highWord & 0xfffff) === 0 && bitsU32[0] === 0) return false; // a power of two: the gap below is half the gap above
  // Half a gap: 2^(exponent - 1023 - 53), built from its bits (x is far from the subnormal range here).
  bitsU32[1] = (((highWord >>> 20) & 0x7ff) - 53) << 20;
  bitsU32[0] = 0;
  const halfGap = bitsF64[0];
  // The double-double is off by at most ~2^-100 relative; 2^-20 of half a gap is a wide margin.
  if (Math.abs(distance - halfGap) <= halfGap * 9.5367431640625e-7) return false;
  decimalOut[0] = x;
  return true;
}

/**
 * Parses the plain decimal number (`[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`,
 * ASCII) that starts at bytes[start] and stops before `limit`, puts exactly
 * the double Number() gives for its text in scannedDecimal[0], and returns
 * the index just after it. The caller checks that what follows is a
 * delimiter. Returns -1 where this fast path does not decide (no digits, nan,
 * inf, more than 19 significant digits, a power of ten beyond 10^±88 that
 * does not fold into the mantissa, a value within a hair of a rounding
 * midpoint): the caller then parses the token's text with parseNumberToken.
 */
export function scanDecimalBytes(bytes: Uint8Array, start: number, limit: number): number {
  let i = start;
  if (i >= limit) return -1;
  let c = bytes[i];
  let negative = false;
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    if (++i >= limit) return -1;
    c = bytes[i];
  }
  // All digits into one double: exact while it stays below 2^53, which is
  // what nearly every timestamp, step and value needs. Larger mantissas
  // (17-digit values) are parsed again digit by digit below.
  // Four digits at a time where there are four: a multiply-add per digit is
  // a chain of dependent floating-point operations, and it is what bounds
  // this loop; one per four digits shortens it fourfold. (Past 2^53 the sum
  // rounds differently than digit by digit; scanWideDecimal allows for that.)
  let mantissa = 0;
  const integerStart = i;
  while (i + 4 <= limit) {
    const d0 = bytes[i] - 0x30;
    const d1 = bytes[i + 1] - 0x30;
    const d2 = bytes[i + 2] - 0x30;
    const d3 = bytes[i + 3] - 0x30;
    if (d0 >>> 0 > 9 || d1 >>> 0 > 9 || d2 >>> 0 > 9 || d3 >>> 0 > 9) break;
    mantissa = mantissa * 10000 + (d0 * 1000 + d1 * 100 + d2 * 10 + d3);
    i += 4;
  }
  c = i < limit ? bytes[i] : -1;
  while (c >= 0x30 && c <= 0x39) {
    mantissa = mantissa * 10 + (c - 0x30);
    if (++i >= limit) {
      c = -1;
      break;
    }
    c = bytes[i];
  }
  let digits = i - integerStart;
  let exponent = 0;
  if (c === 0x2e) {
    const fractionStart = ++i;
    while (i + 4 <= limit) {
      const d0 = bytes[i] - 0x30;
      const d1 = bytes[i + 1] - 0x30;
      const d2 = bytes[i + 2] - 0x30;
      const d3 = bytes[i + 3] - 0x30;
      if (d0 >>> 0 > 9 || d1 >>> 0 > 9 || d2 >>> 0 > 9 || d3 >>> 0 > 9) break;
      mantissa = mantissa * 10000 + (d0 * 1000 + d1 * 100 + d2 * 10 + d3);
      i += 4;
    }
    c = i < limit ? bytes[i] : -1;
    while (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      if (++i >= limit) {
        c = -1;
        break;
      }
      c = bytes[i];
    }
    digits += i - fractionStart;
    exponent = fractionStart - i;
  }
  if (digits === 0) return -1;
  const digitsEnd = i;
  if ((c | 0x20) === 0x65) {
    // Exponent: digits are required.
    c = ++i < limit ? bytes[i] : -1;
    let exponentNegative = false;
    if (c === 0x2d || c === 0x2b) {
      exponentNegative = c === 0x2d;
      c = ++i < limit ? bytes[i] : -1;
    }
    let written = 0;
    const exponentStart = i;
    while (c >= 0x30 && c <= 0x39) {
      if (written < 100000) written = written * 10 + (c - 0x30);
      if (++i >= limit) break;
      c = bytes[i];
    }
    if (i === exponentStart) return -1;
    exponent += exponentNegative ? -written : written;
  }
  if (mantissa >= TWO_POW_53) return scanWideDecimal(bytes, integerStart, digitsEnd, digits, mantissa, negative, exponent) ? i : -1;
  if (mantissa === 0) {
    decimalOut[0] = negative ? -0 : 0;
    return i;
  }
  // The mantissa is an exact double: one multiplication or division by an
  // exact power of ten rounds once, so the result is correctly rounded (Clinger).
  let value: number;
  if (exponent < 0) {
    if (exponent < -22) return scaleFarExponent(mantissa, negative, exponent) ? i : -1;
    value = mantissa / EXACT_POW10[-exponent];
  } else if (exponent <= 22) {
    value = mantissa * EXACT_POW10[exponent];
  } else {
    // 1e30 and the like: move the excess power into the mantissa while it stays exact.
    const excess = exponent - 22;
    const shifted = excess <= 22 ? mantissa * EXACT_POW10[excess] : TWO_POW_53;
    if (shifted >= TWO_POW_53) return scaleFarExponent(mantissa, negative, exponent) ? i : -1;
    value = shifted * EXACT_POW10[22];
  }
  decimalOut[0] = negative ? -value : value;
  return i;
}

/**
 * An exact mantissa (below 2^53) times a power of ten that no single exact
 * power reaches (Python prints a learning rate as 3.3546262790251185e-07:
 * seventeen digits, 10^-23), through the double-double of scaleWideMantissa.
 */
function scaleFarExponent(mantissa: number, negative: boolean, exponent: number): boolean {
  if (exponent < -MAX_SCALED_EXPONENT || exponent > MAX_SCALED_EXPONENT) return false;
  if (!scaleFarMantissa(mantissa, 0, 0, exponent)) return false;
  if (negative) decimalOut[0] = -decimalOut[0];
  return true;
}

/**
 * The mantissa digits bytes[from, to) (digits and at most one '.', `digits`
 * of them, whose value scanDecimalBytes summed into the rounded `rounded`,
 * 2^53 or more) times 10^exponent: splits the mantissa exactly into
 * high * 10^k + low (high: the first 15 significant digits) and scales it.
 */
function scanWideDecimal(bytes: Uint8Array, from: number, to: number, digits: number, rounded: number, negative: boolean, exponent: number): boolean {
  let zeros = 0;
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b === 0x30) zeros++;
    else if (b !== 0x2e) break;
  }
  const significant = digits - zeros;
  if (significant > 19 || exponent < -22 || exponent > 22) return scanFarDecimal(bytes, from, to, digits, rounded, negative, exponent);
  const lowDigits = significant - 15; // 1 to 4, since the mantissa is at least 2^53
  let low = 0;
  let place = 1;
  for (let i = to - 1, taken = 0; taken < lowDigits; i--) {
    const b = bytes[i];
    if (b === 0x2e) continue;
    low += (b - 0x30) * place;
    place *= 10;
    taken++;
  }
  // The rounded sum is off by at most ~2^-49 relative for up to 18 digits,
  // so (rounded - low) / 10^k lands within 0.3 of the integer `high`.
  // Beyond that, or if it does not land near an integer, count the digits one by one.
  const approximate = (rounded - low) / EXACT_POW10[lowDigits];
  let high = Math.round(approximate);
  if (lowDigits > 3 || Math.abs(approximate - high) > 0.4) {
    high = 0;
    let counted = 0;
    for (let i = from; counted < 15; i++) {
      const d = bytes[i] - 0x30;
      if (d < 0 || (counted === 0 && d === 0)) continue; // the point, leading zeros
      high = high * 10 + d;
      counted++;
    }
  }
  if (!scaleWideMantissa(high, lowDigits, low, exponent)) return false;
  if (negative) decimalOut[0] = -decimalOut[0];
  return true;
}

/**
 * scanWideDecimal for what its fast path leaves: more than 19 digits with
 * trailing zeros among them (JavaScript prints 613537693768739700000), or a
 * power of ten beyond 10^±22 (up to MAX_SCALED_EXPONENT).
 */
function scanFarDecimal(bytes: Uint8Array, from: number, to: number, digits: number, rounded: number, negative: boolean, exponent: number): boolean {
  let zeros = 0;
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b === 0x30) zeros++;
    else if (b !== 0x2e) break;
  }
  // Trailing zeros (JavaScript prints 613537693768739700000) say nothing: they move into the exponent.
  let trailing = 0;
  for (let i = to - 1; i >= from; i--) {
    const b = bytes[i];
    if (b === 0x30) trailing++;
    else if (b !== 0x2e) break;
  }
  const significant = digits - zeros - trailing;
  exponent += trailing;
  if (significant > 19 || exponent < -MAX_SCALED_EXPONENT || exponent > MAX_SCALED_EXPONENT) return false;
  // high (the first up to 15 significant digits) * 10^lowDigits + low (the rest).
  const lowDigits = significant > 15 ? significant - 15 : 0;
  let low = 0;
  let place = 1;
  for (let i = to - 1, skipped = 0, taken = 0; taken < lowDigits; i--) {
    const b = bytes[i];
    if (b === 0x2e) continue;
    if (skipped < trailing) {
      skipped++;
      continue;
    }
    low += (b - 0x30) * place;
    place *= 10;
    taken++;
  }
  // The rounded sum is off by at most ~2^-49 relative for up to 18 digits,
  // so (rounded - low) / 10^k lands within 0.3 of the integer `high`.
  // Beyond that, or if it does not land near an integer, count the digits one by one.
  let high = 0;
  const approximate = trailing === 0 ? (rounded - low) / EXACT_POW10[lowDigits] : 0.5;
  if (trailing === 0 && lowDigits <= 3) high = Math.round(approximate);
  if (trailing !== 0 || lowDigits > 3 || Math.abs(approximate - high) > 0.4) {
    high = 0;
    const highDigits = significant - lowDigits;
    let counted = 0;
    for (let i = from; counted < highDigits; i++) {
      const d = bytes[i] - 0x30;
      if (d < 0 || (counted === 0 && d === 0)) continue; // the point, leading zeros
      high = high * 10 + d;
      counted++;
    }
  }
  if (!scaleFarMantissa(high, lowDigits, low, exponent)) return false;
  if (negative) decimalOut[0] = -decimalOut[0];
  return true;
}


/**
 * Parses bytes[start, end) as a plain decimal number (nothing around it) and
 * returns exactly what Number() returns for that text, or NOT_FAST where
 * scanDecimalBytes does not decide.
 */
export function parseDecimalBytes(bytes: Uint8Array, start: number, end: number): number | typeof NOT_FAST {
  return scanDecimalBytes(bytes, start, end) === end ? decimalOut[0] : NOT_FAST;
}

/**
 * parseNumberToken over bytes[start, end): the exact fast path when it
 * applies, else the bytes' text (UTF-8) through parseNumberToken.
 */
export function parseNumberBytes(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (scanDecimalBytes(bytes, start, end) === end) return decimalOut[0];
  return parseNumberToken(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'));
}
