// `runlens deploy NAME@VERSION` and its subcommands, and `runlens deployments`:
// serving approved model versions on a Docker engine (src/core/deploy/).
// Progress goes to stderr, results to stdout (tables, or JSON with --json);
// Ctrl-C cancels a build or a wait.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { LOCAL_BASE_IMAGE, DEFAULT_BASE_IMAGE } from '../../core/deploy/baseImage';
import { DEFAULT_CPUS, DEFAULT_MEMORY, DEFAULT_PORT, type NetworkMode } from '../../core/deploy/containers';
import { deploy, listDeployments, readMetrics, rollback, streamLogs, undeploy, type DeployContext, type DeployOptions } from '../../core/deploy/deploy';
import { connectEngine } from '../../core/deploy/engine';
import { abortGray, DEFAULT_CANDIDATE_WEIGHT, grayStatus, promote, startGrayRelease, type GrayStatus } from '../../core/deploy/gray';
import { SERVING_DOCKERFILE_PLACEHOLDERS, WORKSPACE_DOCKERFILE } from '../../core/deploy/image';
import { resolveActor } from '../../core/registry/identity';

import { resolveVersion } from '../../core/registry/versions';
import { toWireDeep } from '../../shared/wireNumbers';
import { helpFor, type FlagSpec, type ParsedArgs } from '../args';
import type { CliIO, Command } from '../command';
import { databasePathOf } from '../paths';
import { dispatchSubcommand } from '../subcommands';
import { formatTime, renderTable } from '../table';
import { openStore } from '../../core/database/open';

const FLAGS = {
  port: { value: true, description: `host port (default: the deployment's current port, else ${DEFAULT_PORT})` },
  'base-image': { value: true, description: `image to build FROM (default ${DEFAULT_BASE_IMAGE}); "${LOCAL_BASE_IMAGE}": make one from this machine's Node (offline engines)` },
  memory: { value: true, description: `memory limit, e.g. 512m or 2g (default ${DEFAULT_MEMORY})` },
  cpus: { value: true, description: `CPU limit, e.g. 0.5 (default ${DEFAULT_CPUS})` },
  golden: { value: true, description: "golden output file (runlens smoke --save-golden); without it the check compares with this machine's CPU run" },
  deployment: { value: true, description: 'deployment name (default: the model name)' },
  network: { value: true, description: 'bridge (default: published on --bind) or host (the server listens on --bind:PORT itself)' },
  bind: { value: true, description: 'address to publish or listen on (default 127.0.0.1)' },
  workspace: { value: true, description: `workspace whose ${WORKSPACE_DOCKERFILE} overrides the Dockerfile template (default: current folder)` },
  weight: { value: true, description: `gray: the candidate's share of traffic in percent (default ${DEFAULT_CANDIDATE_WEIGHT})` },
  'candidate-port': { value: true, description: "gray: the candidate's port (default: production's + 1)" },
  'router-port': { value: true, description: "gray: the router's port, where traffic goes during the release (default: production's + 2)" },
  follow: { value: false, description: 'logs: keep streaming until Ctrl-C' },
  tail: { value: true, description: 'logs: start with the last N lines (default all)' },
  'docker-host': { value: true, description: 'Docker engine: unix:///path or tcp://HOST:PORT (default $DOCKER_HOST, else /var/run/docker.sock)' },
  json: { value: false, description: 'print JSON' },
} satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

const GLOBAL_HELP: Record<string, FlagSpec> = {
  db: { value: true, description: 'database file (default: $RUNLENS_DB, else ~/.local/share/runlens/runlens.db)' },
  help: { value: false, description: 'show help for this command' },
};

function stringFlag(args: ParsedArgs, name: FlagName): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function numberFlag(args: ParsedArgs, name: FlagName, check: (n: number) => boolean, what: string): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || !check(n)) throw new UserError('bad-argument', `--${name} ${text}: ${what}`);
  return n;
}

const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

function networkFlag(args: ParsedArgs): NetworkMode | undefined {
  const v = stringFlag(args, 'network');
  if (v === undefined || v === 'bridge' || v === 'host') return v;
  throw new UserError('bad-argument', `--network ${v}: use bridge or host`);
}

function deployOptions(args: ParsedArgs): DeployOptions {
  const workspace = path.resolve(stringFlag(args, 'workspace') ?? process.cwd());
  if (!fs.existsSync(workspace)) throw new UserError('not-found', `--workspace ${workspace}: no such folder`);
  return {
    port: numberFlag(args, 'port', isPort, 'give a port number 1-65535'),
    baseImage: stringFlag(args, 'base-image'),
    memory: stringFlag(args, 'memory'),
    cpus: numberFlag(args, 'cpus', (n) => n > 0, 'give a positive number of CPUs'),
    golden: stringFlag(args, 'golden'),
    deployment: stringFlag(args, 'deployment'),
    network: networkFlag(args),
    bindAddress: stringFlag(args, 'bind'),
    workspace,
  };
}

/** Runs `fn` with a registry, an engine, the actor and Ctrl-C wired to cancellation. */
async function withContext<T>(args: ParsedArgs, io: CliIO, fn: (ctx: DeployContext) => Promise<T>): Promise<T> {
  const registry = openStore(databasePathOf(args)).registry;
  const abort = new AbortController();
  const onInterrupt = () => {
    io.err('\ncancelling…');
    abort.abort();
  };
  process.once('SIGINT', onInterrupt);
  try {
    const actor = await resolveActor(path.resolve(stringFlag(args, 'workspace') ?? process.cwd()));
    return await fn({ engine: connectEngine(stringFlag(args, 'docker-host')), registry, actor, signal: abort.signal, onProgress: (line) => io.err(`[deploy] ${line}`) });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    registry.close();
  }
}

function out(io: CliIO, args: ParsedArgs, value: unknown, text: () => string): void {
  io.out(args.flags.has('json') ? JSON.stringify(toWireDeep(value), null, 2) : text());
}

function needDeployment(args: ParsedArgs, sub: string): string {
  const name = args.positionals[1];
  if (!name) throw new UserError('bad-argument', `deploy ${sub} needs a DEPLOYMENT name (see runlens deployments)`);
  return name;
}

function needRef(args: ParsedArgs, sub: string, index: number): string {
  const ref = args.positionals[index];
  if (!ref) throw new UserError('bad-argument', `deploy ${sub} needs NAME@VERSION (an approved version; see runlens model list)`);
  return ref;
}

function describeGray(s: GrayStatus): string {
  const row = (v: GrayStatus['production']) => [v.variant, `v${v.version}`, String(v.requests), String(v.errors), v.latencyCount ? ((v.latencySum / v.latencyCount) * 1000).toFixed(2) : '-'];
  return [
    `gray release of ${s.deployment}: ${100 - s.weight} % production, ${s.weight} % candidate, router ${s.routerUrl}`,
    renderTable(['VARIANT', 'VERSION', 'REQUESTS', 'ERRORS', 'MEAN MS'], [row(s.production), row(s.candidate)]),
    s.significance.summary,
  ].join('\n');
}

interface Subcommand {
  usage: string;
  summary: string;
  flags: FlagName[];
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

const ENGINE: FlagName[] = ['docker-host', 'json'];
const CONTAINER: FlagName[] = ['port', 'base-image', 'memory', 'cpus', 'golden', 'deployment', 'network', 'bind', 'workspace'];

const SUBCOMMANDS: Record<string, Subcommand> = {
  start: {
    usage: 'runlens deploy [start] NAME@VERSION [--port P] [--base-image IMG|local] [--memory 512m] [--cpus 1] [--golden FILE] [--json]',
    summary:
      'Build a serving image for an approved version and start it (POST /predict, GET /healthz, GET /metrics). It counts as deployed only after /healthz answers and one prediction on the smoke-test input matches the golden output. ' +
      `The deployment on the same port is stopped and kept; if the new one fails it is removed and the previous one started again. Dockerfile template placeholders for ${WORKSPACE_DOCKERFILE}: ${Object.keys(SERVING_DOCKERFILE_PLACEHOLDERS).map((k) => `{{${k}}}`).join(', ')}.`,
    flags: [...CONTAINER, ...ENGINE],
    async run(args, io) {
      const ref = needRef(args, 'start', args.positionals[0] === 'start' ? 1 : 0);
      return withContext(args, io, async (ctx) => {
        const result = await deploy(ctx, resolveVersion(ctx.registry, ref), deployOptions(args));
        out(io, args, result, () =>
          [
            `deployed ${result.model}@${result.version} as ${result.deployment}: ${result.url} (container ${result.containerId.slice(0, 12)}, image ${result.image.ref})`,
            `health: ok after ${result.health.ms} ms; output check: ${result.golden.reference === 'golden-file' ? `matches ${result.golden.file}` : "matches this machine's CPU run (no golden file given)"}`,
            result.replaced ? `replaced v${result.replaced.version} (stopped, kept: runlens deploy rollback ${result.deployment})` : '',
          ].filter(Boolean).join('\n'),
        );
        return 0;
      });
    },
  },
  rollback: {
    usage: 'runlens deploy rollback DEPLOYMENT [--json]',
    summary: 'Go back to the previous deployment: the current container is stopped, the previous one started and checked healthy, then the current one removed.',
    flags: ENGINE,
    async run(args, io) {
      const name = needDeployment(args, 'rollback');
      return withContext(args, io, async (ctx) => {
        const r = await rollback(ctx, name);
        out(io, args, r, () => `${name}: rolled back from ${r.from.model} v${r.from.version} to v${r.to.version} (port ${r.to.port})`);
        return 0;
      });
    },
  },
  stop: {
    usage: 'runlens deploy stop DEPLOYMENT [--json]',
    summary: 'Stop and remove every container of a deployment (production, versions kept for rollback, a gray release). Images stay.',
    flags: ENGINE,
    async run(args, io) {
      const name = needDeployment(args, 'stop');
      return withContext(args, io, async (ctx) => {
        const r = await undeploy(ctx, name);
        out(io, args, r, () => `${name}: removed ${r.removed.length} container(s)`);
        return 0;
      });
    },
  },
  logs: {
    usage: 'runlens deploy logs DEPLOYMENT|CONTAINER [--follow] [--tail N]',
    summary: "Print a deployment's (its production container's) or a container's logs; --follow keeps streaming until Ctrl-C.",
    flags: ['follow', 'tail', 'docker-host'],
    async run(args, io) {
      const target = needDeployment(args, 'logs');
      const abort = new AbortController();
      const onInterrupt = () => abort.abort();
      process.once('SIGINT', onInterrupt);
      try {
        await streamLogs(connectEngine(stringFlag(args, 'docker-host')), target, {
          follow: args.flags.has('follow'),
          tail: numberFlag(args, 'tail', (n) => Number.isInteger(n) && n >= 0, 'give a whole number of lines'),
          signal: abort.signal,
          onLine: (line, stream) => (stream === 'stderr' ? io.err(line) : io.out(line)),
        });
      } finally {
        process.removeListener('SIGINT', onInterrupt);
      }
      return 0;
    },
  },
  metrics: {
    usage: 'runlens deploy metrics DEPLOYMENT|CONTAINER [--json]',
    summary: "Read a deployment's /metrics: requests, errors, latency.",
    flags: ENGINE,
    async run(args, io) {
      const m = await readMetrics(connectEngine(stringFlag(args, 'docker-host')), needDeployment(args, 'metrics'));
      const { samples: _samples, text: _text, ...summary } = m;
      out(io, args, summary, () =>
        `${m.deployment} (${m.model} v${m.version}) ${m.url}\nrequests ${m.requests}, errors ${m.errors.badRequest} bad request / ${m.errors.runtime} runtime, mean latency ${m.latency.meanMs === null ? '-' : `${m.latency.meanMs.toFixed(2)} ms`}`,
      );
      return 0;
    },
  },
  gray: {
    usage: 'runlens deploy gray NAME@VERSION [--deployment D] [--weight 30] [--candidate-port P] [--router-port P] [--golden FILE] [--json]',
    summary:
      "Start a candidate beside the deployment's production and a router that sends it --weight percent of the traffic sent to the router's port. " +
      'Check it with `runlens deploy status`, then `runlens deploy promote` or `runlens deploy abort`.',
    flags: [...CONTAINER, 'weight', 'candidate-port', 'router-port', ...ENGINE],
    async run(args, io) {
      const ref = needRef(args, 'gray', 1);
      return withContext(args, io, async (ctx) => {
        const r = await startGrayRelease(ctx, resolveVersion(ctx.registry, ref), {
          ...deployOptions(args),
          port: undefined,
          weight: numberFlag(args, 'weight', (n) => n >= 1 && n <= 99, 'give the candidate share in percent, 1 to 99'),
          candidatePort: numberFlag(args, 'candidate-port', isPort, 'give a port number 1-65535'),
          routerPort: numberFlag(args, 'router-port', isPort, 'give a port number 1-65535'),
        });
        out(io, args, r, () => `gray release of ${ref} in ${r.deployment}: ${r.weight} % of the traffic sent to ${r.router.url} goes to the candidate (port ${r.candidate.port}), the rest to v${r.production.version} (port ${r.production.port})`);
        return 0;
      });
    },
  },
  status: {
    usage: 'runlens deploy status DEPLOYMENT [--json]',
    summary: "A gray release's per-variant requests, errors and latency from the router, and whether the candidate differs significantly (Welch's t-test on mean latency, two-proportion z-test on error rate; not enough data below 30 requests per variant).",
    flags: ENGINE,
    async run(args, io) {
      const s = await grayStatus(connectEngine(stringFlag(args, 'docker-host')), needDeployment(args, 'status'));
      out(io, args, s, () => describeGray(s));
      return 0;
    },
  },
  promote: {
    usage: 'runlens deploy promote DEPLOYMENT [--golden FILE] [--json]',
    summary: "Make a gray release's candidate production on production's port (checked again; the old production kept stopped for rollback); the router and the candidate container are removed.",
    flags: ['golden', ...ENGINE],
    async run(args, io) {
      const name = needDeployment(args, 'promote');
      return withContext(args, io, async (ctx) => {
        const r = await promote(ctx, name, { golden: stringFlag(args, 'golden') });
        out(io, args, r, () => `${name} now serves v${r.production.version} on port ${r.production.port}; v${r.previous.version} kept for rollback`);
        return 0;
      });
    },
  },
  abort: {
    usage: 'runlens deploy abort DEPLOYMENT [--json]',
    summary: "Roll back a gray release: the candidate and the router are removed; production is untouched.",
    flags: ENGINE,
    async run(args, io) {
      const name = needDeployment(args, 'abort');
      return withContext(args, io, async (ctx) => {
        const r = await abortGray(ctx, name);
        out(io, args, r, () => `${name}: gray release removed (${r.removed.length} containers); production untouched`);
        return 0;
      });
    },
  },
};

function overview(): string {
  const lines = ['usage: runlens deploy NAME@VERSION [options]   or   runlens deploy SUBCOMMAND ...   (--help on each for details)', '', 'subcommands:'];
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(9)}${sub.usage.replace(/^runlens deploy (\[start\] |\w+ ?)/, '')}`);
  lines.push('', 'every deploy, rollback, stop, gray, promote and abort (and every refusal or failure) is recorded in the audit log (runlens audit list)');
  return lines.join('\n');
}

function subcommandHelp(_name: string, sub: Subcommand): string {
  const spec: Record<string, FlagSpec> = { ...GLOBAL_HELP };
  for (const f of sub.flags) spec[f] = FLAGS[f];
  return helpFor(sub.usage, sub.summary, spec);
}

export const deployCommand: Command = {
  usage: 'runlens deploy NAME@VERSION | rollback | stop | logs | metrics | gray | status | promote | abort ...',
  summary: `Serve approved model versions on a Docker engine, roll back, and release gradually. Subcommands: ${Object.keys(SUBCOMMANDS).join(', ')}.`,
  flags: { ...FLAGS, help: GLOBAL_HELP.help },
  async run(args, io) {
    // `runlens deploy NAME@VERSION` is `runlens deploy start NAME@VERSION`.
    const first = args.positionals[0];
    const routed = first && !SUBCOMMANDS[first] && first.includes('@') ? { ...args, positionals: ['start', ...args.positionals] } : args;
    return dispatchSubcommand('deploy', SUBCOMMANDS, routed, io, { overview, help: subcommandHelp });
  },
};

export const deploymentsCommand: Command = {
  usage: 'runlens deployments [--docker-host H] [--json]',
  summary: 'List RunLens containers on the Docker engine: deployment, version, role, state, health (a live /healthz probe), port.',
  flags: { 'docker-host': FLAGS['docker-host'], json: FLAGS.json },
  async run(args, io) {
    const list = await listDeployments(connectEngine(stringFlag(args, 'docker-host')));
    out(io, args, list, () =>
      list.length === 0
        ? 'no RunLens deployments on this engine (runlens deploy NAME@VERSION)'
        : renderTable(
            ['DEPLOYMENT', 'MODEL', 'VERSION', 'ROLE', 'STATE', 'HEALTH', 'PORT', 'CONTAINER', 'CREATED'],
            list.map((d) => [d.deployment, d.model, `v${d.version}${d.current ? ' *' : ''}`, d.role, d.state, d.health, String(d.port), d.containerId.slice(0, 12), formatTime(d.createdAt)]),
          ),
    );
    return 0;
  },
};
