// The TFRecord framing worker: reads an event file window by window into
// shared buffers and checks both CRC-32Cs of every record, with the same
// code the reader thread uses on its own (readRecordRangesFromHandle), then
// tells the reader thread where each window's verified records are (see
// framingProtocol.ts). Started by framing.ts; bundled as dist/framingWorker.js.
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { Control, MAX_BUFFERS, type FramingReply, type FramingRequest } from './framingProtocol';
import { AHEAD_ROOM, DEFAULT_WINDOW_BYTES, RECORD_FOOTER_BYTES, RECORD_HEADER_BYTES, readRecordRangesFromHandle, type ReadBuffers } from './tfrecord';

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

async function read(request: Extract<FramingRequest, { type: 'read' }>): Promise<void> {
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

  try {
    const result = await readRecordRangesFromHandle(handleOf(request.fd), request.cursor, request.endOffset, request.file, onRecord, {
      windowBytes: request.windowBytes,
      maxBytes: request.maxBytes,
      onWindowScanned,
      buffers: sharedBuffers,
    });
    post({ type: 'done', id: request.id, ...result });
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    post({ type: 'failed', id: request.id, message: e instanceof ReadAbandoned ? 'abandoned' : error.message, code: error.code });
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
        void read(request);
        return;
      default: {
        const unknown: never = request;
        throw new Error(`framing worker: unknown request ${JSON.stringify(unknown)}`);
      }
    }
  });
}
