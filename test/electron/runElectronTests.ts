// `npm run test:electron`: the same Mocha suite as the code-server host run
// (test/host/suite), in desktop VS Code downloaded by @vscode/test-electron.
// Needs a machine that can download VS Code (update.code.visualstudio.com);
// our offline CI uses `npm run test:host` instead. VSCODE_VERSION picks the
// version (default: stable).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { findAgentNode } from '../host/hostTools';
import { runLensSettings } from '../host/settings';
import { CONFIG_ENV, type HostTestConfig } from '../host/suite/config';
import { buildWorkspace } from '../host/workspace';
import { repoRoot } from '../support/fixtures';

async function main(): Promise<number> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-electron-'));
  try {
    const agentNode = findAgentNode();
    const workspace = buildWorkspace(root, agentNode);
    const userDataDir = path.join(root, 'user-data');
    const { settings, databasePath } = runLensSettings(root, agentNode);
    fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    const config: HostTestConfig = {
      agentNodePath: agentNode,
      databasePath,
      logFile: path.join(root, 'mocha.log'),
      resultsFile: path.join(root, 'mocha-results.json'),
    };
    const configFile = path.join(root, 'host-test-config.json');
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

    const code = await runTests({
      version: process.env.VSCODE_VERSION || 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(__dirname, '..', 'host', 'suite', 'index'),
      extensionTestsEnv: { [CONFIG_ENV]: configFile },
      launchArgs: [
        workspace,
        '--user-data-dir',
        userDataDir,
        '--extensions-dir',
        path.join(root, 'extensions'),
        '--disable-extensions',
        '--disable-workspace-trust',
        '--disable-telemetry',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-gpu',
        '--no-sandbox',
      ],
    });
    if (fs.existsSync(config.resultsFile!)) {
      const results = JSON.parse(fs.readFileSync(config.resultsFile!, 'utf8')) as { passes: number; failures: number };
      if (results.passes === 0 && code === 0) {
        console.error('the suite ran no tests');
        return 1;
      }
    } else if (code === 0) {
      console.error('VS Code exited with 0 but the suite wrote no results');
      return 1;
    }
    return code;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error('electron host tests failed:', e);
    process.exit(1);
  },
);
