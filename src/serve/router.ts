// The gray-release router (dist/router.js), run in a container beside
// production and the candidate: it sends each request to one of them by
// weight, proxies the answer back, and counts per variant what the
// significance tests need (requests, errors, latency count/sum/sum of squares).
//   GET /metrics  the router's own figures (Prometheus text)
//   GET /healthz  200 while it runs
//   anything else proxied; the answer carries `x-runlens-variant`
// Configured by environment: HOST, PORT, UPSTREAMS = JSON [{"variant", "url", "weight"}].
import * as http from 'node:http';
import { MetricsRegistry } from '../core/deploy/prometheus';

export interface Upstream {
  variant: string;
  /** http://host:port of the variant's serving server. */
  url: string;
  /** Relative share of requests (e.g. 70 and 30). */
  weight: number;
}

/**
 * Smooth weighted round-robin (as nginx does it): deterministic, so 30 %
 * means 3 of every 10 requests, interleaved, rather than a coin flip whose
 * split wanders on small samples.
 */
export class WeightedPicker {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly upstreams: readonly Upstream[]) {
    if (upstreams.length === 0) throw new Error('no upstreams');
    if (upstreams.some((u) => !(u.weight >= 0)) || upstreams.every((u) => u.weight === 0)) throw new Error('weights must be non-negative and not all 0');
    this.current = upstreams.map(() => 0);
    this.total = upstreams.reduce((s, u) => s + u.weight, 0);
  }

  next(): Upstream {
    let best = 0;
    this.upstreams.forEach((u, i) => {
      this.current[i] += u.weight;
      if (this.current[i] > this.current[best]) best = i;
    });
    this.current[best] -= this.total;
    return this.upstreams[best];
  }
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

export function startRouter(upstreams: readonly Upstream[], host: string, port: number): http.Server {
  const picker = new WeightedPicker(upstreams);
  const metrics = new MetricsRegistry();
  metrics.counter('runlens_router_requests_total', 'Requests proxied, by variant');
  metrics.counter('runlens_router_errors_total', 'Requests that failed (5xx answer or upstream unreachable), by variant');
  metrics.counter('runlens_router_latency_seconds_count', 'Latencies summed below, by variant');
  metrics.counter('runlens_router_latency_seconds_sum', 'Sum of request latencies in seconds, by variant');
  metrics.counter('runlens_router_latency_seconds_sum_squares', 'Sum of squared request latencies (s²), by variant: with count and sum it gives the variance');
  metrics.gauge('runlens_router_weight', 'Configured traffic weight, by variant');
  for (const u of upstreams) {
    const labels = { variant: u.variant };
    for (const name of ['runlens_router_requests_total', 'runlens_router_errors_total', 'runlens_router_latency_seconds_count', 'runlens_router_latency_seconds_sum', 'runlens_router_latency_seconds_sum_squares']) metrics.inc(name, labels, 0);
    metrics.set('runlens_router_weight', labels, u.weight);
  }

  const record = (variant: string, begin: number, failed: boolean) => {
    const seconds = (performance.now() - begin) / 1000;
    const labels = { variant };
    metrics.inc('runlens_router_requests_total', labels);
    if (failed) metrics.inc('runlens_router_errors_total', labels);
    metrics.inc('runlens_router_latency_seconds_count', labels);
    metrics.inc('runlens_router_latency_seconds_sum', labels, seconds);
    metrics.inc('runlens_router_latency_seconds_sum_squares', labels, seconds * seconds);
  };

  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', upstreams }));
      return;
    }
    const upstream = picker.next();
    const begin = performance.now();
    const target = new URL(req.url ?? '/', upstream.url);
    const proxied = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-runlens-variant': upstream.variant });
      answer.pipe(res);
      answer.on('end', () => record(upstream.variant, begin, (answer.statusCode ?? 502) >= 500));
    });
    proxied.on('error', (e) => {
      record(upstream.variant, begin, true);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json', 'x-runlens-variant': upstream.variant });
        res.end(JSON.stringify({ error: `variant ${upstream.variant} at ${upstream.url} did not answer: ${e.message}` }));
      } else res.destroy();
    });
    req.pipe(proxied);
  });
  server.on('error', (e: NodeJS.ErrnoException) => {
    log(e.code === 'EADDRINUSE' ? `cannot listen on ${host}:${port}: the port is already in use by another process` : `router error: ${e.message}`);
    process.exit(e.code === 'EADDRINUSE' ? 3 : 1);
  });
  server.listen(port, host, () => log(`router on ${host}:${port}: ${upstreams.map((u) => `${u.variant} ${u.weight} → ${u.url}`).join(', ')}`));
  return server;
}

if (require.main === module) {
  const upstreams = JSON.parse(process.env.UPSTREAMS ?? '[]') as Upstream[];
  const server = startRouter(upstreams, process.env.HOST ?? '0.0.0.0', Number(process.env.PORT ?? '8080'));
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
