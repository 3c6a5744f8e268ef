// The agent's answers about ONNX models: which are in the workspace (with
// size and opset), a full inspection, and smoke tests run in an isolated
// worker whose results are kept in the store.
import * as fs from 'node:fs';
import { inspectModel, type ModelInspection } from '../core/models/inspect';
import { parseShapeOverrides } from '../core/models/inputs';
import { runSmokeTest, type SmokeReport } from '../core/models/smoke';
import { walkFiles } from '../core/ingest/walk';
import type { RunStore } from '../core/store/types';
import type { WireModelSummary } from '../shared/protocol';
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

export interface SmokeRequest {
  path: string;
  ep?: 'cpu' | 'cuda' | 'webgpu';
  runs?: number;
  warmup?: number;
  /** `name=1x3x224x224,other=...`, as on the command line. */
  shapes?: string;
}

export async function smokeAndRecord(store: RunStore, request: SmokeRequest, signal: AbortSignal, onPhase: (phase: string) => void): Promise<SmokeReport> {
  const startedAt = Date.now();
  const report = await runSmokeTest(request.path, {
    ep: request.ep,
    runs: request.runs,
    warmup: request.warmup,
    shapes: parseShapeOverrides(request.shapes),
    signal,
    onPhase: (p) => onPhase(String(p)),
  });
  store.recordSmokeTest(
    { modelPath: request.path, sha256: report.model.sha256, startedAt, provider: report.ep.used, passed: report.pass, report: JSON.stringify(report) },
    report.model.fileSize,
  );
  return report;
}
