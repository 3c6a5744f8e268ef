// The agent's answers about ONNX models: which are in the workspace (with
// size and opset), a full inspection, smoke tests and EP parity checks run in
// an isolated worker whose results are kept in the store, and the latest of
// each for the model card.
import * as fs from 'node:fs';
import { inspectModel, type ModelInspection } from '../core/models/inspect';
import { parseShapeOverrides } from '../core/models/inputs';
import { runSmokeTest, type SmokeReport } from '../core/models/smoke';
import { runParityCheck, type ParityReport } from '../core/models/parity';
import type { ExecutionProvider } from '../core/models/ortRuntime';
import { walkFiles } from '../core/ingest/walk';
import { PARITY_PROVIDER_PREFIX, type RunStore } from '../core/store/types';
import type { ParityParams, SmokeParams, WireModelSummary } from '../shared/protocol';
import { toWireDeep } from '../shared/wireNumbers';
import { describeError } from '../core/errors';

/** Inspections are cached by path, size and mtime: listing the Models view must not re-decode every file. */
const inspectionCache = new Map<string, { size: number; mtimeMs: number; inspection: ModelInspection }>();

export async function inspectCached(file: string): Promise<ModelInspection> {
  const st = await fs.promises.stat(file);
  const cached = inspectionCache.get(file);
  if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return cached.inspection;
  const inspection = await inspectModel(file);
  inspectionCache.set(file, { size: st.size, mtimeMs: st.mtimeMs, inspection });
  return inspection;
}

export async function listModels(store: RunStore, roots: readonly string[]): Promise<WireModelSummary[]> {
  const files: string[] = [];
  for (const root of roots) files.push(...(await walkFiles(root)).files.filter((f) => f.toLowerCase().endsWith('.onnx')));
  const latest = store.latestSmokeTests(files);
  const out: WireModelSummary[] = [];
  for (const file of files.sort()) {
    const smoke = latest.get(file);
    const lastSmoke = smoke ? summarizeStoredReport(smoke.report, smoke.startedAt, smoke.provider, smoke.passed) : null;
    try {
      const i = await inspectCached(file);
      out.push({ path: file, size: i.fileSize, opset: i.opset, irVersion: i.irVersion, producer: i.producerName, inputs: i.inputs.length, outputs: i.outputs.length, error: null, lastSmoke });
    } catch (e) {
      const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      out.push({ path: file, size, opset: null, irVersion: null, producer: null, inputs: 0, outputs: 0, error: describeError(e), lastSmoke });
    }
  }
  return out;
}

function summarizeStoredReport(report: string, startedAt: number, provider: string, passed: boolean): WireModelSummary['lastSmoke'] {
  let p50: number | null = null;
  try {
    const parsed = JSON.parse(report) as { latency?: { p50Ms?: unknown } };
    p50 = typeof parsed.latency?.p50Ms === 'number' ? parsed.latency.p50Ms : null;
  } catch {
    // An unreadable stored report still says whether it passed.
  }
  return { startedAt, provider, passed, p50Ms: p50 };
}

export async function smokeAndRecord(store: RunStore, request: SmokeParams, signal: AbortSignal, onPhase: (phase: string) => void): Promise<SmokeReport> {
  const startedAt = Date.now();
  const report = await runSmokeTest(request.path, {
    ep: request.ep,
    runs: request.runs,
    warmup: request.warmup,
    shapes: parseShapeOverrides(request.shapes),
    saveGolden: request.saveGolden,
    golden: request.golden,
    signal,
    onPhase: (p) => onPhase(String(p)),
  });
  // In wire form, so NaN and infinities in the report survive the JSON column.
  store.recordSmokeTest(
    { modelPath: request.path, sha256: report.model.sha256, startedAt, provider: report.ep.used, passed: report.pass, report: JSON.stringify(toWireDeep(report)) },
    report.model.fileSize,
  );
  return report;
}

export async function parityAndRecord(store: RunStore, request: ParityParams, signal: AbortSignal, onPhase: (phase: string) => void): Promise<ParityReport> {
  const startedAt = Date.now();
  const report = await runParityCheck(request.path, {
    candidates: request.eps?.map((ep) => ({ label: ep, ep: ep as ExecutionProvider })),
    runs: request.runs,
    warmup: request.warmup,
    shapes: parseShapeOverrides(request.shapes),
    tolerances: { atol: request.atol, rtol: request.rtol },
    signal,
    onPhase: (phase, detail) => onPhase(detail ? `${detail}: ${phase}` : phase),
  });
  store.recordSmokeTest(
    {
      modelPath: request.path,
      sha256: report.model.sha256,
      startedAt,
      provider: `${PARITY_PROVIDER_PREFIX}${report.candidates.map((c) => c.label).join(',')}`,
      passed: report.pass,
      report: JSON.stringify(toWireDeep(report)),
    },
    report.model.fileSize,
  );
  return report;
}

/** The latest smoke test and parity check of a model, as stored (wire form), for the model card. */
export function latestResults(store: RunStore, modelPath: string): { smoke: unknown; parity: unknown } {
  const parse = (record: { report: string } | undefined): unknown => {
    if (!record) return null;
    try {
      return JSON.parse(record.report) as unknown;
    } catch {
      return null; // an unreadable stored report is as good as none
    }
  };
  return { smoke: parse(store.latestSmokeTests([modelPath]).get(modelPath)), parity: parse(store.latestSmokeTests([modelPath], 'parity').get(modelPath)) };
}
