// Phase "suite": runs the Mocha suite (test/host/suite) inside the real
// extension host of code-server, through the same contract as
// @vscode/test-electron: the workbench is opened with extensionDevelopmentPath
// and extensionTestsPath, the extension host loads the suite's run(), and the
// exit code comes back through window.codeAutomationExit (which only the
// smoke-test driver calls).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openWorkbench } from './browser';
import { elapsed, type PhaseContext } from './phase';
import { runLensSettings } from './settings';
import type { HostTestConfig } from './suite/config';
import { CONFIG_ENV } from './suite/config';
import { repoRoot } from '../support/fixtures';
import { dockerUnavailableReason, startTestEngine, type TestEngine } from '../support/dockerEngine';
import { startRegistry, type TestRegistry } from '../support/ociRegistry';
import { freePort } from './freePort';

interface SuiteResults {
  passes: number;
  failures: number;
  pending: number;
  failed: { title: string; error: string }[];
}

/** A real registry and Docker engine for the push/deploy test; stopped when the suite ends. */
async function startReleaseTargets(ctx: PhaseContext): Promise<{ config: HostTestConfig['release']; settings: Record<string, unknown>; stop: () => Promise<void> }> {
  const unavailable = dockerUnavailableReason();
  if (unavailable) return { config: { unavailable }, settings: {}, stop: async () => undefined };
  let engine: TestEngine | undefined;
  let registry: TestRegistry | undefined;
  const stop = async () => void (await Promise.all([engine?.stop(), registry?.stop()]));
  try {
    [engine, registry] = await Promise.all([startTestEngine(), startRegistry({ kind: 'anonymous' })]);
  } catch (e) {
    await stop();
    throw e;
  }
  ctx.log(`push/deploy targets: registry ${registry.host}, engine ${engine.address}`);
  return {
    config: { registryHost: registry.host, dockerHost: engine.address, port: await freePort() },
    // The private engine has no bridge: the serving container shares the host network and listens on 127.0.0.1.
    settings: { 'runlens.deploy.dockerHost': engine.address, 'runlens.deploy.network': 'host', 'runlens.deploy.baseImage': 'local', 'runlens.deploy.memory': '512m' },
    stop,
  };
}

export async function runSuite(ctx: PhaseContext, timeoutMs = 180_000): Promise<void> {
  const release = await startReleaseTargets(ctx);
  try {
    await runSuiteWith(ctx, timeoutMs, release.config, release.settings);
  } finally {
    await release.stop();
  }
}

async function runSuiteWith(ctx: PhaseContext, timeoutMs: number, release: HostTestConfig['release'], releaseSettings: Record<string, unknown>): Promise<void> {
  const { settings: baseSettings, databasePath } = runLensSettings(ctx.dir, ctx.tools.agentNode);
  const settings = { ...baseSettings, ...releaseSettings };
  const config: HostTestConfig = {
    agentNodePath: ctx.tools.agentNode,
    databasePath,
    logFile: path.join(ctx.dir, 'mocha.log'),
    resultsFile: path.join(ctx.dir, 'mocha-results.json'),
    release,
  };
  const configFile = path.join(ctx.dir, 'host-test-config.json');
  fs.mkdirSync(ctx.dir, { recursive: true });
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

  const server = await ctx.startServer({ name: 'suite', workspace: ctx.workspace, settings, smokeTestDriver: true, env: { [CONFIG_ENV]: configFile } });
  const suiteIndex = path.join(__dirname, 'suite', 'index.js');
  const started = Date.now();
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const workbench = await openWorkbench(ctx.browser, server, {
    payload: [
      ['extensionDevelopmentPath', server.remoteUri(repoRoot)],
      ['extensionTestsPath', server.remoteUri(suiteIndex)],
    ],
    beforeNavigate: (page) => page.exposeFunction('codeAutomationExit', (code: number) => exit(Number(code))),
  });
  ctx.watch(workbench);
  ctx.log(`workbench open after ${elapsed(started)}; running the Mocha suite in the extension host`);

  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the suite did not finish within ${timeoutMs / 1000} s`)), timeoutMs))),
  ]).finally(() => clearTimeout(timer));
  const suiteTime = elapsed(started);

  if (fs.existsSync(config.logFile!)) ctx.log(`Mocha output:\n${fs.readFileSync(config.logFile!, 'utf8').trimEnd().replace(/^/gm, '    ')}`);
  if (!fs.existsSync(config.resultsFile!)) throw new Error(`the extension host exited with code ${code} without suite results (did ${suiteIndex} load?)`);
  const results = JSON.parse(fs.readFileSync(config.resultsFile!, 'utf8')) as SuiteResults;
  ctx.log(`suite finished in ${suiteTime}: ${results.passes} passing, ${results.failures} failing (extension host exit code ${code})`);
  if (results.failures > 0) throw new Error(`${results.failures} suite test(s) failed: ${results.failed.map((f) => f.title).join('; ')}`);
  if (results.passes === 0) throw new Error('the suite ran no tests');
  if (code !== 0) throw new Error(`the extension host reported exit code ${code}`);
}
