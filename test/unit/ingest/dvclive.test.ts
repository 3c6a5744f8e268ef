import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { copyCorpus, readExpected } from '../../support/fixtures';
import { dvcliveReader } from '../../../src/core/ingest/dvclive';
import { kerasReader } from '../../../src/core/ingest/keras';
import { toPosixPath } from '../../../src/core/ingest/text';
import { allRuns, assertSameNumbers, discoverUnder, readSingleSource, seriesOf, sortedKeys, tempRoot, writeTree } from './helpers';

interface ExpectedSeries {
  file: string;
  header: string[];
  rows: number;
  distinct_steps: number;
  step_range: [number, number];
  'last(step,value)': [number, number];
  duplicate_rows: number;
}
interface ExpectedDvclive {
  tsv_series: Record<string, ExpectedSeries>;
  'metrics.json flattened': Record<string, number>;
  'params.yaml top-level keys'?: string[];
}

const CORPUS_CASES = ['logs/dvclive/legacy-v0-scalars-timestamp', 'logs/dvclive/lightning-hydra-nested'];

describe('dvclive reader on the corpus', () => {
  for (const caseDir of CORPUS_CASES) {
    test(`${caseDir} matches expected.json`, async () => {
      const copy = toPosixPath(fs.realpathSync(copyCorpus(caseDir)));
      const expected = readExpected<ExpectedDvclive>(caseDir);
      const { candidate, source } = await readSingleSource(dvcliveReader, copy);
      assert.equal(candidate.root, `${copy}/dvclive`);
      assert.deepEqual(source.warnings, []);
      const runs = allRuns(source);
      assert.equal(runs.length, 1);
      const [run] = runs;
      assert.equal(run.path, `${copy}/dvclive`);
      assert.deepEqual(sortedKeys(run.metrics), sortedKeys(expected.tsv_series));

      for (const [key, expectedSeries] of Object.entries(expected.tsv_series)) {
        const series = seriesOf(run, key);
        const last = series.steps.length - 1;
        assert.equal(series.steps.length, expectedSeries.rows, `${key} keeps every row, repeats included`);
        assert.equal(new Set(series.steps).size, expectedSeries.distinct_steps, `${key} distinct steps`);
        assert.equal(Math.min(...series.steps), expectedSeries.step_range[0]);
        assert.equal(Math.max(...series.steps), expectedSeries.step_range[1]);
        assert.equal(series.steps[last], expectedSeries['last(step,value)'][0]);
        assert.ok(Object.is(series.values[last], expectedSeries['last(step,value)'][1]), `${key} last value`);
        const pairs = series.steps.map((step, i) => `${step}|${series.values[i]}`);
        assert.equal(pairs.length - new Set(pairs).size, expectedSeries.duplicate_rows, `${key} duplicate rows`);
        const hasTimestamp = expectedSeries.header.includes('timestamp');
        assert.ok(series.walls.every((w) => (hasTimestamp ? w > 1.5e12 && w < 2e12 : Number.isNaN(w))), `${key} wall times`);
      }

      // Summary values with a series live in the series; the rest stay summaries.
      const flattened = expected['metrics.json flattened'];
      const summaryOnly = Object.fromEntries(Object.entries(flattened).filter(([key]) => !(key in expected.tsv_series)));
      assert.deepEqual(run.summaries, summaryOnly);
      for (const [key, value] of Object.entries(flattened)) {
        if (key in run.metrics) {
          const values = run.metrics[key].values;
          assert.ok(Object.is(values[values.length - 1], value), `${key}: last TSV value equals the summary`);
        }
      }

      for (const topKey of expected['params.yaml top-level keys'] ?? []) {
        assert.ok(
          Object.keys(run.params).some((key) => key === topKey || key.startsWith(`${topKey}/`)),
          `params has ${topKey}`,
        );
      }
    });
  }

  test('Hydra params.yaml: keys with "/", interpolations, nulls and lists survive flattening', async () => {
    const copy = toPosixPath(fs.realpathSync(copyCorpus('logs/dvclive/lightning-hydra-nested')));
    const { source } = await readSingleSource(dvcliveReader, copy);
    const { params } = allRuns(source)[0];
    assert.equal(params['model/params/total'], '67978');
    assert.equal(params['model/optimizer/lr'], '0.001');
    assert.equal(params['model/optimizer/_partial_'], 'true');
    assert.equal(params['data/data_dir'], '${paths.data_dir}');
    assert.equal(params['data/train_val_test_split'], '[55000,5000,10000]');
    assert.equal(params['callbacks/model_checkpoint/every_n_train_steps'], 'null');
    assert.equal(params['trainer/max_epochs'], '10');
    assertSameNumbers(seriesOf(allRuns(source)[0], 'epoch').values.slice(0, 4), [0, 0, 1, 1], 'epoch.tsv rows twice, as logged');
  });

  test('keras discovery does not claim DVCLive TSVs', async () => {
    for (const caseDir of CORPUS_CASES) {
      const copy = toPosixPath(fs.realpathSync(copyCorpus(caseDir)));
      assert.deepEqual(await discoverUnder(kerasReader, copy), []);
    }
  });
});

describe('dvclive reader on hostile input', () => {
  test('Python JSON NaN/Infinity, BOM, CRLF, garbage rows, wrong field counts, a half-written last row', async () => {
    const root = tempRoot();
    writeTree(root, {
      'exp/results/metrics.json': '{"train": {"loss": NaN, "best": Infinity}, "note": "text", "flag": true, "step": 3}',
      'exp/results/params.yaml': '\uFEFFoptimizer:\n  name: adam\n  betas: !!python/tuple [0.9, 0.999]\nepochs: 3\n',
      'exp/results/plots/metrics/train/loss.tsv': '\uFEFFstep\tloss\r\n0\t1.5\r\n1\tnan\r\nx\t0.5\r\n2\t-inf\t7\r\n3\tinf\r\n4\t', // the value of the last row is not written yet
      'exp/results/plots/metrics/acc.tsv': 'step\ttimestamp\tacc\n0\t1700000000\t0.1\n1\t1700000001\t0.2\n',
    });
    const { candidate, source } = await readSingleSource(dvcliveReader, root);
    assert.equal(candidate.root, `${root}/exp/results`, 'a custom folder name counts when it has metrics.json');
    const [run] = allRuns(source);
    const loss = seriesOf(run, 'train/loss');
    assertSameNumbers(loss.values, [1.5, NaN, Infinity], 'loss');
    assertSameNumbers(loss.steps, [0, 1, 3], 'loss steps');
    assertSameNumbers(seriesOf(run, 'acc').walls, [1700000000000, 1700000001000], 'second timestamps become ms');

    assert.equal('train/loss' in run.summaries, false, 'a key with a series is not a summary');
    assert.deepEqual(run.summaries, { 'train/best': Infinity, note: 'text', flag: 'true', step: 3 });
    assert.deepEqual(run.params, { 'optimizer/name': 'adam', 'optimizer/betas': '[0.9,0.999]', epochs: '3' });

    const file = `${root}/exp/results/plots/metrics/train/loss.tsv`;
    assert.deepEqual(source.warnings.map((w) => w.file), [file, file]);
    const messages = source.warnings.map((w) => w.message).sort();
    assert.match(messages[0], /^line 4: .*step "x"/);
    assert.match(messages[1], /^line 5: .*fields/);
  });

  test('a metric named like DVCLive\'s step column (train/step) is a series of its values, read whole and appended', async () => {
    const root = tempRoot();
    // DVCLive writes each row as {timestamp?, step: <step>, <name>: <value>}: for a metric whose last
    // name part is `step` the value overwrites the step under the one key, so the header is only `step`.
    writeTree(root, {
      'dvclive/metrics.json': '{"train": {"step": 30.5, "loss": 0.25}, "step": 2}',
      'dvclive/plots/metrics/train/step.tsv': 'step\n10.5\n20.5\n',
      'dvclive/plots/metrics/train/loss.tsv': 'step\tloss\n0\t0.75\n1\t0.5\n2\t0.25\n',
      'dvclive/plots/metrics/val/step.tsv': 'timestamp\tstep\n1700000000000\t7\n',
      // A metric named `timestamp` overwrote the time column instead: its steps are kept.
      'dvclive/plots/metrics/eval/timestamp.tsv': 'timestamp\tstep\n0.125\t4\n0.25\t8\n',
    });
    const { candidate, source } = await readSingleSource(dvcliveReader, root);
    assert.deepEqual(source.warnings, []);
    const [run] = allRuns(source);
    assert.deepEqual(sortedKeys(run.metrics), ['eval/timestamp', 'train/loss', 'train/step', 'val/step']);
    assertSameNumbers(seriesOf(run, 'eval/timestamp').values, [0.125, 0.25], 'eval/timestamp values are the timestamp column');
    assertSameNumbers(seriesOf(run, 'eval/timestamp').steps, [4, 8], 'eval/timestamp keeps its steps');
    assertSameNumbers(seriesOf(run, 'train/step').values, [10.5, 20.5], 'train/step values');
    assertSameNumbers(seriesOf(run, 'train/step').steps, [0, 1], 'the row index stands in for the lost steps');
    assertSameNumbers(seriesOf(run, 'val/step').values, [7], 'val/step values');
    assertSameNumbers(seriesOf(run, 'val/step').walls, [1700000000000], 'val/step wall time');
    assert.equal('train/step' in run.summaries, false, 'its summary value is the series');

    fs.appendFileSync(`${root}/dvclive/plots/metrics/train/step.tsv`, '30.5\n');
    const previous = new Map((source.cursors ?? []).map((cursor) => [cursor.path, cursor]));
    const appended = await dvcliveReader.read(candidate, undefined, previous);
    const [again] = allRuns(appended);
    assert.equal(again.update, 'append');
    assertSameNumbers(seriesOf(again, 'train/step').values, [30.5], 'the appended row');
    assertSameNumbers(seriesOf(again, 'train/step').steps, [2], 'its row index');
  });

  test('legacy summary-only dvclive.json, and a broken summary is a warning', async () => {
    const root = tempRoot();
    writeTree(root, {
      'a/dvclive.json': '{"step": 2, "eval": {"acc": 0.5}}',
      'b/dvclive/metrics.json': '{"loss": 0.3,',
      'b/dvclive/plots/metrics/loss.tsv': 'step\tloss\n0\t0.3\n',
      // Not DVCLive: scalars folder without the dvclive name or a <dir>.json.
      'c/other/scalars/x.tsv': 'step\tx\n0\t1\n',
    });
    const candidates = await discoverUnder(dvcliveReader, root);
    assert.deepEqual(candidates.map((c) => c.root).sort(), [`${root}/a/dvclive`, `${root}/b/dvclive`]);
    const legacy = await dvcliveReader.read(candidates.find((c) => c.root === `${root}/a/dvclive`)!);
    assert.deepEqual(allRuns(legacy)[0].summaries, { step: 2, 'eval/acc': 0.5 });
    assert.deepEqual(legacy.warnings, []);
    const broken = await dvcliveReader.read(candidates.find((c) => c.root === `${root}/b/dvclive`)!);
    assertSameNumbers(seriesOf(allRuns(broken)[0], 'loss').values, [0.3], 'series still read');
    assert.equal(broken.warnings.length, 1);
    assert.equal(broken.warnings[0].file, `${root}/b/dvclive/metrics.json`);
  });
});
