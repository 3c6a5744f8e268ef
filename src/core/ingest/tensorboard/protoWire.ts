// Small helpers over protobufjs's low-level Reader. We walk the wire format
// field by field instead of decoding whole messages, so that big payloads we
// never show (graphs, images, histograms) are skipped by length, not parsed.
import { Reader } from 'protobufjs/minimal';

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

export interface FieldKey {
  fieldNumber: number;
  wireType: number;
}

export function readFieldKey(reader: Reader): FieldKey {
  const key = reader.uint32();
  return { fieldNumber: key >>> 3, wireType: key & 7 };
}

/** Reads a length prefix and returns the offset where that nested message or byte string ends. */
export function readLengthDelimitedEnd(reader: Reader): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new RangeError(`length-delimited field of ${length} bytes runs past the end of its message`);
  return end;
}

/** Byte range of a length-delimited field, for decoding later without copying. */
export function readByteRange(reader: Reader): { start: number; end: number } {
  const end = readLengthDelimitedEnd(reader);
  const start = reader.pos;
  reader.pos = end;
  return { start, end };
}

/**
 * protobufjs returns a `Long` for 64-bit varints when the `long` package can be
 * found at run time and a plain number otherwise (e.g. in a bundle), so accept
 * both. Beyond 2^53 the nearest double is returned: steps that large do not
 * occur in practice and a chart could not tell them apart anyway.
 */
export function readInt64AsNumber(reader: Reader): number {
  const raw = reader.int64() as unknown as number | { low: number; high: number };
  if (typeof raw === 'number') return raw;
  return raw.high * 0x100000000 + (raw.low >>> 0);
}
