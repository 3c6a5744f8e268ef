// Finds the programs the host tests drive: Node 24 and code-server (cached by
// scripts/setup-vscode-host.sh), Debian chromium, and the Node that runs the
// RunLens agent (the one whose ABI the native modules were built for). Runs the
// setup script when the cache is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/fixtures';

export interface HostTools {
  /** Node 24: code-server refuses to run on anything else. */
  node24: string;
  /** code-server's entry script (out/node/entry.js), run with node24. */
  codeServerEntry: string;
  codeServerVersion: string;
  chromium: string;
  /** Runs the agent: must load better-sqlite3 as built by `npm install`. */
  agentNode: string;
}

const SETUP_SCRIPT = path.join(repoRoot, 'scripts', 'setup-vscode-host.sh');

/** The versions the setup script pins: read from it, so there is one source of truth. */
function pinnedVersions(): { node: string; codeServer: string } {
  const script = fs.readFileSync(SETUP_SCRIPT, 'utf8');
  const node = /^NODE24_VERSION=(\S+)/m.exec(script)?.[1];
  const codeServer = /^CODE_SERVER_VERSION=(\S+)/m.exec(script)?.[1];
  if (!node || !codeServer) throw new Error(`could not read NODE24_VERSION / CODE_SERVER_VERSION from ${SETUP_SCRIPT}`);
  return { node, codeServer };
}

function cachedTools(): Omit<HostTools, 'chromium' | 'agentNode'> | undefined {
  const cache = process.env.RUNLENS_HOST_CACHE || path.join(os.homedir(), '.cache', 'runlens-host');
  const v = pinnedVersions();
  const node24 = path.join(cache, `node-${v.node}`, 'bin', 'node');
  const bin = path.join(cache, `code-server-${v.codeServer}`, 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(node24) || !fs.existsSync(bin)) return undefined;
  return { node24, codeServerEntry: fs.realpathSync(bin), codeServerVersion: v.codeServer };
}

function whichSync(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The Node for the agent: $RUNLENS_AGENT_NODE, else the Node running this script. Checked to load better-sqlite3. */
export function findAgentNode(): string {
  const candidate = process.env.RUNLENS_AGENT_NODE || process.execPath;
  const probe = spawnSync(candidate, ['-e', "new (require('better-sqlite3'))(':memory:').close(); process.stdout.write(process.version)"], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (probe.status !== 0) {
    throw new Error(
      `${candidate} cannot load better-sqlite3 from ${repoRoot}/node_modules (it was built for another Node ABI?). ` +
        `Run the host tests with the Node that ran \`npm install\`, or set RUNLENS_AGENT_NODE.\n${probe.stderr ?? probe.error}`,
    );
  }
  return candidate;
}

/** Everything the host tests need; runs scripts/setup-vscode-host.sh first if the cache is missing. */
export function ensureHostTools(log: (line: string) => void): HostTools {
  let cached = cachedTools();
  const chromiumPath = () => process.env.RUNLENS_CHROMIUM || (fs.existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : whichSync('chromium'));
  if (!cached || !chromiumPath()) {
    log(`VS Code host not set up (code-server or chromium missing): running ${path.relative(repoRoot, SETUP_SCRIPT)}`);
    execFileSync('bash', [SETUP_SCRIPT], { stdio: 'inherit', cwd: repoRoot });
    cached = cachedTools();
    if (!cached) throw new Error(`${SETUP_SCRIPT} ran, but Node 24 / code-server are still missing from the cache`);
  }
  const chromium = chromiumPath();
  if (!chromium) throw new Error('chromium not found (set RUNLENS_CHROMIUM, or install Debian chromium)');
  return { ...cached, chromium, agentNode: findAgentNode() };
}
