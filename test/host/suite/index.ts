// Entry of the extension tests: VS Code's extension host loads this module
// (extensionTestsPath) and awaits run(); a rejection makes the test run fail.
// Same contract under code-server (runHostTests) and @vscode/test-electron.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { hostTestConfig } from './config';

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_TEST_FAIL, EVENT_TEST_PASS, EVENT_TEST_PENDING } = Mocha.Runner.constants;

/** Plain lines to the console (forwarded to the workbench) and to the results log file the runner prints. */
class HostReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const { logFile, resultsFile } = hostTestConfig();
    const write = (line: string) => {
      console.log(line);
      if (logFile) fs.appendFileSync(logFile, line + '\n');
    };
    const failures: { title: string; error: string }[] = [];
    let depth = 0;
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.title) write(`${'  '.repeat(depth)}${suite.title}`);
      depth++;
    });
    runner.on('suite end', () => depth--);
    runner.on(EVENT_TEST_PASS, (test: Mocha.Test) => write(`${'  '.repeat(depth)}ok   ${test.title} (${test.duration ?? 0} ms)`));
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => write(`${'  '.repeat(depth)}skip ${test.title}`));
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Test, err: Error) => {
      const error = String(err?.stack ?? err);
      failures.push({ title: test.fullTitle(), error });
      write(`${'  '.repeat(depth)}FAIL ${test.title}\n${error.replace(/^/gm, `${'  '.repeat(depth + 2)}`)}`);
    });
    runner.once(EVENT_RUN_END, () => {
      const stats = this.stats;
      write(`${stats.passes} passing, ${stats.failures} failing, ${stats.pending} pending (${stats.duration ?? 0} ms)`);
      if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify({ passes: stats.passes, failures: stats.failures, pending: stats.pending, durationMs: stats.duration, failed: failures }, null, 2));
    });
  }
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false });
  mocha.reporter(HostReporter);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  if (files.length === 0) return Promise.reject(new Error(`no *.test.js files next to ${__filename}`));
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} host test(s) failed`)) : resolve()));
    } catch (e) {
      reject(e as Error);
    }
  });
}
