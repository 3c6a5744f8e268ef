// TFRecord framing: every record is
//   uint64 LE length | uint32 LE masked CRC-32C of those 8 bytes | data | uint32 LE masked CRC-32C of data
//
// Event files are appended to by a live training process, so reading is
// incremental: a scan starts at a cursor and returns the cursor just past the
// last complete record. A short record at the end is "not written yet", not an
// error: the next scan starts at it again. A checksum mismatch is damage: it is
// reported once (file and byte offset), and the scan either skips the one bad
// record (when its length is trustworthy) or slides forward byte by byte until
// a header checks out again, keeping every record read before and after.
import * as fs from 'node:fs';
import type { IngestWarning } from '../types';
import { giveReadBuffer, takeReadBuffer } from '../series';
import { maskedCrc32c } from './crc32c';

export const RECORD_HEADER_BYTES = 12;
export const RECORD_FOOTER_BYTES = 4;

/** Protobuf messages cannot exceed 2 GiB, so a longer length is damage even if its checksum matches. */
const MAX_RECORD_DATA_BYTES = 0x7fffffff;

/** Where to continue reading a file. Persist it between reads of a growing file. */
export interface RecordCursor {
  /** Byte offset just after the last complete record (or of the damaged bytes still being skipped). */
  readonly offset: number;
  /**
   * True while skipping damaged bytes. The damage was already reported; the
   * next scan keeps looking for a valid header without reporting it again.
   */
  readonly resyncing: boolean;
}

export const FILE_START: RecordCursor = { offset: 0, resyncing: false };

export interface RecordScanResult {
  cursor: RecordCursor;
  /** Complete, checksum-verified records handed to the callback. */
  records: number;
  warnings: IngestWarning[];
  /**
   * Bytes needed from `cursor.offset` to finish the record that stopped the
   * scan (12 while even the header is incomplete). Lets a windowed file
   * reader size its next read to a record larger than its window.
   */
  bytesNeededAtCursor: number;
}

/**
 * Receives one record's data as a view into the scan buffer: it is only valid
 * during the call (the buffer is reused), so decode it or copy it.
 */
export type RecordHandler = (data: Buffer, recordOffset: number) => void;

/**
 * Receives one record's data as the range [start, end) of `bytes`, the scan
 * buffer (reused after the call): no view is created per record, which
 * matters for files of millions of small scalar events.
 */
export type RecordRangeHandler = (bytes: Buffer, start: number, end: number, recordOffset: number) => void;

/** Little-endian uint32 at `pos` (in range): Buffer#readUInt32LE validates its arguments on every call. */
function uint32At(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24)) >>> 0;
}

/**
 * Scans the records in `bytes`, which hold the file's bytes starting at file
 * offset `bytesFileOffset`, beginning at `cursor.offset`. `file` only names the
 * file in warnings.
 */
export function scanRecords(
  bytes: Buffer,
  bytesFileOffset: number,
  cursor: RecordCursor,
  file: string,
  onRecord: RecordHandler,
): RecordScanResult {
  return scanRecordRanges(bytes, bytesFileOffset, cursor, file, (buffer, start, end, recordOffset) => onRecord(buffer.subarray(start, end), recordOffset));
}

/** scanRecords, handing each record over as a range of `bytes`. */
export function scanRecordRanges(
  bytes: Buffer,
  bytesFileOffset: number,
  cursor: RecordCursor,
  file: string,
  onRecord: RecordRangeHandler,
): RecordScanResult {
  let pos = cursor.offset - bytesFileOffset;
  if (pos < 0 || pos > bytes.length) {
    throw new RangeError(`cursor ${cursor.offset} is outside the buffer [${bytesFileOffset}, ${bytesFileOffset + bytes.length}]`);
  }
  const warnings: IngestWarning[] = [];
  let resyncing = cursor.resyncing;
  let records = 0;
  let bytesNeededAtCursor: number;

  for (;;) {
    const available = bytes.length - pos;
    if (available < RECORD_HEADER_BYTES) {
      bytesNeededAtCursor = RECORD_HEADER_BYTES;
      break;
    }
    const lengthLow = uint32At(bytes, pos);
    const lengthHigh = uint32At(bytes, pos + 4);
    const headerIntact =
      uint32At(bytes, pos + 8) === maskedCrc32c(bytes, pos, pos + 8) &&
      lengthHigh === 0 &&
      lengthLow <= MAX_RECORD_DATA_BYTES;
    if (!headerIntact) {
      if (!resyncing) {
        warnings.push({
          file,
          message: `Damaged TFRecord header at byte ${bytesFileOffset + pos} (length checksum mismatch); skipping to the next intact record.`,
        });
        resyncing = true;
      }
      pos += 1;
      continue;
    }
    const dataLength = lengthLow;
    const recordLength = RECORD_HEADER_BYTES + dataLength + RECORD_FOOTER_BYTES;
    if (available < recordLength) {
      // Either still being written, or (rarely, while resyncing) a chance
      // header match: both resolve once more bytes exist.
      bytesNeededAtCursor = recordLength;
      break;
    }
    const dataStart = pos + RECORD_HEADER_BYTES;
    const dataEnd = dataStart + dataLength;
    if (uint32At(bytes, dataEnd) !== maskedCrc32c(bytes, dataStart, dataEnd)) {
      if (resyncing) {
        // A header that matched by chance inside damaged bytes: keep sliding.
        pos += 1;
        continue;
      }
      // The length was verified, so only this record is lost; the next one starts right after it.
      warnings.push({
        file,
        message: `Damaged TFRecord at byte ${bytesFileOffset + pos} (data checksum mismatch, ${dataLength} bytes); record skipped.`,
      });
      pos += recordLength;
      continue;
    }
    resyncing = false;
    onRecord(bytes, dataStart, dataEnd, bytesFileOffset + pos);
    records++;
    pos += recordLength;
  }
  return { cursor: { offset: bytesFileOffset + pos, resyncing }, records, warnings, bytesNeededAtCursor };
}

export interface FileRecordReadOptions {
  /** Stop at this file offset instead of the file's size when the read started. */
  endOffset?: number;
  /** Bytes read per system call; records larger than this are read whole. */
  windowBytes?: number;
  /**
   * Stop after the record that brings the bytes scanned past this many
   * (a record is never split; one call always gets past at least one).
   * The result's `truncated` then says whether bytes were left before `endOffset`.
   */
  maxBytes?: number;
  signal?: AbortSignal;
  /**
   * Called after the records of each read window were handed over, while
   * their bytes are still valid (the window is reused or read into after it
   * returns): where a caller that collected ranges copies them out.
   */
  onWindowScanned?: () => void;
  /** Where read windows come from and go back to (default: the ingest's pool of read buffers). */
  buffers?: ReadBuffers;
}

/** A source of read buffers: `give` gets back each buffer `take` gave (and may get buffers it never gave: ignored). */
export interface ReadBuffers {
  take(minimum: number): Buffer;
  give(buffer: Uint8Array): void;
}

const POOLED_READ_BUFFERS: ReadBuffers = { take: takeReadBuffer, give: giveReadBuffer };

export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * Reads the records of `filePath` from `cursor` to the end of the file as it
 * is now (its size is taken once, so a writer appending meanwhile does not
 * keep us chasing it; those records are for the next read). Reads in windows
 * so a multi-gigabyte file with images never sits in memory whole.
 */
export async function readRecordsFromFile(
  filePath: string,
  cursor: RecordCursor,
  onRecord: RecordHandler,
  options: FileRecordReadOptions = {},
): Promise<RecordScanResult> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const endOffset = options.endOffset ?? (await handle.stat()).size;
    return await readRecordsFromHandle(handle, cursor, endOffset, filePath, onRecord, options);
  } finally {
    await handle.close();
  }
}

/** Reads the records in the byte range [`cursor.offset`, `endOffset`) of an open file. */
export async function readRecordsFromHandle(
  handle: fs.promises.FileHandle,
  cursor: RecordCursor,
  endOffset: number,
  file: string,
  onRecord: RecordHandler,
  options: Pick<FileRecordReadOptions, 'windowBytes' | 'signal' | 'maxBytes'> = {},
): Promise<RecordScanResult & { truncated: boolean }> {
  return readRecordRangesFromHandle(handle, cursor, endOffset, file, (bytes, start, end, recordOffset) => onRecord(bytes.subarray(start, end), recordOffset), options);
}

/** readRecordsFromHandle, handing each record over as a range of the read window. */
export async function readRecordRangesFromHandle(
  handle: fs.promises.FileHandle,
  cursor: RecordCursor,
  endOffset: number,
  file: string,
  onRecord: RecordRangeHandler,
  options: Pick<FileRecordReadOptions, 'windowBytes' | 'signal' | 'maxBytes' | 'onWindowScanned' | 'buffers'> = {},
): Promise<RecordScanResult & { truncated: boolean }> {
  const { take: takeBuffer, give: giveBuffer } = options.buffers ?? POOLED_READ_BUFFERS;
  const windowBytes = Math.max(RECORD_HEADER_BYTES + RECORD_FOOTER_BYTES, options.windowBytes ?? DEFAULT_WINDOW_BYTES);
  const maxBytes = options.maxBytes ?? Infinity;
  const warnings: IngestWarning[] = [];
  let records = 0;
  let current = cursor;
  let bytesNeededAtCursor = RECORD_HEADER_BYTES;
  let truncated = false;
  /** How many bytes to read at `offset` for the next window: within the budget, but always the whole record there. */
  const windowAt = (offset: number, needed: number) => {
    const budgetLeft = maxBytes - (offset - cursor.offset);
    return Math.min(endOffset - offset, Math.max(Math.min(windowBytes, Math.max(budgetLeft, RECORD_HEADER_BYTES + RECORD_FOOTER_BYTES)), needed));
  };
  // The bytes in hand: data = buffer[dataStart, dataEnd), file offset `position`.
  let buffer: Buffer = Buffer.allocUnsafe(0);
  let data: Buffer = buffer;
  let position = cursor.offset;
  let shortRead = false;
  // The read of the bytes after `data`, started before `data` is scanned so
  // that the disk (or the page cache copy) works while the CPU scans. It
  // lands AHEAD_ROOM bytes into its buffer, so that the unfinished record at
  // the end of `data` can be put in front of it without moving the rest.
  let ahead: { buffer: Buffer; position: number; length: number; read: Promise<number> } | undefined;
  const settleAhead = async () => {
    if (!ahead) return;
    const pending = ahead;
    ahead = undefined;
    await pending.read.catch(() => 0);
    giveBuffer(pending.buffer);
  };

  try {
    while (current.offset < endOffset) {
      options.signal?.throwIfAborted();
      if (maxBytes - (current.offset - cursor.offset) <= 0 && current.offset > cursor.offset) {
        truncated = true;
        break;
      }
      const wanted = windowAt(current.offset, bytesNeededAtCursor);
      const tail = data.subarray(current.offset - position);
      if (ahead && ahead.position === position + data.length && tail.length <= AHEAD_ROOM) {
        // The next window: the unfinished record at the end of the last one, then what was read ahead.
        const next = ahead;
        ahead = undefined;
        const got = await next.read;
        next.buffer.set(tail, AHEAD_ROOM - tail.length);
        giveBuffer(buffer);
        buffer = next.buffer;
        data = buffer.subarray(AHEAD_ROOM - tail.length, AHEAD_ROOM + got);
        shortRead = got < next.length;
        position = current.offset;
      } else {
        await settleAhead();
        data = Buffer.allocUnsafe(0);
        shortRead = false;
      }
      if (data.length < wanted && !shortRead) {
        // No read-ahead (the first window, a record bigger than it, a file cut short): read here.
        giveBuffer(buffer);
        buffer = takeBuffer(wanted);
        const got = await readFully(handle, buffer, 0, wanted, current.offset);
        data = buffer.subarray(0, got);
        shortRead = got < wanted;
        position = current.offset;
      }
      const dataEnd = position + data.length;
      const reachedEnd = dataEnd >= endOffset || shortRead;
      if (!reachedEnd && maxBytes - (dataEnd - cursor.offset) > 0) {
        const length = windowAt(dataEnd, 0);
        const aheadBuffer = takeBuffer(AHEAD_ROOM + length);
        ahead = { buffer: aheadBuffer, position: dataEnd, length, read: readFully(handle, aheadBuffer, AHEAD_ROOM, length, dataEnd) };
      }
      const scan = scanRecordRanges(data, position, current, file, onRecord);
      options.onWindowScanned?.();
      warnings.push(...scan.warnings);
      records += scan.records;
      bytesNeededAtCursor = scan.bytesNeededAtCursor;
      current = scan.cursor;
      // At the end of the range an incomplete record is the writer's unfinished
      // tail. Elsewhere the next window starts at it and is made big enough.
      if (reachedEnd) break;
    }
  } finally {
    // Records were handed over as ranges of the window, valid only during the call: done with it.
    await settleAhead();
    giveBuffer(buffer);
  }
  return { cursor: current, records, warnings, bytesNeededAtCursor, truncated };
}

/** Room in front of a read-ahead buffer for the unfinished record of the window before it. */
export const AHEAD_ROOM = 64 * 1024;

/** Reads `length` bytes at `position` into `into` from `at`, or up to the end of the file (it may have been truncated meanwhile). */
async function readFully(handle: fs.promises.FileHandle, into: Buffer, at: number, length: number, position: number): Promise<number> {
  let total = 0;
  while (total < length) {
    const { bytesRead } = await handle.read(into, at + total, length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}

/** Frames `data` as one TFRecord (header, data, footer), ready to append to a file. */
export function frameRecord(data: Uint8Array): Buffer {
  if (data.length > MAX_RECORD_DATA_BYTES) throw new RangeError(`record of ${data.length} bytes is larger than a protobuf message can be`);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + data.length + RECORD_FOOTER_BYTES);
  record.writeUInt32LE(data.length, 0);
  record.writeUInt32LE(0, 4);
  record.writeUInt32LE(maskedCrc32c(record, 0, 8), 8);
  record.set(data, RECORD_HEADER_BYTES);
  record.writeUInt32LE(maskedCrc32c(data), RECORD_HEADER_BYTES + data.length);
  return record;
}
