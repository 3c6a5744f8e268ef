// The committed demo/ is exactly what the generator writes: reproducible, and
// no file in it was edited by hand or copied from elsewhere.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { generateDemoWorkspace } from '../../../src/core/demo/generateDemo';
import { makeTempDir, repoRoot } from '../../support/fixtures';

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '.runlens') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

test('generating the demo twice gives the same bytes as the committed demo/', () => {
  const fresh = path.join(makeTempDir(), 'demo');
  const written = generateDemoWorkspace(fresh).sort();
  const committed = path.join(repoRoot, 'demo');
  assert.deepEqual(listFiles(fresh), written);
  assert.deepEqual(listFiles(committed), written, 'demo/ differs from the generator: run `npm run demo` and commit');
  for (const file of written) {
    assert.ok(fs.readFileSync(path.join(fresh, file)).equals(fs.readFileSync(path.join(committed, file))), `${file} differs`);
  }
});

test('the demo has logs in every format, with CRLF where Keras writes it', () => {
  const files = generateDemoWorkspace(path.join(makeTempDir(), 'demo'));
  assert.ok(files.some((f) => /mlruns\/1\/[0-9a-f]{32}\/metrics\/train\/loss$/.test(f)), 'MLflow nested metric key');
  assert.ok(files.some((f) => /events\.out\.tfevents\.\d+\.demo-host\.\d+\.0$/.test(f)), 'TensorBoard event file');
  assert.ok(files.some((f) => /lightning_logs\/version_0\/metrics\.csv$/.test(f)), 'Lightning CSV');
  assert.ok(files.includes('keras/training.log'));
  assert.ok(files.some((f) => f.endsWith('dvclive/metrics.json')));
});
