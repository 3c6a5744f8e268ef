// Owns the agent process: finds Node, spawns `dist/agent.js serve`, speaks the
// typed protocol, shows its log, and restarts it with backoff if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancellationTokenSource, createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  agentNotifications,
  agentRequests,
  PROTOCOL_VERSION,
  type AgentNotificationHandlers,
  type AgentNotificationMethod,
  type AgentRequestMethod,
  type HelloResult,
  type NotificationParams,
  type RequestParams,
  type RequestResult,
} from '../../shared/protocol';
import { RestartBackoff } from './backoff';
import { findNode, NodeRuntimeError, type NodeRuntime } from './findNode';

export type AgentState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'running'; hello: HelloResult; runtime: NodeRuntime }
  | { kind: 'failed'; message: string };

export interface AgentClientOptions {
  extensionPath: string;
  databasePath: () => string;
  nodePath: () => string | undefined;
  log: vscode.LogOutputChannel;
}

/** Exit code the agent uses for user errors (a locked database, a wrong Node): restarting will not help. */
const USER_ERROR_EXIT = 1;

export class AgentClient implements vscode.Disposable {
  private process: ChildProcess | undefined;
  private connection: MessageConnection | undefined;
  private state: AgentState = { kind: 'stopped' };
  private readonly backoff = new RestartBackoff();
  private restartTimer: NodeJS.Timeout | undefined;
  private toldUserAboutCrash = false;
  private disposed = false;
  private starting: Promise<void> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<AgentState>();
  private readonly runsChangedEmitter = new vscode.EventEmitter<NotificationParams<'runs/changed'>>();
  private readonly progressEmitter = new vscode.EventEmitter<NotificationParams<'agent/progress'>>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidChangeRuns = this.runsChangedEmitter.event;
  readonly onProgress = this.progressEmitter.event;
  private readonly logChunkEmitter = new vscode.EventEmitter<NotificationParams<'deploy/logChunk'>>();
  readonly onLogChunk = this.logChunkEmitter.event;

  constructor(private readonly options: AgentClientOptions) {}

  get currentState(): AgentState {
    return this.state;
  }

  private setState(state: AgentState): void {
    this.state = state;
    this.stateEmitter.fire(state);
  }

  /** Starts the agent if it is not running; resolves once it answered hello. */
  start(): Promise<void> {
    if (this.state.kind === 'running') return Promise.resolve();
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.setState({ kind: 'starting' });
    const log = this.options.log;
    let runtime: NodeRuntime;
    try {
      runtime = await findNode(this.options.nodePath());
    } catch (e) {
      const message = e instanceof NodeRuntimeError ? e.message : `Could not find Node.js: ${(e as Error).message}`;
      this.setState({ kind: 'failed', message });
      throw new Error(message);
    }
    const agentScript = path.join(this.options.extensionPath, 'dist', 'agent.js');
    const databasePath = this.options.databasePath();
    log.info(`starting agent: ${runtime.path} (${runtime.version}) ${agentScript} serve --db ${databasePath}`);
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE; // a plain Node, not VS Code's Electron in disguise
    const child = spawn(runtime.path, [agentScript, 'serve', '--db', databasePath], {
      cwd: this.options.extensionPath,
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    this.process = child;
    let stderrTail = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) log.error(`[agent stderr] ${line}`);
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    this.connection = connection;
    this.listen(connection);
    connection.listen();

    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => {
        const detail = stderrTail.trim().split('\n').filter(Boolean).pop() ?? '';
        reject(new AgentExit(code, signal, detail));
      });
      child.once('error', (e) => reject(new AgentExit(null, null, e.message)));
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal, stderrTail));

    try {
      const hello = await Promise.race([connection.sendRequest(agentRequests['agent/hello'], { clientName: 'vscode', protocolVersion: PROTOCOL_VERSION }), exited]);
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        throw new Error(`The RunLens agent speaks protocol ${hello.protocolVersion}, this extension ${PROTOCOL_VERSION}. Reinstall RunLens so both come from one build.`);
      }
      log.info(`agent ${hello.agentVersion} ready: Node ${hello.nodeVersion}, database ${hello.databasePath} (schema v${hello.schemaVersion}), formats ${hello.formats.join(', ')}`);
      this.setState({ kind: 'running', hello, runtime });
    } catch (e) {
      const message = e instanceof AgentExit ? e.describe() : (e as Error).message;
      this.setState({ kind: 'failed', message });
      this.killProcess();
      throw new Error(message);
    }
  }

  private listen(connection: MessageConnection): void {
    const log = this.options.log;
    const handlers: AgentNotificationHandlers = {
      'agent/log': ({ level, message }) => {
        switch (level) {
          case 'trace':
            log.trace(message);
            break;
          case 'debug':
            log.debug(message);
            break;
          case 'info':
            log.info(message);
            break;
          case 'warn':
            log.warn(message);
            break;
          case 'error':
            log.error(message);
            break;
          default: {
            const unknown: never = level;
            log.info(String(unknown));
          }
        }
      },
      'agent/progress': (p) => this.progressEmitter.fire(p),
      'runs/changed': (p) => this.runsChangedEmitter.fire(p),
      'deploy/logChunk': (p) => this.logChunkEmitter.fire(p),
    };
    for (const method of Object.keys(agentNotifications) as AgentNotificationMethod[]) {
      connection.onNotification(agentNotifications[method] as never, handlers[method] as never);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): void {
    if (child !== this.process) return;
    this.connection?.dispose();
    this.connection = undefined;
    this.process = undefined;
    if (this.disposed) return;
    const wasRunning = this.state.kind === 'running';
    const log = this.options.log;
    log.warn(`agent exited (code ${code}, signal ${signal})`);
    if (code === USER_ERROR_EXIT) {
      // Restarting cannot fix a locked or newer database: say it and stop.
      const message = stderrTail.trim().split('\n').filter(Boolean).pop() ?? `exit code ${code}`;
      this.setState({ kind: 'failed', message });
      if (wasRunning) void vscode.window.showErrorMessage(`RunLens agent stopped: ${message}`, 'Show Log').then((c) => c && log.show());
      return;
    }
    if (!wasRunning) return; // A start that failed is reported by start()'s caller.
    const delay = this.backoff.nextDelay();
    if (delay === undefined) {
      const message = 'The RunLens agent keeps crashing; it will not be restarted automatically.';
      this.setState({ kind: 'failed', message });
      void vscode.window.showErrorMessage(message, 'Show Log', 'Restart Agent').then((choice) => {
        if (choice === 'Show Log') log.show();
        if (choice === 'Restart Agent') void vscode.commands.executeCommand('runlens.restartAgent');
      });
      return;
    }
    this.setState({ kind: 'stopped' });
    if (!this.toldUserAboutCrash) {
      this.toldUserAboutCrash = true;
      void vscode.window.showWarningMessage(`The RunLens agent stopped unexpectedly (${signal ?? `exit code ${code}`}); restarting it. Details are in the agent log.`, 'Show Log').then((c) => c && log.show());
    }
    log.info(`restarting agent in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start().then(
        () => this.runsChangedEmitter.fire({ sourceRoots: [], changes: [] }),
        (e: Error) => log.error(`restart failed: ${e.message}`),
      );
    }, delay);
  }

  async request<M extends AgentRequestMethod>(method: M, params: RequestParams<M>, token?: vscode.CancellationToken): Promise<RequestResult<M>> {
    await this.start();
    const connection = this.connection;
    if (!connection) throw new Error('The RunLens agent is not running.');
    const source = new CancellationTokenSource();
    const subscription = token?.onCancellationRequested(() => source.cancel());
    try {
      return (await connection.sendRequest(agentRequests[method] as never, params as never, source.token)) as RequestResult<M>;
    } finally {
      subscription?.dispose();
      source.dispose();
    }
  }

  async restart(): Promise<void> {
    this.backoff.reset();
    this.toldUserAboutCrash = false;
    await this.stop();
    await this.start();
  }

  /** Test hook and crash simulation: kills the process as a crash would. */
  killForTest(): void {
    this.process?.kill('SIGKILL');
  }

  private killProcess(): void {
    const child = this.process;
    this.process = undefined;
    this.connection?.dispose();
    this.connection = undefined;
    child?.kill();
  }

  async stop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.process;
    const connection = this.connection;
    if (child && connection && this.state.kind === 'running') {
      this.process = undefined; // an exit from here on is expected
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        await Promise.race([connection.sendRequest(agentRequests['agent/shutdown'], {}), new Promise((r) => setTimeout(r, 2000))]);
      } catch {
        // Already going away.
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill();
      connection.dispose();
      this.connection = undefined;
    } else {
      this.killProcess();
    }
    this.setState({ kind: 'stopped' });
  }

  dispose(): void {
    this.disposed = true;
    void this.stop();
    this.stateEmitter.dispose();
    this.runsChangedEmitter.dispose();
    this.progressEmitter.dispose();
    this.logChunkEmitter.dispose();
  }
}

class AgentExit extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly detail: string,
  ) {
    super(`agent exited (code ${code}, signal ${signal})`);
  }
  describe(): string {
    // The agent prints user errors as "runlens serve: <message>".
    const message = this.detail.replace(/^runlens serve: /, '');
    return message || `The RunLens agent exited during start (code ${this.code}, signal ${this.signal}). See the agent log.`;
  }
}
