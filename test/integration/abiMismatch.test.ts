// The agent's native modules are built for the Node that ran `npm install`.
// Started with another Node (here: the Node 24 that the VS Code host tests
// install), the agent must say so in words a user can act on, not crash.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { agentScript } from '../support/agentProcess';
import { makeTempDir } from '../support/fixtures';

function otherNode(): string | undefined {
  const cache = process.env.RUNLENS_HOST_CACHE ?? path.join(os.homedir(), '.cache', 'runlens-host');
  if (!fs.existsSync(cache)) return undefined;
  for (const dir of fs.readdirSync(cache).filter((d) => d.startsWith('node-')).sort().reverse()) {
    const node = path.join(cache, dir, 'bin', 'node');
    if (fs.existsSync(node)) return node;
  }
  return undefined;
}

const node = otherNode();

test(
  'an agent started on a Node with another ABI explains the mismatch and the fix',
  { skip: node ? false : 'no second Node installed (scripts/setup-vscode-host.sh installs Node 24)' },
  () => {
    const version = spawnSync(node!, ['--version'], { encoding: 'utf8' }).stdout.trim();
    assert.notEqual(version.split('.')[0], process.version.split('.')[0], 'the second Node must differ in major version for this test');
    const r = spawnSync(node!, [agentScript, 'runs', '--db', path.join(makeTempDir(), 'abi.db')], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /better-sqlite3 was built for a different Node\.js/);
    assert.ok(r.stderr.includes(node!), 'names the Node that was used');
    assert.match(r.stderr, /runlens\.agent\.nodePath/);
    assert.match(r.stderr, /npm rebuild better-sqlite3/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  },
);
