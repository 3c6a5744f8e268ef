// Messages between the TFRecord framing worker (framingWorker.ts) and the
// reader thread (framing.ts). The worker reads an event file and checks
// every record's CRCs; the reader thread decodes the records it verified,
// a window or two behind, so checksums and decoding run on two cores.
//
// Bytes travel in shared memory, not in messages: the worker reads the file
// straight into SharedArrayBuffers, and a window's message says where in one
// its verified records are. Records that follow each other without a gap
// (every window of an intact file) are found by the reader from their
// length prefixes; a window with a gap (a damaged record skipped) comes with
// each record's range. A buffer's flag in `control` says whether the reader
// still has it; the worker reads into no buffer the reader still has, so
// it runs at most MAX_BUFFERS windows ahead.
//
// Reading ahead across reads. A big file is read in slices (the engine
// writes each before it asks for the next), and each slice is one read that
// stops at its byte budget. When a read stops there, the worker goes on at
// once with the read the reader will most likely ask for next: same file,
// from where this one stopped, same end, window and budget, under the next
// id. The reader, while it writes the slice, leaves those windows queued; if
// its next read is exactly that read, it adopts it (and gets windows already
// verified), else it abandons it (Abort, then drains its replies, releasing
// their buffers) and asks for the read it wants. The speculative read is the
// same code with the same arguments over the same bytes, so what it hands
// over is what the asked-for read would have.
import type { IngestWarning } from '../types';
import type { RecordCursor } from './tfrecord';

/**
 * Shared read buffers the worker may have at once (its own two, the rest
 * waiting for the reader): how far it may read ahead, also while the reader
 * writes a slice (a window takes about 2.5 ms to verify, a slice's write
 * about 20 ms).
 */
export const MAX_BUFFERS = 12;

/** Int32 indexes into the control buffer. */
export const enum Control {
  /** 1: the reader gave up on this read (cancelled, or failed): the worker stops at its next record or window. */
  Abort = 0,
  /** Counts the reader's releases: what the worker waits on when every buffer is taken. */
  Releases = 1,
  /** Control[HeldByReader + id] is 1 while buffer `id` holds records the reader has not decoded yet. */
  HeldByReader = 2,
}

export const CONTROL_INTS = Control.HeldByReader + MAX_BUFFERS;

/** Reader → worker. */
export type FramingRequest =
  | { type: 'setup'; control: SharedArrayBuffer }
  | {
      type: 'read';
      id: number;
      /** An open descriptor of the file (the reader's; it stays open until the worker answers). */
      fd: number;
      file: string;
      cursor: RecordCursor;
      endOffset: number;
      windowBytes?: number;
      maxBytes?: number;
    }
  /** The reader takes the read-ahead `id` (announced by a 'done' with `readingAhead`) as its read. */
  | { type: 'adopt'; id: number }
  /** The last message: close what is open and end. */
  | { type: 'stop' };

/** Worker → reader. */
export type FramingReply =
  | {
      type: 'window';
      id: number;
      /** The shared buffer that holds the records, and its id (release it with control[HeldByReader + bufferId] = 0). */
      buffer: SharedArrayBuffer;
      bufferId: number;
      /** Where the first record's header starts in `buffer`, and its file offset. */
      first: number;
      base: number;
      count: number;
      /** Only when the records are not back to back: each record's data as [start, end) of `buffer`. */
      ranges?: Uint32Array;
    }
  | {
      type: 'done';
      id: number;
      cursor: RecordCursor;
      records: number;
      warnings: IngestWarning[];
      bytesNeededAtCursor: number;
      truncated: boolean;
      /** The worker went on with the next slice's read (same file, end, window and budget, from `cursor`) as read `id + 1`. */
      readingAhead: boolean;
    }
  | { type: 'failed'; id: number; message: string; code?: string };
