// Parsing one big read of a text log on two cores.
//
// MLflow metric files and Lightning metrics.csv files are lines of numbers,
// and turning their digits into doubles is most of ingesting them (about
// two thirds of an MLflow ingest; writing the points is the rest). The
// framing worker already gives TensorBoard reads a second core; for text,
// a read of many megabytes is split at a line break instead: this thread
// parses the first part while a worker thread (parseWorkerThread.ts) reads
// and parses the second with the same code, and the two are joined
// (parseWorkerProtocol.ts says what each side settles).
//
// Only an ingest that has already read tens of megabytes splits its reads
// (AUTO_SPLIT_AFTER_BYTES), and each split is placed where both parts should
// end together (SplitBalance).
//
// One worker serves an ingest and is stopped at its end (stopParseWorker),
// so an idle agent keeps no thread. Where it cannot start (a bundle without
// dist/parseWorkerThread.js, one core), or when it fails or dies, every part
// is read on this thread, with the same result. RUNLENS_PARSE_WORKER=thread
// keeps reads whole on this thread; =worker splits even small reads (tests).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ParseWorkerReply, ParseWorkerRequest } from './parseWorkerProtocol';

/**
 * Reads smaller than this stay whole: a part of a few hundred kilobytes ends
 * before the hand-over (a message each way, a copy of the points) pays off.
 */
const AUTO_SPLIT_MIN_BYTES = 2 * 1024 * 1024;

/**
 * An ingest splits nothing until it has been offered this many bytes of big
 * reads. The worker's first parts run cold (the parsers tier up in each
 * thread on its own), which costs more than splitting gains in an ingest of
 * tens of megabytes. Measured on 2 cores against reading on one thread:
 * splitting from the first read made MLflow ingests of 12 and 39 MB 24 % and
 * 14 % slower, and splitting after 48 MB still made the bench's 51 MB
 * Lightning CSV 14 % slower; a 394 MB MLflow run gained 8-13 % and a 266 MB
 * Lightning CSV 12-20 %.
 */
const AUTO_SPLIT_AFTER_BYTES = 64 * 1024 * 1024;

/** Bytes of big reads offered in this ingest (see AUTO_SPLIT_AFTER_BYTES); back to 0 when the ingest ends. */
let offeredBytes = 0;

/** How long a stopped worker may take to end before it is terminated. */
const STOP_GRACE_MS = 2000;

type ParseWorkerMode = 'auto' | 'thread' | 'worker';

function modeFromEnvironment(): ParseWorkerMode {
  const value = process.env.RUNLENS_PARSE_WORKER;
  return value === 'thread' || value === 'worker' ? value : 'auto';
}

/**
 * Whether a read of `bytes` should be split (and the worker is there to take
 * a part). Starts the worker on first use.
 */
export function shouldSplitRead(bytes: number): boolean {
  const mode = modeFromEnvironment();
  if (mode === 'thread') return false;
  if (mode === 'auto') {
    if (bytes < AUTO_SPLIT_MIN_BYTES || os.availableParallelism() < 2) return false;
    offeredBytes += bytes;
    // Started a little early, so that its thread and modules are loaded when the first part comes.
    if (offeredBytes >= AUTO_SPLIT_AFTER_BYTES / 2) sharedWorker();
    if (offeredBytes < AUTO_SPLIT_AFTER_BYTES) return false;
  }
  return sharedWorker() !== undefined;
}

/** A part to parse, without the id the worker's client gives it. */
export type PartRequest = Exclude<ParseWorkerRequest, { type: 'stop' | 'recycle' | 'cancel' }> extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Gives the columns of a reply back to the worker once their points were
 * copied out (they are detached here), so that its next parts fill them
 * instead of new ones: otherwise every part leaves megabytes to both
 * threads' garbage collectors, and memory grows with the ingest.
 */
export function recycleOnWorker(columns: Float64Array[]): void {
  shared?.recycle(columns);
}

/**
 * Hands a part to the worker: its reply (the request's type, or 'failed'),
 * or undefined when there is no worker or it died before it replied. In both
 * of the last cases the caller parses the part itself.
 */
export async function parsePartOnWorker(request: PartRequest, transfer: ArrayBuffer[] = []): Promise<ParseWorkerReply | undefined> {
  return startPartOnWorker(request, transfer).reply;
}

/** A part handed to the worker: its reply to come, and a way to say it is no longer wanted. */
export interface StartedPart {
  reply: Promise<ParseWorkerReply | undefined>;
  /** The worker stops parsing it (at its next chunk) and replies 'failed'. */
  cancel(): void;
  /** The worker it went to (parts asked for ahead are only good for the same worker). */
  worker: object | undefined;
}

/** parsePartOnWorker, for a part that may be given up before it is needed (asked for ahead). */
export function startPartOnWorker(request: PartRequest, transfer: ArrayBuffer[] = []): StartedPart {
  const worker = sharedWorker();
  if (!worker) return { reply: Promise.resolve(undefined), cancel: () => undefined, worker: undefined };
  return { ...worker.ask(request, transfer), worker };
}

/** The running worker, to compare with StartedPart.worker. */
export function currentParseWorker(): object | undefined {
  return shared?.dead ? undefined : shared;
}

/**
 * Where to split a read so that both parts end together. The two threads do
 * not parse at the same speed: the worker shares its core with SQLite's
 * checkpointer (measured: the worker's half of an MLflow slice took 55 ms
 * against this thread's 30 ms), and that changes as the database grows. So
 * each split measures both parts' speeds (milliseconds per byte, averaged
 * over the last few splits) and places the next split where, at those
 * speeds, both parts would end at once, allowing for a head start the
 * worker may have (a part asked for ahead, while this thread wrote).
 */
export class SplitBalance {
  private ownMsPerByte: number | undefined;
  private workerMsPerByte: number | undefined;
  /** How far ahead of this thread's part the worker's part started, the last time it was asked for ahead. */
  private headStartMs = 0;

  /** The worker's share of a read of `bytes`; `ahead`: its part is asked for ahead, with the last head start it had. */
  share(bytes: number, ahead = false): number {
    const headStartMs = ahead ? this.headStartMs : 0;
    const own = this.ownMsPerByte;
    const worker = this.workerMsPerByte;
    // Less than half at first: the worker's first part is parsed cold.
    if (own === undefined || worker === undefined || bytes <= 0) return FIRST_WORKER_SHARE;
    // This thread's part ends at (bytes - w) * own, the worker's at w * worker - headStart: equal when
    // w = (bytes * own + headStart) / (own + worker).
    const balanced = (bytes * own + headStartMs) / ((own + worker) * bytes);
    return Math.min(MAX_WORKER_SHARE, Math.max(MIN_WORKER_SHARE, balanced));
  }

  /** Records how long before this thread's part a part asked for ahead started. */
  recordHeadStart(ms: number): void {
    this.headStartMs = ms;
  }

  /** Records one split read: bytes and milliseconds of this thread's part and of the worker's (its own parsing time). */
  record(ownBytes: number, ownMs: number, workerBytes: number, workerMs: number): void {
    if (ownBytes <= 0 || workerBytes <= 0) return;
    // Halfway there each time: one disturbed measurement (a GC pause, a checkpoint) moves it only so far.
    const average = (previous: number | undefined, now: number) => (previous === undefined ? now : (previous + now) / 2);
    this.ownMsPerByte = average(this.ownMsPerByte, Math.max(ownMs, 0.01) / ownBytes);
    this.workerMsPerByte = average(this.workerMsPerByte, Math.max(workerMs, 0.01) / workerBytes);
  }
}

const FIRST_WORKER_SHARE = 0.35;
const MIN_WORKER_SHARE = 0.2;
const MAX_WORKER_SHARE = 0.85;

let shared: ParseWorker | undefined;

function sharedWorker(): ParseWorker | undefined {
  if (shared?.dead) shared = undefined;
  shared ??= ParseWorker.start();
  return shared;
}

/**
 * The balance of splits of one kind (one per reader) for the current worker:
 * a new worker starts again from FIRST_WORKER_SHARE.
 */
export function splitBalance(kind: PartRequest['type']): SplitBalance {
  const worker = sharedWorker();
  if (!worker) return new SplitBalance();
  let balance = worker.balances.get(kind);
  if (!balance) worker.balances.set(kind, (balance = new SplitBalance()));
  return balance;
}

/** Whether a parse worker is running (a read since the last stopParseWorker was split). */
export function parseWorkerRunning(): boolean {
  return shared !== undefined && !shared.dead;
}

/** Stops the parse worker (the engine calls this when an ingest ends). Parts it still parses are answered as undefined. */
export function stopParseWorker(): void {
  shared?.stop();
  shared = undefined;
  offeredBytes = 0;
  for (const listener of stopListeners) listener();
}

const stopListeners: Array<() => void> = [];

/** Runs `listener` whenever the worker is stopped (a reader forgets what it asked the worker for ahead). */
export function onParseWorkerStop(listener: () => void): void {
  stopListeners.push(listener);
}

/** Parts the current worker parsed, and those it failed or never answered (for tests). */
export function parseWorkerCounts(): { parsed: number; failed: number } {
  return { parsed: shared?.parsed ?? 0, failed: shared?.failed ?? 0 };
}

let endAfterNextRequest = false;

/**
 * For tests: the worker thread is ended right after it is handed the next
 * part, as if it crashed, so that the reader's own reading of that part is
 * exercised.
 */
export function endParseWorkerAfterNextRequest(): void {
  endAfterNextRequest = true;
}

class ParseWorker {
  dead = false;
  parsed = 0;
  failed = 0;
  readonly balances = new Map<PartRequest['type'], SplitBalance>();
  private nextId = 1;
  private readonly pending = new Map<number, (reply: ParseWorkerReply | undefined) => void>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: ParseWorkerReply) => {
      const resolve = this.pending.get(reply.id);
      if (!resolve) return;
      this.pending.delete(reply.id);
      if (reply.type === 'failed') this.failed++;
      else this.parsed++;
      if (this.pending.size === 0 && !this.dead) this.worker.unref();
      resolve(reply);
    });
    worker.on('error', () => this.die());
    worker.on('messageerror', () => this.die());
    worker.on('exit', () => this.die());
    worker.unref(); // only a part being parsed keeps the process alive
  }

  static start(): ParseWorker | undefined {
    // The bundle (dist/agent.js → dist/parseWorkerThread.js) and tsc's out/ keep the worker beside this module.
    const script = path.join(__dirname, 'parseWorkerThread.js');
    if (!fs.existsSync(script)) return undefined;
    try {
      return new ParseWorker(new Worker(script));
    } catch {
      return undefined;
    }
  }

  ask(request: PartRequest, transfer: ArrayBuffer[]): { reply: Promise<ParseWorkerReply | undefined>; cancel(): void } {
    if (this.dead) return { reply: Promise.resolve(undefined), cancel: () => undefined };
    const id = this.nextId++;
    const cancel = () => {
      if (!this.dead && this.pending.has(id)) this.worker.postMessage({ type: 'cancel', id } satisfies ParseWorkerRequest);
    };
    const reply = new Promise<ParseWorkerReply | undefined>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.ref();
      try {
        this.worker.postMessage({ ...request, id } as ParseWorkerRequest, transfer);
      } catch {
        // Not sent (a message that cannot be cloned): the caller parses the part itself.
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        resolve(undefined);
        return;
      }
      if (endAfterNextRequest) {
        endAfterNextRequest = false;
        void this.worker.terminate();
      }
    });
    return { reply, cancel };
  }

  recycle(columns: Float64Array[]): void {
    // A detached column (given back already) has nothing left to give.
    const live = columns.filter((column) => column.buffer.byteLength > 0);
    if (this.dead || live.length === 0) return;
    const buffers = [...new Set(live.map((column) => column.buffer as ArrayBuffer))];
    try {
      this.worker.postMessage({ type: 'recycle', columns: live } satisfies ParseWorkerRequest, buffers);
    } catch {
      // Not sent: the columns go to the garbage collector instead.
    }
  }

  stop(): void {
    if (this.dead) return;
    this.worker.postMessage({ type: 'stop' } satisfies ParseWorkerRequest);
    const worker = this.worker;
    setTimeout(() => void worker.terminate(), STOP_GRACE_MS).unref();
    this.die();
  }

  /** Every part not answered yet is answered as undefined: its caller reads it. */
  private die(): void {
    if (this.dead) return;
    this.dead = true;
    this.worker.unref();
    for (const resolve of this.pending.values()) {
      this.failed++;
      resolve(undefined);
    }
    this.pending.clear();
  }
}
