// The check a new deployment must pass before it counts as deployed: one
// prediction through the container's POST /predict on the smoke-test input,
// compared with the golden output (golden.ts: same file format, same
// tolerances). Without a golden file, the reference is this machine's own
// CPU run of the registered file on the same input, and the result says so.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { compareWithGolden, goldenPathFor, readGolden, type GoldenComparison, type GoldenFile } from '../models/golden';
import { DEFAULT_SEED, materializeInputs, planInputs } from '../models/inputs';
import { inspectModel } from '../models/inspect';
import { runSmokeTest } from '../models/smoke';
import type { OutputTensor } from '../models/smokeProtocol';
import { fetchWithTimeout } from './http';
import { decodeTensorMap, encodeTensor, type JsonTensor } from './tensorJson';

export interface GoldenCheck {
  /** 'golden-file': compared with a saved golden; 'host-run': no golden given, compared with this machine's CPU run. */
  reference: 'golden-file' | 'host-run';
  file: string | null;
  /** Says when there was no golden file, or why the comparison could not be made. */
  note: string | null;
  pass: boolean;
  comparison: GoldenComparison | null;
  /** The server's answer time for the check's prediction. */
  predictMs: number;
}

export interface GoldenCheckOptions {
  /** A golden file (runlens smoke --save-golden); absent: the one the model card saved beside the model (MODEL.golden.json), else the host-side CPU run is the reference. */
  golden?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function checkDeploymentOutput(serverUrl: string, modelFile: string, requested: GoldenCheckOptions = {}): Promise<GoldenCheck> {
  // "Save as Golden" in the model card writes beside the model: a deploy of that file honours it without a flag.
  const beside = goldenPathFor(modelFile);
  const options = { ...requested, golden: requested.golden ?? (fs.existsSync(beside) ? beside : undefined) };
  let golden: GoldenFile;
  let goldenPath: string;
  let scratch: string | null = null;
  if (options.golden) {
    goldenPath = path.resolve(options.golden);
    golden = readGolden(goldenPath);
  } else {
    // The smoke test's own machinery (its worker process, its golden writer) makes the reference, so both paths compare the same way.
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-deploy-reference-'));
    goldenPath = path.join(scratch, 'host-run.golden.json');
    await runSmokeTest(modelFile, { runs: 1, warmup: 0, batchSizes: [], seed: DEFAULT_SEED, saveGolden: goldenPath, signal: options.signal });
    golden = readGolden(goldenPath);
  }
  try {
    const outputs = await predictOnGoldenInputs(serverUrl, modelFile, golden, options);
    const comparison = compareWithGolden(goldenPath, golden, outputs.tensors);
    return {
      reference: options.golden ? 'golden-file' : 'host-run',
      file: options.golden ? goldenPath : null,
      note: options.golden ? null : 'no golden file was given: the reference is this machine\'s CPU run of the registered file on the same input',
      pass: comparison.pass,
      comparison,
      predictMs: outputs.ms,
    };
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The golden's input (same seed and shapes) through POST /predict. */
async function predictOnGoldenInputs(serverUrl: string, modelFile: string, golden: GoldenFile, options: GoldenCheckOptions): Promise<{ tensors: OutputTensor[]; ms: number }> {
  const plan = planInputs(inspectModel(modelFile).inputs, new Map(Object.entries(golden.inputs.shapes)), golden.inputs.seed);
  const inputs: Record<string, JsonTensor> = {};
  for (const t of materializeInputs(plan)) {
    if (t.dtype === 'float16') throw new UserError('bad-argument', `input "${t.name}" is float16, which POST /predict does not take as JSON; the golden check cannot run for this model`);
    inputs[t.name] = encodeTensor(t.dtype, t.dims, t.data);
  }
  const started = Date.now();
  const res = await fetchWithTimeout(`${serverUrl}/predict`, options.timeoutMs ?? 60_000, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) }, options.signal);
  const text = await res.text();
  const ms = Date.now() - started;
  if (res.status !== 200) throw new UserError('bad-argument', `the smoke-test prediction failed: POST ${serverUrl}/predict answered ${res.status}: ${text.slice(0, 500)}`);
  const tensors = decodeTensorMap(JSON.parse(text), 'outputs').map((t): OutputTensor => ({ name: t.name, dtype: t.dtype, dims: t.dims, data: t.data }));
  return { tensors, ms };
}

/** One line for people about a failed comparison. */
export function describeGoldenFailure(check: GoldenCheck): string {
  const failed = check.comparison?.outputs.filter((o) => !o.pass) ?? [];
  const what = failed
    .map((o) => (o.problem ? `${o.name}: ${o.problem}` : `${o.name}: ${o.mismatches}/${o.elements} values outside atol ${check.comparison!.tolerances.atol} + rtol ${check.comparison!.tolerances.rtol} (max abs diff ${o.maxAbsDiff})`))
    .join('; ');
  const against = check.reference === 'golden-file' ? `golden file ${check.file}` : "this machine's CPU run";
  return `the served output differs from the ${against}: ${what || 'no output matched'}${check.comparison?.notes.length ? ` (${check.comparison.notes.join('; ')})` : ''}`;
}
