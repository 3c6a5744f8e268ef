// The comparison panel with 10 runs of a million points each:
// - agent: time to answer `series/downsampled` for the 10 runs (real agent
//   process, real SQLite store), median of 5 after a warm-up;
// - webview: time from the data message reaching the panel (real bundle in
//   headless Chromium) to the first painted frame of the chart, for that
//   downsampled answer, next to the same chart fed every raw point, measured
//   in the same run (target for the downsampled answer: < 500 ms).
// The raw points are generated inside the page by the same arithmetic that
// filled the store (checked by a checksum): ten million numbers cannot be
// shipped into the page any other way within a benchmark's budget, and the
// panel's CSP forbids it to fetch them.
import * as path from 'node:path';
import type { ParsedSource } from '../src/core/ingest/types';

import type { DownsampledSeriesParams, DownsampledSeriesResult } from '../src/shared/compareWire';
import { DEFAULT_SETTINGS, type WebviewToHost } from '../src/shared/comparePanelProtocol';
import type { AgentRequestMethod, RequestParams, RequestResult } from '../src/shared/protocol';
import { startAgent } from '../test/support/agentProcess';
import { launchChromium, openHarness, type Chromium } from '../test/webview/harness';
import { openStore } from '../src/core/database/open';

export interface ComparePanelBenchResult {
  runs: number;
  pointsPerRun: number;
  /** Plot width in pixels the chart asked for. */
  width: number;
  agentMedianMs: number;
  agentMinMs: number;
  /** The same request zoomed to a tenth of the steps (what a drag asks): the store reads only the chunks in range. */
  agentZoomMedianMs: number;
  /** Points and JSON bytes of the agent's answer (all runs). */
  answerPoints: number;
  answerBytes: number;
  /** Data message → first painted frame, median of `rounds` fresh pages. */
  paintDownsampledMs: number;
  paintRawMs: number;
  rounds: number;
  targetMs: number;
}

const KEY = 'train/loss';

/** The series of run `run`: integer LCG noise and + - * / only, so that Node and Chromium compute the same doubles. */
function fill(run: number, n: number, values: Float64Array): void {
  let s = (run + 1) * 7919;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const noise = s / 4294967296 - 0.5;
    values[i] = 2 / (1 + i / 20000) + 0.3 + run * 0.02 + 0.05 * noise + (i % 97003 === 12345 ? 3 : 0);
  }
}

function checksum(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * ((i % 13) + 1);
  return sum;
}

function makeStore(dbPath: string, runs: number, n: number): { checksums: number[] } {
  const store = openStore(dbPath).runs;
  const checksums: number[] = [];
  const steps = Array.from({ length: n }, (_, i) => i);
  const walls = steps.map((i) => 1_700_000_000_000 + i * 50);
  const values = new Float64Array(n);
  for (let r = 0; r < runs; r++) {
    fill(r, n, values);
    checksums.push(checksum(values));
    const root = path.join(path.dirname(dbPath), `bench-run-${r}`);
    const source: ParsedSource = {
      format: 'tensorboard',
      root,
      warnings: [],
      experiments: [
        {
          key: 'bench',
          name: 'bench',
          lifecycle: 'active',
          runs: [{ key: `run-${r}`, name: `run-${r}`, path: root, status: 'finished', params: { seed: String(r) }, tags: {}, summaries: {}, metrics: { [KEY]: { steps, values: Array.from(values), walls } } }],
        },
      ],
    };
    store.replaceSource(source, []);
  }
  store.close();
  return { checksums };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchComparePanel(dir: string, options: { runs?: number; points?: number; rounds?: number } = {}): Promise<ComparePanelBenchResult> {
  const runs = options.runs ?? 10;
  const n = options.points ?? 1_000_000;
  const rounds = options.rounds ?? 3;
  const dbPath = path.join(dir, 'compare-panel.db');
  const { checksums } = makeStore(dbPath, runs, n);
  const agent = startAgent(dbPath);
  let chromium: Chromium | undefined;
  try {
    const { runs: listed } = await agent.request('runs/list', { limit: 100 });
    const runIds = listed.filter((r) => r.name.startsWith('run-')).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })).map((r) => r.id);
    const summary = await agent.request('compare/summary', { runIds });
    const requester = async <M extends AgentRequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> =>
      (method === 'compare/summary' ? summary : await agent.request(method, params)) as RequestResult<M>;

    chromium = await launchChromium();
    // One page per measurement: it loads, its chart asks for data, and the benchmark answers.
    const measure = async (mode: 'downsampled' | 'raw'): Promise<{ ms: number; params: DownsampledSeriesParams; answer?: DownsampledSeriesResult }> => {
      let pending: { requestId: number; params: DownsampledSeriesParams } | undefined;
      const harness = await openHarness(chromium!, {
        agent: requester,
        runIds,
        viewport: { width: 1400, height: 900 },
        state: { runIds, settings: { ...DEFAULT_SETTINGS, filter: `^${KEY}$` } },
        intercept: (m: WebviewToHost) => {
          if (m.type !== 'requestSeries' || m.params.key !== KEY) return false;
          pending = { requestId: m.requestId, params: m.params };
          return true;
        },
      });
      try {
        const page = harness.page;
        const deadline = Date.now() + 30_000;
        while (!pending) {
          if (Date.now() > deadline) throw new Error('the chart never asked for its data');
          await new Promise((r) => setTimeout(r, 20));
        }
        const { requestId, params } = pending;
        let answer: DownsampledSeriesResult | undefined;
        if (mode === 'downsampled') {
          answer = await agent.request('series/downsampled', params);
          await page.evaluate((m) => ((window as unknown as { __payload: unknown }).__payload = m), { type: 'series', requestId, result: answer } as never);
        } else {
          const sums = await page.evaluate(
            ({ requestId, runIds, n, key }) => {
              const series = runIds.map((runId: number, run: number) => {
                // The same arithmetic as fill() above.
                const xs = new Array<number>(n);
                const ys = new Array<number>(n);
                let s = (run + 1) * 7919;
                for (let i = 0; i < n; i++) {
                  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
                  const noise = s / 4294967296 - 0.5;
                  xs[i] = i;
                  ys[i] = 2 / (1 + i / 20000) + 0.3 + run * 0.02 + 0.05 * noise + (i % 97003 === 12345 ? 3 : 0);
                }
                return { runId, xs, ys, total: n, inRange: n, downsampled: false, appended: false, origin: null, missing: null };
              });
              (window as unknown as { __payload: unknown }).__payload = { type: 'series', requestId, result: { key, xAxis: 'step', series } };
              return series.map((s: { ys: number[] }) => {
                let sum = 0;
                for (let i = 0; i < s.ys.length; i++) sum += s.ys[i] * ((i % 13) + 1);
                return sum;
              });
            },
            { requestId, runIds, n, key: KEY },
          );
          if (sums.some((s, i) => s !== checksums[i])) throw new Error('the page generated other points than the store holds');
        }
        // Timed inside the page: post the data message, wait for the chart's painted frame.
        const ms = await page.evaluate(async (key) => {
          const fig = Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === key)!;
          const before = fig.dataset.painted;
          const t0 = performance.now();
          window.postMessage((window as unknown as { __payload: unknown }).__payload, '*');
          await new Promise<void>((resolve, reject) => {
            const started = Date.now();
            const poll = () => {
              if (fig.dataset.painted !== before && fig.dataset.state === 'ready') resolve();
              else if (Date.now() - started > 120_000) reject(new Error(`no paint; state ${fig.dataset.state}`));
              else setTimeout(poll, 1);
            };
            poll();
          });
          return Number(fig.dataset.paintedAt) - t0;
        }, KEY);
        const drawnRuns = await page.evaluate((key) => Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).find((f) => f.dataset.key === key)!.dataset.runs, KEY);
        if (drawnRuns?.split(',').length !== runs) throw new Error(`the chart drew ${drawnRuns} instead of ${runs} runs`);
        return { ms, params, answer };
      } finally {
        await harness.close();
      }
    };

    const down: number[] = [];
    const raw: number[] = [];
    let first: Awaited<ReturnType<typeof measure>> | undefined;
    for (let i = 0; i < rounds; i++) {
      const d = await measure('downsampled');
      first ??= d;
      down.push(d.ms);
      raw.push((await measure('raw')).ms);
    }

    // The agent, on the request the chart made.
    const params = first!.params;
    await agent.request('series/downsampled', params);
    const agentMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      await agent.request('series/downsampled', params);
      agentMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const zoomMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      await agent.request('series/downsampled', { ...params, xMin: n * 0.45, xMax: n * 0.55 });
      zoomMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const answer = first!.answer!;
    return {
      runs,
      pointsPerRun: n,
      width: params.width,
      agentMedianMs: median(agentMs),
      agentMinMs: Math.min(...agentMs),
      agentZoomMedianMs: median(zoomMs),
      answerPoints: answer.series.reduce((k, s) => k + s.xs.length, 0),
      answerBytes: Buffer.byteLength(JSON.stringify(answer)),
      paintDownsampledMs: median(down),
      paintRawMs: median(raw),
      rounds,
      targetMs: 500,
    };
  } finally {
    await chromium?.close();
    await agent.stop();
  }
}

/** Lines for bench/run.ts, in its style. */
export function describeComparePanelBench(r: ComparePanelBenchResult): string[] {
  const fmt = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  return [
    `comparison panel, ${r.runs} runs x ${fmt(r.pointsPerRun)} points, one chart ${r.width} px wide (median of ${r.rounds} fresh pages)`,
    `  agent: series/downsampled for all runs : ${fmt(r.agentMedianMs, 1)} ms (min ${fmt(r.agentMinMs, 1)}), ${fmt(r.answerPoints)} points, ${fmt(r.answerBytes / 1024)} KiB of JSON`,
    `  agent: the same, zoomed to 10 % of steps: ${fmt(r.agentZoomMedianMs, 1)} ms`,
    `  webview: data message -> painted frame : downsampled ${fmt(r.paintDownsampledMs, 1)} ms  (target < ${r.targetMs} ms: ${r.paintDownsampledMs < r.targetMs ? 'ok' : 'MISSED'})`,
    `                                          every raw point ${fmt(r.paintRawMs, 1)} ms  (${fmt(r.paintRawMs / r.paintDownsampledMs, 1)}x the downsampled)`,
  ];
}
