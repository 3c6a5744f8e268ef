// HTTP to a serving container or the router. Every request has its own
// timeout: with Node 20, a fetch to a published port whose server is not
// listening yet can hang forever, so nothing here waits without a bound.
import * as net from 'node:net';
import { UserError, describeError } from '../errors';

export async function fetchWithTimeout(url: string, timeoutMs: number, init: RequestInit = {}, outer?: AbortSignal): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
  const onOuter = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch (e) {
    if (controller.signal.aborted && !outer?.aborted) throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
    throw e;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/** GET as text with a timeout; the body is read under the same bound. */
export async function getText(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal });
    return { status: res.status, text: await res.text() };
  } catch (e) {
    if (controller.signal.aborted) throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
    throw new Error(`${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** A Prometheus /metrics page; `what` names the server in the error ("the router's metrics"). */
export async function readMetricsText(url: string, what: string): Promise<string> {
  try {
    const r = await getText(url, 5000);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return r.text;
  } catch (e) {
    throw new UserError('bad-argument', `cannot read ${what} at ${url}: ${describeError(e)}`);
  }
}

export interface WaitOptions {
  /** Give up after this long in all. */
  timeoutMs: number;
  /** Each attempt's own bound. */
  attemptMs?: number;
  /** Pause between attempts. */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called before every attempt: throw to stop waiting (e.g. the container exited). */
  check?: () => Promise<void>;
}

/** Polls GET url until it answers 200; returns the attempts it took. */
export async function waitForHttpOk(url: string, options: WaitOptions): Promise<{ attempts: number; ms: number }> {
  const started = Date.now();
  const attemptMs = options.attemptMs ?? 2000;
  let attempts = 0;
  let last = 'no attempt made';
  while (Date.now() - started < options.timeoutMs) {
    if (options.signal?.aborted) throw new Error(`waiting for ${url} was cancelled`);
    await options.check?.();
    attempts++;
    try {
      const { status, text } = await getText(url, Math.min(attemptMs, Math.max(100, options.timeoutMs - (Date.now() - started))));
      if (status === 200) return { attempts, ms: Date.now() - started };
      last = `HTTP ${status} ${text.slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  await options.check?.();
  throw new Error(`${url} did not answer 200 within ${options.timeoutMs} ms (${attempts} attempts; last: ${last})`);
}

/** Whether something already listens on host:port (by trying to listen there ourselves). */
export function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}
