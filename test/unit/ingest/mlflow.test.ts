import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { copyCorpus, readExpected } from '../../support/fixtures';
import { mlflowReader } from '../../../src/core/ingest/mlflow';
import { toPosixPath } from '../../../src/core/ingest/text';
import { allRuns, assertSameNumbers, discoverUnder, readSingleSource, runByKey, seriesOf, sortedKeys, tempRoot, writeTree } from './helpers';

interface ExpectedPoint { ts: number; value: number; step: number }
interface ExpectedMetric {
  n: number;
  last_line: ExpectedPoint;
  'mlflow_latest(max step,ts,value)': ExpectedPoint;
  step_min: number;
  step_max: number;
  distinct_steps: number;
  nonfinite_values: number;
}
interface ExpectedRun {
  run_id: string;
  meta_run_name: string | null;
  status: string;
  start_time: number | null;
  end_time: number | null;
  tag_runName: string | null;
  tag_keys: string[];
  params: Record<string, string>;
  metrics: Record<string, ExpectedMetric>;
}
interface ExpectedExperiment { experiment_id: string; name: string; lifecycle_stage: string; runs: ExpectedRun[]; n_runs: number }
interface ExpectedMlflow { experiments: ExpectedExperiment[] }

const CORPUS_CASES = ['logs/mlflow/pytorch-mnist-mlflow1', 'logs/mlflow/sb3-rl-nested-metric-keys'];

describe('mlflow reader on the corpus', () => {
  for (const caseDir of CORPUS_CASES) {
    test(`${caseDir} matches expected.json`, async () => {
      const copy = toPosixPath(fs.realpathSync(copyCorpus(caseDir)));
      const expected = readExpected<ExpectedMlflow>(caseDir);
      const { candidate, source } = await readSingleSource(mlflowReader, copy);

      assert.equal(candidate.root, `${copy}/mlruns`);
      assert.ok(candidate.files.every((file) => !file.includes('/artifacts/')), 'artifacts are not part of the source fingerprint');
      assert.deepEqual(source.warnings, []);
      assert.deepEqual(
        source.experiments.map((e) => e.key),
        expected.experiments.map((e) => e.experiment_id),
      );

      for (const expectedExperiment of expected.experiments) {
        const experiment = source.experiments.find((e) => e.key === expectedExperiment.experiment_id)!;
        assert.equal(experiment.name, expectedExperiment.name);
        assert.equal(experiment.lifecycle, expectedExperiment.lifecycle_stage);
        assert.equal(experiment.runs.length, expectedExperiment.n_runs);
        assert.deepEqual(experiment.runs.map((r) => r.key).sort(), expectedExperiment.runs.map((r) => r.run_id).sort());

        for (const expectedRun of expectedExperiment.runs) {
          const run = runByKey(source, expectedRun.run_id);
          const label = `run ${expectedRun.run_id}`;
          assert.equal(run.name, expectedRun.meta_run_name || expectedRun.tag_runName || expectedRun.run_id, `${label} name`);
          assert.equal(run.status, expectedRun.status.toLowerCase(), `${label} status`);
          assert.equal(run.startTime, expectedRun.start_time ?? undefined, `${label} start`);
          assert.equal(run.endTime, expectedRun.end_time ?? undefined, `${label} end`);
          assert.deepEqual(run.params, expectedRun.params, `${label} params`);
          assert.deepEqual(sortedKeys(run.tags), [...expectedRun.tag_keys].sort(), `${label} tag keys`);
          if (expectedRun.tag_runName !== null) assert.equal(run.tags['mlflow.runName'], expectedRun.tag_runName);
          assert.equal(run.path, `${copy}/mlruns/${expectedExperiment.experiment_id}/${expectedRun.run_id}`);
          assert.deepEqual(sortedKeys(run.metrics), sortedKeys(expectedRun.metrics), `${label} metric keys`);

          for (const [key, expectedMetric] of Object.entries(expectedRun.metrics)) {
            const series = seriesOf(run, key);
            const where = `${label} ${key}`;
            const last = series.steps.length - 1;
            assert.equal(series.steps.length, expectedMetric.n, `${where} points`);
            assert.ok(Object.is(series.values[last], expectedMetric.last_line.value), `${where} last value`);
            assert.equal(series.steps[last], expectedMetric.last_line.step, `${where} last step`);
            assert.equal(series.walls[last], expectedMetric.last_line.ts, `${where} last wall time`);
            assert.equal(Math.min(...series.steps), expectedMetric.step_min, `${where} min step`);
            assert.equal(Math.max(...series.steps), expectedMetric.step_max, `${where} max step`);
            assert.equal(new Set(series.steps).size, expectedMetric.distinct_steps, `${where} distinct steps`);
            assert.equal(series.values.filter((v) => !Number.isFinite(v)).length, expectedMetric.nonfinite_values, `${where} non-finite`);
            // MLflow's "latest" = the point with the largest (step, timestamp, value).
            let latest = 0;
            for (let i = 1; i < series.steps.length; i++) {
              const better =
                series.steps[i] - series.steps[latest] || series.walls[i] - series.walls[latest] || series.values[i] - series.values[latest];
              if (better > 0) latest = i;
            }
            const expectedLatest = expectedMetric['mlflow_latest(max step,ts,value)'];
            assert.deepEqual(
              { ts: series.walls[latest], value: series.values[latest], step: series.steps[latest] },
              { ts: expectedLatest.ts, value: expectedLatest.value, step: expectedLatest.step },
              `${where} latest`,
            );
          }
        }
      }
    });
  }

  test('duplicate steps keep both points in file order (f8b0899d test_loss)', async () => {
    const copy = toPosixPath(fs.realpathSync(copyCorpus('logs/mlflow/pytorch-mnist-mlflow1')));
    const { source } = await readSingleSource(mlflowReader, copy);
    const series = seriesOf(runByKey(source, 'f8b0899d2d2c42c6a73b7ca8c256e3d6'), 'test_loss');
    assertSameNumbers(series.steps, [0, 0], 'steps');
    assertSameNumbers(series.values, [0.17881843447685242, 0.18583302199840546], 'values');
    assert.ok(series.walls[0] < series.walls[1], 'file order, older first');
  });
});

const RUN_A = 'a'.repeat(32);
const RUN_B = 'b'.repeat(32);
const RUN_C = 'c'.repeat(32);
const RUN_D = 'd'.repeat(32);
const RUN_E = 'e'.repeat(32);

function runMeta(runId: string, experimentId: string, extra: string): string {
  return [
    `artifact_uri: file:///somewhere/${experimentId}/${runId}/artifacts`,
    `end_time: 1700000009000`,
    `experiment_id: '${experimentId}'`,
    `lifecycle_stage: active`,
    `run_id: ${runId}`,
    `run_uuid: ${runId}`,
    `start_time: 1700000000000`,
    `user_id: tester`,
    extra,
  ].join('\n');
}

/** A hand-built store with the MLflow 3 layout and the damage real stores collect. */
function buildHostileStore(root: string): void {
  const lossLines = [
    '1700000000000 0.5 0',
    '1700000000001 nan 1',
    '1700000000002 inf 2',
    '1700000000003 -inf 3',
    '1700000000004 NaN 4',
    `1700000000005 Infinity 5 ${RUN_A}`, // MLflow 3: trailing run id column
    'garbage line here',
    '1700000000006 0.25 6',
  ];
  writeTree(root, {
    'mlruns/0/meta.yaml': "experiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
    'mlruns/1/meta.yaml': "experiment_id: '1'\nlifecycle_stage: active\nname: three\n",
    'mlruns/1/tags/mlflow.note.content': 'experiment-level tag, not a run',
    // MLflow 3 logged model with its own meta, params and metrics: not a run.
    'mlruns/1/models/m-0123456789abcdef/meta.yaml': `model_id: m-0123456789abcdef\nexperiment_id: '1'\nsource_run_id: ${RUN_A}\nstatus: READY\n`,
    'mlruns/1/models/m-0123456789abcdef/metrics/acc': `1700000000000 0.9 0 ${RUN_A}\n`,
    'mlruns/1/models/m-0123456789abcdef/params/alpha': '0.5',
    'mlruns/1/datasets/0f0f/meta.yaml': 'name: ds\ndigest: 0f0f\n',
    'mlruns/1/traces/tr-1/trace_info.yaml': 'request_id: tr-1\n',
    // BOM-prefixed meta with an MLflow 2/3 run_name; CRLF and an in-progress last line in a metric.
    [`mlruns/1/${RUN_A}/meta.yaml`]: `\uFEFF${runMeta(RUN_A, '1', 'run_name: fancy-run\nstatus: 3\n')}`,
    [`mlruns/1/${RUN_A}/metrics/loss`]: `${lossLines.slice(0, 5).join('\n')}\n${lossLines.slice(5).join('\r\n')}\r\n1700000000007 0.1`,
    [`mlruns/1/${RUN_A}/metrics/eval/top 1`]: '1700000000000 0.75 10\n',
    [`mlruns/1/${RUN_A}/params/lr`]: '0.001',
    [`mlruns/1/${RUN_A}/params/optim/name`]: 'adam',
    [`mlruns/1/${RUN_A}/tags/mlflow.runName`]: 'fancy-run',
    [`mlruns/1/${RUN_A}/artifacts/model/MLmodel`]: 'flavors: {}\n',
    // Run folder whose meta.yaml is gone: data kept, reported.
    [`mlruns/1/${RUN_B}/metrics/acc`]: '1700000000000 0.5 0\n',
    // Deleted on its own: hidden like MLflow's UI.
    [`mlruns/1/${RUN_C}/meta.yaml`]: runMeta(RUN_C, '1', 'status: 3\n').replace('lifecycle_stage: active', 'lifecycle_stage: deleted'),
    // Status as a string, name only in the tag, and a Python-tagged value a safe loader refuses.
    [`mlruns/1/${RUN_D}/meta.yaml`]: runMeta(RUN_D, '1', "name: ''\nstatus: KILLED\nsource_type: !!python/object/apply:mlflow.entities.SourceType [4]\n"),
    [`mlruns/1/${RUN_D}/tags/mlflow.runName`]: 'from-tag',
    // A folder with only artifacts is not a run and not worth a warning.
    'mlruns/1/notes/readme.txt': 'hello',
    // Deleted experiment in .trash with one run.
    'mlruns/.trash/2/meta.yaml': "experiment_id: '2'\nlifecycle_stage: deleted\nname: old\n",
    [`mlruns/.trash/2/${RUN_E}/meta.yaml`]: runMeta(RUN_E, '2', 'status: 4\n').replace('lifecycle_stage: active', 'lifecycle_stage: deleted'),
    // Model registry beside the experiments.
    'mlruns/models/my-model/meta.yaml': 'name: my-model\n',
  });
}

describe('mlflow reader on hostile input', () => {
  test('MLflow 3 layout, .trash, non-finite values, 4-column lines, bad and half-written lines', async () => {
    const root = tempRoot();
    buildHostileStore(root);
    const { candidate, source } = await readSingleSource(mlflowReader, root);

    assert.equal(candidate.root, `${root}/mlruns`);
    for (const skipped of ['/models/', '/datasets/', '/traces/', '/artifacts/', '/1/tags/', '/notes/']) {
      assert.ok(candidate.files.every((f) => !f.includes(skipped)), `${skipped} is not read`);
    }

    assert.deepEqual(
      source.experiments.map((e) => [e.key, e.name, e.lifecycle, e.runs.map((r) => r.key)]),
      [
        ['0', 'Default', 'active', []],
        ['1', 'three', 'active', [RUN_A, RUN_B, RUN_D]],
        ['2', 'old', 'deleted', [RUN_E]],
      ],
    );

    const runA = runByKey(source, RUN_A);
    assert.equal(runA.name, 'fancy-run');
    assert.equal(runA.status, 'finished');
    assert.equal(runA.startTime, 1700000000000);
    assert.equal(runA.endTime, 1700000009000);
    assert.deepEqual(runA.params, { lr: '0.001', 'optim/name': 'adam' });
    assert.deepEqual(sortedKeys(runA.metrics), ['eval/top 1', 'loss']);
    const loss = seriesOf(runA, 'loss');
    assertSameNumbers(loss.values, [0.5, NaN, Infinity, -Infinity, NaN, Infinity, 0.25], 'loss values');
    assertSameNumbers(loss.steps, [0, 1, 2, 3, 4, 5, 6], 'loss steps');
    assertSameNumbers(loss.walls, [0, 1, 2, 3, 4, 5, 6].map((i) => 1700000000000 + i), 'loss walls');
    assertSameNumbers(seriesOf(runA, 'eval/top 1').steps, [10], 'nested key with a space');

    const runB = runByKey(source, RUN_B);
    assert.equal(runB.status, 'unknown');
    assertSameNumbers(seriesOf(runB, 'acc').values, [0.5], 'run without meta keeps its data');

    const runD = runByKey(source, RUN_D);
    assert.equal(runD.status, 'killed');
    assert.equal(runD.name, 'from-tag');
    assert.equal(runByKey(source, RUN_E).status, 'failed');

    // Exactly two problems: the garbage line (named by file and line) and the run without meta.yaml.
    assert.equal(source.warnings.length, 2, JSON.stringify(source.warnings, null, 1));
    const garbage = source.warnings.find((w) => w.file.endsWith(`${RUN_A}/metrics/loss`));
    assert.ok(garbage && /line 7\b/.test(garbage.message), JSON.stringify(garbage));
    assert.ok(source.warnings.some((w) => w.file === `${root}/mlruns/1/${RUN_B}` && /meta\.yaml/.test(w.message)));
  });

  test('a cut-off last line that still has all columns is read; one missing its step waits', async () => {
    const root = tempRoot();
    writeTree(root, {
      'mlruns/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n",
      [`mlruns/0/${RUN_A}/meta.yaml`]: runMeta(RUN_A, '0', 'status: 1\n'),
      [`mlruns/0/${RUN_A}/metrics/complete`]: '1700000000000 1.5 0\n1700000000001 2.5 1',
      [`mlruns/0/${RUN_A}/metrics/cut`]: '1700000000000 1.5 0\n1700000000001 2.5',
      [`mlruns/0/${RUN_A}/metrics/cutvalue`]: '1700000000000 1.5 0\n1700000000001 2.',
    });
    const { source } = await readSingleSource(mlflowReader, root);
    const run = runByKey(source, RUN_A);
    assert.equal(run.status, 'running');
    assertSameNumbers(seriesOf(run, 'complete').values, [1.5, 2.5], 'complete');
    assertSameNumbers(seriesOf(run, 'cut').values, [1.5], 'cut before step');
    assertSameNumbers(seriesOf(run, 'cutvalue').values, [1.5], 'cut inside value');
    assert.deepEqual(source.warnings, []);
  });

  test('unreadable experiment meta.yaml and a meta.yaml that is not a mapping become warnings', async () => {
    const root = tempRoot();
    writeTree(root, {
      'mlruns/0/meta.yaml': 'name: [unclosed\n  : : :\n',
      [`mlruns/0/${RUN_A}/meta.yaml`]: '- just\n- a list\n',
      [`mlruns/0/${RUN_A}/params/p`]: 'v',
    });
    const { source } = await readSingleSource(mlflowReader, root);
    assert.equal(source.experiments.length, 1);
    assert.equal(source.experiments[0].key, '0', 'falls back to the folder name');
    const run = runByKey(source, RUN_A);
    assert.equal(run.status, 'unknown');
    assert.deepEqual(run.params, { p: 'v' });
    assert.ok(source.warnings.some((w) => w.file === `${root}/mlruns/0/meta.yaml`));
    assert.ok(source.warnings.some((w) => w.file === `${root}/mlruns/0/${RUN_A}/meta.yaml`));
  });
});

describe('mlflow reader on damaged experiment folders', () => {
  test('an experiment folder without meta.yaml keeps its runs; two folders with one id stay apart', async () => {
    const root = tempRoot();
    writeTree(root, {
      'mlruns/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n",
      'mlruns/1/meta.yaml': "experiment_id: '1'\nname: one\nlifecycle_stage: active\n",
      'mlruns/3/meta.yaml': "experiment_id: '1'\nname: copy of one\nlifecycle_stage: active\n",
      [`mlruns/5/${RUN_A}/metrics/x`]: '1700000000000 1 0\n',
    });
    const { source } = await readSingleSource(mlflowReader, root);
    assert.deepEqual(
      source.experiments.map((e) => [e.key, e.name]),
      [
        ['0', 'Default'],
        ['1', 'one'],
        ['1 (3)', 'copy of one'],
        ['5', '5'],
      ],
    );
    assertSameNumbers(seriesOf(runByKey(source, RUN_A), 'x').values, [1], 'orphan run data kept');
    assert.deepEqual(source.warnings.map((w) => w.file).sort(), [`${root}/mlruns/3`, `${root}/mlruns/5`, `${root}/mlruns/5/${RUN_A}`]);
  });
});

describe('mlflow discovery', () => {
  test('finds mlruns roots, default-experiment roots and .trash roots, not random meta.yaml files', async () => {
    const root = tempRoot();
    writeTree(root, {
      'a/mlruns/0/meta.yaml': 'name: Default\n',
      [`a/mlruns/0/${RUN_A}/meta.yaml`]: runMeta(RUN_A, '0', ''),
      // An mlruns copied into a run's artifacts is part of that store, not a second one.
      [`a/mlruns/0/${RUN_A}/artifacts/mlruns/0/meta.yaml`]: 'name: Default\n',
      'b/tracking/0/meta.yaml': 'name: Default\n',
      'c/store/.trash/7/meta.yaml': 'name: gone\nlifecycle_stage: deleted\n',
      'd/config/meta.yaml': 'name: not mlflow\n',
      'd/mlruns/models/m/meta.yaml': 'name: registry only\n',
      'e/mlflow.db': 'not really sqlite',
    });
    const candidates = await discoverUnder(mlflowReader, root);
    assert.deepEqual(candidates.map((c) => c.root).sort(), [`${root}/a/mlruns`, `${root}/b/tracking`, `${root}/c/store`, `${root}/e/mlflow.db`]);
    const store = candidates.find((c) => c.root === `${root}/a/mlruns`)!;
    assert.deepEqual(store.files, [`${root}/a/mlruns/0/${RUN_A}/meta.yaml`, `${root}/a/mlruns/0/meta.yaml`].sort());
  });
});

/** The MLflow SQLAlchemy schema's tables and columns that the reader uses (MLflow 2.x DDL, abridged). */
const MLFLOW_SCHEMA = `
CREATE TABLE experiments (experiment_id INTEGER NOT NULL, name VARCHAR(256) NOT NULL, artifact_location VARCHAR(256),
  lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT, CONSTRAINT experiment_pk PRIMARY KEY (experiment_id), UNIQUE (name));
CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), source_type VARCHAR(20), source_name VARCHAR(500),
  entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9), start_time BIGINT, end_time BIGINT, deleted_time BIGINT,
  source_version VARCHAR(50), lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER,
  CONSTRAINT run_pk PRIMARY KEY (run_uuid), FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id));
CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT param_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), run_uuid VARCHAR(32) NOT NULL, CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid));
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL, run_uuid VARCHAR(32) NOT NULL,
  step BIGINT DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL,
  CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE latest_metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT, step BIGINT NOT NULL,
  is_nan BOOLEAN NOT NULL, run_uuid VARCHAR(32) NOT NULL, CONSTRAINT latest_metric_pk PRIMARY KEY (key, run_uuid));
`;

describe('mlflow SQLite backend', () => {
  test('reads experiments, runs, params, tags and metric history, restoring NaN and ±Infinity', async () => {
    const root = tempRoot();
    const dbPath = `${root}/proj/mlflow.db`;
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const db = new Database(dbPath);
    db.exec(MLFLOW_SCHEMA);
    db.prepare('INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)').run(0, 'Default', 'mlflow-artifacts:/0', 'active', 1, 1);
    db.prepare('INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)').run(4, 'gone', 'mlflow-artifacts:/4', 'deleted', 1, 1);
    const insertRun = db.prepare(
      'INSERT INTO runs (run_uuid, name, status, start_time, end_time, lifecycle_stage, experiment_id, user_id, source_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    insertRun.run(RUN_A, 'sql-run', 'FINISHED', 1700000000000, 1700000005000, 'active', 0, 'u', 'LOCAL');
    insertRun.run(RUN_B, '', 'RUNNING', 1700000001000, null, 'active', 0, 'u', 'LOCAL');
    insertRun.run(RUN_C, 'hidden', 'FAILED', 1700000002000, 1700000003000, 'deleted', 0, 'u', 'LOCAL');
    insertRun.run(RUN_D, 'in-deleted-exp', 'KILLED', 1700000002000, 1700000003000, 'deleted', 4, 'u', 'LOCAL');
    db.prepare('INSERT INTO params VALUES (?, ?, ?)').run('lr', '0.01', RUN_A);
    db.prepare('INSERT INTO tags VALUES (?, ?, ?)').run('mlflow.runName', 'named-by-tag', RUN_B);
    const insertMetric = db.prepare('INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)');
    insertMetric.run('loss', 1.25, 1700000000100, RUN_A, 0, 0);
    insertMetric.run('loss', 0, 1700000000200, RUN_A, 1, 1); // NaN as the SQL store writes it
    insertMetric.run('loss', 1.7976931348623157e308, 1700000000300, RUN_A, 2, 0); // +inf
    insertMetric.run('loss', -1.7976931348623157e308, 1700000000400, RUN_A, 3, 0); // -inf
    insertMetric.run('loss', 0.5, 1700000000050, RUN_A, 3, 0); // logged later with an older timestamp
    db.close();

    const { candidate, source } = await readSingleSource(mlflowReader, root);
    assert.equal(candidate.root, dbPath);
    assert.deepEqual(source.warnings, []);
    assert.deepEqual(
      source.experiments.map((e) => [e.key, e.name, e.lifecycle, e.runs.map((r) => r.key)]),
      [
        ['0', 'Default', 'active', [RUN_A, RUN_B]],
        ['4', 'gone', 'deleted', [RUN_D]],
      ],
    );
    const runA = runByKey(source, RUN_A);
    assert.equal(runA.name, 'sql-run');
    assert.equal(runA.status, 'finished');
    assert.deepEqual(runA.params, { lr: '0.01' });
    const loss = seriesOf(runA, 'loss');
    assertSameNumbers(loss.values, [1.25, NaN, Infinity, -Infinity, 0.5], 'values in logged order');
    assertSameNumbers(loss.steps, [0, 1, 2, 3, 3], 'steps');
    assertSameNumbers(loss.walls, [1700000000100, 1700000000200, 1700000000300, 1700000000400, 1700000000050], 'walls');
    const runB = runByKey(source, RUN_B);
    assert.equal(runB.name, 'named-by-tag');
    assert.equal(runB.status, 'running');
    assert.equal(runB.endTime, undefined);
  });

  test('a file named mlflow.db that is not an MLflow database gives a warning, not an exception', async () => {
    const root = tempRoot();
    writeTree(root, { 'x/mlflow.db': 'definitely not sqlite' });
    const { source } = await readSingleSource(mlflowReader, root);
    assert.deepEqual(allRuns(source), []);
    assert.equal(source.warnings.length, 1);

    const other = tempRoot();
    const db = new Database(`${other}/mlflow.db`);
    db.exec('CREATE TABLE unrelated (x INTEGER)');
    db.close();
    const result = await readSingleSource(mlflowReader, other);
    assert.match(result.source.warnings[0]?.message ?? '', /not an MLflow tracking database/);
  });
});
