// `runlens watch PATH`: ingest PATH, then keep watching it and print one line
// per change (run, metric, new points, newest step and value) until Ctrl+C.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { ingestPaths } from '../../core/ingest/engine';
import { ALL_READERS } from '../../core/ingest/registry';
import { acquireAgentLock } from '../../core/store/agentLock';

import { formatValue } from '../../shared/wireNumbers';
import type { Command } from '../command';
import { LiveIngest } from '../watch/liveIngest';
import { seriesChangeToWire } from '../wire';
import { databasePathOf } from '../paths';
import { openStore } from '../../core/database/open';

export const DEFAULT_DEBOUNCE_MS = 200;

export const watchCommand: Command = {
  usage: 'runlens watch PATH... [--json] [--debounce MS] [--poll] [--ignore GLOB,GLOB] [--db FILE]',
  summary: 'Ingest PATH, then watch it and print one line per change (run, metric key, new points, newest step and value) until interrupted.',
  flags: {
    json: { value: false, description: 'one JSON object per line' },
    debounce: { value: true, description: `quiet time before a burst of changes is read (default ${DEFAULT_DEBOUNCE_MS} ms)` },
    poll: { value: false, description: 'poll instead of native file events (network drives)' },
    ignore: { value: true, description: 'comma-separated globs to ignore, e.g. "**/checkpoints/**,*.tmp"' },
  },
  async run(args, io) {
    if (args.positionals.length === 0) throw new UserError('bad-argument', 'watch needs at least one PATH');
    const roots = args.positionals.map((p) => path.resolve(p));
    for (const root of roots) if (!fs.existsSync(root)) throw new UserError('not-found', `${root} does not exist`);
    const debounceFlag = args.flags.get('debounce');
    const debounceMs = typeof debounceFlag === 'string' ? Number(debounceFlag) : DEFAULT_DEBOUNCE_MS;
    if (!Number.isFinite(debounceMs) || debounceMs < 0) throw new UserError('bad-argument', `--debounce must be a number of milliseconds, got "${debounceFlag}"`);
    const ignoreFlag = args.flags.get('ignore');
    const json = args.flags.has('json');
    const dbPath = databasePathOf(args);

    const lock = acquireAgentLock(dbPath);
    const store = openStore(dbPath).runs;
    const initial = await ingestPaths(store, ALL_READERS, roots);
    io.err(`ingested ${initial.runs} runs, ${initial.points} points; watching ${roots.join(', ')} (debounce ${debounceMs} ms${args.flags.has('poll') ? ', polling' : ''}) — Ctrl+C to stop`);
    const live = new LiveIngest(store, ALL_READERS, {
      roots,
      ignore: typeof ignoreFlag === 'string' ? ignoreFlag.split(',').filter(Boolean) : [],
      usePolling: args.flags.has('poll'),
      debounceMs,
      onIngested: (summary) => {
        for (const w of summary.warnings) io.err(`warning: ${w.file}: ${w.message}`);
        for (const change of summary.changes) {
          if (json) io.out(JSON.stringify({ time: new Date().toISOString(), ...seriesChangeToWire(change) }));
          else io.out(`${new Date().toISOString().slice(11, 19)}  ${change.runName}  ${change.key}  +${change.newPoints}  step ${formatValue(change.lastStep)}  ${formatValue(change.lastValue)}`);
        }
      },
      onError: (e) => io.err(`watch error: ${(e as Error).message ?? String(e)}`),
    });
    await live.ready();
    io.err('ready');
    return new Promise<number>((resolve) => {
      const stop = () => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        void live
          .idle()
          .then(() => live.dispose())
          .finally(() => {
            store.close();
            lock.release();
            resolve(0);
          });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
