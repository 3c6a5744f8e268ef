// Spawns the real agent (dist/agent.js, built by scripts/build.mjs) and talks
// to it with the same typed protocol the extension uses.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { agentNotifications, agentRequests, type AgentNotification, type AgentRequestMethod, type RequestParams, type RequestResult } from '../../src/shared/protocol';
import { repoRoot } from './fixtures';

export const agentScript = path.join(repoRoot, 'dist', 'agent.js');

export interface AgentHandle {
  child: ChildProcess;
  connection: MessageConnection;
  notifications: AgentNotification[];
  stderr: () => string;
  request<M extends AgentRequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function startAgent(databasePath: string): AgentHandle {
  const child = spawn(process.execPath, [agentScript, 'serve', '--db', databasePath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notifications: AgentNotification[] = [];
  for (const method of Object.keys(agentNotifications) as AgentNotification['method'][]) {
    connection.onNotification(agentNotifications[method] as never, (params: never) => notifications.push({ method, params } as AgentNotification));
  }
  connection.listen();
  return {
    child,
    connection,
    notifications,
    stderr: () => stderr,
    exited,
    request: (method, params) => connection.sendRequest(agentRequests[method] as never, params as never) as never,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          await connection.sendRequest(agentRequests['agent/shutdown'], {});
        } catch {
          // Connection already gone.
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      connection.dispose();
    },
  };
}
