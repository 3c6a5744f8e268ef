// `runlens model register|list|show|evaluate|approve|reject|alias|rollback|archive`:
// the model registry from the terminal. One Command; run() dispatches on the
// first positional, and each subcommand has its own usage, flags and --help.
//
// These commands do not take the agent lock: the registry's writes are short
// IMMEDIATE transactions that SQLite serializes with a running agent (and with
// each other), so approving from a terminal works while VS Code is open.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { SmokeCancelledError } from '../../core/models/smoke';
import { approveVersion, evaluateVersion, rejectVersion, type Evaluation } from '../../core/registry/approval';
import { resolveActor } from '../../core/registry/identity';
import { archiveVersion, removeAlias, rollbackAlias, setAlias, versionHistory } from '../../core/registry/lifecycle';
import type { RuleResult } from '../../core/registry/policy';

import { TRANSITIONS, validateAliasName } from '../../core/registry/states';
import type { AuditEntry, ModelVersion, RegistryStore } from '../../core/registry/types';
import { findVersion, parseModelRef, refOf, registerModelVersion, resolveVersion, type SnapshotDiff } from '../../core/registry/versions';

import { fromWire, type WireNumber } from '../../shared/wireNumbers';
import { helpFor, type FlagSpec, type ParsedArgs } from '../args';
import type { CliIO, Command } from '../command';
import { dispatchSubcommand } from '../subcommands';
import { databasePathOf } from '../paths';
import { formatTime, renderTable } from '../table';
import { formatBytes, formatNumber, toJson } from './modelFormat';
import { runModelPull, runModelPush } from './modelPush';
import { openStore, type Store } from '../../core/database/open';

const FLAGS = {
  name: { value: true, description: 'register: the model name (versions are numbered per name)' },
  run: { value: true, description: 'register: the run that trained it (id, uid, uid prefix or name); default: inferred from where the file lies' },
  dataset: { value: true, description: 'register: a dataset file or folder to fingerprint (repeat, or separate with commas)' },
  description: { value: true, description: 'register: a note stored with the version' },
  workspace: { value: true, description: 'the workspace folder: git state, identity and .runlens/policy.json (default: the current folder)' },
  policy: { value: true, description: 'evaluate/approve: the policy file (default: WORKSPACE/.runlens/policy.json)' },
  reason: { value: true, description: 'why (required by approve and reject; recorded in the audit log)' },
  override: { value: false, description: 'approve: approve although policy rules fail (the failing rules and the reason are recorded)' },
  remove: { value: false, description: 'alias: remove the alias instead of moving it' },
  alias: { value: true, description: 'rollback: the alias to roll back (default production)' },
  to: { value: true, description: 'push: where to, REGISTRY/REPOSITORY[:TAG] (tag default: vVERSION)' },
  'plain-http': { value: false, description: 'push/pull: plain HTTP to a registry that is not on loopback (loopback always uses HTTP)' },
  username: { value: true, description: 'push/pull: registry user (with --password-stdin); default: your Docker config' },
  'password-stdin': { value: false, description: 'push/pull: read the registry password or token from stdin' },
  out: { value: true, description: 'pull: the folder to write the layers into' },
  digest: { value: true, description: 'pull: the manifest digest the artifact must have (sha256:...)' },
  json: { value: false, description: 'print JSON' },
} satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

interface Subcommand {
  usage: string;
  summary: string;
  flags: FlagName[];
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

const GLOBAL_HELP: Record<string, FlagSpec> = {
  db: { value: true, description: 'database file (default: $RUNLENS_DB, else ~/.local/share/runlens/runlens.db)' },
  help: { value: false, description: 'show help for this command' },
};

// Shared helpers ----------------------------------------------------------------

function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}


function workspaceOf(args: ParsedArgs): string {
  const dir = path.resolve(stringFlag(args, 'workspace') ?? process.cwd());
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError('not-found', `--workspace ${dir}: no such folder`);
  return dir;
}

/** The database opened once for the command, closed when it is done. */
function withStore<T>(args: ParsedArgs, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(databasePathOf(args));
  return fn(store).finally(() => store.close());
}

function withRegistry<T>(args: ParsedArgs, fn: (registry: RegistryStore) => Promise<T>): Promise<T> {
  return withStore(args, (store) => fn(store.registry));
}

function positional(args: ParsedArgs, index: number, what: string, sub: string): string {
  const v = args.positionals[index];
  if (!v) throw new UserError('bad-argument', `model ${sub} needs ${what} (see runlens model ${sub} --help)`);
  return v;
}

function datasetPaths(args: ParsedArgs): string[] {
  const values = args.lists.get('dataset') ?? [];
  // A path that exists is one dataset even if it has a comma in its name.
  return values.flatMap((v) => (fs.existsSync(v) ? [v] : v.split(',').map((p) => p.trim()).filter(Boolean)));
}

const wire = (v: WireNumber | null): string => (v === null ? '-' : formatNumber(fromWire(v)));

function printRules(rules: readonly RuleResult[], io: CliIO): void {
  io.out(
    renderTable(
      ['RESULT', 'RULE', 'EVIDENCE'],
      rules.map((r) => [r.status === 'pass' ? 'pass' : r.status === 'skipped' ? 'skipped' : 'FAIL', r.rule, r.evidence]),
      110,
    ),
  );
}

function printDiff(diff: SnapshotDiff, io: CliIO): void {
  if (!diff.against) {
    io.out('\nno production version: nothing to compare with');
    return;
  }
  io.out(`\nparams against ${diff.against} (${diff.params.length} changed, ${diff.unchangedParams} unchanged)`);
  if (diff.params.length) io.out(renderTable(['PARAM', 'BEFORE', 'AFTER'], diff.params.map((p) => [p.key, p.before ?? '(none)', p.after ?? '(none)']), 60));
  io.out(`\nfinal metrics against ${diff.against}`);
  if (diff.metrics.length === 0) io.out('(neither run has metrics)');
  else {
    io.out(
      renderTable(
        ['METRIC', 'BEFORE', 'AFTER', 'CHANGE'],
        diff.metrics.map((m) => [m.key, wire(m.before), wire(m.after), m.delta === null ? '-' : `${m.delta >= 0 ? '+' : ''}${formatNumber(m.delta)}${m.deltaPercent === null ? '' : ` (${m.deltaPercent >= 0 ? '+' : ''}${formatNumber(m.deltaPercent, 3)} %)`}`]),
        60,
      ),
    );
  }
}

function printEvaluation(e: Evaluation, io: CliIO): void {
  io.out(`${e.ref}  policy: ${e.policy.file ?? 'none'}`);
  for (const note of e.notes) io.out(`note: ${note}`);
  io.out('');
  printRules(e.rules, io);
  printDiff(e.diff, io);
}

function describeRun(v: ModelVersion): string {
  if (!v.run) return `none (${v.runInference.note})`;
  return `${v.run.name} (uid ${v.run.uid}, ${v.run.format}, ${v.run.experimentName}) — ${v.runInference.how === 'given' ? 'given with --run' : v.runInference.note}`;
}

function describeGit(v: ModelVersion): string {
  const g = v.git;
  if (!g.present) return `absent (${g.reason})`;
  return `${g.commit ?? '(no commit yet)'}${g.branch ? ` on ${g.branch}` : ''}, ${g.dirty ? `DIRTY (${g.changedFiles} changed, ${g.untrackedFiles} untracked)` : 'clean'} in ${g.root}`;
}

function printVersion(v: ModelVersion, io: CliIO): void {
  const lines: [string, string][] = [
    ['version', `${refOf(v)}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`],
    ['state', `${v.state}${TRANSITIONS[v.state].length ? ` (next: ${TRANSITIONS[v.state].join(', ')})` : ' (final)'}`],
    ['file', v.filePath],
    ['size', `${formatBytes(v.size)} (${v.size.toLocaleString('en-US')} bytes)`],
    ['sha256', v.sha256],
    ['registered', `${formatTime(v.registeredAt)} by ${v.registeredBy}`],
    ['run', describeRun(v)],
    ['git', describeGit(v)],
  ];
  if (v.description) lines.push(['description', v.description]);
  if (v.datasets.length === 0) lines.push(['datasets', 'none recorded']);
  for (const d of v.datasets) lines.push(['dataset', `${d.path} (${d.kind}, ${d.files} file(s), ${formatBytes(d.bytes)}, sha256 ${d.sha256})`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, val] of lines) io.out(`${k.padEnd(width)}  ${val}`);
}

function printHistory(entries: readonly AuditEntry[], io: CliIO): void {
  io.out(renderTable(['SEQ', 'TIME', 'EVENT', 'BY', 'DETAIL'], entries.map((e) => [`#${e.seq}`, formatTime(e.at), e.kind, e.actor, eventDetail(e)]), 90));
}

export function eventDetail(e: AuditEntry): string {
  const p = JSON.parse(e.payload) as Record<string, unknown>;
  const reason = typeof p.reason === 'string' ? `: ${p.reason}` : '';
  switch (e.kind) {
    case 'register':
      return `${e.model}@${e.version} sha256 ${String(p.sha256).slice(0, 12)}…`;
    case 'alias':
    case 'rollback':
      return `${p.alias}: ${p.from === null ? '(unset)' : `${e.model}@${p.from}`} → ${p.to === null ? '(removed)' : `${e.model}@${p.to}`}${reason}`;
    case 'override':
      return `${(p.failedRules as unknown[]).length} failing rule(s) overridden${reason}`;
    default:
      return `${e.model}@${e.version} ${p.from ?? ''} → ${p.to ?? ''}${p.overridden ? ' (override)' : ''}${reason}`;
  }
}

// Subcommands -------------------------------------------------------------------

const SUBCOMMANDS: Record<string, Subcommand> = {
  register: {
    usage: 'runlens model register FILE --name NAME [--run RUN] [--dataset PATH[,PATH...]]... [--description TEXT] [--workspace DIR] [--json] [--db FILE]',
    summary:
      'Register FILE as the next version of model NAME (state pending). Records the file where it is (nothing is copied), its sha256 and size, ' +
      'the run that trained it (--run, or the stored run whose folder contains or lies beside the file) with a snapshot of its params and final metrics, ' +
      "the workspace's git commit and dirty state, and dataset fingerprints.",
    flags: ['name', 'run', 'dataset', 'description', 'workspace', 'json'],
    async run(args, io) {
      const file = positional(args, 1, 'a FILE (the model file)', 'register');
      if (args.positionals.length > 2) throw new UserError('bad-argument', 'model register takes one FILE');
      const name = stringFlag(args, 'name');
      if (!name) throw new UserError('bad-argument', 'model register needs --name NAME');
      const workspace = workspaceOf(args);
      const actor = await resolveActor(workspace);
      return withStore(args, async ({ registry, runs }) => {
        const { version, warnings } = await registerModelVersion(registry, runs, {
          file,
          name,
          run: stringFlag(args, 'run'),
          datasets: datasetPaths(args),
          description: stringFlag(args, 'description'),
          workspace,
          actor,
        });
        if (args.flags.has('json')) io.out(toJson({ ...version, warnings }));
        else {
          io.out(`registered ${refOf(version)} (${version.state})`);
          printVersion(version, io);
        }
        for (const w of warnings) io.err(`warning: ${w}`);
        return 0;
      });
    },
  },

  list: {
    usage: 'runlens model list [NAME] [--json] [--db FILE]',
    summary: 'List registered models (versions, latest state, aliases), or the versions of model NAME.',
    flags: ['json'],
    async run(args, io) {
      const name = args.positionals[1];
      return withRegistry(args, async (registry) => {
        if (!name) {
          const models = registry.listModels();
          if (args.flags.has('json')) io.out(toJson(models));
          else if (models.length === 0) io.out('no models registered (runlens model register FILE --name NAME)');
          else
            io.out(
              renderTable(
                ['MODEL', 'VERSIONS', 'LATEST', 'STATE', 'ALIASES'],
                models.map((m) => [m.name, String(m.versions), String(m.latestVersion), m.latestState, Object.entries(m.aliases).map(([a, v]) => `${a}=${v}`).join(' ') || '-']),
              ),
            );
          return 0;
        }
        const model = parseModelRef(name).name;
        const versions = registry.listVersions({ name: model });
        if (versions.length === 0) throw new UserError('not-found', `no model named ${model} in ${registry.path} (see runlens model list)`);
        if (args.flags.has('json')) io.out(toJson(versions));
        else
          io.out(
            renderTable(
              ['VERSION', 'STATE', 'ALIASES', 'SHA256', 'SIZE', 'RUN', 'REGISTERED', 'BY'],
              versions.map((v) => [String(v.version), v.state, v.aliases.join(' ') || '-', v.sha256.slice(0, 12), formatBytes(v.size), v.run?.name ?? '-', formatTime(v.registeredAt), v.registeredBy]),
            ),
          );
        return 0;
      });
    },
  },

  show: {
    usage: 'runlens model show REF [--json] [--db FILE]',
    summary: 'Show one version (REF = NAME@VERSION, NAME@ALIAS, or NAME for the latest): file, hash, run snapshot, git state, datasets, decisions and its audit history.',
    flags: ['json'],
    async run(args, io) {
      const text = positional(args, 1, 'a REF (NAME@VERSION or NAME@ALIAS)', 'show');
      return withRegistry(args, async (registry) => {
        const ref = parseModelRef(text);
        const version = ref.selector ? resolveVersion(registry, text) : findVersion(registry, ref);
        if (!version) throw new UserError('not-found', `no model named ${ref.name} in ${registry.path} (see runlens model list)`);
        const decisions = registry.listDecisions(version.id);
        const smoke = registry.listSmokeReports(version.id);
        const history = versionHistory(registry.readAudit(), version);
        if (args.flags.has('json')) {
          io.out(toJson({ ...version, decisions, smokeReports: smoke.map(({ report: _r, ...rest }) => rest), history: history.map((e) => ({ ...e, payload: JSON.parse(e.payload) as unknown })) }));
          return 0;
        }
        printVersion(version, io);
        if (version.run) {
          const params = Object.entries(version.run.params);
          io.out(`\nrun params (${params.length})`);
          if (params.length) io.out(renderTable(['PARAM', 'VALUE'], params, 80));
          const metrics = Object.entries(version.run.metrics);
          io.out(`\nrun final metrics (${metrics.length})`);
          if (metrics.length) io.out(renderTable(['METRIC', 'VALUE', 'STEP'], metrics.map(([k, m]) => [k, wire(m.value), m.step === null ? '-' : String(m.step)]), 80));
        }
        if (decisions.length) {
          io.out('\ndecisions');
          io.out(renderTable(['ID', 'DECISION', 'WHEN', 'BY', 'OVERRIDE', 'REASON'], decisions.map((d) => [String(d.id), d.decision, formatTime(d.decidedAt), d.actor, d.overridden ? 'yes' : 'no', d.reason]), 80));
        }
        if (smoke.length) {
          io.out('\nsmoke reports (evidence)');
          io.out(renderTable(['ID', 'EP', 'WHEN', 'PASSED', 'SHA256'], smoke.map((s) => [String(s.id), s.ep, formatTime(s.ranAt), s.passed ? 'yes' : 'no', `${s.sha256.slice(0, 12)}…`])));
        }
        io.out('\nhistory');
        printHistory(history, io);
        return 0;
      });
    },
  },

  evaluate: {
    usage: 'runlens model evaluate REF [--policy FILE] [--workspace DIR] [--json] [--db FILE]',
    summary: 'Evaluate the approval policy for a version without deciding anything: each rule with its evidence, and the diff against production. Exit 0 when every rule passes, 1 otherwise.',
    flags: ['policy', 'workspace', 'json'],
    async run(args, io) {
      const text = positional(args, 1, 'a REF (NAME@VERSION or NAME@ALIAS)', 'evaluate');
      const workspace = workspaceOf(args);
      return withRegistry(args, (registry) => cancellable(io, async (signal) => {
        const version = resolveVersion(registry, text);
        const { evaluation } = await evaluateVersion(registry, version, { workspace, policyFile: stringFlag(args, 'policy'), onProgress: progress(io), signal });
        clearProgress(io);
        if (args.flags.has('json')) io.out(toJson(evaluation));
        else printEvaluation(evaluation, io);
        if (!evaluation.pass) io.err(`model evaluate: ${evaluation.failed.length} rule(s) fail: ${evaluation.failed.join(', ')}`);
        return evaluation.pass ? 0 : 1;
      }));
    },
  },

  approve: {
    usage: 'runlens model approve REF --reason TEXT [--override] [--policy FILE] [--workspace DIR] [--json] [--db FILE]',
    summary:
      'Approve a pending version: evaluate the policy (smoke tests, latency limits, golden outputs against production, metric rules), show each rule with its evidence ' +
      'and the diff against production, and record the approval with your identity, the reason and the evidence. A failing rule blocks approval unless --override is given (recorded).',
    flags: ['reason', 'override', 'policy', 'workspace', 'json'],
    async run(args, io) {
      const text = positional(args, 1, 'a REF (NAME@VERSION or NAME@ALIAS)', 'approve');
      const reason = stringFlag(args, 'reason');
      if (!reason?.trim()) throw new UserError('bad-argument', 'model approve needs --reason "why this version may ship"');
      const workspace = workspaceOf(args);
      const actor = await resolveActor(workspace);
      return withRegistry(args, (registry) => cancellable(io, async (signal) => {
        const version = resolveVersion(registry, text);
        const outcome = await approveVersion(registry, version, {
          signal,
          workspace,
          policyFile: stringFlag(args, 'policy'),
          reason,
          override: args.flags.has('override'),
          actor,
          onProgress: progress(io),
        });
        clearProgress(io);
        if (args.flags.has('json')) io.out(toJson(outcome));
        else {
          printEvaluation(outcome.evaluation, io);
          io.out('');
          if (outcome.status === 'approved') io.out(`approved ${refOf(outcome.version)} by ${actor.display}${outcome.overridden ? ` OVERRIDING ${outcome.evaluation.failed.length} failing rule(s)` : ''}: ${reason.trim()} (audit #${outcome.auditSeqs.join(', #')})`);
        }
        if (outcome.status === 'blocked') {
          io.err(`model approve: ${refOf(version)} NOT approved: ${outcome.evaluation.failed.length} rule(s) fail (${outcome.evaluation.failed.join(', ')}); fix them, or pass --override to approve anyway (the override is recorded)`);
          return 1;
        }
        return 0;
      }));
    },
  },

  reject: {
    usage: 'runlens model reject REF --reason TEXT [--workspace DIR] [--json] [--db FILE]',
    summary: 'Reject a pending version, recording your identity and the reason.',
    flags: ['reason', 'workspace', 'json'],
    async run(args, io) {
      const text = positional(args, 1, 'a REF (NAME@VERSION or NAME@ALIAS)', 'reject');
      const reason = stringFlag(args, 'reason');
      if (!reason?.trim()) throw new UserError('bad-argument', 'model reject needs --reason "why"');
      const actor = await resolveActor(workspaceOf(args));
      return withRegistry(args, async (registry) => {
        const result = rejectVersion(registry, resolveVersion(registry, text), { reason, actor });
        if (args.flags.has('json')) io.out(toJson(result));
        else io.out(`rejected ${refOf(result.version)} by ${actor.display}: ${reason.trim()} (audit #${result.auditSeqs.join(', #')})`);
        return 0;
      });
    },
  },

  alias: {
    usage: 'runlens model alias REF ALIAS [--reason TEXT] [--json] [--db FILE]\n       runlens model alias NAME ALIAS --remove [--reason TEXT]',
    summary: 'Point ALIAS (candidate, staging, production, ...) of a model at the version REF, moving it if it points elsewhere; or remove it. production and staging may only point at approved versions. Every move is audited.',
    flags: ['reason', 'remove', 'workspace', 'json'],
    async run(args, io) {
      const text = positional(args, 1, 'a REF (NAME@VERSION)', 'alias');
      const alias = positional(args, 2, 'an ALIAS (e.g. production)', 'alias');
      validateAliasName(alias);
      const actor = await resolveActor(workspaceOf(args));
      const reason = stringFlag(args, 'reason');
      return withRegistry(args, async (registry) => {
        if (args.flags.has('remove')) {
          const name = parseModelRef(text).name;
          const { previous } = removeAlias(registry, name, alias, { actor, reason });
          if (args.flags.has('json')) io.out(toJson({ previous, current: null }));
          else io.out(`removed ${name}@${alias} (was ${name}@${previous?.version})`);
          return 0;
        }
        const version = resolveVersion(registry, text);
        const result = setAlias(registry, version, alias, { actor, reason });
        if (args.flags.has('json')) io.out(toJson(result));
        else io.out(`${version.name}@${alias}: ${result.previous ? `${version.name}@${result.previous.version}` : '(unset)'} → ${refOf(version)}`);
        return 0;
      });
    },
  },

  rollback: {
    usage: 'runlens model rollback NAME [--alias ALIAS] [--reason TEXT] [--json] [--db FILE]',
    summary: 'Move an alias (default production) back to the version it pointed at before its latest move. Audited as a rollback.',
    flags: ['alias', 'reason', 'workspace', 'json'],
    async run(args, io) {
      const name = parseModelRef(positional(args, 1, 'a model NAME', 'rollback')).name;
      const alias = stringFlag(args, 'alias') ?? 'production';
      const actor = await resolveActor(workspaceOf(args));
      return withRegistry(args, async (registry) => {
        const result = rollbackAlias(registry, name, alias, { actor, reason: stringFlag(args, 'reason') });
        if (args.flags.has('json')) io.out(toJson(result));
        else io.out(`rolled back ${name}@${alias}: ${name}@${result.previous?.version} → ${name}@${result.current?.version}`);
        return 0;
      });
    },
  },

  archive: {
    usage: 'runlens model archive REF [--reason TEXT] [--json] [--db FILE]',
    summary: 'Archive a version (final). Refused while an alias points at it.',
    flags: ['reason', 'workspace', 'json'],
    async run(args, io) {
      const text = positional(args, 1, 'a REF (NAME@VERSION)', 'archive');
      const actor = await resolveActor(workspaceOf(args));
      return withRegistry(args, async (registry) => {
        const version = archiveVersion(registry, resolveVersion(registry, text), { actor, reason: stringFlag(args, 'reason') });
        if (args.flags.has('json')) io.out(toJson(version));
        else io.out(`archived ${refOf(version)}`);
        return 0;
      });
    },
  },

  push: {
    usage: 'runlens model push REF --to REGISTRY/REPOSITORY[:TAG] [--plain-http] [--username USER --password-stdin] [--json] [--db FILE]',
    summary:
      'Push an approved version to an OCI registry as an artifact (the model file, a model card with lineage and approval, the latest smoke-test report). ' +
      'Refused unless the version is approved and its file is unchanged since registration. Credentials: --username with --password-stdin, else your Docker config ' +
      '(including credential helpers). Prints the digest and the pinned reference REGISTRY/REPOSITORY@sha256:...; every attempt is audited.',
    flags: ['to', 'plain-http', 'username', 'password-stdin', 'json'],
    run: runModelPush,
  },

  pull: {
    usage: 'runlens model pull REGISTRY/REPOSITORY[:TAG|@DIGEST] --out DIR [--digest sha256:...] [--plain-http] [--username USER --password-stdin] [--json]',
    summary: "Pull a pushed model artifact into DIR, verifying the manifest's digest (against --digest too, when given) and every layer's sha256 while it streams.",
    flags: ['out', 'digest', 'plain-http', 'username', 'password-stdin', 'json'],
    run: runModelPull,
  },
};

/** Ctrl+C stops the smoke-test workers and records nothing (exit 130), as `runlens smoke` does. */
async function cancellable(io: CliIO, fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const abort = new AbortController();
  const onInterrupt = () => {
    io.err('\ncancelling: stopping the smoke tests; nothing is recorded…');
    abort.abort();
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await fn(abort.signal);
  } catch (e) {
    if (e instanceof SmokeCancelledError) {
      io.err(e.message);
      return 130;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

function progress(io: CliIO): (message: string) => void {
  return (message) => {
    if (io.interactive) io.err(`\r\x1b[2K[model] ${message}…`);
  };
}

function clearProgress(io: CliIO): void {
  if (io.interactive) io.err('\r\x1b[2K');
}

function subcommandHelp(name: string, sub: Subcommand): string {
  const spec: Record<string, FlagSpec> = { ...GLOBAL_HELP };
  // The shared descriptions say which subcommand a flag is for; under one subcommand that is implied.
  for (const f of sub.flags) spec[f] = { ...FLAGS[f], description: FLAGS[f].description.replace(/^[a-z/]+: /, '') };
  return helpFor(sub.usage, sub.summary, spec);
}

function overview(): string {
  const lines = ['usage: runlens model SUBCOMMAND [options]   (runlens model SUBCOMMAND --help for details)', '', 'subcommands:'];
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)}${sub.usage.split('\n')[0].replace(/^runlens model \w+ ?/, '')}`);
  lines.push('', 'REF is NAME@VERSION (NAME@3 or NAME@v3), NAME@ALIAS (NAME@production) or NAME@latest.', 'exit codes: 0 ok, 1 user error, blocked approval or failing rules, 2 internal error');
  return lines.join('\n');
}

export const modelCommand: Command = {
  usage: 'runlens model register|list|show|evaluate|approve|reject|alias|rollback|archive|push|pull ... [--db FILE]',
  summary:
    'The model registry: register versions of a model file with their run, git state and datasets; evaluate the approval policy; approve or reject with a recorded reason; ' +
    'move aliases (candidate, staging, production); archive. Every change is appended to the tamper-evident audit log (runlens audit). ' +
    `Subcommands: ${Object.keys(SUBCOMMANDS).join(', ')}; runlens model SUBCOMMAND --help for each.`,
  // Every subcommand's flags: the shared parser checks names against this; each subcommand then refuses the ones it does not take.
  // `help` is declared here so that a CLI which lets commands with their own `help` flag print their help passes --help through.
  flags: { ...FLAGS, help: GLOBAL_HELP.help },
  async run(args, io) {
    return dispatchSubcommand('model', SUBCOMMANDS, args, io, { overview, help: subcommandHelp });
  },
};
