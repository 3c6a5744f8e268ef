// A log file whose permissions change while the agent watches it: the agent
// (run as an unprivileged user, since chmod does not stop root) warns, keeps
// what it already read, and catches up when the file is readable again.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { agentNotifications, agentRequests, PROTOCOL_VERSION, type AgentNotification } from '../../src/shared/protocol';
import { agentScript } from '../support/agentProcess';
import { openToOthers, unprivilegedPrefix } from '../support/badInput';
import { corpusDir, makeTempDir } from '../support/fixtures';

const unprivileged = unprivilegedPrefix();

test('permissions taken away and given back mid-run: a warning, nothing lost, then the new rows', { skip: 'skip' in unprivileged ? unprivileged.skip : false, timeout: 60_000 }, async () => {
  const prefix = 'prefix' in unprivileged ? unprivileged.prefix : [];
  const ws = makeTempDir('runlens-perm-');
  const log = path.join(ws, 'training.log');
  const rows = fs.readFileSync(path.join(corpusDir(), 'logs/keras-csv/append-mode-restarts/training_log.csv'), 'utf8').split('\r\n').filter(Boolean);
  fs.writeFileSync(log, rows.slice(0, 4).join('\r\n') + '\r\n');
  const dbDir = makeTempDir('runlens-perm-db-');
  openToOthers(ws);
  openToOthers(dbDir);
  fs.chmodSync(dbDir, 0o777);
  const [command, ...args] = [...prefix, process.execPath, agentScript, 'serve', '--db', path.join(dbDir, 'perm.db')];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notes: AgentNotification[] = [];
  for (const method of Object.keys(agentNotifications) as AgentNotification['method'][]) {
    connection.onNotification(agentNotifications[method] as never, (params: never) => notes.push({ method, params } as AgentNotification));
  }
  connection.listen();
  const request = <T>(method: keyof typeof agentRequests, params: unknown) => connection.sendRequest(agentRequests[method] as never, params as never) as Promise<T>;
  const points = async () => (await request<{ runs: { pointCount: number }[] }>('runs/list', {})).runs.reduce((n, r) => n + r.pointCount, 0);
  const waitFor = async (what: string, probe: () => Promise<boolean> | boolean) => {
    const deadline = Date.now() + 15_000;
    while (!(await probe())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; stderr: ${stderr}; notes: ${JSON.stringify(notes.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await request('agent/hello', { clientName: 'test', protocolVersion: PROTOCOL_VERSION });
    await request('workspace/ingest', { paths: [ws] });
    const before = await points();
    assert.ok(before > 0);
    await request('watch/start', { roots: [ws], ignore: [], usePolling: false, debounceMs: 50 });

    fs.chmodSync(log, 0o000);
    fs.appendFileSync(log, rows[4] + '\r\n'); // root still writes; the agent can no longer read
    await waitFor('a warning naming the unreadable file', () => notes.some((n) => n.method === 'agent/log' && n.params.level === 'warn' && n.params.message.includes(log)));
    assert.equal(await points(), before, 'what was read before is kept');

    fs.chmodSync(log, 0o644);
    fs.appendFileSync(log, rows[5] + '\r\n');
    await waitFor('the rows written meanwhile', async () => (await points()) > before);
    assert.equal(child.exitCode, null, 'the agent is alive');
  } finally {
    try {
      await connection.sendRequest(agentRequests['agent/shutdown'], {});
    } catch {
      // Gone already.
    }
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode === null) child.kill('SIGKILL');
    connection.dispose();
  }
});
