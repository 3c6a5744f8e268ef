// The TFRecord framing worker: reads an event file window by window into
// shared buffers and checks both CRC-32Cs of every record, with the same
// code the reader thread uses on its own (readRecordRangesFromHandle), then
// tells the reader thread where each window's verified records are (see
// framingProtocol.ts). Started by framing.ts; bundled as dist/framingWorker.js.
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { Control, MAX_BUFFERS, type FramingReply, type FramingRequest } from './framingProtocol';
import { AHEAD_ROOM, DEFAULT_WINDOW_BYTES, RECORD_FOOTER_BYTES, RECORD_HEADER_BYTES, readRecordRangesFromHandle, type ReadBuffers, type RecordCursor } from './tfrecord';

/** Thrown when the reader gave up: ends the read. */
class ReadAbandoned extends Error {}

/** The smallest buffer made: a window and the room in front of it (readRecordRangesFromHandle's read-ahead), for the read being served. */
let standardBufferBytes = DEFAULT_WINDOW_BYTES + AHEAD_ROOM;

interface SharedBuffer {
  shared: SharedArrayBuffer;
  buffer: Buffer;
  /** Taken by the framing code (not yet given back). */
  taken: boolean;
}

let control: Int32Array | undefined;
/** By id (control[HeldByReader + id]). */
const pool: Array<SharedBuffer | undefined> = new Array<SharedBuffer | undefined>(MAX_BUFFERS).fill(undefined);

function post(reply: FramingReply): void {
  parentPort!.postMessage(reply);
}

function throwIfAbandoned(): void {
  if (Atomics.load(control!, Control.Abort) === 1) throw new ReadAbandoned();
}

const heldByReader = (id: number) => Atomics.load(control!, Control.HeldByReader + id) === 1;

/** Read windows in shared memory: a buffer is handed out again only once the framing code and the reader are both done with it. */
const sharedBuffers: ReadBuffers = {
  take(minimum: number): Buffer {
    for (;;) {
      throwIfAbandoned();
      const releases = Atomics.load(control!, Control.Releases);
      let replaceable = -1;
      for (let id = 0; id < MAX_BUFFERS; id++) {
        const candidate = pool[id];
        if (candidate && (candidate.taken || heldByReader(id))) continue;
        if (candidate && candidate.buffer.length >= minimum) {
          candidate.taken = true;
          return candidate.buffer;
        }
        if (replaceable < 0) replaceable = id; // empty, or free but too small
      }
      if (replaceable >= 0) {
        const shared = new SharedArrayBuffer(Math.max(minimum, standardBufferBytes));
        const fresh: SharedBuffer = { shared, buffer: Buffer.from(shared), taken: true };
        pool[replaceable] = fresh;
        return fresh.buffer;
      }
      // Every buffer is taken or waits for the reader: wait for it to release one.
      Atomics.wait(control!, Control.Releases, releases, 1000);
    }
  },
  give(buffer: Uint8Array): void {
    const id = idOf(buffer);
    if (id >= 0) pool[id]!.taken = false;
  },
};

function idOf(bytes: Uint8Array): number {
  for (let id = 0; id < MAX_BUFFERS; id++) if (pool[id]?.shared === bytes.buffer) return id;
  return -1;
}

/** fs.promises.FileHandle's read, over a descriptor the reader thread opened (descriptors are per process). */
function handleOf(fd: number): fs.promises.FileHandle {
  const read = (buffer: Buffer, offset: number, length: number, position: number) =>
    new Promise<{ bytesRead: number; buffer: Buffer }>((resolve, reject) =>
      fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve({ bytesRead, buffer }))),
    );
  return { read } as unknown as fs.promises.FileHandle;
}

type ReadRequest = Extract<FramingRequest, { type: 'read' }>;

/**
 * This thread's own descriptor of the file being read, opened by path and
 * checked to be the reader's file: the reader closes its descriptor when its
 * read ends, and a read ahead goes on after that. Undefined when the read
 * uses the reader's descriptor (then nothing is read ahead).
 */
let ownFd: number | undefined;
/** The highest read id the reader has asked for or adopted: only after such a read is the next one read ahead. */
let adopted = 0;
/** A read that stopped at its budget before the reader adopted it: read ahead from it once adopted. */
let waitingForAdoption: { request: ReadRequest; cursor: RecordCursor } | undefined;
/** A read is running (ownFd is closed when it ends, if nothing goes on from it). */
let reading = false;
/** 'stop' came while a read was running: end once it has. */
let stopping = false;

function closeOwnFd(): void {
  waitingForAdoption = undefined;
  if (ownFd === undefined) return;
  try {
    fs.closeSync(ownFd);
  } catch {
    // Already closed: nothing left to do.
  }
  ownFd = undefined;
}

/** Our own descriptor of the reader's file, or undefined (could not open it, or the path now names another file). */
function openOwn(file: string, readerFd: number): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    // As bigints: inode numbers above 2^53 (Windows) must not compare equal by rounding.
    const ours = fs.fstatSync(fd, { bigint: true });
    const theirs = fs.fstatSync(readerFd, { bigint: true });
    if (ours.dev === theirs.dev && ours.ino === theirs.ino) return fd;
  } catch {
    // Fall through: read with the reader's descriptor.
  }
  if (fd !== undefined) fs.closeSync(fd);
  return undefined;
}

function stop(): void {
  closeOwnFd();
  process.exit(0);
}

/** A read the reader asked for: a new file or position, so whatever was open for the last one goes. */
function startRead(request: ReadRequest): void {
  closeOwnFd();
  adopted = Math.max(adopted, request.id);
  ownFd = openOwn(request.file, request.fd);
  void read(request, ownFd ?? request.fd, ownFd !== undefined);
}

/** The reader took read `id`, which was read ahead: go on after it if it already stopped at its budget. */
function adopt(id: number): void {
  adopted = Math.max(adopted, id);
  const waiting = waitingForAdoption;
  if (waiting && waiting.request.id === id) {
    waitingForAdoption = undefined;
    readAhead(waiting.request, waiting.cursor);
  }
}

/** Starts the read that follows `after` (stopped at its budget at `cursor`) as read `after.id + 1`. */
function readAhead(after: ReadRequest, cursor: RecordCursor): void {
  void read({ ...after, id: after.id + 1, cursor }, ownFd!, true);
}

async function read(request: ReadRequest, fd: number, mayReadAhead: boolean): Promise<void> {
  reading = true;
  standardBufferBytes = (request.windowBytes ?? DEFAULT_WINDOW_BYTES) + AHEAD_ROOM;
  // The verified records of the window being scanned.
  let window: Uint8Array | undefined;
  let first = 0;
  let base = 0;
  let count = 0;
  let lastEnd = 0;
  // Set at the first record that does not follow the one before (a damaged record was skipped):
  // from then on each record's range is kept, for the reader.
  let ranges: Uint32Array | undefined;

  const onRecord = (bytes: Uint8Array, start: number, end: number, recordOffset: number) => {
    if (count === 0) {
      throwIfAbandoned();
      window = bytes;
      first = start - RECORD_HEADER_BYTES;
      base = recordOffset;
    } else if (ranges === undefined && start !== lastEnd + RECORD_FOOTER_BYTES + RECORD_HEADER_BYTES) {
      ranges = rangesOfBackToBack(bytes, first, count);
    }
    if (ranges !== undefined) {
      if (ranges.length < (count + 1) * 2) {
        const grown = new Uint32Array(ranges.length * 2);
        grown.set(ranges);
        ranges = grown;
      }
      ranges[count * 2] = start;
      ranges[count * 2 + 1] = end;
    }
    lastEnd = end;
    count++;
  };

  const onWindowScanned = () => {
    if (count === 0) return;
    const bytes = window!;
    const id = idOf(bytes);
    let shared: SharedArrayBuffer;
    let offset = bytes.byteOffset;
    if (id >= 0) {
      shared = pool[id]!.shared;
      Atomics.store(control!, Control.HeldByReader + id, 1);
    } else {
      // Not one of ours (cannot happen with sharedBuffers): a copy of its own, which nobody needs to release.
      shared = new SharedArrayBuffer(bytes.length);
      new Uint8Array(shared).set(bytes);
      offset = 0;
    }
    if (ranges !== undefined) for (let i = 0; i < count * 2; i++) ranges[i] += offset;
    post({ type: 'window', id: request.id, buffer: shared, bufferId: id, first: offset + first, base, count, ranges: ranges?.subarray(0, count * 2) });
    count = 0;
    window = undefined;
    ranges = undefined;
  };

  // Where the next slice starts, when this read stopped at its budget with more to read
  // (the reader will most likely ask for that read next): it is read ahead.
  let goOnFrom: RecordCursor | undefined;
  let last: FramingReply;
  try {
    throwIfAbandoned();
    const result = await readRecordRangesFromHandle(handleOf(fd), request.cursor, request.endOffset, request.file, onRecord, {
      windowBytes: request.windowBytes,
      maxBytes: request.maxBytes,
      onWindowScanned,
      buffers: sharedBuffers,
    });
    if (mayReadAhead && result.truncated && !stopping) goOnFrom = result.cursor;
    last = { type: 'done', id: request.id, ...result, readingAhead: goOnFrom !== undefined };
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    last = { type: 'failed', id: request.id, message: e instanceof ReadAbandoned ? 'abandoned' : error.message, code: error.code };
  } finally {
    reading = false;
    // The file is let go of before the read's last reply is posted, so that a reader that has
    // seen the end of a read (an abandoned read ahead too) never finds this thread still holding it.
    if (goOnFrom === undefined) {
      closeOwnFd();
      post(last!);
    } else {
      post(last!);
      if (adopted >= request.id) readAhead(request, goOnFrom);
      else waitingForAdoption = { request, cursor: goOnFrom };
    }
    if (stopping && !reading) stop();
  }
}

/** The ranges of `count` records that follow each other from bytes[first], read from their length prefixes. */
function rangesOfBackToBack(bytes: Uint8Array, first: number, count: number): Uint32Array {
  const ranges = new Uint32Array(Math.max(64, count * 4));
  for (let i = 0, at = first; i < count; i++) {
    const length = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
    const start = at + RECORD_HEADER_BYTES;
    ranges[i * 2] = start;
    ranges[i * 2 + 1] = start + length;
    at = start + length + RECORD_FOOTER_BYTES;
  }
  return ranges;
}

if (parentPort) {
  parentPort.on('message', (request: FramingRequest) => {
    switch (request.type) {
      case 'setup':
        control = new Int32Array(request.control);
        return;
      case 'read':
        startRead(request);
        return;
      case 'adopt':
        adopt(request.id);
        return;
      case 'stop':
        // A running read was told to stop (Abort) and ends soon; the last thing it does is stop.
        if (reading) stopping = true;
        else stop();
        return;
      default: {
        const unknown: never = request;
        throw new Error(`framing worker: unknown request ${JSON.stringify(unknown)}`);
      }
    }
  });
}
