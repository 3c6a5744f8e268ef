// `runlens audit verify|export|list`: the registry's hash-chained audit log.
// verify exits 1 naming the first broken entry; export writes JSON Lines or
// CSV that `audit verify --file` can check again later, away from the database.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { parseJsonLines, toCsvRow, toJsonLine, verifyRegistry, verifyStore, CSV_COLUMNS, type VerifyResult } from '../../core/registry/audit';

import type { AuditEntry, RegistryStore } from '../../core/registry/types';
import { helpFor, type FlagSpec, type ParsedArgs } from '../args';
import type { CliIO, Command } from '../command';
import { dispatchSubcommand } from '../subcommands';
import { defaultDatabasePath } from '../paths';
import { formatTime, renderTable } from '../table';
import { eventDetail } from './model';
import { toJson } from './modelFormat';
import { openStore } from '../../core/database/open';

const FLAGS = {
  anchor: { value: true, description: 'verify: a head hash recorded earlier (printed by verify); fails if no entry has it (truncated or rewritten log)' },
  file: { value: true, description: 'verify: check a JSON Lines export instead of the database (chain only)' },
  format: { value: true, description: 'export: jsonl or csv' },
  out: { value: true, description: 'export: write to FILE instead of stdout' },
  model: { value: true, description: 'list: only entries about model NAME' },
  limit: { value: true, description: 'list: the last N entries (default 50)' },
  json: { value: false, description: 'print JSON' },
} satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

const GLOBAL_HELP: Record<string, FlagSpec> = {
  db: { value: true, description: 'database file (default: $RUNLENS_DB, else ~/.local/share/runlens/runlens.db)' },
  help: { value: false, description: 'show help for this command' },
};

interface Subcommand {
  usage: string;
  summary: string;
  flags: FlagName[];
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function withRegistry<T>(args: ParsedArgs, fn: (registry: RegistryStore) => T): T {
  const db = stringFlag(args, 'db');
  const registry = openStore(db ? path.resolve(db) : defaultDatabasePath()).registry;
  try {
    return fn(registry);
  } finally {
    registry.close();
  }
}

/** Reads the log a page at a time, so exporting a long log does not hold it all in memory. */
function* pages(registry: RegistryStore, size = 1000): Generator<AuditEntry> {
  let from = 1;
  for (;;) {
    const page = registry.readAudit({ fromSeq: from, limit: size });
    yield* page;
    if (page.length < size) return;
    from = page[page.length - 1].seq + 1;
  }
}

function reportVerify(result: VerifyResult, source: string, io: CliIO, json: boolean): number {
  if (json) io.out(toJson({ ...result, firstBroken: result.problems[0] ?? null }));
  if (result.ok) {
    if (!json) {
      io.out(`audit log verified: ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'}, hash chain intact${source === 'database' ? ', registry tables agree with it' : ''}`);
      if (result.head) io.out(`head #${result.head.seq} ${result.head.hash}\n(keep this hash elsewhere; \`runlens audit verify --anchor HASH\` later proves the log up to it was not rewritten)`);
    }
    return 0;
  }
  if (!json) {
    io.out(`audit log BROKEN: ${result.problems.length} problem(s) in ${result.entries} entries (${source})`);
    for (const p of result.problems) io.out(`  ${p.seq === null ? 'registry' : `entry #${p.seq}${p.kind ? ` (${p.kind})` : ''}`}: ${p.message}`);
  }
  const first = result.problems[0];
  io.err(`runlens audit: verify FAILED at ${first.seq === null ? 'the registry tables' : `entry #${first.seq}${first.kind ? ` (${first.kind})` : ''}`}: ${first.message}`);
  return 1;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  verify: {
    usage: 'runlens audit verify [--anchor HASH] [--file EXPORT.jsonl] [--json] [--db FILE]',
    summary:
      "Check the registry's audit log: every entry's hash, the chain of previous-entry hashes, and that replaying the log gives the registry's versions, aliases and decisions. " +
      'Exit 1 naming the first broken entry (sequence number, kind, what does not match).',
    flags: ['anchor', 'file', 'json'],
    async run(args, io) {
      const anchor = stringFlag(args, 'anchor');
      if (anchor !== undefined && !/^[0-9a-fA-F]{64}$/.test(anchor)) throw new UserError('bad-argument', '--anchor expects a 64-digit hex sha256 (the head hash verify printed)');
      const file = stringFlag(args, 'file');
      if (file) {
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch (e) {
          throw new UserError('not-found', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        let entries: AuditEntry[];
        try {
          entries = parseJsonLines(text, file);
        } catch (e) {
          throw new UserError('bad-argument', (e as Error).message);
        }
        return reportVerify(verifyRegistry(entries, null, { anchor }), file, io, args.flags.has('json'));
      }
      return withRegistry(args, (registry) => reportVerify(verifyStore(registry, { anchor }), 'database', io, args.flags.has('json')));
    },
  },

  export: {
    usage: 'runlens audit export --format jsonl|csv [--out FILE] [--db FILE]',
    summary: 'Write the audit log as JSON Lines (one entry per line, payload as JSON) or CSV (payload as canonical JSON text), with each entry\'s previous hash and hash.',
    flags: ['format', 'out'],
    async run(args, io) {
      const format = stringFlag(args, 'format');
      if (format !== 'jsonl' && format !== 'csv') throw new UserError('bad-argument', 'audit export needs --format jsonl or --format csv');
      const out = stringFlag(args, 'out');
      return withRegistry(args, (registry) => {
        // CSV records end in CRLF (RFC 4180); JSON Lines in LF.
        const end = format === 'csv' ? '\r\n' : '\n';
        let fd: number | undefined;
        const fail = (e: unknown) => new UserError('storage-unwritable', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        if (out) {
          try {
            fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
            fd = fs.openSync(out, 'w');
          } catch (e) {
            throw fail(e);
          }
        }
        // io.out ends each line with LF itself.
        const write = (record: string) => (fd === undefined ? io.out(format === 'csv' ? `${record}\r` : record) : fs.writeSync(fd, record + end));
        let count = 0;
        try {
          if (format === 'csv') write(CSV_COLUMNS.join(','));
          for (const e of pages(registry)) {
            write(format === 'csv' ? toCsvRow(e) : toJsonLine(e));
            count++;
          }
        } catch (e) {
          if (fd !== undefined && (e as NodeJS.ErrnoException).code) throw fail(e);
          throw e;
        } finally {
          if (fd !== undefined) fs.closeSync(fd);
        }
        if (out) io.err(`wrote ${count} audit entr${count === 1 ? 'y' : 'ies'} to ${out}`);
        return 0;
      });
    },
  },

  list: {
    usage: 'runlens audit list [--model NAME] [--limit N] [--json] [--db FILE]',
    summary: 'Show the latest audit entries: sequence number, time, event, who, and what changed.',
    flags: ['model', 'limit', 'json'],
    async run(args, io) {
      const limitText = stringFlag(args, 'limit');
      const limit = limitText === undefined ? 50 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) throw new UserError('bad-argument', `--limit ${limitText}: expected a whole number of at least 1`);
      const model = stringFlag(args, 'model');
      return withRegistry(args, (registry) => {
        const entries = [...pages(registry)].filter((e) => model === undefined || e.model === model).slice(-limit);
        if (args.flags.has('json')) io.out(toJson(entries.map((e) => ({ ...e, payload: JSON.parse(e.payload) as unknown }))));
        else if (entries.length === 0) io.out('the audit log is empty');
        else io.out(renderTable(['SEQ', 'TIME', 'EVENT', 'BY', 'DETAIL'], entries.map((e) => [`#${e.seq}`, formatTime(e.at), e.kind, e.actor, eventDetail(e)]), 90));
        return 0;
      });
    },
  },
};

function overview(): string {
  const lines = ['usage: runlens audit SUBCOMMAND [options]   (runlens audit SUBCOMMAND --help for details)', '', 'subcommands:'];
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(8)}${sub.usage.replace(/^runlens audit \w+ ?/, '')}`);
  lines.push('', 'exit codes: 0 ok, 1 user error or a broken log, 2 internal error');
  return lines.join('\n');
}

export const auditCommand: Command = {
  usage: 'runlens audit verify|export|list ... [--db FILE]',
  summary:
    "The model registry's append-only audit log. Each entry carries the hash of the previous one, so an edited or deleted entry is detected by `runlens audit verify`. " +
    `Subcommands: ${Object.keys(SUBCOMMANDS).join(', ')}; runlens audit SUBCOMMAND --help for each.`,
  flags: { ...FLAGS, help: GLOBAL_HELP.help },
  async run(args, io) {
    const name = args.positionals[0];
    if (name && SUBCOMMANDS[name] && !args.flags.has('help') && args.positionals.length > 1) {
      throw new UserError('bad-argument', `audit ${name} takes no further arguments (got ${args.positionals.slice(1).join(' ')})`);
    }
    return dispatchSubcommand('audit', SUBCOMMANDS, args, io, {
      overview,
      help: (_name, sub) => {
        const spec: Record<string, FlagSpec> = { ...GLOBAL_HELP };
        for (const f of sub.flags) spec[f] = { ...FLAGS[f], description: FLAGS[f].description.replace(/^[a-z/]+: /, '') };
        return helpFor(sub.usage, sub.summary, spec);
      },
    });
  },
};
