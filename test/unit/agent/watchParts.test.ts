import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { scopesForChanges } from '../../../src/core/ingest/changeScope';
import { ChangeBatcher } from '../../../src/agent/watch/changeBatcher';
import { globToRegExp } from '../../../src/agent/watch/workspaceWatcher';

test('a changed path is re-read through its own source, a new one through its workspace folder', () => {
  const scopes = scopesForChanges(
    ['/ws/a/mlruns/1/r/metrics/loss', '/ws/a/mlruns/1/r/params/lr', '/ws/b/new/training.log', '/elsewhere/x'],
    ['/ws/a/mlruns', '/ws/a'],
    ['/ws'],
  );
  assert.deepEqual(scopes.sort(), ['/ws']);
  const narrow = scopesForChanges(['/ws/a/mlruns/1/r/metrics/loss', '/ws/tb/run1/events.out.tfevents.1'], ['/ws/a/mlruns', '/ws/tb'], ['/ws']);
  assert.deepEqual(narrow.sort(), ['/ws/a/mlruns', '/ws/tb']);
});

test('exclude globs match like VS Code patterns', () => {
  assert.ok(globToRegExp('**/checkpoints/**').test('/ws/run/checkpoints/epoch=1.ckpt'));
  assert.ok(globToRegExp('*.tmp').test('/ws/a/b.tmp'));
  assert.ok(!globToRegExp('*.tmp').test('/ws/a/b.tmpx'));
  assert.ok(!globToRegExp('**/checkpoints/**').test('/ws/run/metrics.csv'));
});

test('a burst of events becomes one batch; events during a batch form the next one', async () => {
  const batches: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batcher = new ChangeBatcher({
    debounceMs: 20,
    maxWaitMs: 1000,
    process: async (paths) => {
      batches.push(paths.sort());
      if (batches.length === 1) await gate;
    },
    onError: (e) => assert.fail(String(e)),
  });
  for (let i = 0; i < 10_000; i++) batcher.add(`/f${i % 3}`);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(batches, [['/f0', '/f1', '/f2']]);
  batcher.add('/g');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(batches.length, 1, 'the second batch waits for the first');
  release();
  await batcher.idle();
  assert.deepEqual(batches[1], ['/g']);
  batcher.dispose();
});

test('a file written continuously still flushes by maxWait', async () => {
  const batches: string[][] = [];
  const batcher = new ChangeBatcher({ debounceMs: 50, maxWaitMs: 120, process: async (p) => void batches.push(p), onError: () => {} });
  const started = Date.now();
  while (Date.now() - started < 300) {
    batcher.add('/busy');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(batches.length >= 2, `got ${batches.length} batches while the file never went quiet`);
  batcher.dispose();
});
