// `runlens`: the agent's entry point doubles as a CLI for terminals and CI.
// Exit codes: 0 ok, 1 user error (one-line message), 2 internal error.
import * as path from 'node:path';
import { describeError, isUserError, UserError } from '../core/errors';
import { generateDemoWorkspace } from '../core/demo/generateDemo';
import { ingestPaths, type IngestSummary } from '../core/ingest/engine';
import { ALL_READERS } from '../core/ingest/registry';
import { acquireAgentLock } from '../core/store/agentLock';

import type { RunStore, RunSummary } from '../core/store/types';
import { formatValue } from '../shared/wireNumbers';
import { helpFor, parseArgs, type FlagSpec, type ParsedArgs } from './args';
import type { CliIO, Command } from './command';
import type { HeavyCommandName } from './heavyCommands';
import { exportCommand } from './commands/export';
import { watchCommand } from './commands/watch';
import { databasePathOf } from './paths';
import { formatTime, renderTable } from './table';
import { AGENT_VERSION } from './version';
import { openStore } from '../core/database/open';

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  db: { value: true, description: 'database file (default: $RUNLENS_DB, else ~/.local/share/runlens/runlens.db)' },
  help: { value: false, description: 'show help for this command' },
};

function withStore<T>(args: ParsedArgs, fn: (store: RunStore) => T): T {
  const store = openStore(databasePathOf(args)).runs;
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function printRuns(runs: RunSummary[], io: CliIO): void {
  if (runs.length === 0) {
    io.out('no runs (run `runlens ingest PATH` first)');
    return;
  }
  io.out(
    renderTable(
      ['ID', 'UID', 'FORMAT', 'EXPERIMENT', 'RUN', 'STATUS', 'METRICS', 'POINTS', 'PARAMS', 'STARTED'],
      runs.map((r) => [String(r.id), r.uid, r.format, r.experimentName, r.name, r.status, String(r.seriesCount), String(r.pointCount), String(r.paramCount), formatTime(r.startTime)]),
    ),
  );
}

async function runIngest(store: RunStore, paths: string[], force: boolean, io: CliIO): Promise<IngestSummary> {
  const abort = new AbortController();
  const onInterrupt = () => {
    io.err('\ncancelling after the current source (sources already read are kept)…');
    abort.abort();
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await ingestPaths(store, ALL_READERS, paths, {
      force,
      signal: abort.signal,
      onProgress: (p) => {
        const line = `[ingest] ${p.done}/${p.total} ${p.message}`;
        if (io.interactive) io.err(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
      },
    });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    if (io.interactive) io.err('\r\x1b[2K');
  }
}

function reportIngest(summary: IngestSummary, io: CliIO): void {
  for (const w of summary.warnings) io.err(`warning: ${w.file}: ${w.message}`);
  io.err(
    `ingested ${summary.sourcesRead} source(s) (${summary.sourcesUnchanged} unchanged, ${summary.sourcesRemoved} removed): ` +
      `${summary.runs} runs, ${summary.points} points in ${summary.durationMs} ms${summary.cancelled ? ' — cancelled' : ''}`,
  );
}

/**
 * A command whose code loads what ingest and the run queries never need (the Docker client with ssh2
 * and gRPC, the ONNX runtime's glue, the registry, the JSON-RPC server): required when the command
 * runs, so `runlens ingest` and `runlens version` start on a bundle a fifth the size. Bundled, the
 * require names dist/agentHeavy.js (scripts/build.mjs); under tsc it is the module itself.
 */
function heavy(name: HeavyCommandName): () => Command {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return () => (require('./heavyCommands') as typeof import('./heavyCommands')).heavyCommands[name];
}

const commands: Record<string, Command | (() => Command)> = {
  ingest: {
    usage: 'runlens ingest PATH... [--force] [--json] [--db FILE]',
    summary: 'Find experiment logs under PATH (MLflow, TensorBoard, Lightning, Keras, DVCLive) and store them. Unchanged sources are skipped.',
    flags: { force: { value: false, description: 're-read every source even if unchanged' }, json: { value: false, description: 'print the summary as JSON' } },
    async run(args, io) {
      if (args.positionals.length === 0) throw new UserError('bad-argument', 'ingest needs at least one PATH');
      const dbPath = databasePathOf(args);
      const lock = acquireAgentLock(dbPath);
      try {
        const store = openStore(dbPath).runs;
        try {
          const summary = await runIngest(store, args.positionals, args.flags.has('force'), io);
          if (args.flags.has('json')) {
            const { changedRoots: _c, changes: _changes, ...rest } = summary;
            io.out(JSON.stringify(rest, null, 2));
          }
          reportIngest(summary, io);
          return summary.cancelled ? 130 : 0;
        } finally {
          store.close();
        }
      } finally {
        lock.release();
      }
    },
  },
  runs: {
    usage: 'runlens runs [--filter TEXT] [--json] [--db FILE]',
    summary: 'List stored runs as a table.',
    flags: { filter: { value: true, description: 'only runs whose name, experiment, uid or path contains TEXT' }, json: { value: false, description: 'print JSON' } },
    async run(args, io) {
      return withStore(args, (store) => {
        const filter = args.flags.get('filter');
        const { runs } = store.listRuns({ text: typeof filter === 'string' ? filter : undefined });
        if (args.flags.has('json')) io.out(JSON.stringify(runs, null, 2));
        else printRuns(runs, io);
        return 0;
      });
    },
  },
  show: {
    usage: 'runlens show RUN [--json] [--db FILE]',
    summary: 'Show one run: params, tags, summaries and each metric series. RUN is an id, a uid (or its prefix) or a run name.',
    flags: { json: { value: false, description: 'print JSON (non-finite numbers as "NaN", "Infinity", "-Infinity")' } },
    async run(args, io) {
      const ref = args.positionals[0];
      if (!ref) throw new UserError('bad-argument', 'show needs a RUN (id, uid or name; see `runlens runs`)');
      return withStore(args, (store) => {
        const matches = store.findRuns(ref);
        if (matches.length === 0) throw new UserError('not-found', `no run matches "${ref}" in ${store.path} (see \`runlens runs\`)`);
        if (matches.length > 1) throw new UserError('bad-argument', `"${ref}" matches ${matches.length} runs (${matches.slice(0, 5).map((m) => `${m.id}:${m.uid}`).join(', ')}); use an id or uid`);
        const run = store.getRun(matches[0].id)!;
        if (args.flags.has('json')) {
          io.out(JSON.stringify({ ...run, series: run.series.map((s) => ({ ...s, lastValue: formatValue(s.lastValue) })), summaries: mapValues(run.summaries) }, null, 2));
          return 0;
        }
        io.out(`${run.name}  (id ${run.id}, uid ${run.uid})`);
        io.out(`format ${run.format}, experiment ${run.experimentName}, status ${run.status}`);
        io.out(`path ${run.path}`);
        io.out(`started ${formatTime(run.startTime)}, ended ${formatTime(run.endTime)}, last write ${formatTime(run.lastWrite)}`);
        const section = (title: string, entries: [string, string][]) => {
          io.out(`\n${title} (${entries.length})`);
          if (entries.length) io.out(renderTable(['KEY', 'VALUE'], entries, 80));
        };
        section('params', Object.entries(run.params));
        section('tags', Object.entries(run.tags));
        section('summaries', Object.entries(mapValues(run.summaries)));
        io.out(`\nmetrics (${run.series.length})`);
        if (run.series.length) {
          io.out(
            renderTable(
              ['KEY', 'POINTS', 'STEPS', 'LAST', 'MIN', 'MAX'],
              run.series.map((s) => [s.key, String(s.pointCount), `${s.stepMin}..${s.stepMax}`, formatValue(s.lastValue), s.valueMin === null ? '-' : formatValue(s.valueMin), s.valueMax === null ? '-' : formatValue(s.valueMax)]),
              80,
            ),
          );
        }
        return 0;
      });
    },
  },
  export: exportCommand,
  watch: watchCommand,
  inspect: heavy('inspect'),
  smoke: heavy('smoke'),
  parity: heavy('parity'),
  model: heavy('model'),
  audit: heavy('audit'),
  deploy: heavy('deploy'),
  deployments: heavy('deployments'),
  demo: {
    usage: 'runlens demo [DIR] [--db FILE]',
    summary: 'Write the demo workspace (small logs in every supported format) to DIR (default ./demo), ingest it, and print the runs.',
    flags: {},
    async run(args, io) {
      const dir = path.resolve(args.positionals[0] ?? 'demo');
      const written = generateDemoWorkspace(dir);
      io.err(`demo workspace: ${dir} (${written.length} files)`);
      const dbPath = typeof args.flags.get('db') === 'string' ? databasePathOf(args) : path.join(dir, '.runlens', 'runlens.db');
      const lock = acquireAgentLock(dbPath);
      try {
        const store = openStore(dbPath).runs;
        try {
          reportIngest(await runIngest(store, [dir], false, io), io);
          printRuns(store.listRuns().runs, io);
          io.err(`database: ${dbPath}`);
        } finally {
          store.close();
        }
      } finally {
        lock.release();
      }
      return 0;
    },
  },
  serve: heavy('serve'),
  version: {
    usage: 'runlens version',
    summary: 'Print the RunLens version and the Node.js running it.',
    flags: {},
    async run(_args, io) {
      io.out(`runlens ${AGENT_VERSION} (node ${process.version}, ${process.execPath})`);
      return 0;
    },
  },
};

function mapValues(summaries: Record<string, number | string>): Record<string, string> {
  return Object.fromEntries(Object.entries(summaries).map(([k, v]) => [k, typeof v === 'number' ? formatValue(v) : v]));
}

function topLevelHelp(): string {
  const lines = ['usage: runlens COMMAND [options]   (runlens COMMAND --help for details)', '', 'commands:'];
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 2;
  for (const name of Object.keys(commands)) lines.push(`  ${name.padEnd(width)}${commandNamed(name)!.summary}`);
  lines.push('', 'global options:');
  for (const [name, f] of Object.entries(GLOBAL_FLAGS)) lines.push(`  --${name}${f.value ? ' VALUE' : ''}`.padEnd(24) + f.description);
  lines.push('', 'exit codes: 0 ok, 1 user error, 2 internal error');
  return lines.join('\n');
}

export type { CliIO };

function commandNamed(name: string): Command | undefined {
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  return typeof entry === 'function' ? entry() : entry;
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(topLevelHelp());
    return name ? 0 : 1;
  }
  if (name === '--version') return commandNamed('version')!.run({ positionals: [], flags: new Map(), lists: new Map() }, io);
  const command = commandNamed(name);
  if (!command) {
    io.err(`runlens: unknown command "${name}" (see runlens --help)`);
    return 1;
  }
  const spec = { ...GLOBAL_FLAGS, ...command.flags };
  try {
    const args = parseArgs(rest, spec);
    // A command that declares its own `help` flag (one with subcommands) prints its own, per-subcommand help.
    if (args.flags.has('help') && !('help' in command.flags)) {
      io.out(helpFor(command.usage, command.summary, spec));
      return 0;
    }
    return await command.run(args, io);
  } catch (e) {
    if (isUserError(e)) {
      io.err(`runlens ${name}: ${e.message}`);
      return 1;
    }
    io.err(`runlens ${name}: internal error: ${describeError(e)}\n${(e as Error)?.stack ?? ''}`);
    return 2;
  }
}
