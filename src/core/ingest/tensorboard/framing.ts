// Reading the records of an event file with the checksums on a second core.
//
// Verifying both CRC-32Cs of every record is about half of reading a big
// scalar event file (millions of ~40-byte records), and decoding and storing
// the events is the other half. For a big read, a worker thread
// (framingWorker.ts) reads the file and verifies the records while this
// thread decodes the records it already verified, one window behind; a
// small read (a live append, a small file) is not worth the hand-over and is
// read here as before. Both paths run the same framing code
// (readRecordRangesFromHandle), so records, cursors and warnings are the same.
//
// A big file is read in slices, and the engine writes each slice before it
// asks for the next; meanwhile the worker goes on reading and verifying the
// next slice (framingProtocol.ts), which the next read adopts when it is
// exactly that read (same file, cursor, end, window and budget) and drops
// otherwise. So the second core works through the writes too, and a slice's
// first windows are ready when it is asked for.
//
// One worker serves every read of an ingest and is stopped at its end
// (stopFramingWorker), so an idle agent keeps no thread and no shared buffers.
// Where it cannot start (a bundle without dist/framingWorker.js), reads stay
// on this thread. RUNLENS_TFRECORD_FRAMING=thread keeps them there always
// (worker: always the worker, for tests).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CONTROL_INTS, Control, type FramingReply, type FramingRequest } from './framingProtocol';
import {
  DEFAULT_WINDOW_BYTES,
  RECORD_FOOTER_BYTES,
  RECORD_HEADER_BYTES,
  readRecordRangesFromHandle,
  type FileRecordReadOptions,
  type RecordCursor,
  type RecordRangeHandler,
  type RecordScanResult,
} from './tfrecord';

/** How long a stopped worker may take to close its descriptor and end before it is terminated. */
const STOP_GRACE_MS = 2000;

/** Reads this big or bigger go to the worker by default: smaller ones end before the hand-over pays for itself. */
export const WORKER_MIN_BYTES = 2 * DEFAULT_WINDOW_BYTES;

/**
 * The worker's read window. Smaller than a read on this thread's: each read
 * starts with a window that only the worker works on and ends with one that
 * only this thread works on, so the smaller the windows, the more of a read
 * runs on both cores (measured: 4 MiB windows 0.51-0.60 s for a 200 MB file
 * read in 16 MiB slices, 1 MiB 0.43-0.55 s, against 0.74-0.77 s on one thread).
 */
export const WORKER_WINDOW_BYTES = 1024 * 1024;

/** Where a read's framing runs: 'auto' (the worker for big reads), or always on this thread or the worker. */
export type FramingMode = 'auto' | 'thread' | 'worker';

export interface FramedReadOptions extends Pick<FileRecordReadOptions, 'windowBytes' | 'signal' | 'maxBytes'> {
  /** Default: RUNLENS_TFRECORD_FRAMING, else 'auto'. */
  framing?: FramingMode;
}

type FramedReadResult = RecordScanResult & { truncated: boolean };

/**
 * readRecordRangesFromHandle, with the framing on the worker where the read
 * is big enough (see the top of this file). Records arrive in file order,
 * each as a range of a buffer valid only during the call.
 */
export async function readRecordRangesFramed(
  handle: fs.promises.FileHandle,
  cursor: RecordCursor,
  endOffset: number,
  file: string,
  onRecord: RecordRangeHandler,
  options: FramedReadOptions = {},
): Promise<FramedReadResult> {
  const mode = options.framing ?? framingModeFromEnvironment();
  const bytes = Math.min(endOffset - cursor.offset, options.maxBytes ?? Infinity);
  // A small read that the worker already read ahead (the last slice of a big file) is taken from it too.
  const small = bytes < WORKER_MIN_BYTES && !shared?.readAheadMatches(handle.fd, file, cursor, endOffset, options);
  const worker = mode === 'thread' || (mode === 'auto' && small) ? undefined : sharedWorker();
  if (worker && !worker.busy) {
    const result = await worker.read(handle.fd, file, cursor, endOffset, onRecord, options);
    if (result !== 'not-started') return result;
  } else if (!worker && shared?.readingAhead) {
    // Not the read the worker reads ahead (that one would have gone there): it need not hold the
    // file open and its buffers while this thread reads.
    await shared.dropReadAhead();
  }
  return readRecordRangesFromHandle(handle, cursor, endOffset, file, onRecord, options);
}

function framingModeFromEnvironment(): FramingMode {
  const value = process.env.RUNLENS_TFRECORD_FRAMING;
  return value === 'thread' || value === 'worker' ? value : 'auto';
}

let shared: FramingWorker | undefined;

/** The ingest's framing worker, started on first use; undefined where it cannot start. */
function sharedWorker(): FramingWorker | undefined {
  if (shared?.dead) shared = undefined;
  shared ??= FramingWorker.start();
  return shared;
}

/** Whether a framing worker is running (reads since the last stopFramingWorker went to it). */
export function framingWorkerRunning(): boolean {
  return shared !== undefined && !shared.dead;
}

/** Stops the framing worker and frees its buffers (the engine calls this when an ingest ends). */
export function stopFramingWorker(): void {
  shared?.stop();
  shared = undefined;
}

class FramingWorker {
  busy = false;
  dead = false;
  private nextId = 1;
  private readonly replies: FramingReply[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** A Buffer per shared buffer, so that the decoder's per-buffer view is made once. */
  private readonly views = new WeakMap<SharedArrayBuffer, Buffer>();
  /** The read the worker is reading ahead (its 'done' said so), with what a read must ask for to adopt it. */
  private readAhead: ReadAhead | undefined;
  /** Reads ahead adopted and abandoned (for tests). */
  adopted = 0;
  abandoned = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly control: Int32Array,
  ) {
    worker.on('message', (reply: FramingReply) => {
      this.replies.push(reply);
      this.wake?.();
    });
    worker.on('error', (error) => this.die(error));
    worker.on('exit', (code) => this.die(new Error(`the TFRecord framing worker exited (code ${code})`)));
    worker.unref(); // only a read in progress keeps the process alive
  }

  static start(): FramingWorker | undefined {
    // The bundle (dist/agent.js → dist/framingWorker.js) and tsc's out/ keep the worker beside this module.
    const script = path.join(__dirname, 'framingWorker.js');
    if (!fs.existsSync(script)) return undefined;
    try {
      const worker = new Worker(script);
      const control = new SharedArrayBuffer(CONTROL_INTS * 4);
      const setup: FramingRequest = { type: 'setup', control };
      worker.postMessage(setup);
      return new FramingWorker(worker, new Int32Array(control));
    } catch {
      return undefined;
    }
  }

  /** Ends the worker: whatever it reads stops (Abort), and it closes its own descriptor and exits. */
  stop(): void {
    this.dead = true;
    this.readAhead = undefined;
    this.signal(Control.Abort, 1);
    const stop: FramingRequest = { type: 'stop' };
    this.worker.postMessage(stop);
    // It ends itself at once (closing its descriptor first); one stuck in a read of a hung drive is ended anyway.
    const worker = this.worker;
    setTimeout(() => void worker.terminate(), STOP_GRACE_MS).unref();
  }

  /** Whether a read ahead is pending (adoptable or not). */
  get readingAhead(): boolean {
    return this.readAhead !== undefined;
  }

  /** Drops a pending read ahead now (a read that goes to this thread instead): its descriptor and buffers go. */
  async dropReadAhead(): Promise<void> {
    if (this.busy || this.dead || !this.readAhead) return;
    this.busy = true;
    this.worker.ref(); // its replies are awaited
    try {
      await this.abandonReadAhead();
    } catch {
      // The worker died meanwhile: nothing is left to drop.
    } finally {
      this.busy = false;
      if (!this.dead) this.worker.unref();
    }
  }

  /** Whether the worker is reading ahead exactly this read (see framingProtocol.ts), so that it may be adopted. */
  readAheadMatches(fd: number, file: string, cursor: RecordCursor, endOffset: number, options: FramedReadOptions): boolean {
    const ahead = this.readAhead;
    if (!ahead || !ahead.adoptable || this.dead) return false;
    if (ahead.file !== file || ahead.cursor.offset !== cursor.offset || ahead.cursor.resyncing !== cursor.resyncing) return false;
    if (ahead.endOffset !== endOffset || ahead.windowBytes !== (options.windowBytes ?? WORKER_WINDOW_BYTES) || ahead.maxBytes !== options.maxBytes) return false;
    try {
      const now = fs.fstatSync(fd, { bigint: true });
      return now.dev === ahead.dev && now.ino === ahead.ino;
    } catch {
      return false;
    }
  }

  /**
   * Gives up the read the worker reads ahead: Abort, then its replies until
   * it ends, each window's buffer released unread.
   */
  private async abandonReadAhead(): Promise<void> {
    const ahead = this.readAhead;
    this.readAhead = undefined;
    if (!ahead) return;
    this.abandoned++;
    this.signal(Control.Abort, 1);
    for (;;) {
      const reply = await this.nextReply();
      this.releaseWindow(reply);
      if (reply.id === ahead.id && reply.type !== 'window') return;
    }
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.failure = error;
    this.wake?.();
  }

  private async nextReply(): Promise<FramingReply> {
    for (;;) {
      const reply = this.replies.shift();
      if (reply) return reply;
      if (this.dead) throw this.failure ?? new Error('the TFRecord framing worker was stopped');
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Gives a window's shared buffer back to the worker (a reply of another kind holds none). */
  private releaseWindow(reply: FramingReply): void {
    if (reply.type === 'window' && reply.bufferId >= 0) this.signal(Control.HeldByReader + reply.bufferId, 0);
  }

  /** Tells the worker that a buffer, or (abandon) anything it waits on, is free. */
  private signal(index: number, value: number): void {
    Atomics.store(this.control, index, value);
    Atomics.add(this.control, Control.Releases, 1);
    Atomics.notify(this.control, Control.Releases);
  }

  /**
   * One read through the worker. 'not-started' when the worker was gone
   * before it handed over any record (the caller then reads on its own).
   */
  async read(
    fd: number,
    file: string,
    cursor: RecordCursor,
    endOffset: number,
    onRecord: RecordRangeHandler,
    options: FramedReadOptions,
  ): Promise<FramedReadResult | 'not-started'> {
    options.signal?.throwIfAborted();
    this.busy = true;
    this.worker.ref();
    const windowBytes = options.windowBytes ?? WORKER_WINDOW_BYTES;
    let delivered = false;
    // Why this thread gave up (its callback threw, or the read was cancelled): thrown once the worker has stopped.
    let gaveUp: unknown;
    let id: number;
    try {
      if (this.readAheadMatches(fd, file, cursor, endOffset, options)) {
        // The worker is reading this very read already (some windows may be waiting in `replies`).
        id = this.readAhead!.id;
        this.readAhead = undefined;
        this.adopted++;
        const adopt: FramingRequest = { type: 'adopt', id };
        this.worker.postMessage(adopt);
      } else {
        try {
          await this.abandonReadAhead();
        } catch {
          return 'not-started'; // the worker died meanwhile: read on this thread
        }
        id = this.nextId++;
        Atomics.store(this.control, Control.Abort, 0);
        const request: FramingRequest = { type: 'read', id, fd, file, cursor, endOffset, windowBytes, maxBytes: options.maxBytes };
        this.worker.postMessage(request);
      }
      for (;;) {
        let reply: FramingReply;
        try {
          reply = await this.nextReply();
        } catch (e) {
          if (!delivered && gaveUp === undefined) return 'not-started';
          throw gaveUp ?? e;
        }
        if (reply.id !== id) {
          this.releaseWindow(reply); // from a read given up on earlier: its buffer goes back unread
          continue;
        }
        switch (reply.type) {
          case 'window': {
            delivered = true;
            if (gaveUp === undefined) {
              try {
                let bytes = this.views.get(reply.buffer);
                if (!bytes) this.views.set(reply.buffer, (bytes = Buffer.from(reply.buffer)));
                if (reply.ranges) deliverRanges(bytes, reply.ranges, reply.count, reply.first, reply.base, onRecord);
                else deliverBackToBack(bytes, reply.count, reply.first, reply.base, onRecord);
                options.signal?.throwIfAborted();
              } catch (e) {
                gaveUp = e;
                this.signal(Control.Abort, 1);
              }
            }
            this.releaseWindow(reply);
            break;
          }
          case 'done': {
            if (reply.readingAhead) {
              // The worker goes on with the next slice as read id + 1: recorded before anything here
              // can throw, so that the next read adopts or drains it. After a read given up on (Abort
              // is set) it stops at once, and without the file's identity it cannot be matched: then
              // it can only be drained, never adopted.
              this.nextId = Math.max(this.nextId, id + 2);
              let identity: fs.BigIntStats | undefined;
              try {
                // As bigints: inode numbers above 2^53 (Windows) must not compare equal by rounding.
                identity = fs.fstatSync(fd, { bigint: true });
              } catch {
                identity = undefined;
              }
              this.readAhead = {
                id: id + 1,
                file,
                dev: identity?.dev ?? -1n,
                ino: identity?.ino ?? -1n,
                cursor: reply.cursor,
                endOffset,
                windowBytes,
                maxBytes: options.maxBytes,
                adoptable: gaveUp === undefined && identity !== undefined,
              };
            }
            if (gaveUp !== undefined) throw gaveUp;
            return { cursor: reply.cursor, records: reply.records, warnings: reply.warnings, bytesNeededAtCursor: reply.bytesNeededAtCursor, truncated: reply.truncated };
          }
          case 'failed': {
            if (gaveUp !== undefined) throw gaveUp;
            const error = new Error(reply.message) as NodeJS.ErrnoException;
            if (reply.code !== undefined) error.code = reply.code;
            throw error;
          }
          default: {
            const unknown: never = reply;
            throw new Error(`framing worker: unknown reply ${JSON.stringify(unknown)}`);
          }
        }
      }
    } finally {
      this.busy = false;
      if (!this.dead) this.worker.unref();
    }
  }
}

/** What the worker reads ahead: read `id`, and the arguments a read must have to be it. */
interface ReadAhead {
  id: number;
  file: string;
  /** The file's identity when the read before ran: a file replaced at the same path is another file. */
  dev: bigint;
  ino: bigint;
  cursor: RecordCursor;
  endOffset: number;
  windowBytes: number;
  maxBytes: number | undefined;
  /** False after a read given up on: the read ahead stops at once and is only drained. */
  adoptable: boolean;
}

/** Reads ahead adopted and abandoned by the current worker (tests check that slices of a big file use them). */
export function framingReadAheadCounts(): { adopted: number; abandoned: number } {
  return { adopted: shared?.adopted ?? 0, abandoned: shared?.abandoned ?? 0 };
}

/** Records that follow each other from bytes[first] (their CRCs verified): found from their length prefixes. */
function deliverBackToBack(bytes: Buffer, count: number, first: number, base: number, onRecord: RecordRangeHandler): void {
  let at = first;
  for (let i = 0; i < count; i++) {
    const length = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
    const start = at + RECORD_HEADER_BYTES;
    const end = start + length;
    onRecord(bytes, start, end, base + (at - first));
    at = end + RECORD_FOOTER_BYTES;
  }
}

/** Records with gaps between them (damage skipped): each one's [start, end) from `ranges`. */
function deliverRanges(bytes: Buffer, ranges: Uint32Array, count: number, first: number, base: number, onRecord: RecordRangeHandler): void {
  for (let i = 0, r = 0; i < count; i++, r += 2) {
    const start = ranges[r];
    onRecord(bytes, start, ranges[r + 1], base + (start - RECORD_HEADER_BYTES - first));
  }
}
