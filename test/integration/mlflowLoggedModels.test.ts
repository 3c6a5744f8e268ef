// MLflow 3 logged models through the real CLI. A real corpus MLflow store is
// copied and given an experiment `models/` folder in MLflow 3's file-store
// layout (`<experiment>/models/<model id>/meta.yaml` with `params/`, `tags/`,
// `metrics/` and `artifacts/` beside it): the model must appear in `models`,
// linked to its real source run, and the runs must be exactly those of the
// untouched copy (a logged model is never a run). A broken meta.yaml is a
// warning naming the file; a model whose source run is missing keeps its run
// id with no path.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertNoCrash, assertWarned, runCli, warningLines } from '../support/badInput';
import { assertExportShape } from '../support/corpusExpectations';
import { copyCorpus } from '../support/fixtures';
import type { RunsExport } from '../../src/core/export/exportRuns';

const CASE = 'logs/mlflow/sb3-rl-nested-metric-keys';
const EXPERIMENT = '1';
const SOURCE_RUN = '770cc011eb214ea997501cabcfe12f58';
const MODEL_ID = 'm-5f1c0e1f3b2a4c6d8e9f0a1b2c3d4e5f';
const ORPHAN_ID = 'm-00000000000000000000000000000001';
const BROKEN_ID = 'm-0000000000000000000000000000000b';

/** The export as the CLI prints it: the same shape the exporter declares. */
type Exported = RunsExport;

function write(root: string, relative: string, content: string): void {
  const full = path.join(root, ...relative.split('/'));
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, content);
}

/** A logged model as MLflow 3's FileStore lays it out, in experiment `experiment` of the store at `mlruns`. */
function addLoggedModel(mlruns: string, experiment: string, meta: string, extra: Record<string, string> = {}): string {
  const id = /^model_id: (\S+)$/m.exec(meta)?.[1] ?? 'unnamed';
  const dir = `${experiment}/models/${id}`;
  write(mlruns, `${dir}/meta.yaml`, meta);
  for (const [relative, content] of Object.entries(extra)) write(mlruns, `${dir}/${relative}`, content);
  return dir;
}

function exportJson(dir: string): { exported: Exported; stderr: string } {
  const r = runCli(['export', dir, '--json']);
  assertNoCrash(r, `export ${dir}`);
  const exported = JSON.parse(r.stdout) as Exported;
  assertExportShape(exported, dir);
  return { exported, stderr: r.stderr };
}

test('an MLflow 3 logged model is exported as a model linked to its run, never as a run', () => {
  const reference = copyCorpus(CASE);
  const { exported: before } = exportJson(reference);
  assert.deepEqual(before.models, [], 'no logged models in the plain corpus case: models is an empty array');

  const copy = copyCorpus(CASE);
  const mlruns = path.join(copy, 'mlruns');
  const artifactLocation = `file://${mlruns}/${EXPERIMENT}/models/${MODEL_ID}/artifacts`;
  addLoggedModel(
    mlruns,
    EXPERIMENT,
    [
      `artifact_location: ${artifactLocation}`,
      'creation_timestamp: 1675440096400',
      `experiment_id: '${EXPERIMENT}'`,
      'last_updated_timestamp: 1675440097000',
      `model_id: ${MODEL_ID}`,
      'model_type: agent',
      'name: dqn-policy',
      `source_run_id: ${SOURCE_RUN}`,
      'status: READY',
      '',
    ].join('\n'),
    {
      'params/learning_rate': '0.0005',
      'params/net/arch': '[64, 64]',
      'tags/mlflow.user': 'jbauer',
      'tags/mlflow.source.name': 'train.py',
      'metrics/eval/mean_reward': `1675440096500 -12.5 0 ${SOURCE_RUN}\n1675440096600 -3.25 1 ${SOURCE_RUN}\n`,
      'artifacts/MLmodel': 'artifact_path: model\nflavors: {}\n',
    },
  );
  addLoggedModel(
    mlruns,
    EXPERIMENT,
    [`experiment_id: '${EXPERIMENT}'`, `model_id: ${ORPHAN_ID}`, 'name: orphan', 'source_run_id: ffffffffffffffffffffffffffffffff', 'status: 1', ''].join('\n'),
  );
  // A meta.yaml cut off mid-write: not YAML at all.
  write(mlruns, `0/models/${BROKEN_ID}/meta.yaml`, 'model_id: [m-0000\nname: "dqn\n');
  write(mlruns, `0/models/${BROKEN_ID}/params/seed`, '7');

  const { exported, stderr } = exportJson(copy);
  assert.deepEqual(exported.runs, before.runs, 'the runs are exactly those of the untouched copy: a logged model is never a run');

  const byId = new Map(exported.models.map((m) => [m.id, m]));
  assert.deepEqual([...byId.keys()].sort(), [BROKEN_ID, MODEL_ID, ORPHAN_ID].sort(), 'every model folder is listed');

  const runPath = `mlruns/${EXPERIMENT}/${SOURCE_RUN}`;
  assert.ok(exported.runs.some((r) => r.format === 'mlflow' && r.path === runPath), `the source run ${runPath} is exported`);
  const model = byId.get(MODEL_ID)!;
  assert.deepEqual(model, {
    id: MODEL_ID,
    name: 'dqn-policy',
    experiment: { id: EXPERIMENT, name: 'DQN' },
    sourceRun: { id: SOURCE_RUN, path: runPath },
    status: 'ready',
    created: 1675440096400,
    updated: 1675440097000,
    modelType: 'agent',
    artifactLocation,
    deleted: false,
    params: { learning_rate: '0.0005', 'net/arch': '[64, 64]' },
    tags: { 'mlflow.source.name': 'train.py', 'mlflow.user': 'jbauer' },
    metrics: {
      'eval/mean_reward': [
        [0, -12.5, 1675440096500],
        [1, -3.25, 1675440096600],
      ],
    },
    path: `mlruns/${EXPERIMENT}/models/${MODEL_ID}`,
  });

  const orphan = byId.get(ORPHAN_ID)!;
  assert.deepEqual(orphan.sourceRun, { id: 'ffffffffffffffffffffffffffffffff', path: null }, 'a missing source run keeps its id, with no path');
  assert.equal(orphan.status, 'pending', 'status 1 is LOGGED_MODEL_PENDING');

  const brokenModel = byId.get(BROKEN_ID)!;
  // Its id is unreadable (listed under the folder name); the tolerant loader keeps what it could read.
  assert.equal(brokenModel.name, 'dqn');
  assert.deepEqual(brokenModel.params, { seed: '7' });
  assert.equal(brokenModel.sourceRun, null);
  assert.equal(brokenModel.status, 'unknown');
  assert.deepEqual(brokenModel.experiment, { id: '0', name: 'Default' });
  const brokenMeta = path.join(mlruns, '0', 'models', BROKEN_ID, 'meta.yaml').split(path.sep).join('/');
  assertWarned(stderr, brokenMeta, /line \d+/);
  assert.deepEqual(
    warningLines(stderr).filter((line) => !line.startsWith(`warning: ${brokenMeta}: `)),
    [],
    'the well-formed models and the runs read without warnings',
  );
});

test('export --out also writes models', () => {
  const copy = copyCorpus(CASE);
  addLoggedModel(path.join(copy, 'mlruns'), EXPERIMENT, `model_id: ${MODEL_ID}\nname: m\nsource_run_id: ${SOURCE_RUN}\nstatus: 2\n`);
  const out = path.join(copy, '..', 'export.json');
  const r = runCli(['export', copy, '--json', '--out', out]);
  assertNoCrash(r, 'export --out');
  const exported = JSON.parse(fs.readFileSync(out, 'utf8')) as Exported;
  assert.deepEqual(
    exported.models.map((m) => [m.id, m.status, m.sourceRun]),
    [[MODEL_ID, 'ready', { id: SOURCE_RUN, path: `mlruns/${EXPERIMENT}/${SOURCE_RUN}` }]],
  );
  assert.match(r.stderr, /and 1 logged models to /);
});
