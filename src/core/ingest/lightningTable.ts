// The rows of a Lightning metrics.csv, parsed into one series per column
// (lightning.ts reads the files; this is the table their bytes are fed to).
// Also used by the parse worker (lightningParts.ts), which feeds it the
// second part of a big read.
import { SeriesBuilder, type Float64Series } from './series';
import {
  type DelimitedRow,
  WarningCollector,
  decodeStateNumber,
  encodeStateNumber,
  parseFiniteToken,
  parseNumberToken,
  scanDecimalBytes,
  scannedDecimal,
  splitDelimitedRow,
} from './text';

const STEP_COLUMN = 'step';
const EPOCH_COLUMN = 'epoch';

/** Where a table's next read goes on: rows so far and the open (step, epoch) group (part of a cursor's state). */
export interface TableContinuation {
  /** Data rows consumed: the step of the next row when there is no step column. */
  rows: number;
  /** Raw `step\0epoch` cells of the last consumed row; null when it starts no group (no step column). */
  groupKey: string | null;
  /** Values already logged in that group per column index, encoded (encodeStateNumber), so a row continuing the group across reads does not repeat one. */
  group: Array<[number, string[]]>;
}

export const enum Byte {
  Tab = 9,
  LineFeed = 10,
  VerticalTab = 11,
  FormFeed = 12,
  CarriageReturn = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
}

/** The ASCII whitespace String.prototype.trim removes (line breaks cannot occur inside a line). */
function isBlank(c: number): boolean {
  return c === Byte.Space || c === Byte.Tab || c === Byte.VerticalTab || c === Byte.FormFeed;
}

/** Object.is for doubles: NaN equals NaN, 0 differs from -0. */
function sameNumber(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : a !== a && b !== b;
}

/**
 * One series per column except `step` (the x axis), `epoch` included. Empty
 * cells mean "not logged in this row". Consecutive rows with the same
 * step and epoch are one logging moment split across rows (Lightning writes
 * validation and epoch-end training metrics separately), so they merge by
 * column: a value repeated across those rows (the `epoch` cell itself) is
 * kept once, while genuinely different values at that step are all kept.
 * Without a `step` column the row index is the step.
 *
 * Parses data rows of one metrics.csv, possibly continuing where an earlier
 * read stopped. Rows come as bytes (feedBytes: whole lines) or, for a line
 * still being written, as text rows (feed); both share one state.
 */
export class LightningTable {
  private readonly stepIndex: number;
  private readonly epochIndex: number;
  /** Per column: its series (shared by columns of one name), or undefined for `step` and unnamed columns. */
  private readonly seriesOf: Array<SeriesBuilder | undefined>;
  /** Per column: 1 when its cells are numbers (the step and the series), 0 for unnamed columns. */
  private readonly numeric: Uint8Array;
  private readonly seriesColumns: number[];
  private readonly builders = new Map<string, SeriesBuilder>();
  /** Which series got points (by name), in header order when results are listed. */
  private readonly touched = new Set<string>();
  private rows: number;

  // The open (step, epoch) group. Its key is the raw trimmed step and epoch
  // cells, as ranges of keySource: the bytes being parsed while feedBytes
  // runs (no copy per row), copied into ownKey before those bytes go back to
  // the read buffer pool (ownKeyFromSource). keyStep is the step cell's
  // number (NaN when unknown): two different numbers are two different
  // texts, so nearly every new row is told apart without comparing bytes.
  private hasKey = false;
  private ownKey = new Uint8Array(64);
  private keySource: Uint8Array = this.ownKey;
  private keyStepStart = 0;
  private keyStepEnd = 0;
  private keyEpochStart = 0;
  private keyEpochEnd = 0;
  private keyStep = NaN;
  // Values logged in the open group per column: valid where groupOf[column] === group.
  private group = 1;
  private readonly groupOf: Int32Array;
  private readonly groupFirst: Float64Array;
  private readonly groupMore: Array<number[] | undefined>;
  /** Columns in the order they got their first value in the open group (the first groupSize). */
  private readonly groupOrder: Int32Array;
  private groupSize = 0;

  // One row's numbers, before it is known whether the row counts.
  private readonly rowValues: Float64Array;
  private readonly rowHas: Uint8Array;

  /** Whether a row without its line break gave points. */
  usedUnterminated = false;
  /** Whether some row's step cell was not a number, so that its row index became its step. */
  usedRowIndexStep = false;

  constructor(
    private readonly header: string[],
    private readonly file: string,
    private readonly warnings: WarningCollector,
    from?: TableContinuation,
  ) {
    this.stepIndex = header.indexOf(STEP_COLUMN);
    this.epochIndex = header.indexOf(EPOCH_COLUMN);
    this.seriesOf = header.map(() => undefined);
    this.seriesColumns = header.map((_, index) => index).filter((index) => index !== this.stepIndex && header[index] !== '');
    this.numeric = Uint8Array.from(header, (name, index) => (index === this.stepIndex || name !== '' ? 1 : 0));
    this.groupOf = new Int32Array(header.length);
    this.groupFirst = new Float64Array(header.length);
    this.groupMore = header.map(() => undefined);
    this.groupOrder = new Int32Array(header.length);
    this.rowValues = new Float64Array(header.length);
    this.rowHas = new Uint8Array(header.length);
    this.rows = 0;
    if (from) this.continueFrom(from);
  }

  /** Takes on a continuation (an earlier read's, or a later part's): its row count and open group replace this table's. */
  private continueFrom(from: TableContinuation): void {
    this.rows = from.rows;
    this.group++;
    this.groupSize = 0;
    this.hasKey = false;
    if (from.groupKey !== null) {
      // Stored as step + NUL + epoch (continuation).
      const key = Buffer.from(from.groupKey, 'utf8');
      const nul = key.indexOf(0);
      const stepEnd = nul < 0 ? key.length : nul;
      this.setKey(key, 0, stepEnd, Math.min(stepEnd + 1, key.length), key.length, NaN);
      this.ownKeyFromSource();
    }
    for (const [index, values] of from.group) {
      if (index < 0 || index >= this.header.length) continue;
      for (const value of values) this.remember(index, decodeStateNumber(value));
    }
  }

  /** Whether rows have a step cell (without one the row index is the step, which a later part cannot know). */
  get hasStepColumn(): boolean {
    return this.stepIndex >= 0;
  }

  /**
   * The rows after this table's, parsed by another table from a group
   * boundary on (lightningParts.ts): their points follow this table's, and
   * their continuation (its rows counted from 0) becomes this table's.
   */
  appendPart(series: ReadonlyArray<[name: string, points: Float64Series]>, continuation: TableContinuation): void {
    for (const [name, points] of series) {
      let builder = this.builders.get(name);
      if (!builder) this.builders.set(name, (builder = new SeriesBuilder(points.values.length)));
      builder.append(points);
      this.touched.add(name);
    }
    this.continueFrom({ ...continuation, rows: this.rows + continuation.rows });
  }

  /**
   * The data rows in bytes[start, end) (whole lines), line numbers counting
   * on from `linesBefore`. Returns how many lines (line breaks) it consumed.
   */
  feedBytes(bytes: Uint8Array, start: number, end: number, linesBefore: number, unterminated: boolean): number {
    const columns = this.header.length;
    const stepIndex = this.stepIndex;
    const epochIndex = this.epochIndex;
    const numeric = this.numeric;
    const rowValues = this.rowValues;
    const rowHas = this.rowHas;
    // Local names: imports compile to property lookups on the module object.
    const decoded = scannedDecimal;
    const scanDecimal = scanDecimalBytes;
    let lines = 0;
    let i = start;
    while (i < end) {
      const lineStart = i;
      let column = 0;
      let fast = true;
      let blank = true;
      let stepStart = 0;
      let stepEnd = 0;
      let epochStart = 0;
      let epochEnd = 0;
      let step = 0;
      let c: number = bytes[i];
      for (;;) {
        // One cell: leading blanks, then a plain decimal followed only by blanks (one pass), else anything up to the next comma.
        while (isBlank(c)) c = ++i < end ? bytes[i] : -1;
        const cellStart = i;
        let cellEnd = i;
        let parsed = false;
        if (fast && column < columns && numeric[column] === 1 && c !== Byte.Comma && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
          const numberEnd = scanDecimal(bytes, i, end);
          if (numberEnd > i) {
            let j = numberEnd;
            let after = j < end ? bytes[j] : -1;
            while (isBlank(after)) after = ++j < end ? bytes[j] : -1;
            if (after === Byte.Comma || after === Byte.LineFeed || after === Byte.CarriageReturn) {
              cellEnd = numberEnd;
              i = j;
              c = after;
              parsed = true;
              if (column === stepIndex) step = decoded[0];
              else {
                rowValues[column] = decoded[0];
                rowHas[column] = 1;
              }
            }
          }
          // nan, inf, garbage, a number running into text: the text path decides the line.
          if (!parsed) fast = false;
        }
        if (!parsed) {
          while (i < end && c !== Byte.Comma && c !== Byte.LineFeed && c !== Byte.CarriageReturn) {
            if (c === Byte.Quote || c >= 0x80) fast = false;
            if (!isBlank(c)) cellEnd = i + 1;
            c = bytes[++i];
          }
          if (cellEnd === cellStart && column < columns) {
            if (column === stepIndex) fast = false; // an empty step: the text path reports it
            else rowHas[column] = 0;
          }
        }
        if (cellEnd > cellStart) blank = false;
        if (column === stepIndex) {
          stepStart = cellStart;
          stepEnd = cellEnd;
        } else if (column === epochIndex) {
          epochStart = cellStart;
          epochEnd = cellEnd;
        }
        column++;
        if (c !== Byte.Comma || i >= end) break;
        blank = false;
        c = ++i < end ? bytes[i] : -1;
      }
      const lineEnd = i;
      // The line break: LF, CRLF or a lone CR (whole lines only, so there is one).
      i += c === Byte.CarriageReturn && bytes[i + 1] === Byte.LineFeed ? 2 : 1;
      lines++;
      const lineNumber = linesBefore + lines;
      if (blank && fast) continue; // nothing but blanks
      if (!fast || column !== columns) {
        this.textLine(bytes, lineStart, lineEnd, lineNumber, !unterminated);
        continue;
      }
      if (stepIndex >= 0) this.finishRow(lineNumber, !unterminated, undefined, step, bytes, stepStart, stepEnd, epochStart, epochEnd);
      else this.finishRow(lineNumber, !unterminated, undefined, undefined, undefined, 0, 0, 0, 0);
    }
    // The caller reuses `bytes` for the next read: the open group's key must not point into them.
    this.ownKeyFromSource();
    return lines;
  }

  /** One line through the text functions (exactly as parseDelimitedRows and feed would take it). */
  private textLine(bytes: Uint8Array, start: number, end: number, lineNumber: number, terminated: boolean): void {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
    if (text.trim() === '') return;
    const cells = splitDelimitedRow(text, ',');
    if (cells.length !== this.header.length) {
      if (terminated) this.warnings.addLine(this.file, lineNumber, `expected ${this.header.length} fields like the header, found ${cells.length}; row skipped`);
      return;
    }
    this.feed([{ cells, lineNumber, terminated }]);
  }

  /** Rows split into text cells (a line still being written, or one the byte path left to text). */
  feed(rows: readonly DelimitedRow[]): void {
    const { header, stepIndex, epochIndex, rowValues, rowHas } = this;
    for (const row of rows) {
      let unparsable: string | undefined;
      for (const index of this.seriesColumns) {
        rowHas[index] = 0;
        const cell = row.cells[index].trim();
        if (cell === '') continue;
        const value = parseNumberToken(cell);
        if (value === undefined) unparsable ??= `column "${header[index]}": "${cell}" is not a number`;
        else {
          rowValues[index] = value;
          rowHas[index] = 1;
        }
      }
      const stepCell = stepIndex >= 0 ? row.cells[stepIndex].trim() : '';
      const parsedStep = stepIndex >= 0 ? parseFiniteToken(stepCell) : undefined;
      if (stepIndex >= 0 && parsedStep === undefined) unparsable ??= `step "${stepCell}" is not a number`;
      // A fresh buffer per row: the key may point into it for as long as the group lasts.
      const stepBytes = Buffer.byteLength(stepCell, 'utf8');
      const key = stepIndex >= 0 ? Buffer.from(`${stepCell}\u0000${epochIndex >= 0 ? row.cells[epochIndex].trim() : ''}`, 'utf8') : undefined;
      this.finishRow(row.lineNumber, row.terminated, unparsable, parsedStep, key, 0, stepBytes, stepBytes + 1, key?.length ?? 0);
    }
  }

  /**
   * A row whose cells are in rowValues/rowHas: counted, reported, and its
   * values added unless the group already has them. The group key is the
   * step cell keyBytes[keyStart, keyEnd) and the epoch cell
   * keyBytes[epochStart, epochEnd) (keyBytes undefined: no step column).
   */
  private finishRow(
    lineNumber: number,
    terminated: boolean,
    unparsable: string | undefined,
    parsedStep: number | undefined,
    keyBytes: Uint8Array | undefined,
    keyStart: number,
    keyEnd: number,
    epochStart: number,
    epochEnd: number,
  ): void {
    // The last, unterminated row is still being written: wait for it instead of warning.
    if (unparsable && !terminated) return;
    const dataIndex = this.rows;
    this.rows++;
    if (!terminated) this.usedUnterminated = true;
    if (unparsable) this.warnings.addLine(this.file, lineNumber, unparsable + (parsedStep === undefined && this.stepIndex >= 0 ? '; row index used as step' : ''));
    if (parsedStep === undefined && this.stepIndex >= 0) this.usedRowIndexStep = true;
    const step = parsedStep ?? dataIndex;

    const keyStep = parsedStep ?? NaN;
    if (keyBytes === undefined || !this.sameKey(keyBytes, keyStart, keyEnd, epochStart, epochEnd, keyStep)) {
      this.group++;
      this.groupSize = 0;
      if (keyBytes === undefined) this.hasKey = false;
      else this.setKey(keyBytes, keyStart, keyEnd, epochStart, epochEnd, keyStep);
    }
    const { rowValues, rowHas } = this;
    for (const index of this.seriesColumns) {
      if (rowHas[index] === 0) continue;
      const value = rowValues[index];
      if (!this.remember(index, value)) continue;
      let series = this.seriesOf[index];
      if (series === undefined) series = this.seriesFor(index);
      series.push(step, value, NaN); // CSVLogger records no wall time
    }
  }

  /** Adds `value` to the open group's values of `column`; false when the group has it already. */
  private remember(column: number, value: number): boolean {
    if (this.groupOf[column] !== this.group) {
      this.groupOf[column] = this.group;
      this.groupFirst[column] = value;
      this.groupMore[column] = undefined;
      this.groupOrder[this.groupSize++] = column;
      return true;
    }
    if (sameNumber(this.groupFirst[column], value)) return false;
    const more = this.groupMore[column];
    if (more === undefined) {
      this.groupMore[column] = [value];
      return true;
    }
    for (const earlier of more) if (sameNumber(earlier, value)) return false;
    more.push(value);
    return true;
  }

  private seriesFor(column: number): SeriesBuilder {
    const name = this.header[column];
    let series = this.builders.get(name);
    if (!series) this.builders.set(name, (series = new SeriesBuilder(1024)));
    this.touched.add(name);
    this.seriesOf[column] = series;
    return series;
  }

  private sameKey(bytes: Uint8Array, stepStart: number, stepEnd: number, epochStart: number, epochEnd: number, step: number): boolean {
    if (!this.hasKey) return false;
    // Both steps parsed and different: different cells (a row of the next step, nearly always).
    if (step === step && this.keyStep === this.keyStep && step !== this.keyStep) return false;
    const key = this.keySource;
    const keyStepStart = this.keyStepStart;
    const keyEpochStart = this.keyEpochStart;
    if (stepEnd - stepStart !== this.keyStepEnd - keyStepStart || epochEnd - epochStart !== this.keyEpochEnd - keyEpochStart) return false;
    for (let i = stepStart, k = keyStepStart; i < stepEnd; i++, k++) if (bytes[i] !== key[k]) return false;
    for (let i = epochStart, k = keyEpochStart; i < epochEnd; i++, k++) if (bytes[i] !== key[k]) return false;
    return true;
  }

  /** Opens a group keyed by bytes[stepStart, stepEnd) and bytes[epochStart, epochEnd), without copying them. */
  private setKey(bytes: Uint8Array, stepStart: number, stepEnd: number, epochStart: number, epochEnd: number, step: number): void {
    this.keySource = bytes;
    this.keyStepStart = stepStart;
    this.keyStepEnd = stepEnd;
    this.keyEpochStart = epochStart;
    this.keyEpochEnd = epochEnd;
    this.keyStep = step;
    this.hasKey = true;
  }

  /** Copies the open group's key into ownKey (step, NUL, epoch), so that it outlives the bytes it was parsed from. */
  private ownKeyFromSource(): void {
    if (!this.hasKey || this.keySource === this.ownKey) return;
    const source = this.keySource;
    const stepLength = this.keyStepEnd - this.keyStepStart;
    const epochLength = this.keyEpochEnd - this.keyEpochStart;
    const length = stepLength + 1 + epochLength;
    if (this.ownKey.length < length) this.ownKey = new Uint8Array(length * 2);
    const key = this.ownKey;
    key.set(source.subarray(this.keyStepStart, this.keyStepEnd), 0);
    key[stepLength] = 0;
    key.set(source.subarray(this.keyEpochStart, this.keyEpochEnd), stepLength + 1);
    this.keySource = key;
    this.keyStepStart = 0;
    this.keyStepEnd = stepLength;
    this.keyEpochStart = stepLength + 1;
    this.keyEpochEnd = length;
  }

  /** Where the next read continues: rows so far and the open (step, epoch) group. */
  continuation(): TableContinuation {
    const group: Array<[number, string[]]> = Array.from(this.groupOrder.subarray(0, this.groupSize), (column) => [
      column,
      [this.groupFirst[column], ...(this.groupMore[column] ?? [])].map(encodeStateNumber),
    ]);
    return {
      rows: this.rows,
      groupKey: this.hasKey ? this.groupKeyText() : null,
      group,
    };
  }

  /** The open group's key as the state stores it: step cell, NUL, epoch cell. */
  private groupKeyText(): string {
    const text = (start: number, end: number) => Buffer.from(this.keySource.buffer, this.keySource.byteOffset + start, end - start).toString('utf8');
    return `${text(this.keyStepStart, this.keyStepEnd)}\u0000${text(this.keyEpochStart, this.keyEpochEnd)}`;
  }

  /** The series that got points, in header order like a full read lists them. */
  result(): Record<string, Float64Series> {
    const ordered: Record<string, Float64Series> = {};
    for (const index of this.seriesColumns) {
      const name = this.header[index];
      if (this.touched.has(name) && !Object.hasOwn(ordered, name)) {
        Object.defineProperty(ordered, name, { value: this.builders.get(name)!.finish(), enumerable: true, writable: true, configurable: true });
      }
    }
    return ordered;
  }
}

