// A big read of a Lightning metrics.csv in two parts on two cores
// (parseWorker.ts). Each row stands alone (every cell is a point at its
// row's step), so the read is split at a line break near the balance point.
// From there the worker's table, started empty, does exactly what this
// thread's would; its points follow this thread's, its row count adds to
// this table's, and its problems are renumbered after this thread's lines.
// A part whose steps needed row indexes (a step cell that is not a number),
// and a part the worker could not take, are parsed again here.
import { LightningTable } from './lightningTable';
import { parsePartOnWorker, recycleOnWorker, shouldSplitRead, splitBalance } from './parseWorker';
import type { ParseWorkerReply, PartProblem } from './parseWorkerProtocol';
import { adoptTransferred, takeTransferableBuffer } from './series';
import { WarningCollector } from './text';

type WorkerRows = Extract<ParseWorkerReply, { type: 'lightning-rows' }>;

const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

/**
 * table.feedBytes(bytes, start, end, linesBefore, false) for whole lines,
 * with a big range split in two parts. Returns the lines consumed.
 */
export async function feedRowsInParts(
  table: LightningTable,
  header: string[],
  file: string,
  warnings: WarningCollector,
  bytes: Uint8Array,
  start: number,
  end: number,
  linesBefore: number,
): Promise<number> {
  const balance = table.hasStepColumn && header.length >= 2 && shouldSplitRead(end - start) ? splitBalance('lightning-rows') : undefined;
  const split = balance ? nextLineStart(bytes, start + Math.floor((end - start) * (1 - balance.share(end - start))) - 1, end) : undefined;
  if (split === undefined || split >= end) return table.feedBytes(bytes, start, end, linesBefore, false);

  // A copy in a read buffer of its own (the caller's goes back to the pool), handed over without another copy and handed back.
  const copy = takeTransferableBuffer(end - split);
  copy.set(bytes.subarray(split, end));
  const part = copy.subarray(0, end - split);
  const second = parsePartOnWorker({ type: 'lightning-rows', file, header, bytes: part }, [copy.buffer as ArrayBuffer]);
  const started = performance.now();
  const lines = table.feedBytes(bytes, start, split, linesBefore, false);
  const firstMs = performance.now() - started;
  const reply = await second;
  if (reply?.type !== 'lightning-rows') return lines + table.feedBytes(bytes, split, end, linesBefore + lines, false);
  // The part's bytes come back to this thread's pool, its columns (once copied) to the worker's.
  adoptTransferred([], [reply.bytes]);
  const columns = reply.series.flatMap(([, steps, values, walls]) => [steps, values, walls]);
  if (reply.usedRowIndexStep) {
    recycleOnWorker(columns);
    return lines + table.feedBytes(bytes, split, end, linesBefore + lines, false);
  }

  balance!.record(split - start, firstMs, end - split, reply.elapsedMs);
  table.appendPart(
    reply.series.map(([name, steps, values, walls]) => [name, { steps, values, walls }]),
    { rows: reply.rows },
  );
  recycleOnWorker(columns);
  const linesAfter = linesBefore + lines;
  for (const [line, message] of reply.problems) {
    if (line === 0) warnings.add(file, message);
    else warnings.addLine(file, linesAfter + line, message);
  }
  // Past what the part sent, only the count matters (the collector keeps fewer messages per file).
  const last = reply.problems[reply.problems.length - 1];
  for (let i = reply.problems.length; i < reply.problemCount; i++) warnings.add(file, last ? last[1] : '');
  return lines + reply.lines;
}

/** Where the line after the one holding bytes[at] starts (LF, CRLF or a lone CR ends a line). */
function nextLineStart(bytes: Uint8Array, at: number, end: number): number {
  let i = Math.max(at, 0);
  while (i < end && bytes[i] !== LINE_FEED && bytes[i] !== CARRIAGE_RETURN) i++;
  if (i < end && bytes[i] === CARRIAGE_RETURN && i + 1 < end && bytes[i + 1] === LINE_FEED) i++;
  return i + 1;
}

/** The worker's side: the rows of one part, parsed by a fresh table (line numbers from the part's first line). */
export function parseLightningPart(file: string, header: string[], bytes: Uint8Array): Omit<WorkerRows, 'id' | 'elapsedMs'> {
  const warnings = new PartWarnings();
  const table = new LightningTable(header, file, warnings);
  const lines = table.feedBytes(bytes, 0, bytes.length, 0, false);
  const continuation = table.continuation();
  return {
    type: 'lightning-rows',
    series: Object.entries(table.result()).map(([name, points]) => [name, points.steps, points.values, points.walls]),
    lines,
    rows: continuation.rows,
    usedRowIndexStep: table.usedRowIndexStep,
    bytes,
    problems: warnings.parts,
    problemCount: warnings.count,
  };
}

/** A part's warnings with their line numbers apart, for the requesting thread to renumber (one file: the part's). */
class PartWarnings extends WarningCollector {
  readonly parts: PartProblem[] = [];
  count = 0;

  override add(_file: string, message: string): void {
    this.record(0, message);
  }

  override addLine(_file: string, lineNumber: number, message: string): void {
    this.record(lineNumber, message);
  }

  private record(line: number, message: string): void {
    this.count++;
    if (this.parts.length < PART_PROBLEMS_SENT) this.parts.push([line, message]);
  }
}

/** As many as a WarningCollector keeps per file: more could never be listed. */
const PART_PROBLEMS_SENT = 20;
