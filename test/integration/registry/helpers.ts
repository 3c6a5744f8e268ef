// The real `runlens` CLI (dist/agent.js) in a workspace of its own, with a git
// identity of the test's choosing (never the machine's).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { agentScript } from '../../support/agentProcess';
import { makeTempDir } from '../../support/fixtures';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  /** The workspace folder (cwd of every command). */
  workspace: string;
  db: string;
  env: NodeJS.ProcessEnv;
  identity: string;
  run(args: string[]): CliResult;
  /** Starts without waiting, for commands that must run at the same time. */
  start(args: string[]): Promise<CliResult>;
  json<T>(args: string[]): T;
}

export function sandbox(workspace: string, identity = { name: 'Test Approver', email: 'approver@example.com' }): Sandbox {
  const home = makeTempDir('runlens-registry-home-');
  const gitconfig = path.join(home, '.gitconfig');
  fs.writeFileSync(gitconfig, `[user]\n\tname = ${identity.name}\n\temail = ${identity.email}\n`);
  const db = path.join(home, 'runlens.db');
  const env = { ...process.env, HOME: home, GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: '1', RUNLENS_DB: db };
  const run = (args: string[]): CliResult => {
    const r = spawnSync(process.execPath, [agentScript, ...args], { cwd: workspace, env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    workspace,
    db,
    env,
    identity: `${identity.name} <${identity.email}>`,
    run,
    start(args) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [agentScript, ...args], { cwd: workspace, env });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    json<T>(args: string[]): T {
      const r = run([...args, '--json']);
      if (r.code !== 0) throw new Error(`runlens ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** Every file under a folder, relative, sorted (to prove a command wrote nothing there). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else out.push(rel);
    }
  };
  walk(dir, '');
  return out.sort();
}

export interface AuditJson {
  seq: number;
  kind: string;
  actor: string;
  model: string | null;
  version: number | null;
  payload: Record<string, unknown>;
  hash: string;
}

export interface VersionJson {
  id: number;
  name: string;
  version: number;
  state: string;
  filePath: string;
  sha256: string;
  size: number;
  registeredBy: string;
  aliases: string[];
  runUid: string | null;
  run: { uid: string; name: string; params: Record<string, string>; metrics: Record<string, { value: number | string; step: number | null }> } | null;
  runInference: { how: string; note: string };
  git: { present: boolean; reason?: string };
  datasets: { path: string; kind: string; sha256: string; files: number; bytes: number }[];
}
