// The serving server baked into every serving image (dist/serve.js): one ONNX
// model behind HTTP, with onnxruntime-node on the CPU.
//   POST /predict   {"inputs": {NAME: {dtype, dims, data}}} → {"outputs": {...}, "model", "version", "latencyMs"}
//   GET  /healthz   200 once the model is loaded, 503 before (and 500 for good if it cannot be)
//   GET  /metrics   Prometheus text: requests, errors, latency histogram, by model and version
// Configured by environment: MODEL_PATH, MODEL_NAME, MODEL_VERSION, HOST, PORT.
// A request the model cannot take is answered 400 with what is wrong; a
// runtime failure is 500 and counted. Failing to load the model or to listen
// exits the process with a message, so `docker logs` and the exit code tell
// the deploy why.
import * as http from 'node:http';
import type * as Ort from 'onnxruntime-node';
import { MetricsRegistry } from '../core/deploy/prometheus';
import { decodeTensorMap, encodeTensor, TensorFormatError, type DecodedTensor } from '../core/deploy/tensorJson';

/** Requests bigger than this are refused (413) before they are read into memory. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const EXIT_MODEL_LOAD_FAILED = 2;
export const EXIT_PORT_IN_USE = 3;

type Session = Awaited<ReturnType<typeof Ort.InferenceSession.create>>;

interface ServerConfig {
  modelPath: string;
  model: string;
  version: string;
  host: string;
  port: number;
}

function configFromEnv(env: NodeJS.ProcessEnv): ServerConfig {
  const port = Number(env.PORT ?? '8080');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT=${env.PORT} is not a port number`);
  return { modelPath: env.MODEL_PATH ?? '/app/model.onnx', model: env.MODEL_NAME ?? 'model', version: env.MODEL_VERSION ?? '0', host: env.HOST ?? '0.0.0.0', port };
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

export function startServer(config: ServerConfig, ort: typeof Ort): http.Server {
  const metrics = new MetricsRegistry();
  const labels = { model: config.model, version: config.version };
  metrics.counter('runlens_predict_requests_total', 'POST /predict requests answered');
  metrics.counter('runlens_predict_errors_total', 'POST /predict requests that failed, by reason (bad_request: 4xx, runtime: 5xx)');
  metrics.histogram('runlens_predict_latency_seconds', 'Time to answer POST /predict, reading the body included');
  metrics.gauge('runlens_model_loaded', '1 once the model session is loaded');
  metrics.inc('runlens_predict_requests_total', labels, 0);
  metrics.inc('runlens_predict_errors_total', { ...labels, reason: 'bad_request' }, 0);
  metrics.inc('runlens_predict_errors_total', { ...labels, reason: 'runtime' }, 0);
  metrics.set('runlens_model_loaded', labels, 0);

  let session: Session | null = null;
  const started = performance.now();
  ort.InferenceSession.create(config.modelPath, { executionProviders: ['cpu'] }).then(
    (s) => {
      session = s;
      metrics.set('runlens_model_loaded', labels, 1);
      log(`model ${config.model} v${config.version} loaded from ${config.modelPath} in ${Math.round(performance.now() - started)} ms (inputs: ${s.inputNames.join(', ')})`);
    },
    (e: unknown) => {
      log(`cannot load model ${config.modelPath}: ${(e as Error).message ?? String(e)}`);
      process.exit(EXIT_MODEL_LOAD_FAILED);
    },
  );

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      const ready = session !== null;
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'loading', model: config.model, version: config.version });
      return;
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
      return;
    }
    if (url.pathname !== '/predict') {
      sendJson(res, 404, { error: `no route ${url.pathname}: use POST /predict, GET /healthz or GET /metrics` });
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: '/predict takes POST with a JSON body {"inputs": {NAME: {dtype, dims, data}}}' });
      return;
    }
    const begin = performance.now();
    const finish = (status: number, body: unknown) => {
      const seconds = (performance.now() - begin) / 1000;
      metrics.inc('runlens_predict_requests_total', labels);
      if (status >= 400) metrics.inc('runlens_predict_errors_total', { ...labels, reason: status >= 500 ? 'runtime' : 'bad_request' });
      metrics.observe('runlens_predict_latency_seconds', labels, seconds);
      sendJson(res, status, body);
    };
    readBody(req, MAX_BODY_BYTES).then(
      async (text) => {
        if (!session) return finish(503, { error: 'the model is still loading; retry when GET /healthz answers 200' });
        let inputs: DecodedTensor[];
        try {
          inputs = checkInputs(session, decodeTensorMap(parseJson(text), 'inputs'));
        } catch (e) {
          if (e instanceof TensorFormatError) return finish(400, { error: e.message });
          throw e;
        }
        try {
          const feeds: Record<string, Ort.Tensor> = {};
          for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, t.data as never, t.dims);
          const out = await session.run(feeds);
          const outputs: Record<string, unknown> = {};
          for (const [name, tensor] of Object.entries(out)) outputs[name] = encodeTensor(tensor.type, tensor.dims, tensor.data as ArrayLike<number | bigint | string>);
          finish(200, { model: config.model, version: config.version, latencyMs: performance.now() - begin, outputs });
        } catch (e) {
          log(`predict failed: ${(e as Error).message ?? String(e)}`);
          finish(500, { error: `the runtime failed on this input: ${(e as Error).message ?? String(e)}` });
        }
      },
      (e: Error & { status?: number }) => finish(e.status ?? 400, { error: e.message }),
    ).catch((e: unknown) => finish(500, { error: `internal error: ${(e as Error).message ?? String(e)}` }));
  });

  server.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE') {
      log(`cannot listen on ${config.host}:${config.port}: the port is already in use by another process`);
      process.exit(EXIT_PORT_IN_USE);
    }
    log(`server error: ${e.message}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => log(`listening on ${config.host}:${config.port} for model ${config.model} v${config.version}`));
  return server;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TensorFormatError(`the body is not JSON: ${(e as Error).message}`);
  }
}

/** Names, dtypes and ranks the session declares, checked before the runtime sees them, so a wrong tensor is a 400 that says which. */
function checkInputs(session: Session, inputs: DecodedTensor[]): DecodedTensor[] {
  const names = session.inputNames;
  for (const t of inputs) if (!names.includes(t.name)) throw new TensorFormatError(`"${t.name}" is not an input of this model (inputs: ${names.join(', ')})`);
  const missing = names.filter((n) => !inputs.some((t) => t.name === n));
  if (missing.length) throw new TensorFormatError(`missing input(s) ${missing.join(', ')} (inputs: ${names.join(', ')})`);
  const declared = (session as { inputMetadata?: readonly { name: string; isTensor: boolean; type?: string; shape?: readonly (number | string)[] }[] }).inputMetadata;
  for (const meta of declared ?? []) {
    const t = inputs.find((i) => i.name === meta.name);
    if (!t || !meta.isTensor) continue;
    if (meta.type && meta.type !== t.dtype) throw new TensorFormatError(`input "${t.name}" is ${meta.type} in this model, the request sent ${t.dtype}`);
    if (meta.shape) {
      if (meta.shape.length !== t.dims.length) throw new TensorFormatError(`input "${t.name}" has rank ${meta.shape.length} in this model ([${meta.shape.join(', ')}]), the request sent dims [${t.dims.join(', ')}]`);
      meta.shape.forEach((d, i) => {
        if (typeof d === 'number' && d >= 0 && d !== t.dims[i]) throw new TensorFormatError(`input "${t.name}" dim ${i} is fixed at ${d} in this model, the request sent ${t.dims[i]}`);
      });
    }
  }
  return inputs;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`the body is larger than ${limit} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

if (require.main === module) {
  const config = configFromEnv(process.env);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const server = startServer(config, require('onnxruntime-node') as typeof Ort);
  // With HostConfig.Init the container's init forwards SIGTERM here: stop accepting, finish what is in flight.
  process.on('SIGTERM', () => {
    log('SIGTERM: closing');
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
