// Metric points are stored per series in chunks: one BLOB of up to
// CHUNK_POINTS points plus a few summary columns. One row per point tops out
// around a million rows per second and 40+ bytes per point once indexed; a
// chunk costs ~10-17 bytes per point and one INSERT per few thousand points.
//
// Encoding is exact: values are float64 unless every value in the chunk is
// exactly a float32 (TensorBoard writes float32), steps and wall times are
// zigzag-varint deltas when they are integers. Other doubles (TensorBoard's
// fractional wall times: seconds * 1000) are stored as the first one's 8
// bytes and then the differences of consecutive 64-bit patterns as zigzag
// varints: neighbouring times share sign, exponent and high mantissa bits,
// so a wall time 0.04-1 s after the one before takes 3-4 bytes instead of 8,
// still bit for bit. Doubles whose patterns are far apart (random values)
// stay plain float64.
//
// Blob layout, version 2: version byte, one encoding byte per column (steps,
// values, walls), the point count as a varint, then the columns in that
// order. Version 1 (read, no longer written) packed the three encodings,
// which had no bit-delta, into one byte.

import * as os from 'node:os';

export const CHUNK_POINTS = 4096;
/** Written. A database with version-2 chunks is schema version 5 (migrations.ts), so an older RunLens refuses it instead of failing on its chunks. */
const CODEC_VERSION = 2;
/** Still read: chunks written before version 2. */
const CODEC_VERSION_PACKED_FLAGS = 1;

const enum NumberEncoding {
  VarintDelta = 0,
  Float64 = 1,
  Float32 = 2,
  Absent = 3,
  /** The first value as float64, then zigzag varints of the differences between consecutive 64-bit patterns (version 2 only). */
  Float64BitDelta = 4,
}

/** Beyond this a zigzag delta no longer fits in a double's exact integer range. */
const MAX_SAFE_DELTA = 2 ** 51;

/** A bit-pattern difference this big (zigzagged) takes 7 varint bytes or more: not worth it over 8 bytes of float64. */
const MAX_BIT_DELTA = 2 ** 42;

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

/**
 * Writes the unsigned varint of `n` (a non-negative integer up to 2^53) at
 * buffer[at] and returns the offset after it. Division instead of shifts:
 * 32-bit operations would cut numbers of 2^31 and more.
 */
function putWideVarint(buffer: Buffer, at: number, n: number): number {
  let o = at;
  while (n >= 0x80) {
    buffer[o++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buffer[o++] = n;
  return o;
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
    this.offset = putWideVarint(this.buffer, this.offset, n);
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
      if ((delta | 0) === delta && v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER && (v !== 0 || 1 / v > 0)) {
        // Nearly every value after the first: an int32 step from an integer (`previous` is one:
        // 0, or a value that passed), so a safe integer itself; its zigzag in 32-bit operations.
        previous = v;
        let z = ((delta << 1) ^ (delta >> 31)) >>> 0;
        while (z >= 0x80) {
          buffer[o++] = (z & 0x7f) | 0x80;
          z >>>= 7;
        }
        buffer[o++] = z;
        continue;
      }
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
        o = putWideVarint(buffer, o, z);
      }
    }
    this.offset = o;
    return to;
  }
  /**
   * Float64BitDelta of column[from, to): the first value's 8 bytes, then
   * each value's 64-bit pattern minus the one before, as a zigzag varint.
   * Returns false (the caller rewinds `offset`) as soon as a difference
   * is MAX_BIT_DELTA or more (7+ varint bytes): then float64 is about as small, and
   * random doubles (whose patterns differ by ~2^52) give up at the first.
   */
  bitDeltas(column: Float64Array, from: number, to: number): boolean {
    const count = to - from;
    this.ensure(count * 8);
    // Words as int32: differences of the high words are then taken as signed, which is the
    // same difference modulo 2^64 (all the decoder needs) and small for negative doubles too.
    const words = new Int32Array(column.buffer, column.byteOffset + from * 8, count * 2);
    const buffer = this.buffer;
    let o = this.offset;
    buffer.set(new Uint8Array(column.buffer, column.byteOffset + from * 8, 8), o);
    o += 8;
    let previousLow = words[0] >>> 0;
    let previousHigh = words[1];
    for (let i = 1; i < count; i++) {
      const low = words[2 * i] >>> 0;
      const high = words[2 * i + 1];
      const lowDelta = low - previousLow;
      const highDelta = high - previousHigh;
      previousLow = low;
      previousHigh = high;
      if (highDelta === 0 && (lowDelta | 0) === lowDelta) {
        // Nearly every neighbour: the high words agree and the difference is an int32, whose
        // zigzag (n << 1) ^ (n >> 31), read as uint32, is exact with 32-bit operations.
        const z = ((lowDelta << 1) ^ (lowDelta >> 31)) >>> 0;
        if (z < 0x80) buffer[o++] = z;
        else if (z < 0x4000) {
          buffer[o++] = (z & 0x7f) | 0x80;
          buffer[o++] = z >>> 7;
        } else if (z < 0x200000) {
          buffer[o++] = (z & 0x7f) | 0x80;
          buffer[o++] = ((z >>> 7) & 0x7f) | 0x80;
          buffer[o++] = z >>> 14;
        } else if (z < 0x10000000) {
          buffer[o++] = (z & 0x7f) | 0x80;
          buffer[o++] = ((z >>> 7) & 0x7f) | 0x80;
          buffer[o++] = ((z >>> 14) & 0x7f) | 0x80;
          buffer[o++] = z >>> 21;
        } else {
          buffer[o++] = (z & 0x7f) | 0x80;
          buffer[o++] = ((z >>> 7) & 0x7f) | 0x80;
          buffer[o++] = ((z >>> 14) & 0x7f) | 0x80;
          buffer[o++] = ((z >>> 21) & 0x7f) | 0x80;
          buffer[o++] = z >>> 28;
        }
        continue;
      }
      // Exact: a power-of-two product, and a sum whose size is checked right after.
      const delta = highDelta * 4294967296 + lowDelta;
      const z = delta >= 0 ? delta * 2 : -delta * 2 - 1;
      if (z >= MAX_BIT_DELTA) return false;
      o = putWideVarint(buffer, o, z);
    }
    this.offset = o;
    return true;
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
  /** Float64BitDelta into `out`: the first value's bytes, then each pattern from the one before. */
  bitDeltas(out: Float64Array): void {
    if (out.length === 0) return;
    this.float64s(out.subarray(0, 1));
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
    const buffer = this.buffer;
    const length = buffer.length;
    let o = this.offset;
    let low = words[0];
    let high = words[1];
    for (let i = 1; i < out.length; i++) {
      // The zigzag varint, in 32-bit steps while it fits 32 bits (nearly always: see the writer).
      let z = 0;
      let shift = 0;
      let b: number;
      do {
        if (o >= length) throw new Error('chunk blob is truncated');
        b = buffer[o++];
        if (shift < 28) z |= (b & 0x7f) << shift;
        else z += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b >= 0x80);
      let sum: number;
      if (z <= 0xffffffff) {
        // A difference within int32: added to the low word, with a carry or borrow.
        sum = low + ((z >>> 1) ^ -(z & 1));
      } else {
        const delta = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        const deltaLow = ((delta % 4294967296) + 4294967296) % 4294967296;
        high = (high + (delta - deltaLow) / 4294967296) >>> 0;
        sum = low + deltaLow;
      }
      if (sum >= 4294967296) {
        sum -= 4294967296;
        high = (high + 1) >>> 0;
      } else if (sum < 0) {
        sum += 4294967296;
        high = (high - 1) >>> 0;
      }
      low = sum;
      words[2 * i] = low;
      words[2 * i + 1] = high;
    }
    this.offset = o;
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
  if (encoding === NumberEncoding.Float64 && to - from > 1) {
    if (w.bitDeltas(float64s(column, from, to), 0, to - from)) return NumberEncoding.Float64BitDelta;
    w.offset = start;
  }
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
    case NumberEncoding.Float64BitDelta:
      // Decided by writing it (writeBestColumn): chooseEncoding never picks it.
      throw new Error('a bit-delta column is only written by writeBestColumn');
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
    case NumberEncoding.Float64BitDelta:
      r.bitDeltas(out);
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
  const encodingsAt = w.offset;
  for (let column = 0; column < 3; column++) w.byte(0); // the encodings, known once the columns are written
  w.varint(count);
  const stepEncoding = writeBestColumn(w, points.steps, from, to, false);
  // Integer-valued metrics (epoch counters) compress well as deltas too, but a
  // value column mixing ints and NaN would fall back to float64 anyway.
  const valueEncoding = writeBestColumn(w, points.values, from, to, true);
  const wallEncoding = writeBestColumn(w, points.walls, from, to, false);
  w.buffer[encodingsAt] = stepEncoding;
  w.buffer[encodingsAt + 1] = valueEncoding;
  w.buffer[encodingsAt + 2] = wallEncoding;
  return w.result();
}

export function decodeChunk(blob: Buffer): DecodedChunk {
  const r = new ByteReader(blob);
  const version = r.byte();
  let encodings: [NumberEncoding, NumberEncoding, NumberEncoding];
  if (version === CODEC_VERSION) {
    encodings = [r.byte(), r.byte(), r.byte()];
  } else if (version === CODEC_VERSION_PACKED_FLAGS) {
    const flags = r.byte();
    encodings = [flags & 3, (flags >> 2) & 3, (flags >> 4) & 3];
  } else {
    throw new Error(`chunk blob has codec version ${version}, expected ${CODEC_VERSION_PACKED_FLAGS} or ${CODEC_VERSION}`);
  }
  const count = r.varint();
  const steps = new Float64Array(count);
  const values = new Float64Array(count);
  const walls = new Float64Array(count);
  readColumn(r, steps, encodings[0]);
  readColumn(r, values, encodings[1]);
  readColumn(r, walls, encodings[2]);
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
