// Starts and stops one code-server (a full VS Code server: real Node extension
// host + web workbench) on 127.0.0.1, isolated in its own user-data and
// extensions folders, with nothing that reaches out (no telemetry, update check
// or extension gallery). Each server runs in its own process group, so stop()
// also ends its extension host, the RunLens agent and every other child.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort } from './freePort';
import type { HostTools } from './hostTools';

export interface CodeServerOptions {
  /** Short name for progress lines and logs ("suite", "ui", ...). */
  name: string;
  tools: HostTools;
  /** A fresh folder this server may fill: user data, extensions, config, log. */
  dir: string;
  /** The folder the workbench opens. */
  workspace: string;
  /** User settings (written to User/settings.json and, for machine-scoped ones, Machine/settings.json). */
  settings: Record<string, unknown>;
  /** --vscode-option enable-smoke-test-driver: lets extension tests report through window.codeAutomationExit; hides toasts. */
  smokeTestDriver?: boolean;
  /** Unpacked extension folders to install, as a user would have them (symlinked into the extensions folder). */
  extensions?: string[];
  /** Extra environment for the server and so for its extension host. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface CodeServer {
  readonly name: string;
  readonly port: number;
  /** "127.0.0.1:PORT": the remote authority of vscode-remote:// URIs. */
  readonly authority: string;
  readonly origin: string;
  readonly userDataDir: string;
  readonly logFile: string;
  readonly workspace: string;
  readonly startMs: number;
  /** The workbench URL for the workspace; with a payload (extensionDevelopmentPath, ...) when given. */
  workbenchUrl(payload?: [string, string][]): string;
  /** A vscode-remote:// URI for a path on this server. */
  remoteUri(fsPath: string): string;
  logTail(lines?: number): string;
  /** Ends the whole process group (TERM, then KILL). Safe to call twice. */
  stop(): Promise<void>;
}


/** Every live server's process group, so an interrupted run still ends them. */
const liveGroups = new Set<number>();
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
process.once('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `(no log: ${(e as Error).message})`;
  }
}

class StartError extends Error {
  constructor(
    readonly portTaken: boolean,
    message: string,
  ) {
    super(message);
  }
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const started = Date.now();
  const { tools, dir, name } = options;
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  const configFile = path.join(dir, 'config.yaml');
  const logFile = path.join(dir, 'code-server.log');
  fs.mkdirSync(extensionsDir, { recursive: true });
  for (const folder of options.extensions ?? []) {
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
    // The folder name VS Code gives an installed extension; it scans the
    // folder into extensions.json on first start.
    fs.symlinkSync(folder, path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`), 'dir');
  }
  // Machine-scoped settings (runlens.agent.nodePath) are ignored in User
  // settings of a remote window; the server's Machine settings apply them.
  writeJson(path.join(userDataDir, 'User', 'settings.json'), options.settings);
  writeJson(path.join(userDataDir, 'Machine', 'settings.json'), options.settings);
  // An explicit config, so code-server writes none into ~/.config.
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');

  // The port is free when picked but could be taken before code-server binds
  // it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await freePort());
    } catch (e) {
      if (!(e instanceof StartError && e.portTaken && attempt < 3)) throw e;
    }
  }

  async function launch(port: number): Promise<CodeServer> {
    const args = [
      tools.codeServerEntry,
      '--config', configFile,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      ...(options.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
      options.workspace,
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      PATH: `${path.dirname(tools.node24)}${path.delimiter}${process.env.PATH ?? ''}`,
      // No gallery: an empty service URL disables it.
      EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: '' }),
      VSCODE_CLI: undefined,
      ELECTRON_RUN_AS_NODE: undefined,
    };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const out = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(tools.node24, args, { cwd: dir, env, detached: true, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    const pid = child.pid!;
    liveGroups.add(pid);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exitPromise = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        resolve();
      }),
    );

    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      killGroup(pid, 'SIGTERM');
      await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 5000))]);
      // The extension host and the agent may outlive the server's main process.
      await new Promise((r) => setTimeout(r, 200));
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
    };

    const server: CodeServer = {
      name,
      port,
      authority: `127.0.0.1:${port}`,
      origin: `http://127.0.0.1:${port}`,
      userDataDir,
      logFile,
      workspace: options.workspace,
      startMs: 0,
      workbenchUrl(payload) {
        const query = new URLSearchParams({ folder: options.workspace });
        if (payload) query.set('payload', JSON.stringify(payload));
        return `${this.origin}/?${query.toString()}`;
      },
      remoteUri(fsPath) {
        return `vscode-remote://${this.authority}${fsPath.split(path.sep).join('/')}`;
      },
      logTail: (lines = 60) => tail(logFile, lines),
      stop,
    };

    const deadline = started + (options.startTimeoutMs ?? 60_000);
    while (!(await healthy(port))) {
      if (exited) {
        await stop();
        throw new StartError(tail(logFile, 200).includes('EADDRINUSE'), `code-server "${name}" exited during start (code ${exited.code}, signal ${exited.signal}):\n${tail(logFile, 40)}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`code-server "${name}" did not answer /healthz within ${options.startTimeoutMs ?? 60_000} ms:\n${tail(logFile, 40)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return Object.assign(server, { startMs: Date.now() - started });
  }
}
