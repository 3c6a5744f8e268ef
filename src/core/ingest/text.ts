// Small text helpers shared by the file-based readers: reading files that may
// be mid-write, splitting lines and delimited rows, parsing numbers the way
// Python writes them, and collecting per-file warnings without flooding.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IngestWarning } from './types';

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

/** A new, empty metric series. */
export function emptySeries(): { steps: number[]; values: number[]; walls: number[] } {
  return { steps: [], values: [], walls: [] };
}
