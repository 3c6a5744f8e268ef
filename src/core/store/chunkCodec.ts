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

function integerDeltasFit(column: ArrayLike<number>, from: number, to: number): boolean {
  let previous = 0;
  for (let i = from; i < to; i++) {
    const v = column[i];
    // -0 is not an integer delta away from anything: keep it exact as a float.
    if (!Number.isSafeInteger(v) || Object.is(v, -0)) return false;
    const delta = v - previous;
    if (delta > MAX_SAFE_DELTA || delta < -MAX_SAFE_DELTA) return false;
    previous = v;
  }
  return true;
}

function allFloat32Exact(column: ArrayLike<number>, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const v = column[i];
    // NaN payloads are not preserved by either encoding; NaN stays NaN.
    if (Math.fround(v) !== v && !Number.isNaN(v)) return false;
  }
  return true;
}

function allNaN(column: ArrayLike<number>, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!Number.isNaN(column[i])) return false;
  return true;
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

function slice(column: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (ArrayBuffer.isView(column)) return (column as unknown as Float64Array).subarray(from, to);
  return Array.prototype.slice.call(column, from, to) as number[];
}

if (os.endianness() !== 'LE') {
  // Blobs are little-endian by definition; bulk copies assume the host is too.
  throw new Error('RunLens chunk codec needs a little-endian host');
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

function chooseEncoding(column: ArrayLike<number>, from: number, to: number, allowFloat32: boolean): NumberEncoding {
  if (allNaN(column, from, to)) return NumberEncoding.Absent;
  if (integerDeltasFit(column, from, to)) return NumberEncoding.VarintDelta;
  if (allowFloat32 && allFloat32Exact(column, from, to)) return NumberEncoding.Float32;
  return NumberEncoding.Float64;
}

function writeColumn(w: ByteWriter, column: ArrayLike<number>, from: number, to: number, encoding: NumberEncoding): void {
  switch (encoding) {
    case NumberEncoding.Absent:
      return;
    case NumberEncoding.VarintDelta: {
      let previous = 0;
      for (let i = from; i < to; i++) {
        w.varint(zigzag(column[i] - previous));
        previous = column[i];
      }
      return;
    }
    case NumberEncoding.Float32:
      w.bytes(Float32Array.from(slice(column, from, to)));
      return;
    case NumberEncoding.Float64:
      w.bytes(column instanceof Float64Array ? column.subarray(from, to) : Float64Array.from(slice(column, from, to)));
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
  const count = to - from;
  const stepEncoding = chooseEncoding(points.steps, from, to, false);
  const valueEncoding = chooseEncoding(points.values, from, to, true);
  const wallEncoding = chooseEncoding(points.walls, from, to, false);
  const w = new ByteWriter(16 + count * 12);
  w.byte(CODEC_VERSION);
  w.byte(stepEncoding | (valueEncoding << 2) | (wallEncoding << 4));
  w.varint(count);
  writeColumn(w, points.steps, from, to, stepEncoding);
  // Integer-valued metrics (epoch counters) compress well as deltas too, but a
  // value column mixing ints and NaN would fall back to float64 anyway.
  writeColumn(w, points.values, from, to, valueEncoding);
  writeColumn(w, points.walls, from, to, wallEncoding);
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
  for (let i = from; i < to; i++) {
    const s = points.steps[i];
    if (s < stepMin) stepMin = s;
    if (s > stepMax) stepMax = s;
    const v = points.values[i];
    if (!Number.isNaN(v)) {
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
