// The rows of a Lightning metrics.csv, parsed into one series per column
// (lightning.ts reads the files; this is the table their bytes are fed to).
// Also used by the parse worker (lightningParts.ts), which feeds it the
// second part of a big read.
import { SeriesBuilder, type Float64Series } from './series';
import { type DelimitedRow, WarningCollector, parseFiniteToken, parseNumberToken, scanDecimalBytes, scannedDecimal, splitDelimitedRow } from './text';

const STEP_COLUMN = 'step';

/** Where a table's next read goes on (part of a cursor's state). */
export interface TableContinuation {
  /** Data rows consumed: the step of the next row when there is no step column. */
  rows: number;
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

/**
 * One series per column except `step` (the x axis), `epoch` included. Empty
 * cells mean "not logged in this row"; every other cell is a point at its
 * row's step. Lightning writes an epoch's validation and epoch-end training
 * metrics as separate rows with the same step, so rows merge by column: each
 * series takes the cells of its own column. A value in the same column of two
 * such rows (the `epoch` cell, always) is two points, as are two identical
 * rows: the file logged it twice, and an export keeps every point.
 * Without a `step` column the row index is the step.
 *
 * Parses data rows of one metrics.csv, possibly continuing where an earlier
 * read stopped. Rows come as bytes (feedBytes: whole lines) or, for a line
 * still being written, as text rows (feed); both share one state.
 */
export class LightningTable {
  private readonly stepIndex: number;
  /** Per column: its series (shared by columns of one name), or undefined for `step` and unnamed columns. */
  private readonly seriesOf: Array<SeriesBuilder | undefined>;
  /** Per column: 1 when its cells are numbers (the step and the series), 0 for unnamed columns. */
  private readonly numeric: Uint8Array;
  private readonly seriesColumns: number[];
  private readonly builders = new Map<string, SeriesBuilder>();
  /** Which series got points (by name), in header order when results are listed. */
  private readonly touched = new Set<string>();
  private rows: number;

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
    this.seriesOf = header.map(() => undefined);
    this.seriesColumns = header.map((_, index) => index).filter((index) => index !== this.stepIndex && header[index] !== '');
    this.numeric = Uint8Array.from(header, (name, index) => (index === this.stepIndex || name !== '' ? 1 : 0));
    this.rowValues = new Float64Array(header.length);
    this.rowHas = new Uint8Array(header.length);
    this.rows = from?.rows ?? 0;
  }

  /** Whether rows have a step cell (without one the row index is the step, which a later part cannot know). */
  get hasStepColumn(): boolean {
    return this.stepIndex >= 0;
  }

  /**
   * The rows after this table's, parsed by another table (lightningParts.ts):
   * their points follow this table's, and their rows (counted from 0) add to
   * this table's.
   */
  appendPart(series: ReadonlyArray<[name: string, points: Float64Series]>, continuation: TableContinuation): void {
    for (const [name, points] of series) {
      let builder = this.builders.get(name);
      if (!builder) this.builders.set(name, (builder = new SeriesBuilder(points.values.length)));
      builder.append(points);
      this.touched.add(name);
    }
    this.rows += continuation.rows;
  }

  /**
   * The data rows in bytes[start, end) (whole lines), line numbers counting
   * on from `linesBefore`. Returns how many lines (line breaks) it consumed.
   */
  feedBytes(bytes: Uint8Array, start: number, end: number, linesBefore: number, unterminated: boolean): number {
    const columns = this.header.length;
    const stepIndex = this.stepIndex;
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
      this.finishRow(lineNumber, !unterminated, undefined, stepIndex >= 0 ? step : undefined);
    }
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
    const { header, stepIndex, rowValues, rowHas } = this;
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
      this.finishRow(row.lineNumber, row.terminated, unparsable, parsedStep);
    }
  }

  /** A row whose cells are in rowValues/rowHas: counted, reported, and each of its values added as a point. */
  private finishRow(lineNumber: number, terminated: boolean, unparsable: string | undefined, parsedStep: number | undefined): void {
    // The last, unterminated row is still being written: wait for it instead of warning.
    if (unparsable && !terminated) return;
    const dataIndex = this.rows;
    this.rows++;
    if (!terminated) this.usedUnterminated = true;
    if (unparsable) this.warnings.addLine(this.file, lineNumber, unparsable + (parsedStep === undefined && this.stepIndex >= 0 ? '; row index used as step' : ''));
    if (parsedStep === undefined && this.stepIndex >= 0) this.usedRowIndexStep = true;
    const step = parsedStep ?? dataIndex;
    const { rowValues, rowHas } = this;
    for (const index of this.seriesColumns) {
      if (rowHas[index] === 0) continue;
      const value = rowValues[index];
      let series = this.seriesOf[index];
      if (series === undefined) series = this.seriesFor(index);
      series.push(step, value, NaN); // CSVLogger records no wall time
    }
  }

  private seriesFor(column: number): SeriesBuilder {
    const name = this.header[column];
    let series = this.builders.get(name);
    if (!series) this.builders.set(name, (series = new SeriesBuilder(1024)));
    this.touched.add(name);
    this.seriesOf[column] = series;
    return series;
  }

  /** Where the next read continues. */
  continuation(): TableContinuation {
    return { rows: this.rows };
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

