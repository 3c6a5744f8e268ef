// The parse worker's thread (see parseWorker.ts): parses the parts of big
// text-log reads that the ingest hands it, with the same code the ingest's
// own thread runs, and sends the points back by transfer (no copy).
import { parentPort } from 'node:worker_threads';
import { parseLightningPart } from './lightningParts';
import { readMetricPart } from './mlflowMetricParts';
import type { ParseWorkerReply, ParseWorkerRequest } from './parseWorkerProtocol';
import { adoptTransferred, limitPools } from './series';

const port = parentPort;
if (!port) throw new Error('parseWorkerThread.js runs as a worker thread');

// Two parts' columns (one being parsed, one asked for ahead) and their read buffers: what flat memory needs here.
const WORKER_POOL_COLUMN_BYTES = 24 * 1024 * 1024;
const WORKER_POOL_READ_BYTES = 16 * 1024 * 1024;
limitPools(WORKER_POOL_COLUMN_BYTES, WORKER_POOL_READ_BYTES);

type PartReply = Exclude<ParseWorkerReply, { type: 'failed' }>;
/** A part's reply as the parsing code makes it: the id and timing are added here. */
type PartResult = PartReply extends infer R ? (R extends PartReply ? Omit<R, 'id' | 'elapsedMs'> : never) : never;

/** Parts being parsed, to be cancelled by id. */
const running = new Map<number, AbortController>();

port.on('message', (request: ParseWorkerRequest) => {
  switch (request.type) {
    case 'stop':
      process.exit(0);
      break;
    case 'mlflow-metric-part':
      void answer(request.id, (signal) => readMetricPart(request.file, request.dev, request.ino, request.from, request.maxBytes ?? Infinity, signal));
      break;
    case 'cancel':
      running.get(request.id)?.abort();
      break;
    case 'lightning-rows':
      void answer(request.id, async () => parseLightningPart(request.file, request.header, request.bytes));
      break;
    case 'recycle':
      adoptTransferred(request.columns);
      break;
    default: {
      const unknown: never = request;
      throw new Error(`parse worker: unknown request ${JSON.stringify(unknown)}`);
    }
  }
});

async function answer(id: number, work: (signal: AbortSignal) => Promise<PartResult | 'replaced'>): Promise<void> {
  const started = performance.now();
  const controller = new AbortController();
  running.set(id, controller);
  let reply: ParseWorkerReply;
  try {
    const result = await work(controller.signal);
    reply = result === 'replaced' ? { type: 'failed', id, message: 'the file was replaced', replaced: true } : ({ ...result, id, elapsedMs: performance.now() - started } as PartReply);
  } catch (error) {
    reply = { type: 'failed', id, message: error instanceof Error ? error.message : String(error), replaced: false };
  } finally {
    running.delete(id);
  }
  port!.postMessage(reply, transferablesOf(reply));
}

/** The buffers of the points a reply carries, each once. */
function transferablesOf(reply: ParseWorkerReply): ArrayBuffer[] {
  const views: ArrayBufferView[] = [];
  switch (reply.type) {
    case 'failed':
      return [];
    case 'mlflow-metric-part':
      views.push(reply.steps, reply.values, reply.walls);
      if (reply.unfinished) views.push(reply.unfinished);
      break;
    case 'lightning-rows':
      for (const [, steps, values, walls] of reply.series) views.push(steps, values, walls);
      views.push(reply.bytes);
      break;
    default: {
      const unknown: never = reply;
      throw new Error(`parse worker: unknown reply ${JSON.stringify(unknown)}`);
    }
  }
  return [...new Set(views.map((view) => view.buffer as ArrayBuffer))];
}
