// Labels the tree shows for runs and experiments, over a real store filled by the real readers.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { experimentsToWire, runDisplayNames } from '../../../src/agent/runLabels';
import { ingestPaths } from '../../../src/core/ingest/engine';
import { ALL_READERS } from '../../../src/core/ingest/registry';
import { EventFileWriter } from '../../../src/core/ingest/tensorboard/writer';

import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { openStore } from '../../../src/core/database/open';

test('no two runs of one experiment, and no two experiments, show the same label; the folders tell them apart', async () => {
  const root = makeTempDir();
  // TF2 Keras' TensorBoard callback: logs/<time>/train and /validation, two fits under one log dir.
  for (const fit of ['20240101-120000', '20240102-090000']) {
    for (const split of ['train', 'validation']) {
      const dir = path.join(root, 'logs', fit, split);
      fs.mkdirSync(dir, { recursive: true });
      const w = new EventFileWriter();
      w.scalar(1_704_100_000, 0, 'epoch_loss', 0.5);
      fs.writeFileSync(path.join(dir, 'events.out.tfevents.1704100000.host.1.v2'), w.toBuffer());
    }
  }
  // Two Keras CSVLogger files of one name in two folders.
  for (const exp of ['resnet', 'vgg']) {
    fs.mkdirSync(path.join(root, 'keras', exp), { recursive: true });
    fs.writeFileSync(path.join(root, 'keras', exp, 'training.log'), 'epoch,loss\r\n0,0.5\r\n1,0.4\r\n');
  }
  // Two MLflow runs a user gave one name (the real corpus runs, renamed through their tag).
  const mlflow = copyCorpus('logs/mlflow/pytorch-mnist-mlflow1');
  for (const run of ['8e5d1fe41dcd4cc5ba32921b07f1b7f1', 'f8b0899d2d2c42c6a73b7ca8c256e3d6']) {
    fs.writeFileSync(path.join(mlflow, 'mlruns', '1', run, 'tags', 'mlflow.runName'), 'baseline');
  }
  const store = openStore(path.join(makeTempDir(), 'runlens.db')).runs;
  await ingestPaths(store, ALL_READERS, [root, mlflow]);
  const experiments = experimentsToWire(store.listExperiments());
  const labels = experiments.map((e) => e.displayName);
  assert.equal(new Set(labels).size, labels.length, labels.join(', '));
  assert.ok(labels.includes('training.log (resnet)') && labels.includes('training.log (vgg)'), labels.join(', '));
  for (const e of experiments) {
    const { runs } = store.listRuns({ sourceRoot: e.sourceRoot, experimentKey: e.key, includeHidden: true });
    const names = runDisplayNames(store, runs);
    const shown = runs.map((r) => names.get(r.id)!);
    assert.equal(new Set(shown).size, shown.length, `${e.displayName}: ${shown.join(', ')}`);
    // A page of one run still gets the label made over the whole experiment.
    for (const r of runs) assert.equal(runDisplayNames(store, [r]).get(r.id), names.get(r.id));
  }
  const renamed = store.listRuns({ text: 'baseline', includeHidden: true }).runs.filter((r) => r.name === 'baseline');
  assert.equal(renamed.length, 2);
  const names = runDisplayNames(store, renamed);
  assert.deepEqual(renamed.map((r) => names.get(r.id)).sort(), ['baseline (8e5d1fe4…)', 'baseline (f8b0899d…)']);
  store.close();
});
