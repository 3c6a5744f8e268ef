// `runlens model push` and `runlens model pull`: a registered, approved model
// version to an OCI registry and back. The password comes on stdin
// (--password-stdin), never as an argument (it would show in `ps` and shell
// history); without one, the Docker config's credentials are used.
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { resolveActor } from '../../core/registry/identity';

import { resolveVersion } from '../../core/registry/versions';
import { isRegistryError, pullModelArtifact, pushApprovedVersion, type PushProgress, type RegistryCredentials } from '../../core/oci';
import type { ParsedArgs } from '../args';
import type { CliIO } from '../command';
import { defaultDatabasePath } from '../paths';
import { formatBytes, toJson } from './modelFormat';
import { openStore } from '../../core/database/open';

function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function credentialsFrom(args: ParsedArgs, sub: string): Promise<RegistryCredentials | null> {
  const username = stringFlag(args, 'username');
  const fromStdin = args.flags.has('password-stdin');
  if (!username && !fromStdin) return null;
  if (!username || !fromStdin) throw new UserError('bad-argument', `model ${sub}: --username and --password-stdin go together (echo "$TOKEN" | runlens model ${sub} ... --username USER --password-stdin)`);
  // One trailing newline is what `echo` adds, not part of the password.
  const password = (await readStdin()).replace(/\r?\n$/, '');
  if (!password) throw new UserError('bad-argument', `model ${sub}: --password-stdin read nothing from stdin`);
  return { kind: 'basic', username, password };
}

/** Ctrl+C aborts the transfer; nothing is tagged (push) or left half-written (pull). */
async function withInterrupt<T>(io: CliIO, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onInterrupt = () => {
    io.err(`\ncancelling the ${what}…`);
    abort.abort();
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await fn(abort.signal);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

function progressLine(io: CliIO): (p: PushProgress) => void {
  let last = '';
  return (p) => {
    const line = `[push] ${p.message} (${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)})`;
    if (io.interactive) io.err(`\r\x1b[2K${line}`);
    else if (p.message !== last) io.err(line);
    last = p.message;
  };
}

export async function runModelPush(args: ParsedArgs, io: CliIO): Promise<number> {
  const text = args.positionals[1];
  if (!text) throw new UserError('bad-argument', 'model push needs a REF (NAME@VERSION) (see runlens model push --help)');
  const target = stringFlag(args, 'to');
  if (!target) throw new UserError('bad-argument', 'model push needs --to REGISTRY/REPOSITORY[:TAG], e.g. --to 127.0.0.1:5000/models/face');
  const credentials = await credentialsFrom(args, 'push');
  const actor = await resolveActor(process.cwd());
  const db = stringFlag(args, 'db');
  const registry = openStore(db ? path.resolve(db) : defaultDatabasePath()).registry;
  try {
    const version = resolveVersion(registry, text);
    const result = await withInterrupt(io, 'push; nothing will be tagged', (signal) =>
      pushApprovedVersion({ registry, version, target, credentials, plainHttp: args.flags.has('plain-http'), signal, onProgress: progressLine(io), actor }),
    );
    if (io.interactive) io.err('\r\x1b[2K');
    if (args.flags.has('json')) {
      const { version: after, ...rest } = result;
      io.out(toJson({ ...rest, state: after.state }));
    } else {
      io.out(`pushed ${text} to ${result.target} (${formatBytes(result.size)}; ${result.uploaded.length} blob(s) uploaded, ${result.skipped.length} already there)`);
      io.out(`digest ${result.digest}`);
      io.out(result.reference);
    }
    return 0;
  } catch (e) {
    if (isRegistryError(e, 'cancelled')) {
      io.err(`model push: ${e.message}; nothing was tagged`);
      return 130;
    }
    throw e;
  } finally {
    registry.close();
  }
}

export async function runModelPull(args: ParsedArgs, io: CliIO): Promise<number> {
  const reference = args.positionals[1];
  if (!reference) throw new UserError('bad-argument', 'model pull needs a REF (REGISTRY/REPOSITORY:TAG or @sha256:...) (see runlens model pull --help)');
  const out = stringFlag(args, 'out');
  if (!out) throw new UserError('bad-argument', 'model pull needs --out DIR');
  const credentials = await credentialsFrom(args, 'pull');
  const result = await withInterrupt(io, 'pull', (signal) =>
    pullModelArtifact({
      reference,
      outDir: path.resolve(out),
      expectedDigest: stringFlag(args, 'digest') ?? null,
      credentials,
      plainHttp: args.flags.has('plain-http'),
      signal,
      onProgress: (m) => io.err(`[pull] ${m}`),
    }),
  );
  if (args.flags.has('json')) io.out(toJson({ digest: result.digest, reference: result.reference, artifactType: result.manifest.artifactType, annotations: result.manifest.annotations, files: result.files }));
  else {
    io.out(`pulled ${result.reference} (digest verified)`);
    for (const f of result.files) io.out(`  ${f.path}  ${formatBytes(f.size)}  ${f.digest}`);
  }
  return 0;
}
