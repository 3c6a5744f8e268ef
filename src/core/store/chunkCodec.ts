// Metric points are stored per series in chunks: one BLOB of up to
// CHUNK_POINTS points plus a few summary columns. One row per point tops out
// around a million rows per second and 40+ bytes per point once indexed; a
// chunk costs ~10-17 bytes per point and one INSERT per few thousand points.
//
// Encoding is exact: values are float64 unless every value in the chunk is
// exactly a float32 (TensorBoard writes float32), steps and wall times are
// zigzag-varint deltas when they are integers, else float64.

import * as os from 'node:os';

export const CHUNK_POINTS = 4096;
const CODEC_VERSION = 1;

const enum NumberEncoding {
  VarintDelta = 0,
  Float64 = 1,
  Float32 = 2,
  Absent = 3,
}

/** Beyond this a zigzag delta no longer fits in a double's exact integer range. */
const MAX_SAFE_DELTA = 2 ** 51;

export interface PointColumns {
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
  walls: ArrayLike<number>;
}

export interface DecodedChunk {
  steps: Float64Array;
  values: Float64Array;
  walls: Float64Array;
}

/**
 * The most compact exact encoding for column[from, to), in one pass:
 * Absent when every value is NaN; VarintDelta when every value is a safe
 * integer (not -0) whose delta from the one before fits; Float32 (where
 * allowed) when every value is exactly a float32 (or NaN: payloads are not
 * kept by any encoding, NaN stays NaN); else Float64.
 */
function chooseEncoding(column: ArrayLike<number>, from: number, to: number, allowFloat32: boolean): NumberEncoding {
  let allNaN = true;
  let integers = true;
  let float32 = allowFloat32;
  let previous = 0;
  for (let i = from; i < to; i++) {
    const v = column[i];
    if (v !== v) {
      integers = false;
      continue;
    }
    allNaN = false;
    if (integers) {
      // -0 is not an integer delta away from anything: keep it exact as a float.
      if (!Number.isSafeInteger(v) || (v === 0 && 1 / v < 0)) integers = false;
      else {
        const delta = v - previous;
        if (delta > MAX_SAFE_DELTA || delta < -MAX_SAFE_DELTA) integers = false;
        previous = v;
      }
    }
    if (float32 && Math.fround(v) !== v) float32 = false;
    if (!integers && !float32) return NumberEncoding.Float64;
  }
  if (allNaN) return NumberEncoding.Absent;
  if (integers) return NumberEncoding.VarintDelta;
  return float32 ? NumberEncoding.Float32 : NumberEncoding.Float64;
}

class ByteWriter {
  buffer: Buffer;
  offset = 0;
  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }
  private ensure(extra: number): void {
    if (this.offset + extra <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.offset + extra));
    this.buffer.copy(bigger, 0, 0, this.offset);
    this.buffer = bigger;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buffer[this.offset++] = b;
  }
  /** Unsigned varint for non-negative integers up to 2^53, without 32-bit bitwise ops. */
  varint(n: number): void {
    this.ensure(8);
    while (n >= 0x80) {
      this.buffer[this.offset++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buffer[this.offset++] = n;
  }
  /**
   * Zigzag varints of the deltas of column[from, to), for as long as the
   * values are safe integers (not -0) whose deltas fit: chooseEncoding's
   * VarintDelta test and the writing in one pass. Returns `to` when every
   * value was written, else the index of the first that does not fit (the
   * caller then rewinds `offset`). Deltas below 2^31 (nearly all: steps and
   * wall-time increments) take 32-bit operations.
   */
  deltaVarints(column: ArrayLike<number>, from: number, to: number): number {
    this.ensure((to - from) * 8);
    const buffer = this.buffer;
    let o = this.offset;
    let previous = 0;
    for (let i = from; i < to; i++) {
      const v = column[i];
      const delta = v - previous;
      if (!Number.isSafeInteger(v) || (v === 0 && 1 / v < 0) || delta > MAX_SAFE_DELTA || delta < -MAX_SAFE_DELTA) {
        this.offset = o;
        return i;
      }
      previous = v;
      let z = delta >= 0 ? delta * 2 : -delta * 2 - 1;
      if (z < 0x80000000) {
        while (z >= 0x80) {
          buffer[o++] = (z & 0x7f) | 0x80;
          z >>>= 7;
        }
        buffer[o++] = z;
      } else {
        while (z >= 0x80) {
          buffer[o++] = (z % 0x80) | 0x80;
          z = Math.floor(z / 0x80);
        }
        buffer[o++] = z;
      }
    }
    this.offset = o;
    return to;
  }
  /** Bulk copy of a typed array's bytes (the platform is little-endian; checked below). */
  bytes(view: ArrayBufferView): void {
    this.ensure(view.byteLength);
    this.buffer.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), this.offset);
    this.offset += view.byteLength;
  }
  result(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }
}

class ByteReader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}
  byte(): number {
    if (this.offset >= this.buffer.length) throw new Error('chunk blob is truncated');
    return this.buffer[this.offset++];
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
  }
  /** Copies `count` elements into a fresh (aligned) typed array. */
  float64s(out: Float64Array): void {
    const byteLength = out.length * 8;
    if (this.offset + byteLength > this.buffer.length) throw new Error('chunk blob is truncated');
    new Uint8Array(out.buffer, out.byteOffset, byteLength).set(this.buffer.subarray(this.offset, this.offset + byteLength));
    this.offset += byteLength;
  }
  float32s(count: number): Float32Array {
    const byteLength = count * 4;
    if (this.offset + byteLength > this.buffer.length) throw new Error('chunk blob is truncated');
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(this.buffer.subarray(this.offset, this.offset + byteLength));
    this.offset += byteLength;
    return out;
  }
}

/** column[from, to) as a Float64Array: a view when it is one already, else a copy. */
function float64s(column: ArrayLike<number>, from: number, to: number): Float64Array {
  if (column instanceof Float64Array) return column.subarray(from, to);
  const out = new Float64Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = column[i];
  return out;
}

if (os.endianness() !== 'LE') {
  // Blobs are little-endian by definition; bulk copies assume the host is too.
  throw new Error('RunLens chunk codec needs a little-endian host');
}

const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

/** A float32 copy of a chunk's values, reused (chunks are encoded one at a time). */
let narrowScratch = new Float32Array(CHUNK_POINTS);

/**
 * Writes column[from, to) in the encoding chooseEncoding would choose, and
 * returns it. Steps and wall times are integers and values float32s (or
 * doubles) nearly always, so the likely encoding is tried while writing,
 * one pass per column; a column that turns out otherwise is rewound and
 * written as chooseEncoding decides.
 */
function writeBestColumn(w: ByteWriter, column: ArrayLike<number>, from: number, to: number, allowFloat32: boolean): NumberEncoding {
  const start = w.offset;
  const failedAt = w.deltaVarints(column, from, to);
  if (failedAt === to) return to > from ? NumberEncoding.VarintDelta : NumberEncoding.Absent;
  w.offset = start;
  if (allowFloat32 && failedAt === from) {
    // Not even the first value is an integer: most likely float32s. Test and narrow in one pass.
    const count = to - from;
    if (narrowScratch.length < count) narrowScratch = new Float32Array(count);
    const narrow = narrowScratch;
    let allNaN = true;
    let i = from;
    for (; i < to; i++) {
      const v = column[i];
      if (v !== v) {
        narrow[i - from] = v;
        continue;
      }
      allNaN = false;
      const f = Math.fround(v);
      if (f !== v) break;
      narrow[i - from] = f;
    }
    if (i === to) {
      // The first value is no integer delta (NaN, -0, a fraction, too big), so VarintDelta is out.
      if (allNaN) return NumberEncoding.Absent;
      w.bytes(narrow.subarray(0, count));
      return NumberEncoding.Float32;
    }
  }
  const encoding = chooseEncoding(column, from, to, allowFloat32);
  writeColumn(w, column, from, to, encoding);
  return encoding;
}

function writeColumn(w: ByteWriter, column: ArrayLike<number>, from: number, to: number, encoding: NumberEncoding): void {
  switch (encoding) {
    case NumberEncoding.Absent:
      return;
    case NumberEncoding.VarintDelta:
      w.deltaVarints(column, from, to);
      return;
    case NumberEncoding.Float32: {
      // TypedArray#set converts (rounding, exact here: every value is a float32) in native code.
      const narrow = new Float32Array(to - from);
      narrow.set(float64s(column, from, to));
      w.bytes(narrow);
      return;
    }
    case NumberEncoding.Float64:
      w.bytes(float64s(column, from, to));
      return;
    default: {
      const unknown: never = encoding;
      throw new Error(`unknown encoding ${String(unknown)}`);
    }
  }
}

function readColumn(r: ByteReader, out: Float64Array, encoding: NumberEncoding): void {
  switch (encoding) {
    case NumberEncoding.Absent:
      out.fill(NaN);
      return;
    case NumberEncoding.VarintDelta: {
      let previous = 0;
      for (let i = 0; i < out.length; i++) {
        previous += unzigzag(r.varint());
        out[i] = previous;
      }
      return;
    }
    case NumberEncoding.Float32:
      out.set(r.float32s(out.length));
      return;
    case NumberEncoding.Float64:
      r.float64s(out);
      return;
    default:
      throw new Error(`chunk blob has unknown column encoding ${String(encoding)}`);
  }
}

/** Encodes points[from, to) into one chunk blob. */
export function encodeChunk(points: PointColumns, from: number, to: number): Buffer {
  // Room for the worst case (8 bytes per number: a 53-bit varint or a float64), so it never grows;
  // allocUnsafe does not touch the bytes, and the blob is a view of the used part.
  return encodeInto(new ByteWriter(16 + (to - from) * 24), points, from, to);
}

/** One writer reused by encodeChunkTransient: big enough for a full chunk in the worst case. */
const scratch = new ByteWriter(16 + CHUNK_POINTS * 24);

/**
 * encodeChunk into a buffer that the next call overwrites: for a caller that
 * hands the blob on at once to something that copies it (SQLite binds blobs
 * as SQLITE_TRANSIENT), so that writing millions of points leaves no garbage
 * of a blob per chunk behind.
 */
export function encodeChunkTransient(points: PointColumns, from: number, to: number): Buffer {
  scratch.offset = 0;
  return encodeInto(scratch, points, from, to);
}

function encodeInto(w: ByteWriter, points: PointColumns, from: number, to: number): Buffer {
  const count = to - from;
  w.byte(CODEC_VERSION);
  const flagsAt = w.offset;
  w.byte(0); // the encodings, known once the columns are written
  w.varint(count);
  const stepEncoding = writeBestColumn(w, points.steps, from, to, false);
  // Integer-valued metrics (epoch counters) compress well as deltas too, but a
  // value column mixing ints and NaN would fall back to float64 anyway.
  const valueEncoding = writeBestColumn(w, points.values, from, to, true);
  const wallEncoding = writeBestColumn(w, points.walls, from, to, false);
  w.buffer[flagsAt] = stepEncoding | (valueEncoding << 2) | (wallEncoding << 4);
  return w.result();
}

export function decodeChunk(blob: Buffer): DecodedChunk {
  const r = new ByteReader(blob);
  const version = r.byte();
  if (version !== CODEC_VERSION) throw new Error(`chunk blob has codec version ${version}, expected ${CODEC_VERSION}`);
  const flags = r.byte();
  const count = r.varint();
  const steps = new Float64Array(count);
  const values = new Float64Array(count);
  const walls = new Float64Array(count);
  readColumn(r, steps, (flags & 3) as NumberEncoding);
  readColumn(r, values, ((flags >> 2) & 3) as NumberEncoding);
  readColumn(r, walls, ((flags >> 4) & 3) as NumberEncoding);
  return { steps, values, walls };
}

export interface ChunkStats {
  count: number;
  stepMin: number;
  stepMax: number;
  /** Over non-NaN values; null when every value is NaN. */
  valueMin: number | null;
  valueMax: number | null;
  lastValue: number;
  lastStep: number;
  lastWall: number;
}

export function chunkStats(points: PointColumns, from: number, to: number): ChunkStats {
  let stepMin = Infinity;
  let stepMax = -Infinity;
  let valueMin = Infinity;
  let valueMax = -Infinity;
  let sawValue = false;
  const steps = points.steps;
  const values = points.values;
  for (let i = from; i < to; i++) {
    const s = steps[i];
    if (s < stepMin) stepMin = s;
    if (s > stepMax) stepMax = s;
    const v = values[i];
    if (v === v) {
      sawValue = true;
      if (v < valueMin) valueMin = v;
      if (v > valueMax) valueMax = v;
    }
  }
  return {
    count: to - from,
    stepMin,
    stepMax,
    valueMin: sawValue ? valueMin : null,
    valueMax: sawValue ? valueMax : null,
    lastValue: points.values[to - 1],
    lastStep: points.steps[to - 1],
    lastWall: points.walls[to - 1],
  };
}
