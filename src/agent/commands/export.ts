// `runlens export PATH --json`: ingest PATH (into a throwaway database unless
// --db is given) and print every run under it as JSON, with the MLflow 3
// logged models found there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { exportRuns } from '../../core/export/exportRuns';
import { ingestPaths } from '../../core/ingest/engine';
import { findLoggedModels } from '../../core/ingest/mlflowLoggedModels';
import { ALL_READERS } from '../../core/ingest/registry';
import { acquireAgentLock } from '../../core/store/agentLock';

import type { Command } from '../command';
import { openStore } from '../../core/database/open';

export const exportCommand: Command = {
  usage: 'runlens export PATH --json [--out FILE] [--db FILE]',
  summary:
    'Ingest the logs under PATH (into a temporary database unless --db is given) and print {"runs": [...], "models": [...]}: per run format, path, name, status, params, tags, ' +
    'metrics (key -> [[step, value, wall_ms|null], ...] in file order) and summary; models are MLflow 3 logged models (id, name, experiment, ' +
    'sourceRun {id, path}, status, params, tags, metrics, path). NaN and infinities are the strings "NaN", "Infinity", "-Infinity".',
  flags: {
    json: { value: false, description: 'JSON output (the only format so far; required, so that a later default cannot surprise scripts)' },
    out: { value: true, description: 'write to FILE instead of stdout' },
  },
  async run(args, io) {
    const target = args.positionals[0];
    if (!target) throw new UserError('bad-argument', 'export needs the PATH of a folder (or file) of logs');
    if (!args.flags.has('json')) throw new UserError('bad-argument', 'export writes JSON: pass --json');
    const root = path.resolve(target);
    if (!fs.existsSync(root)) throw new UserError('not-found', `${root} does not exist`);
    const db = args.flags.get('db');
    const tempDir = typeof db === 'string' ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-export-'));
    const dbPath = typeof db === 'string' ? path.resolve(db) : path.join(tempDir!, 'export.db');
    try {
      const lock = acquireAgentLock(dbPath);
      const store = openStore(dbPath).runs;
      try {
        const summary = await ingestPaths(store, ALL_READERS, [root]);
        for (const w of summary.warnings) io.err(`warning: ${w.file}: ${w.message}`);
        const logged = await findLoggedModels(root);
        for (const w of logged.warnings) io.err(`warning: ${w.file}: ${w.message}`);
        const text = JSON.stringify(exportRuns(store, root, logged.models));
        const out = args.flags.get('out');
        if (typeof out === 'string') {
          fs.writeFileSync(out, text + '\n');
          io.err(`wrote ${summary.runs} runs and ${logged.models.length} logged models to ${path.resolve(out)}`);
        } else {
          io.out(text);
        }
      } finally {
        store.close();
        lock.release();
      }
    } finally {
      if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    }
    return 0;
  },
};
