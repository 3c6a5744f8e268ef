// What the user sees as a run's status, from what the log says and when it was
// last written. Formats without a status (TensorBoard, CSV loggers, DVCLive)
// are 'running' while they are being written and 'idle' afterwards: we cannot
// know whether they finished or died.
import type { RunStatus } from '../core/ingest/types';

export type DisplayStatus = RunStatus | 'stale' | 'idle';

export function displayStatus(run: { status: RunStatus; lastWrite: number | null }, now: number, staleAfterMs: number): DisplayStatus {
  const quietFor = run.lastWrite === null ? Infinity : now - run.lastWrite;
  switch (run.status) {
    case 'finished':
    case 'failed':
    case 'killed':
    case 'scheduled':
      return run.status;
    case 'running':
      // The log says running but nothing was written for a while: stopped or hung.
      return quietFor > staleAfterMs ? 'stale' : 'running';
    case 'unknown':
      return quietFor <= staleAfterMs ? 'running' : 'idle';
    default: {
      const unknown: never = run.status;
      return unknown;
    }
  }
}

export function describeAge(ms: number | null, now: number): string {
  if (ms === null) return 'never written';
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** Loss-like metrics, whose NaN or infinity means training broke. */
export function isLossLike(key: string): boolean {
  return /(loss|error|perplexity|nll|mse|mae|rmse)/i.test(key);
}
