// `npm run test:host`: the extension in a real VS Code (code-server 4.x, the
// VS Code server with its Node extension host and web workbench), driven by
// headless chromium.
//   1. suite     the Mocha suite in the extension host (test/host/suite)
//   2. ui        the installed extension used through the workbench; screenshot
//   3. bad-node  a wrong runlens.agent.nodePath gives a visible error
// Every phase runs even if an earlier one failed; a failed phase prints
// code-server's log, the RunLens Agent log and the browser console, and copies
// the logs to test-results/host-logs/. Exits non-zero on any failure. All
// servers are stopped and all temp folders removed, also on failure.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBadNodeCheck } from './badNodeCheck';
import { launchBrowser, type Browser, type Workbench } from './browser';
import { startCodeServer, type CodeServer } from './codeServer';
import { printDiagnostics, saveLogs } from './diagnostics';
import { ensureHostTools, type HostTools } from './hostTools';
import { elapsed, type PhaseContext } from './phase';
import { runSuite } from './runSuite';
import { runUiCheck } from './uiCheck';
import { buildWorkspace } from './workspace';
import { repoRoot } from '../support/fixtures';

const t0 = Date.now();
const log = (line: string) => console.log(`[host ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);

interface Phase {
  name: string;
  run: (ctx: PhaseContext) => Promise<void>;
}

const PHASES: Phase[] = [
  { name: 'suite', run: runSuite },
  { name: 'ui', run: runUiCheck },
  { name: 'bad-node', run: runBadNodeCheck },
];

const RESULTS_DIR = path.join(repoRoot, 'test-results');
const LOGS_DIR = path.join(RESULTS_DIR, 'host-logs');

async function runPhase(phase: Phase, base: { tools: HostTools; root: string; workspace: string; browser: Browser }): Promise<string | undefined> {
  const servers: CodeServer[] = [];
  const pages: Workbench[] = [];
  const started = Date.now();
  const ctx: PhaseContext = {
    tools: base.tools,
    dir: path.join(base.root, phase.name),
    workspace: base.workspace,
    browser: base.browser,
    log: (line) => log(`[${phase.name}] ${line}`),
    startServer: async (options) => {
      const server = await startCodeServer({ ...options, tools: base.tools, dir: path.join(base.root, phase.name, `server-${options.name}`) });
      servers.push(server);
      ctx.log(`code-server "${server.name}" up in ${server.startMs} ms at ${server.origin}`);
      return server;
    },
    watch: (workbench) => pages.push(workbench),
  };
  fs.mkdirSync(ctx.dir, { recursive: true });
  ctx.log('start');
  let failure: string | undefined;
  try {
    await phase.run(ctx);
    ctx.log(`PASSED in ${elapsed(started)}`);
  } catch (e) {
    failure = `${phase.name}: ${(e as Error).message}`;
    ctx.log(`FAILED in ${elapsed(started)}: ${(e as Error).stack ?? e}`);
    const consoleLines = pages.flatMap((p) => p.consoleLines);
    for (const server of servers) {
      printDiagnostics(server, consoleLines);
      try {
        ctx.log(`logs copied to ${path.relative(repoRoot, saveLogs(server, LOGS_DIR, consoleLines))}`);
      } catch (copyError) {
        ctx.log(`could not copy logs: ${(copyError as Error).message}`);
      }
    }
  } finally {
    for (const p of pages) await p.page.close().catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop()));
  }
  return failure;
}

async function main(): Promise<number> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-host-'));
  const removeRoot = () => fs.rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      process.exit(130); // 'exit' handlers kill the servers' process groups and remove the temp folder
    });
  }
  let browser: Browser | undefined;
  const failures: string[] = [];
  const counts: { suite?: { passes: number; failures: number }; phases: { name: string; passed: boolean }[] } = { phases: [] };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  try {
    const tools = ensureHostTools(log);
    log(`code-server ${tools.codeServerVersion} on ${tools.node24}; agent on ${tools.agentNode}; chromium ${tools.chromium}`);
    for (const built of ['dist/extension.js', 'dist/agent.js', 'out/test/host/suite/index.js']) {
      if (!fs.existsSync(path.join(repoRoot, built))) throw new Error(`${built} is missing: run \`node scripts/build.mjs --tests\` (npm run test:host does)`);
    }
    let started = Date.now();
    const workspace = buildWorkspace(root, tools.agentNode);
    log(`demo workspace + corpus case at ${workspace} (${elapsed(started)})`);
    started = Date.now();
    browser = await launchBrowser(tools.chromium, path.join(root, 'chromium-profile'));
    log(`chromium up (${elapsed(started)})`);
    fs.rmSync(LOGS_DIR, { recursive: true, force: true });
    for (const phase of PHASES) {
      const failure = await runPhase(phase, { tools, root, workspace, browser });
      if (failure) failures.push(failure);
      counts.phases.push({ name: phase.name, passed: !failure });
    }
    // The suite phase counts its Mocha tests; the other phases count as one test each.
    const mochaResults = path.join(root, 'suite', 'mocha-results.json');
    if (fs.existsSync(mochaResults)) {
      const r = JSON.parse(fs.readFileSync(mochaResults, 'utf8')) as { passes: number; failures: number };
      counts.suite = { passes: r.passes, failures: r.failures };
    }
    const activation = path.join(root, 'suite', 'activation.json');
    if (fs.existsSync(activation)) fs.copyFileSync(activation, path.join(RESULTS_DIR, 'host-activation.json'));
  } catch (e) {
    failures.push(`setup: ${(e as Error).stack ?? e}`);
  } finally {
    await browser?.close();
    removeRoot();
  }
  const others = counts.phases.filter((p) => p.name !== 'suite');
  const passed = (counts.suite?.passes ?? 0) + others.filter((p) => p.passed).length;
  const failed = (counts.suite?.failures ?? (counts.phases.find((p) => p.name === 'suite')?.passed === false ? 1 : 0)) + others.filter((p) => !p.passed).length + (counts.phases.length === 0 ? 1 : 0);
  fs.writeFileSync(path.join(RESULTS_DIR, 'host-tests.json'), JSON.stringify({ passed, failed, phases: counts.phases }, null, 2));
  console.log(`host: ${passed} passed, ${failed} failed`);
  if (failures.length) {
    console.error(`\nhost tests FAILED after ${elapsed(t0)}:\n${failures.map((f) => `  - ${f.split('\n')[0]}`).join('\n')}`);
    return 1;
  }
  log(`all host tests passed in ${elapsed(t0)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
