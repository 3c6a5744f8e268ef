// The parse worker's thread (see parseWorker.ts): parses the parts of big
// text-log reads that the ingest hands it, with the same code the ingest's
// own thread runs, and sends the points back by transfer (no copy).
import { parentPort } from 'node:worker_threads';
import { readMetricPart } from './mlflowMetricParts';
import type { ParseWorkerReply, ParseWorkerRequest } from './parseWorkerProtocol';

const port = parentPort;
if (!port) throw new Error('parseWorkerThread.js runs as a worker thread');

port.on('message', (request: ParseWorkerRequest) => {
  switch (request.type) {
    case 'stop':
      process.exit(0);
      break;
    case 'mlflow-metric-part':
      void answer(request.id, () => readMetricPart(request.file, request.dev, request.ino, request.from, request.maxBytes ?? Infinity));
      break;
    default: {
      const unknown: never = request;
      throw new Error(`parse worker: unknown request ${JSON.stringify(unknown)}`);
    }
  }
});

async function answer(id: number, work: () => Promise<Omit<Extract<ParseWorkerReply, { type: 'mlflow-metric-part' }>, 'id' | 'elapsedMs'> | 'replaced'>): Promise<void> {
  const started = performance.now();
  let reply: ParseWorkerReply;
  try {
    const result = await work();
    reply = result === 'replaced' ? { type: 'failed', id, message: 'the file was replaced', replaced: true } : { ...result, id, elapsedMs: performance.now() - started };
  } catch (error) {
    reply = { type: 'failed', id, message: error instanceof Error ? error.message : String(error), replaced: false };
  }
  port!.postMessage(reply, reply.type === 'failed' ? [] : transferablesOf(reply));
}

/** The points' buffers, each once (the three columns may share none, but a view's buffer is listed once). */
function transferablesOf(reply: Extract<ParseWorkerReply, { type: 'mlflow-metric-part' }>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const column of [reply.steps, reply.values, reply.walls]) buffers.add(column.buffer as ArrayBuffer);
  if (reply.unfinished) buffers.add(reply.unfinished.buffer as ArrayBuffer);
  return [...buffers];
}
