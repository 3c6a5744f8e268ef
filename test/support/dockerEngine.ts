// A private Docker engine for tests: Debian's dockerd, started as root on a
// socket of its own with its data root, exec root and pid file in a temp dir,
// no bridge and no iptables rules (test containers use host networking and
// listen on 127.0.0.1 only). Stopped by its PID afterwards, and its data root
// unmounted and removed, so a second run on the same machine starts clean.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectEngine, withTimeout, type Engine } from '../../src/core/deploy/engine';

export interface TestEngine extends Engine {
  dir: string;
  dataRoot: string;
  pid: number;
  stop(): Promise<void>;
}

export interface TestEngineOptions {
  /** A tmpfs of this size (e.g. '400m') mounted as the data root: an engine whose disk can fill up. */
  tmpfsSize?: string;
  startTimeoutMs?: number;
}

/** Why the engine cannot run here, or null when it can (the tests that need one skip with this reason). */
export function dockerUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'dockerd runs on Linux only';
  if (process.getuid?.() !== 0) return 'starting a private dockerd needs root';
  if (spawnSync('dockerd', ['--version']).status !== 0) return 'dockerd is not installed (scripts/setup-deploy-host.sh installs Debian docker.io)';
  return null;
}

export async function startTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  // Short paths: the exec root holds unix sockets, whose paths are limited to 108 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-dockerd-'));
  const dataRoot = path.join(dir, 'data');
  fs.mkdirSync(dataRoot);
  if (options.tmpfsSize) {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${options.tmpfsSize}`, 'tmpfs', dataRoot], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`cannot mount a ${options.tmpfsSize} tmpfs at ${dataRoot}: ${mounted.stderr.trim()}`);
  }
  const socket = path.join(dir, 'docker.sock');
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root', dataRoot,
      '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', `unix://${socket}`,
      // Nothing on the host network changes: no docker0 bridge, no NAT rules.
      '--bridge=none', '--iptables=false', '--ip6tables=false',
      // overlay2 works on this machine's ext4 and on tmpfs (checked when this was written); vfs would copy every layer in full.
      '--storage-driver', 'overlay2',
    ],
    { stdio: ['ignore', log, log], detached: false },
  );
  fs.closeSync(log);
  const engine = connectEngine(`unix://${socket}`);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(forced);
    }
    // The engine leaves overlay and shm mounts behind if it did not clean up: unmount everything under the dir, deepest first.
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
    for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let last = 'not started';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await withTimeout('dockerd ping', 1000, (signal) => engine.docker.ping({ abortSignal: signal } as never) as unknown as Promise<unknown>);
      return { ...engine, dir, dataRoot, pid: child.pid!, stop };
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = fs.existsSync(path.join(dir, 'dockerd.log')) ? fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n') : '';
  await stop();
  throw new Error(`dockerd did not answer on ${socket} (${child.exitCode !== null ? `exited ${child.exitCode}` : last}); its log ends:\n${tail}`);
}
