// MLflow 3 logged models read from real files in MLflow's file-store layout.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyCorpus } from '../../support/fixtures';
import { mlflowReader } from '../../../src/core/ingest/mlflow';
import { classifyLoggedModelPath, findLoggedModels, statusOf } from '../../../src/core/ingest/mlflowLoggedModels';
import { toPosixPath } from '../../../src/core/ingest/text';
import { allRuns, readSingleSource, writeTree } from './helpers';

const RUN = 'c0429e83c3a343a88bced6eb45ec9503';

test('logged models in active and deleted experiments; the registry and the runs are not models', async () => {
  const copy = toPosixPath(fs.realpathSync(copyCorpus('logs/mlflow/sb3-rl-nested-metric-keys')));
  const mlruns = `${copy}/mlruns`;
  const runsBefore = allRuns((await readSingleSource(mlflowReader, copy)).source).map((r) => r.key).sort();
  writeTree(mlruns, {
    [`1/models/m-a/meta.yaml`]: `model_id: m-a\nname: policy\nexperiment_id: '1'\nsource_run_id: ${RUN}\nstatus: LOGGED_MODEL_UPLOAD_FAILED\ncreation_timestamp: '1700000000000'\n`,
    [`1/models/m-a/tags/__proto__`]: 'kept as a key',
    [`1/models/m-a/metrics/loss`]: '1700000000001 0.5 3\n1700000000002 nan 4\n',
    [`1/models/m-a/artifacts/model.pkl`]: 'not read',
    // No meta.yaml: listed under its folder name, with a warning.
    [`1/models/m-b/params/seed`]: '1',
    // A deleted experiment's model.
    [`.trash/7/meta.yaml`]: "experiment_id: '7'\nname: old\nlifecycle_stage: deleted\n",
    [`.trash/7/models/m-c/meta.yaml`]: "model_id: m-c\nname: gone\nexperiment_id: '7'\nstatus: 2\n",
    // The model registry beside the experiments is not an experiment.
    [`models/registered/meta.yaml`]: 'name: registered\n',
  });

  const { models, warnings } = await findLoggedModels(copy);
  assert.deepEqual(
    models.map((m) => [m.id, m.name, m.experimentId, m.experimentName, m.status, m.deleted]),
    [
      ['m-c', 'gone', '7', 'old', 'ready', true],
      ['m-a', 'policy', '1', 'DQN', 'failed', false],
      ['m-b', 'm-b', '1', 'DQN', 'unknown', false],
    ],
  );
  const a = models[1];
  assert.equal(a.sourceRunId, RUN);
  assert.equal(a.createdMs, 1_700_000_000_000);
  assert.equal(a.storeRoot, mlruns);
  assert.equal(a.dir, `${mlruns}/1/models/m-a`);
  assert.deepEqual(Object.keys(a.tags), ['__proto__']);
  assert.equal(Object.getPrototypeOf(a.tags), Object.prototype);
  assert.deepEqual([...a.metrics.loss.steps], [3, 4]);
  assert.ok(Number.isNaN(a.metrics.loss.values[1]), 'nan is data');
  assert.deepEqual(models[2].params, { seed: '1' });
  assert.deepEqual(warnings, [{ file: `${mlruns}/1/models/m-b`, message: 'logged model folder has no meta.yaml; listed under its folder name' }]);

  const runsAfter = allRuns((await readSingleSource(mlflowReader, copy)).source).map((r) => r.key).sort();
  assert.deepEqual(runsAfter, runsBefore, 'the MLflow reader reads no model as a run');
});

test('a folder without a file store, or a single file, has no logged models', async () => {
  const copy = copyCorpus('logs/mlflow/pytorch-mnist-mlflow1');
  assert.deepEqual(await findLoggedModels(path.join(copy, 'mlruns', '1', 'meta.yaml')), { models: [], warnings: [] });
  assert.deepEqual((await findLoggedModels(copy)).models, []);
});

test('paths and statuses as MLflow writes them', () => {
  assert.deepEqual(classifyLoggedModelPath('1/models/m-x/meta.yaml'), { deleted: false, experimentDir: '1', modelDir: 'm-x', kind: 'meta' });
  assert.deepEqual(classifyLoggedModelPath('.trash/1/models/m-x/metrics/a/b'), { deleted: true, experimentDir: '1', modelDir: 'm-x', kind: 'metrics', key: 'a/b' });
  assert.equal(classifyLoggedModelPath('1/models/m-x/artifacts/MLmodel'), undefined);
  assert.equal(classifyLoggedModelPath('models/x/models/y/meta.yaml'), undefined, 'under the registry');
  assert.equal(classifyLoggedModelPath('1/abc/meta.yaml'), undefined, 'a run');
  assert.deepEqual(
    [0, 1, 2, 3, 9, '2', 'READY', 'pending', 'LOGGED_MODEL_PENDING', 'FAILED', 'LOGGED_MODEL_STATUS_UNSPECIFIED', undefined, null].map(statusOf),
    ['unknown', 'pending', 'ready', 'failed', 'unknown', 'ready', 'ready', 'pending', 'pending', 'failed', 'unknown', 'unknown', 'unknown'],
  );
});
