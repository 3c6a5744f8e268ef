// Smoke-test overhead: the p50 latency `runlens smoke` reports (timed inside
// its worker process) next to a bare in-process `session.run` loop on the same
// model, inputs, thread count and run count, in the same bench run; and the
// time from starting a smoke test to its first output, per corpus model.
// Rounds alternate bare and smoke so machine noise hits both alike.
import * as path from 'node:path';
import { materializeInputs, parseShapeOverrides, planInputs } from '../src/core/models/inputs';
import { inspectModel } from '../src/core/models/inspect';
import { loadOnnxRuntime } from '../src/core/models/ortRuntime';
import { runSmokeTest } from '../src/core/models/smoke';
import { percentile } from '../src/core/models/stats';
import { corpusDir } from '../test/support/fixtures';

export interface SmokeOverheadModel {
  model: string;
  /** The --shape used ('' for the defaults). */
  shapes: string;
  /** Median over rounds of the bare loop's p50. */
  rawP50Ms: number;
  /** Median over rounds of the p50 the smoke report gives. */
  smokeP50Ms: number;
  /** smokeP50Ms / rawP50Ms - 1 (target <= 0.05). */
  overhead: number;
  /** Medians over rounds: session creation and first run inside the worker. */
  smokeLoadMs: number;
  smokeFirstRunMs: number;
  /** Smoke: starting the worker to its first output (process + runtime + load + first run). */
  startToFirstResultMs: number;
  /** Bare, in this process with the runtime already loaded: session creation + first run. */
  rawLoadToFirstMs: number;
}

export interface SmokeOverheadResult {
  runs: number;
  rounds: number;
  threads: number;
  models: SmokeOverheadModel[];
  /** The largest overhead over the models. */
  worstOverhead: number;
  targetOverhead: number;
}

const CORPUS_MODELS: { file: string; shapes: string }[] = [
  { file: 'silero_vad_v5.onnx', shapes: '' },
  { file: 'blazeface_front_128.onnx', shapes: '' },
  // The input size the corpus README measured with.
  { file: 'ppocr_mobile_v2_cls.onnx', shapes: 'x=1x3x48x192' },
];

export const SMOKE_OVERHEAD_TARGET = 0.05;

export async function benchSmokeOverhead(options: { modelsDir?: string; runs?: number; warmup?: number; rounds?: number; threads?: number } = {}): Promise<SmokeOverheadResult> {
  const modelsDir = options.modelsDir ?? path.join(corpusDir(), 'models');
  const runs = options.runs ?? 200;
  const warmup = options.warmup ?? 10;
  const rounds = options.rounds ?? 3;
  // One intra-op thread, as the corpus README measured: the least noisy setting.
  const threads = options.threads ?? 1;
  const models: SmokeOverheadModel[] = [];
  for (const { file, shapes } of CORPUS_MODELS) {
    const modelPath = path.join(modelsDir, file);
    const samples: { rawP50: number; rawLoadToFirst: number; smokeP50: number; load: number; first: number; startToFirst: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      const bare = await bareLoop(modelPath, shapes, { runs, warmup, threads });
      const report = await runSmokeTest(modelPath, { runs, warmup, threads, shapes: parseShapeOverrides(shapes), batchSizes: [] });
      samples.push({
        rawP50: bare.p50Ms,
        rawLoadToFirst: bare.loadToFirstMs,
        smokeP50: report.latency.p50Ms,
        load: report.loadMs,
        first: report.firstRunMs,
        startToFirst: report.startToFirstResultMs ?? NaN,
      });
    }
    // Medians over rounds: one slow round (a busy machine) does not decide the figure.
    const median = (pick: (r: (typeof samples)[number]) => number) => percentile(samples.map(pick), 0.5);
    const rawP50Ms = median((r) => r.rawP50);
    const smokeP50Ms = median((r) => r.smokeP50);
    models.push({
      model: file,
      shapes,
      rawP50Ms,
      smokeP50Ms,
      overhead: smokeP50Ms / rawP50Ms - 1,
      smokeLoadMs: median((r) => r.load),
      smokeFirstRunMs: median((r) => r.first),
      startToFirstResultMs: median((r) => r.startToFirst),
      rawLoadToFirstMs: median((r) => r.rawLoadToFirst),
    });
  }
  return { runs, rounds, threads, models, worstOverhead: Math.max(...models.map((m) => m.overhead)), targetOverhead: SMOKE_OVERHEAD_TARGET };
}

/** The baseline: what a user would write by hand, in-process, with the same inputs. */
async function bareLoop(modelPath: string, shapes: string, o: { runs: number; warmup: number; threads: number }): Promise<{ p50Ms: number; loadToFirstMs: number }> {
  const ort = loadOnnxRuntime();
  const plan = planInputs(inspectModel(modelPath).inputs, parseShapeOverrides(shapes));
  const feeds = Object.fromEntries(materializeInputs(plan).map((t) => [t.name, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)]));
  const started = performance.now();
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: o.threads, executionProviders: ['cpu'], logSeverityLevel: 2 });
  await session.run(feeds);
  const loadToFirstMs = performance.now() - started;
  try {
    for (let i = 0; i < o.warmup; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    return { p50Ms: percentile(times, 0.5), loadToFirstMs };
  } finally {
    await session.release();
  }
}
