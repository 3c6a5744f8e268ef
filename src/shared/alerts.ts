// Which live changes deserve a notification. Pure, so it is tested without
// VS Code; LiveTracking shows what this returns, once per run and metric.
import { describeAge, displayStatus, isLossLike } from './runStatus';
import type { WireRunSummary, WireSeriesChange } from './protocol';
import { fromWire } from './wireNumbers';

export interface Alert {
  /** Stable identity: the same alert is raised once per session. */
  id: string;
  runId: number;
  message: string;
}

export function nonFiniteAlerts(changes: readonly WireSeriesChange[], alreadyRaised: ReadonlySet<string>): Alert[] {
  const out: Alert[] = [];
  for (const change of changes) {
    const value = fromWire(change.lastValue);
    if (Number.isFinite(value) || !isLossLike(change.key)) continue;
    const id = `nonfinite:${change.runUid}:${change.key}`;
    if (alreadyRaised.has(id) || out.some((a) => a.id === id)) continue;
    out.push({ id, runId: change.runId, message: `${change.key} of run "${change.runName}" became ${value} at step ${fromWire(change.lastStep)}.` });
  }
  return out;
}

/**
 * Runs marked running by their log that stopped writing. Only runs that went
 * quiet recently: a run that crashed last month is history, not news.
 */
export function staleAlerts(runs: readonly WireRunSummary[], now: number, staleAfterMs: number, recentWindowMs: number, alreadyRaised: ReadonlySet<string>): Alert[] {
  const out: Alert[] = [];
  for (const run of runs) {
    if (displayStatus(run, now, staleAfterMs) !== 'stale') continue;
    if (run.lastWrite === null || now - run.lastWrite > staleAfterMs + recentWindowMs) continue;
    const id = `stale:${run.uid}`;
    if (alreadyRaised.has(id)) continue;
    out.push({ id, runId: run.id, message: `run "${run.name}" is marked running but stopped writing ${describeAge(run.lastWrite, now)}.` });
  }
  return out;
}
