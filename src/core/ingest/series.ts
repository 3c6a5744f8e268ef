// Building metric series and bounding how much one read takes in.
//
// Readers append points one at a time in hot loops (tens of millions per
// ingest). Plain `number[]` columns cost a boxed-or-not guess per push, grow
// by copying, and are copied again into typed arrays by the store; a
// SeriesBuilder writes straight into Float64Arrays that the store encodes
// from, so a point is written once by the reader and read once by the store.
//
// Big columns come from a pool while an ingest runs (columnPool): an ingest
// read in slices would otherwise leave each slice's columns, and every
// smaller array a growing column outgrew, to the garbage collector, which
// lets tens of megabytes of them pile up beyond what a slice needs; from the
// pool the next slice reuses them, so memory stays what one slice needs.
import type { MetricSeriesData } from './types';

const MIN_CAPACITY = 16;
/** Columns this big or bigger (elements) come from the pool: a power of two, so sizes repeat. */
const POOLED_CAPACITY = 4096;
/** Free columns the pool keeps at most, in bytes; more go to the garbage collector. */
let poolLimitBytes = 96 * 1024 * 1024;

/**
 * Free Float64Array columns by capacity. Only arrays it allocated come back
 * (a WeakSet of their buffers), each at most once, so a column is never
 * handed out twice. Cleared after each ingest, so an idle agent keeps none.
 */
class ColumnPool {
  private readonly free = new Map<number, Float64Array[]>();
  private readonly ours = new WeakSet<ArrayBufferLike>();
  private heldBytes = 0;

  /** A zero-filled or reused (arbitrary contents) column of at least `minimum` elements. */
  take(minimum: number): Float64Array {
    if (minimum < POOLED_CAPACITY) return new Float64Array(Math.max(MIN_CAPACITY, minimum));
    const capacity = 2 ** Math.ceil(Math.log2(minimum));
    const reused = this.free.get(capacity)?.pop();
    if (reused) {
      this.heldBytes -= reused.byteLength;
      return reused;
    }
    const column = new Float64Array(capacity);
    this.ours.add(column.buffer);
    return column;
  }

  /** Gives back the whole buffer behind `column` (a column or a view of one); ignored unless it came from here. */
  give(column: ArrayLike<number>): void {
    if (!(column instanceof Float64Array) || !this.ours.has(column.buffer)) return;
    const whole = column.buffer.byteLength;
    if (this.heldBytes + whole > poolLimitBytes) return;
    const capacity = whole / 8;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    if (list.some((free) => free.buffer === column.buffer)) return; // given back twice: keep it once
    list.push(column.byteOffset === 0 && column.length === capacity ? column : new Float64Array(column.buffer));
    this.heldBytes += whole;
  }

  /** Takes in a column another thread transferred here (no one else holds it), if its size is one the pool hands out. */
  adopt(column: Float64Array): void {
    const capacity = column.buffer.byteLength / 8;
    if (capacity < POOLED_CAPACITY || !Number.isInteger(Math.log2(capacity)) || column.buffer instanceof SharedArrayBuffer) return;
    this.ours.add(column.buffer);
    this.give(column);
  }

  clear(): void {
    this.free.clear();
    this.heldBytes = 0;
  }
}

const columnPool = new ColumnPool();

/**
 * Gives the columns of a source's series back for the next slice's builders.
 * Only for a caller that is done with them (the engine, once the store wrote
 * the slice): the arrays are overwritten by later reads.
 */
export function recycleSeries(series: Iterable<MetricSeriesData>): void {
  for (const one of series) {
    columnPool.give(one.steps);
    columnPool.give(one.values);
    columnPool.give(one.walls);
  }
}

/** Read buffers this big or bigger come from the byte pool (a power of two). */
const POOLED_BYTES = 64 * 1024;
/** Free read buffers the pool keeps at most. */
let bytePoolLimit = 64 * 1024 * 1024;

/**
 * Read buffers (a file's window, a slice of lines) by size, the same way:
 * each read takes one and gives it back when it is done with the bytes.
 */
class BytePool {
  private readonly free = new Map<number, Buffer[]>();
  private readonly ours = new WeakSet<ArrayBufferLike>();
  private heldBytes = 0;

  take(minimum: number): Buffer {
    if (minimum < POOLED_BYTES) return Buffer.allocUnsafe(minimum);
    const size = 2 ** Math.ceil(Math.log2(minimum));
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.heldBytes -= size;
      return reused;
    }
    // Its own ArrayBuffer (not Node's shared slab), so that it can be told apart and handed out alone.
    const buffer = Buffer.allocUnsafeSlow(size);
    this.ours.add(buffer.buffer);
    return buffer;
  }

  give(buffer: Uint8Array): void {
    if (!this.ours.has(buffer.buffer)) return;
    const size = buffer.buffer.byteLength;
    if (this.heldBytes + size > bytePoolLimit) return;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    if (list.some((free) => free.buffer === buffer.buffer)) return;
    list.push(Buffer.from(buffer.buffer, 0, size));
    this.heldBytes += size;
  }

  /** Takes in a buffer another thread transferred here (no one else holds it), if its size is one the pool hands out. */
  adopt(buffer: Uint8Array): void {
    const size = buffer.buffer.byteLength;
    if (size < POOLED_BYTES || !Number.isInteger(Math.log2(size)) || buffer.buffer instanceof SharedArrayBuffer) return;
    this.ours.add(buffer.buffer);
    this.give(buffer);
  }

  clear(): void {
    this.free.clear();
    this.heldBytes = 0;
  }
}

const bytePool = new BytePool();

/** A read buffer of at least `minimum` bytes (contents arbitrary); give it back with giveReadBuffer. */
export function takeReadBuffer(minimum: number): Buffer {
  return bytePool.take(minimum);
}

/**
 * takeReadBuffer, but always with an ArrayBuffer of its own, so that it may
 * be transferred to another thread (a small Buffer.allocUnsafe shares Node's
 * slab with other Buffers).
 */
export function takeTransferableBuffer(minimum: number): Uint8Array {
  return minimum >= POOLED_BYTES ? bytePool.take(minimum) : new Uint8Array(minimum);
}

/** Gives back a buffer from takeReadBuffer (or a view of one) once nothing refers to its bytes any more. */
export function giveReadBuffer(buffer: Uint8Array): void {
  bytePool.give(buffer);
}

/**
 * Takes columns and read buffers that another thread's pools handed out and
 * then transferred here (the parse worker's points, a part's bytes coming
 * back) into this thread's pools, so that they serve later reads instead of
 * piling up for the garbage collector. Sizes the pools never hand out are
 * left to it.
 */
export function adoptTransferred(columns: readonly Float64Array[], buffers: readonly Uint8Array[] = []): void {
  for (const column of columns) columnPool.adopt(column);
  for (const buffer of buffers) bytePool.adopt(buffer);
}

/**
 * Lowers what this thread's pools keep (the parse worker, which holds one
 * part's columns and read buffers at a time, and a part asked for ahead,
 * needs far less than the ingest's own thread).
 */
export function limitPools(columnBytes: number, readBytes: number): void {
  poolLimitBytes = columnBytes;
  bytePoolLimit = readBytes;
}

/** Drops the pools' free columns and buffers (at the end of an ingest). */
export function releaseColumnPool(): void {
  columnPool.clear();
  bytePool.clear();
}

/** A series whose columns are Float64Arrays, as every reader gives them. */
export interface Float64Series extends MetricSeriesData {
  steps: Float64Array;
  values: Float64Array;
  walls: Float64Array;
}

export class SeriesBuilder {
  steps: Float64Array;
  values: Float64Array;
  walls: Float64Array;
  length = 0;

  constructor(capacity = MIN_CAPACITY) {
    const initial = Math.max(MIN_CAPACITY, Math.ceil(capacity));
    this.steps = columnPool.take(initial);
    this.values = columnPool.take(initial);
    this.walls = columnPool.take(initial);
  }

  push(step: number, value: number, wall: number): void {
    const n = this.length;
    if (n === this.steps.length) this.grow(n + 1);
    this.steps[n] = step;
    this.values[n] = value;
    this.walls[n] = wall;
    this.length = n + 1;
  }

  /** Room for `extra` more points without growing (a hint; push grows anyway). */
  reserve(extra: number): void {
    if (this.length + extra > this.steps.length) this.grow(this.length + extra);
  }

  /** Appends every point of `more`. */
  append(more: MetricSeriesData): void {
    const count = more.values.length;
    if (count === 0) return;
    this.reserve(count);
    this.steps.set(more.steps, this.length);
    this.values.set(more.values, this.length);
    this.walls.set(more.walls, this.length);
    this.length += count;
  }

  private grow(minimum: number): void {
    const capacity = Math.max(minimum, this.steps.length * 2);
    const copy = (old: Float64Array) => {
      const bigger = columnPool.take(capacity);
      bigger.set(old.subarray(0, this.length));
      columnPool.give(old); // outgrown, and only this builder had it
      return bigger;
    };
    this.steps = copy(this.steps);
    this.values = copy(this.values);
    this.walls = copy(this.walls);
  }

  /**
   * The points so far, as views of exactly `length` points (a copy only when
   * trimming a mostly empty column). The builder gives its columns up with
   * them: it is empty afterwards.
   */
  finish(trimmed = true): Float64Series {
    const n = this.length;
    // Mostly full: a view. Mostly empty (a big reservation, few points): a copy, and the big one goes back.
    // Untrimmed: always a view (for columns that go back to a pool whole once read).
    const trim = (column: Float64Array) => {
      if (!trimmed || n * 2 >= column.length) return column.subarray(0, n);
      const copy = column.slice(0, n);
      columnPool.give(column);
      return copy;
    };
    const out = { steps: trim(this.steps), values: trim(this.values), walls: trim(this.walls) };
    this.steps = new Float64Array(MIN_CAPACITY);
    this.values = new Float64Array(MIN_CAPACITY);
    this.walls = new Float64Array(MIN_CAPACITY);
    this.length = 0;
    return out;
  }
}

/** A series with no points. */
export function emptySeries(): Float64Series {
  return { steps: new Float64Array(0), values: new Float64Array(0), walls: new Float64Array(0) };
}

/** Series from plain arrays (tests, small readers). */
export function seriesFrom(steps: ArrayLike<number>, values: ArrayLike<number>, walls: ArrayLike<number>): Float64Series {
  return { steps: Float64Array.from(steps), values: Float64Array.from(values), walls: Float64Array.from(walls) };
}

/**
 * The bytes one read may still take in (FormatReader.read's `limits`). Shared
 * by every file of a source read; unlimited without limits.
 */
export class ByteBudget {
  private left: number;
  /** Set when a read stopped short of a file's end, or skipped files, because the budget ran out. */
  stopped = false;

  constructor(maxBytes: number | undefined) {
    this.left = maxBytes !== undefined && maxBytes > 0 ? maxBytes : maxBytes === undefined ? Infinity : 1;
  }

  get limited(): boolean {
    return this.left !== Infinity;
  }

  get exhausted(): boolean {
    return this.left <= 0;
  }

  /** What may be read now; 0 once exhausted. */
  get remaining(): number {
    return Math.max(0, this.left);
  }

  take(bytes: number): void {
    this.left -= bytes;
  }
}
