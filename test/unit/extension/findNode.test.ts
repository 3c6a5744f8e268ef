import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { findNode, MINIMUM_NODE_MAJOR, NodeRuntimeError } from '../../../src/extension/agent/findNode';
import { makeTempDir } from '../../support/fixtures';

function fakeNode(dir: string, version: string): string {
  const file = path.join(dir, 'node');
  fs.writeFileSync(file, `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  return file;
}

test('the configured path wins over PATH', async () => {
  const runtime = await findNode(process.execPath, { PATH: '' });
  assert.equal(runtime.path, process.execPath);
  assert.equal(runtime.version, process.version);
  assert.ok(runtime.major >= MINIMUM_NODE_MAJOR);
});

test('without a setting, node is found on PATH', async () => {
  const dir = makeTempDir();
  const fake = fakeNode(dir, 'v22.3.0');
  const runtime = await findNode('', { PATH: `/nonexistent${path.delimiter}${dir}` });
  assert.equal(runtime.path, fake);
  assert.equal(runtime.major, 22);
});

test('a missing configured path names the setting and the path', async () => {
  await assert.rejects(findNode('/no/such/node', { PATH: '' }), (e: unknown) => e instanceof NodeRuntimeError && e.message.includes('runlens.agent.nodePath') && e.message.includes('/no/such/node'));
});

test('no node on PATH gives an actionable message', async () => {
  await assert.rejects(findNode(undefined, { PATH: makeTempDir() }), (e: unknown) => e instanceof NodeRuntimeError && /no `node` on PATH/.test(e.message) && e.message.includes('runlens.agent.nodePath'));
});

test('a too-old node is refused with its version and path', async () => {
  const fake = fakeNode(makeTempDir(), 'v16.20.2');
  await assert.rejects(findNode(fake), (e: unknown) => e instanceof NodeRuntimeError && e.message.includes('v16.20.2') && e.message.includes(fake) && e.message.includes(String(MINIMUM_NODE_MAJOR)));
});
