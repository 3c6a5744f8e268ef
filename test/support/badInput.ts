// Helpers for damaging copies of real corpus logs and running the real CLI on
// them: TFRecord framing walked from the length fields alone (no checksums,
// no project code), deterministic garbage, CLI runs as another user.
import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentScript } from './agentProcess';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/agent.js ...args`, optionally behind a command prefix (e.g. setpriv). */
export function runCli(args: string[], options: { prefix?: string[]; timeoutMs?: number } = {}): CliResult {
  const prefix = options.prefix ?? [];
  const argv = [...prefix, process.execPath, agentScript, ...args];
  const r: SpawnSyncReturns<string> = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000 });
  assert.equal(r.error, undefined, `spawn ${argv.join(' ')}: ${r.error?.message}`);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The contract for damaged input: the command finishes (no signal, no
 * timeout) with exit code 0, and stderr has no internal error and no stack
 * trace. Damage is data, reported as warnings; exit code 1 stays for user
 * errors (bad arguments, a PATH that does not exist), 2 for bugs.
 */
export function assertNoCrash(r: CliResult, what: string): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} (timeout?)\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/, `${what}: internal error`);
  assert.doesNotMatch(r.stderr, /^\s+at .+[(:]\d+/m, `${what}: stack trace on stderr`);
  assert.equal(r.code, 0, `${what}: exit code ${r.code}\n${r.stderr}`);
}

/** The `warning: FILE: MESSAGE` lines the CLI prints. */
export function warningLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('warning: '));
}

/** Asserts one warning names `file` exactly and says `where` (e.g. "byte 1234", "line 7"). */
export function assertWarned(stderr: string, file: string, where: string | RegExp): void {
  const lines = warningLines(stderr).filter((line) => line.startsWith(`warning: ${file}: `));
  const matches = (line: string) => (typeof where === 'string' ? new RegExp(`\\b${where.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(line) : where.test(line));
  assert.ok(
    lines.some(matches),
    `a warning naming ${file} and ${String(where)}; warnings were:\n${warningLines(stderr).join('\n') || '(none)'}`,
  );
}

export interface FramedRecord {
  /** File offset of the record's 12-byte header. */
  start: number;
  /** File offset just past its 4-byte footer. */
  end: number;
  dataLength: number;
}

/** TFRecord framing from the length fields only: uint64 length, 4 bytes, data, 4 bytes. */
export function framedRecords(bytes: Buffer): FramedRecord[] {
  const records: FramedRecord[] = [];
  let offset = 0;
  while (offset + 12 <= bytes.length) {
    const length = Number(bytes.readBigUInt64LE(offset));
    const end = offset + 12 + length + 4;
    if (end > bytes.length) break;
    records.push({ start: offset, end, dataLength: length });
    offset = end;
  }
  assert.equal(offset, bytes.length, 'an undamaged event file is whole records');
  return records;
}

/** Deterministic pseudo-random bytes (LCG), so a failure reproduces. */
export function garbageBytes(length: number, seed = 0x2545f491): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** Every file under `dir` whose name passes `test`, absolute, sorted. */
export function findFiles(dir: string, test: (relative: string) => boolean, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findFiles(full, test, relative));
    else if (entry.isFile() && test(relative)) out.push(full);
  }
  return out.sort();
}

/** Inserts `lines` so that each becomes the given 1-based line number of the result, keeping the file's line ending. */
export function insertLines(file: string, inserts: Array<[lineNumber: number, text: string]>): void {
  const text = fs.readFileSync(file, 'utf8');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(eol);
  for (const [lineNumber, line] of [...inserts].sort((a, b) => a[0] - b[0])) {
    assert.ok(lineNumber >= 2 && lineNumber <= lines.length, `line ${lineNumber} is inside ${file}`);
    lines.splice(lineNumber - 1, 0, line);
  }
  fs.writeFileSync(file, lines.join(eol));
}

/**
 * How to run the CLI as a user that file permissions apply to. Not root: as
 * is. Root (chmod 000 does not stop root's reads): as nobody (65534) through
 * setpriv, if that works here; otherwise the reason it cannot.
 */
export function unprivilegedPrefix(): { prefix: string[] } | { skip: string } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { prefix: [] };
  const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  const probe = spawnSync(prefix[0], [...prefix.slice(1), process.execPath, agentScript, 'version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return { skip: `running as root and setpriv is unavailable (${probe.error.message}), so unreadable files cannot be made unreadable` };
  if (probe.status !== 0) return { skip: `running as root and the agent does not start as uid 65534 through setpriv: ${probe.stderr.trim().split('\n')[0]}` };
  return { prefix };
}

/**
 * Makes `dir` and everything under it readable and traversable by other
 * users, and its parents up to (not including) the system temp dir
 * traversable. Only for test copies in the temp dir.
 */
export function openToOthers(dir: string): void {
  const tmp = path.resolve(os.tmpdir());
  assert.ok(path.resolve(dir).startsWith(tmp + path.sep), `${dir} is inside ${tmp}`);
  const walk = (target: string) => {
    const st = fs.statSync(target);
    fs.chmodSync(target, st.mode | 0o044 | (st.isDirectory() ? 0o011 : 0));
    if (st.isDirectory()) for (const entry of fs.readdirSync(target)) walk(path.join(target, entry));
  };
  walk(dir);
  for (let parent = path.dirname(path.resolve(dir)); parent.startsWith(tmp + path.sep); parent = path.dirname(parent)) {
    const st = fs.statSync(parent);
    if ((st.mode & 0o001) === 0) fs.chmodSync(parent, st.mode | 0o011);
  }
}
