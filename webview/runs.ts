// The panel's view of its runs: decoded stats, a display name that tells
// runs with the same name apart, and a colour fixed by position.
import { GIT_COMMIT_TAG_NAME } from './gitTag';
import type { MetricStats } from '../src/core/compare/stats';
import type { WireCompareRun } from '../src/shared/compareWire';
import type { WireRunDetail } from '../src/shared/protocol';
import { distinctLabels } from '../src/shared/distinctLabels';
import { fromWire } from '../src/shared/wireNumbers';
import { runColor } from './theme';

export interface RunView {
  id: number;
  /** Unique within the panel: runs of one name are told apart by their folders, "train (20240101-120000)" (distinctLabels.ts). */
  name: string;
  color: string;
  detail: WireRunDetail;
  stats: Map<string, MetricStats>;
  commit: string | null;
}

export function buildRunViews(runIds: readonly number[], runs: readonly WireCompareRun[]): RunView[] {
  const byId = new Map(runs.map((r) => [r.run.id, r]));
  const present = runIds.flatMap((id, index) => {
    const r = byId.get(id);
    return r ? [{ r, index }] : [];
  });
  const names = distinctLabels(present.map(({ r }) => ({ name: r.run.label ?? r.run.displayName, path: r.run.path })));
  return present.map(({ r, index }, position) => {
    const d = r.run;
    const name = names[position];
    const stats = new Map<string, MetricStats>(
      r.metrics.map((m) => [m.key, { key: m.key, count: m.count, last: fromWire(m.last), lastStep: fromWire(m.lastStep), min: m.min, minStep: m.minStep, max: m.max, maxStep: m.maxStep, nonFinite: m.nonFinite }]),
    );
    const commit = d.tags[GIT_COMMIT_TAG_NAME]?.trim() || null;
    return { id: d.id, name, color: runColor(index), detail: d, stats, commit };
  });
}

/** Every metric key of these runs, sorted. */
export function metricKeys(runs: readonly RunView[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of r.stats.keys()) keys.add(k);
  return [...keys].sort((a, b) => a.localeCompare(b));
}
