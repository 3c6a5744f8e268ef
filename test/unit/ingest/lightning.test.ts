import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyCorpus, readExpected } from '../../support/fixtures';
import { lightningReader } from '../../../src/core/ingest/lightning';
import { kerasReader } from '../../../src/core/ingest/keras';
import { toPosixPath } from '../../../src/core/ingest/text';
import { assertSameNumbers, discoverUnder, flattenExpected, readSingleSource, runByKey, seriesOf, sortedKeys, tempRoot, writeTree } from './helpers';

interface ExpectedColumn { non_empty: number; last: number; last_at_step: number; last_at_epoch: number }
interface ExpectedVersion { columns: string[]; rows: number; per_column: Record<string, ExpectedColumn>; hparams: unknown }
type ExpectedLightning = Record<string, ExpectedVersion>;

const CORPUS_CASES = ['logs/lightning-csv/column-order-varies', 'logs/lightning-csv/sparse-train-val-rows'];

describe('lightning reader on the corpus', () => {
  for (const caseDir of CORPUS_CASES) {
    test(`${caseDir} matches expected.json`, async () => {
      const copy = toPosixPath(fs.realpathSync(copyCorpus(caseDir)));
      const expected = readExpected<ExpectedLightning>(caseDir);
      const { candidate, source } = await readSingleSource(lightningReader, copy);

      assert.equal(candidate.root, `${copy}/lightning_logs`);
      assert.deepEqual(source.warnings, []);
      assert.equal(source.experiments.length, 1);
      assert.equal(source.experiments[0].name, 'lightning_logs');
      const expectedKeys = Object.keys(expected).map((relative) => path.posix.basename(relative));
      assert.deepEqual(source.experiments[0].runs.map((r) => r.key), [...expectedKeys].sort());

      for (const [relative, version] of Object.entries(expected)) {
        const run = runByKey(source, path.posix.basename(relative));
        const label = relative;
        assert.equal(run.path, `${copy}/${relative}`);
        assert.deepEqual(run.params, flattenExpected(version.hparams), `${label} params`);
        assert.deepEqual(sortedKeys(run.metrics), version.columns.filter((c) => c !== 'step').sort(), `${label} series`);

        for (const column of version.columns) {
          if (column === 'step') continue;
          const expectedColumn = version.per_column[column];
          const series = seriesOf(run, column);
          const last = series.steps.length - 1;
          // Every non-empty cell is a point: the epoch cell of both rows of an epoch end too.
          assert.equal(series.steps.length, expectedColumn.non_empty, `${label} ${column} points`);
          assert.ok(Object.is(series.values[last], expectedColumn.last), `${label} ${column} last value ${series.values[last]}`);
          assert.equal(series.steps[last], expectedColumn.last_at_step, `${label} ${column} last step`);
          assert.ok(series.walls.every((w) => Number.isNaN(w)), 'CSVLogger has no wall times');
        }
      }
    });
  }

  test('sparse rows with the same epoch,step merge by column (sparse-train-val-rows, step 1087)', async () => {
    const copy = toPosixPath(fs.realpathSync(copyCorpus('logs/lightning-csv/sparse-train-val-rows')));
    const { source } = await readSingleSource(lightningReader, copy);
    const run = runByKey(source, 'version_0');
    // First epoch end: validation row, then training-epoch row, both at step 1087.
    assert.equal(seriesOf(run, 'val_acc').steps[0], 1087);
    assert.equal(seriesOf(run, 'val_acc').values[0], 0.9679310321807861);
    assert.equal(seriesOf(run, 'train_acc').steps[0], 1087);
    assert.equal(seriesOf(run, 'train_acc').values[0], 0.7178017497062683);
    assert.equal(seriesOf(run, 'train_loss_epoch').values[0], 0.888725996017456);
    const epoch = seriesOf(run, 'epoch');
    assert.deepEqual(
      [...epoch.steps.entries()].filter(([, s]) => s === 1087).map(([at]) => epoch.values[at]),
      [0, 0],
      'the epoch cell of both rows at that step is a point',
    );
    assert.equal(seriesOf(run, 'train_loss_step').steps[0], 49);
    assert.equal(run.params['cfg/data/img_size'], '[200,200]');
    assert.equal(run.params['cfg/model/lr'], '0.001');
  });

  test('keras discovery does not claim Lightning metrics.csv files even when the header starts with epoch', async () => {
    const copy = toPosixPath(fs.realpathSync(copyCorpus('logs/lightning-csv/column-order-varies')));
    const header = fs.readFileSync(`${copy}/lightning_logs/version_3/metrics.csv`, 'utf8').split(/\r?\n/)[0];
    assert.match(header, /^epoch,/, 'corpus still has the epoch-first version');
    assert.deepEqual(await discoverUnder(kerasReader, copy), []);
  });
});

function float64Base64(value: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(value);
  return bytes.toString('base64');
}

const PYTHON_TAGGED_HPARAMS = `args: !!python/object:argparse.Namespace
  batch_size: 32
  layers: !!python/tuple
  - 64
  - 32
activation: !!python/name:torch.nn.modules.activation.ReLU ''
lr: !!python/object/apply:numpy.core.multiarray.scalar
- !!python/object/apply:numpy.dtype
  args:
  - f8
  - false
  - true
  state: !!python/tuple
  - 3
  - <
  - null
  - null
  - null
  - -1
  - -1
  - 0
- !!binary |
  ${float64Base64(0.001)}
weight_decay: 1.0e-05
scheduler: null
`;

describe('lightning reader on hostile input', () => {
  test('BOM, CRLF, garbage cells, short rows, non-finite values, a half-written last row, Python-tagged hparams', async () => {
    const root = tempRoot();
    const rows = [
      '\uFEFFepoch,step,train_loss,val_loss',
      '0,9,0.9,',
      '0,19,tensor(0.5),', // garbage cell: reported, rest of row kept (no other value here)
      '0,19,,nan',
      '0,29,0.7', // too few fields: reported, skipped
      '1,39,inf,',
      '1,49,-inf,0.4',
    ];
    writeTree(root, {
      'logs/my_model/version_0/metrics.csv': `${rows.join('\r\n')}\r\n2,59,0.`, // cut mid-row
      'logs/my_model/version_0/hparams.yaml': PYTHON_TAGGED_HPARAMS,
    });
    const { candidate, source } = await readSingleSource(lightningReader, root);
    assert.equal(candidate.root, `${root}/logs/my_model`);
    const run = runByKey(source, 'version_0');

    const trainLoss = seriesOf(run, 'train_loss');
    assertSameNumbers(trainLoss.values, [0.9, Infinity, -Infinity], 'train_loss');
    assertSameNumbers(trainLoss.steps, [9, 39, 49], 'train_loss steps');
    const valLoss = seriesOf(run, 'val_loss');
    assertSameNumbers(valLoss.values, [NaN, 0.4], 'val_loss');
    assertSameNumbers(valLoss.steps, [19, 49], 'val_loss steps');
    assertSameNumbers(seriesOf(run, 'epoch').steps, [9, 19, 19, 39, 49], 'epoch: a point per row that logged it');

    assert.deepEqual(run.params, {
      'args/batch_size': '32',
      'args/layers': '[64,32]',
      activation: 'torch.nn.modules.activation.ReLU',
      lr: '0.001',
      weight_decay: '1.0e-05',
      scheduler: 'null',
    });

    const file = `${root}/logs/my_model/version_0/metrics.csv`;
    assert.deepEqual(
      source.warnings.map((w) => [w.file, w.message.replace(/:.*/, '')]).sort(),
      [
        [file, 'line 3'],
        [file, 'line 5'],
      ],
      JSON.stringify(source.warnings),
    );
    assert.ok(source.warnings.some((w) => /^line 3: .*tensor\(0\.5\)/.test(w.message)));
    assert.ok(source.warnings.some((w) => /^line 5: .*fields/.test(w.message)));
  });

  test('two identical consecutive rows are two points in every column; rows of one step keep every value', async () => {
    const root = tempRoot();
    writeTree(root, {
      'lightning_logs/version_0/metrics.csv': [
        'epoch,step,train_loss,val_loss',
        '0,9,0.5,',
        '0,9,0.5,', // logged twice: two points
        '0,9,,0.7', // the validation row of the same step: its own column, and the epoch again
        '0,9,0.25,', // another training value at that step
        '',
      ].join('\n'),
    });
    const run = runByKey((await readSingleSource(lightningReader, root)).source, 'version_0');
    assertSameNumbers(seriesOf(run, 'train_loss').values, [0.5, 0.5, 0.25], 'train_loss');
    assertSameNumbers(seriesOf(run, 'train_loss').steps, [9, 9, 9], 'train_loss steps');
    assertSameNumbers(seriesOf(run, 'val_loss').values, [0.7], 'val_loss');
    assertSameNumbers(seriesOf(run, 'epoch').values, [0, 0, 0, 0], 'epoch');
  });

  test('no step column: the row index is the step; custom version names count when hparams.yaml sits beside', async () => {
    const root = tempRoot();
    writeTree(root, {
      'runs/exp/baseline/metrics.csv': 'loss,acc\n0.5,0.1\n0.4,0.2\n0.3,\n',
      'runs/exp/baseline/hparams.yaml': '{}\n',
      // A TensorBoardLogger version folder: hparams.yaml but no metrics.csv. Not ours.
      'runs/tb/version_0/hparams.yaml': 'lr: 0.1\n',
      'runs/tb/version_0/events.out.tfevents.1.host': 'x',
      // A stray metrics.csv elsewhere is not a Lightning log.
      'data/metrics.csv': 'step,loss\n0,1\n',
    });
    const { candidate, source } = await readSingleSource(lightningReader, root);
    assert.equal(candidate.root, `${root}/runs/exp`);
    const run = runByKey(source, 'baseline');
    assertSameNumbers(seriesOf(run, 'loss').steps, [0, 1, 2], 'row index');
    assertSameNumbers(seriesOf(run, 'acc').values, [0.1, 0.2], 'acc');
    assert.deepEqual(run.params, {});
  });

  test('a header still being written yields an empty run and no warnings; version folders sort numerically', async () => {
    const root = tempRoot();
    writeTree(root, {
      'lightning_logs/version_10/metrics.csv': 'epoch,st',
      'lightning_logs/version_2/metrics.csv': 'step,loss\n1,0.5\n',
    });
    const { source } = await readSingleSource(lightningReader, root);
    assert.deepEqual(source.experiments[0].runs.map((r) => r.key), ['version_2', 'version_10']);
    assert.deepEqual(runByKey(source, 'version_10').metrics, {});
    assert.deepEqual(source.warnings, []);
  });
});
