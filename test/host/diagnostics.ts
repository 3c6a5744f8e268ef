// What a failed host test prints, so a CI failure can be read without
// reproducing it: code-server's log, the extension's "RunLens Agent" output
// channel (a log file under the user-data folder), the extension host's log,
// and the page's console. A copy of the logs goes to test-results/host-logs/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CodeServer } from './codeServer';

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

function tailOf(file: string, lines: number): string {
  const all = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  return (all.length > lines ? [`... (${all.length - lines} earlier lines)`] : []).concat(all.slice(-lines)).join('\n');
}

/** The log files of the "RunLens Agent" output channel(s) this server wrote. */
export function agentLogFiles(server: CodeServer): string[] {
  return filesUnder(path.join(server.userDataDir, 'logs')).filter((f) => path.basename(f) === 'RunLens Agent.log');
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}

export function printDiagnostics(server: CodeServer, consoleLines: string[] = [], print: (text: string) => void = (t) => console.error(t)): void {
  print(`--- diagnostics for code-server "${server.name}" (${server.origin}, user data ${server.userDataDir})`);
  print(`  code-server log (${server.logFile}):\n${indent(server.logTail(60))}`);
  const logs = filesUnder(path.join(server.userDataDir, 'logs'));
  const agentLogs = agentLogFiles(server);
  if (agentLogs.length === 0) print('  no "RunLens Agent" log: the extension never created its output channel (not activated?)');
  for (const f of agentLogs) print(`  RunLens Agent log (${f}):\n${indent(tailOf(f, 120))}`);
  for (const f of logs.filter((f) => /(remote)?exthost\.log$/.test(f))) print(`  extension host log (${f}):\n${indent(tailOf(f, 40))}`);
  if (consoleLines.length) print(`  browser console (last 40 lines):\n${indent(consoleLines.slice(-40).join('\n'))}`);
}

/** Copies the server's log folder and code-server log under `dest/<server name>/`. */
export function saveLogs(server: CodeServer, dest: string, consoleLines: string[] = []): string {
  const target = path.join(dest, server.name);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  const logsDir = path.join(server.userDataDir, 'logs');
  if (fs.existsSync(logsDir)) fs.cpSync(logsDir, path.join(target, 'logs'), { recursive: true });
  if (fs.existsSync(server.logFile)) fs.copyFileSync(server.logFile, path.join(target, 'code-server.log'));
  if (consoleLines.length) fs.writeFileSync(path.join(target, 'browser-console.log'), consoleLines.join('\n') + '\n');
  return target;
}
