// What `runlens smoke` and `runlens parity` share around their worker run:
// Ctrl+C cancels the worker (exit 130), a status line while it works, then
// the report as JSON or a table, its warnings, and exit 1 when it failed.
import { SmokeCancelledError } from '../../core/models/smoke';
import type { ParsedArgs } from '../args';
import type { CliIO } from '../command';
import { toJson } from './modelFormat';

interface WorkerReport {
  pass: boolean;
  problems: string[];
  warnings: string[];
}

export interface WorkerReportSpec<R extends WorkerReport> {
  /** "smoke" or "parity": the status-line tag and the FAIL line's prefix. */
  command: string;
  /** Said when Ctrl+C arrives. */
  stopping: string;
  /** Said when the cancelled run has ended. */
  cancelled: (e: SmokeCancelledError) => string;
  /** How each of the report's warnings is labelled ("warning", "note"). */
  warningLabel: string;
  run: (signal: AbortSignal, status: (text: string) => void) => Promise<R>;
  print: (report: R, io: CliIO) => void;
}

export async function runWorkerReport<R extends WorkerReport>(args: ParsedArgs, io: CliIO, spec: WorkerReportSpec<R>): Promise<number> {
  const abort = new AbortController();
  const onInterrupt = () => {
    io.err(`\ncancelling: ${spec.stopping}`);
    abort.abort();
  };
  process.once('SIGINT', onInterrupt);
  let report: R;
  try {
    report = await spec.run(abort.signal, (text) => {
      if (io.interactive) io.err(`\r\x1b[2K[${spec.command}] ${text}…`);
    });
  } catch (e) {
    if (e instanceof SmokeCancelledError) {
      io.err(spec.cancelled(e));
      return 130;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    if (io.interactive) io.err('\r\x1b[2K');
  }
  if (args.flags.has('json')) io.out(toJson(report));
  else spec.print(report, io);
  for (const w of report.warnings) io.err(`${spec.warningLabel}: ${w}`);
  if (!report.pass) io.err(`${spec.command}: FAIL: ${report.problems.join('; ')}`);
  return report.pass ? 0 : 1;
}
