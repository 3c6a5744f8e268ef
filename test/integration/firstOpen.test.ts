// First open on a fresh database: the editor shows what the agent has stored
// while a long index is still running, not only once it ends.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { agentNotifications } from '../../src/shared/protocol';
import { startAgent } from '../support/agentProcess';
import { copyCorpus, makeTempDir } from '../support/fixtures';

test('runs/changed arrives for each source as it is written, and experiments/list answers with it before the index ends', async () => {
  const workspace = makeTempDir();
  // Real logs: a small MLflow store, and a Lightning metrics.csv made big from the corpus rows (several slices).
  fs.cpSync(copyCorpus('logs/mlflow/pytorch-mnist-mlflow1'), path.join(workspace, 'mnist'), { recursive: true });
  const lightning = copyCorpus('logs/lightning-csv/sparse-train-val-rows');
  const csv = path.join(lightning, 'lightning_logs', 'version_0', 'metrics.csv');
  const [header, ...rows] = fs.readFileSync(csv, 'utf8').split('\r\n').filter((l) => l !== '');
  const out = fs.openSync(csv, 'w');
  fs.writeSync(out, `${header}\r\n`);
  for (let copy = 0; copy < 4000; copy++) {
    fs.writeSync(out, rows.map((row) => {
      const [epoch, step, ...cells] = row.split(',');
      return [Number(epoch) + copy * 10, Number(step) + copy * 100_000, ...cells].join(',');
    }).join('\r\n') + '\r\n');
  }
  fs.closeSync(out);
  fs.cpSync(lightning, path.join(workspace, 'big'), { recursive: true });
  assert.ok(fs.statSync(path.join(workspace, 'big', 'lightning_logs', 'version_0', 'metrics.csv')).size > 20 * 1024 * 1024);

  const agent = startAgent(path.join(makeTempDir(), 'runlens.db'));
  try {
    let ended = false;
    const seenDuring: { roots: string[]; experiments: number }[] = [];
    const asked: Promise<void>[] = [];
    agent.connection.onNotification(agentNotifications['runs/changed'], (params) => {
      if (ended) return;
      asked.push(
        agent.request('experiments/list', {}).then(({ experiments }) => {
          if (!ended) seenDuring.push({ roots: params.sourceRoots, experiments: experiments.length });
        }),
      );
    });
    const report = await agent.request('workspace/ingest', { paths: [workspace] });
    ended = true;
    await Promise.all(asked);
    assert.equal(report.sourcesRead, 2);
    assert.ok(seenDuring.length >= 1, 'a runs/changed notification came, and was answered, while the index ran');
    assert.ok(seenDuring[0].experiments >= 1, `the store's first experiments were listed during the index: ${JSON.stringify(seenDuring)}`);
  } finally {
    await agent.stop();
  }
});
