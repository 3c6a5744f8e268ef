// `npm run package` builds a lean, working .vsix: the bundles and the agent's
// native modules, and none of the sources, tests or dev dependencies.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { corpusDir, makeTempDir, repoRoot } from '../support/fixtures';

test('the .vsix holds what runs and nothing of the sources', { timeout: 180_000 }, () => {
  const out = path.join(makeTempDir(), 'runlens.vsix');
  const log = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'package.mjs'), '--out', out], { cwd: repoRoot, encoding: 'utf8' });
  assert.match(log, /packaged .*runlens\.vsix: [\d.]+ MiB/);
  const listing = execFileSync('python3', ['-m', 'zipfile', '-l', out], { encoding: 'utf8' });
  const files = listing
    .split('\n')
    .slice(1)
    // "name YYYY-MM-DD HH:MM:SS size": the name may contain spaces, the tail never does.
    .map((l) => l.trim().replace(/\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+$/, ''))
    .filter(Boolean);
  for (const required of [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/agent.js',
    'extension/dist/smokeWorker.js',
    'extension/dist/framingWorker.js',
    'extension/dist/parseWorkerThread.js',
    'extension/dist/webview.js',
    'extension/dist/modelCard.js',
    // The serving image's server and the gray-release router: deploy copies them into the build context.
    'extension/dist/serve.js',
    'extension/dist/router.js',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    'extension/media/runlens.svg',
    'extension/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    'extension/node_modules/better-sqlite3/lib/index.js',
    'extension/node_modules/bindings/bindings.js',
  ]) {
    assert.ok(files.includes(required), `${required} is in the vsix`);
  }
  for (const forbidden of [/^extension\/src\//, /^extension\/test\//, /^extension\/out\//, /node_modules\/typescript\//, /node_modules\/esbuild/, /\.map$/, /^extension\/demo\//]) {
    const hit = files.find((f) => forbidden.test(f));
    assert.equal(hit, undefined, `${hit} should not be packaged`);
  }
  const size = fs.statSync(out).size;
  assert.ok(size < 40 * 1024 * 1024, `vsix is ${size} bytes`);

  // What is packed must run: the agent from the unpacked vsix, loading onnxruntime-node (and through it
  // onnxruntime-common, whose CommonJS build needs its nested package.json) in the smoke worker.
  const unpacked = makeTempDir('runlens-vsix-');
  execFileSync('python3', ['-m', 'zipfile', '-e', out, unpacked]);
  const model = path.join(unpacked, 'model.onnx');
  fs.copyFileSync(path.join(corpusDir(), 'models', 'silero_vad_v5.onnx'), model);
  const smoke = JSON.parse(
    execFileSync(process.execPath, [path.join(unpacked, 'extension', 'dist', 'agent.js'), 'smoke', model, '--runs', '2', '--warmup', '0', '--json', '--db', path.join(unpacked, 'runlens.db')], { encoding: 'utf8', timeout: 120_000 }),
  ) as { pass: boolean; ep: { used: string } };
  assert.equal(smoke.pass, true, 'the packaged agent runs a smoke test');
  assert.equal(smoke.ep.used, 'cpu');
});
