// The architecture's boundaries are enforced by the lint config; these tests
// prove the rules bite, and that the built extension bundle carries no native module.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../../support/fixtures';

async function lintAs(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const importVscode = `import * as vscode from 'vscode';\nexport const x = vscode.version;\n`;
const importSqlite = `import Database from 'better-sqlite3';\nexport const x = Database;\n`;

test('vscode may not be imported by core, agent, shared or webview code', async () => {
  for (const file of ['src/core/ingest/sneaky.ts', 'src/agent/sneaky.ts', 'src/shared/sneaky.ts', 'webview/sneaky.ts']) {
    const messages = await lintAs(file, importVscode);
    assert.ok(messages.some((m) => m.startsWith('no-restricted-imports') && m.includes('Only src/extension/')), `${file}: ${messages.join('; ')}`);
  }
});

test('vscode may be imported under src/extension', async () => {
  assert.deepEqual(await lintAs('src/extension/fine.ts', importVscode), []);
});

test('native modules may not be imported by the extension host or the webview', async () => {
  for (const file of ['src/extension/sneaky.ts', 'webview/sneaky.ts']) {
    const messages = await lintAs(file, importSqlite);
    assert.ok(messages.some((m) => m.includes('native module')), `${file}: ${messages.join('; ')}`);
  }
  assert.deepEqual(await lintAs('src/core/store/fine.ts', importSqlite), []);
});

test('the built extension bundle loads no native module', () => {
  const bundle = fs.readFileSync(path.join(repoRoot, 'dist', 'extension.js'), 'utf8');
  for (const name of ['better-sqlite3', 'onnxruntime-node', 'chokidar']) {
    assert.ok(!bundle.includes(`require("${name}")`), `dist/extension.js requires ${name}`);
  }
  assert.ok(bundle.includes('require("vscode")'), 'the bundle is the extension (sanity check of this test)');
});
