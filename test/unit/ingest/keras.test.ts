import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { copyCorpus, corpusDir, readExpected } from '../../support/fixtures';
import { kerasReader } from '../../../src/core/ingest/keras';
import { toPosixPath } from '../../../src/core/ingest/text';
import { allRuns, assertSameNumbers, discoverUnder, readSingleSource, seriesOf, sortedKeys, tempRoot, writeTree } from './helpers';

interface ExpectedKeras {
  header: string[];
  data_rows: number;
  'segments(epoch resets)': Array<{ rows: number; epochs: [number, number] }>;
  last_row: Record<string, string>;
  'last values per segment': Array<Record<string, number>>;
}

const CORPUS_CASES = ['logs/keras-csv/append-mode-restarts', 'logs/keras-csv/legacy-acc-names-training-log'];
const DESCRIPTION_FILES = new Set(['EXPECTED.md', 'expected.json']);

/** The log file a corpus case ships, or undefined when only its description is there. */
function corpusLogFile(caseDir: string): string | undefined {
  const names = fs.readdirSync(`${corpusDir()}/${caseDir}`).filter((name) => !DESCRIPTION_FILES.has(name));
  return names[0];
}

describe('keras reader on the corpus', () => {
  for (const caseDir of CORPUS_CASES) {
    const logFile = corpusLogFile(caseDir);
    test(`${caseDir} matches expected.json`, { skip: logFile ? false : 'the corpus case has EXPECTED.md/expected.json but no log file' }, async () => {
      const copy = toPosixPath(fs.realpathSync(copyCorpus(caseDir)));
      const expected = readExpected<ExpectedKeras>(caseDir);
      const { candidate, source } = await readSingleSource(kerasReader, copy);
      assert.equal(candidate.root, `${copy}/${logFile}`);
      assert.deepEqual(source.warnings, []);

      const runs = allRuns(source);
      const segments = expected['segments(epoch resets)'];
      assert.equal(runs.length, segments.length, 'one run per training session');
      assert.deepEqual(runs.map((r) => r.key), segments.map((_, i) => `segment-${i + 1}`));
      const metricColumns = expected.header.filter((c) => c !== 'epoch');
      let totalRows = 0;
      segments.forEach((segment, index) => {
        const run = runs[index];
        assert.deepEqual(sortedKeys(run.metrics), [...metricColumns].sort());
        for (const column of metricColumns) {
          const series = seriesOf(run, column);
          assert.equal(series.steps.length, segment.rows, `segment ${index + 1} ${column} rows`);
          assert.equal(series.steps[0], segment.epochs[0], 'first epoch');
          assert.equal(series.steps[series.steps.length - 1], segment.epochs[1], 'last epoch');
          assert.ok(
            Object.is(series.values[series.values.length - 1], expected['last values per segment'][index][column]),
            `segment ${index + 1} ${column} last value`,
          );
          assert.ok(series.walls.every((w) => Number.isNaN(w)));
        }
        totalRows += segment.rows;
      });
      assert.equal(totalRows, expected.data_rows);
      // The final row, compared through its exact text as the corpus records it.
      const lastRun = runs[runs.length - 1];
      for (const column of metricColumns) {
        const values = seriesOf(lastRun, column).values;
        assert.ok(Object.is(values[values.length - 1], Number(expected.last_row[column])), `last row ${column}`);
      }
    });
  }
});

describe('keras reader on hostile input', () => {
  test('BOM, CRLF, NA cells, non-finite values, garbage, wrong field counts, a half-written last row, restarts', async () => {
    const root = tempRoot();
    const lines = [
      '\uFEFFepoch,accuracy,loss,val_loss',
      '0,0.5,1.0,NA',
      '1,0.55454545346173378,nan,0.9',
      '2,0.6,inf,-inf',
      '3,0.7,oops,0.8', // garbage cell: reported, the rest kept
      '4,0.75,0.6', // too few fields: reported, skipped
      'x,0.8,0.5,0.7', // epoch not a number: reported, skipped
      '0,0.4,1.2,1.1', // a new session appended
      '1,0.45,1.1,1.0',
    ];
    writeTree(root, { 'train/history.csv': `${lines.join('\r\n')}\r\n2,0.4` });
    const { source } = await readSingleSource(kerasReader, root);
    const [first, second] = allRuns(source);
    assert.equal(allRuns(source).length, 2);
    assert.equal(first.name, 'history.csv #1');
    assertSameNumbers(seriesOf(first, 'accuracy').values, [0.5, 0.55454545346173378, 0.6, 0.7], 'accuracy');
    assertSameNumbers(seriesOf(first, 'accuracy').steps, [0, 1, 2, 3], 'epochs');
    assertSameNumbers(seriesOf(first, 'loss').values, [1.0, NaN, Infinity], 'loss');
    assertSameNumbers(seriesOf(first, 'val_loss').values, [0.9, -Infinity, 0.8], 'val_loss (NA is no point)');
    assertSameNumbers(seriesOf(first, 'val_loss').steps, [1, 2, 3], 'val_loss epochs');
    assertSameNumbers(seriesOf(second, 'loss').values, [1.2, 1.1], 'second session, half-written row not read');

    const file = `${root}/train/history.csv`;
    assert.deepEqual(source.warnings.map((w) => w.file), [file, file, file]);
    const byLine = source.warnings.map((w) => w.message).sort();
    assert.match(byLine[0], /^line 5: .*oops/);
    assert.match(byLine[1], /^line 6: .*fields/);
    assert.match(byLine[2], /^line 7: .*epoch/);
  });

  test('a session that restarts at the epoch where the previous one stopped is still a new session', async () => {
    const root = tempRoot();
    writeTree(root, { 'log.csv': 'epoch,loss\n0,1.0\n1,0.8\n1,0.9\n2,0.7\n0,1.1\n' });
    const { source } = await readSingleSource(kerasReader, root);
    assert.deepEqual(
      allRuns(source).map((run) => seriesOf(run, 'loss').steps),
      [[0, 1], [1, 2], [0]],
    );
  });

  test('tab separator, a repeated header starting a new session, a single session named after the file', async () => {
    const root = tempRoot();
    writeTree(root, {
      'a/training.log': 'epoch\tacc\tloss\n0\t0.1\t2\n1\t0.2\t1\nepoch\tacc\tloss\n5\t0.3\t0.5\n',
      'b/training.log': 'epoch,acc\n0,0.5\n',
    });
    const candidates = await discoverUnder(kerasReader, root);
    assert.deepEqual(candidates.map((c) => c.root).sort(), [`${root}/a/training.log`, `${root}/b/training.log`]);
    const sourceA = await kerasReader.read(candidates.find((c) => c.root.includes('/a/'))!);
    assert.equal(allRuns(sourceA).length, 2, 'a repeated header restarts even when epoch increases');
    assertSameNumbers(seriesOf(allRuns(sourceA)[1], 'loss').steps, [5], 'second session');
    const sourceB = await kerasReader.read(candidates.find((c) => c.root.includes('/b/'))!);
    assert.equal(allRuns(sourceB)[0].name, 'training.log');
    assert.equal(sourceB.experiments[0].key, 'training.log');
  });

  test('discovery leaves other tables alone and notices when a file becomes a Keras log', async () => {
    const root = tempRoot();
    writeTree(root, {
      'data/table.csv': 'a,b\n1,2\n',
      'data/steps.csv': 'epoch,step,loss\n0,1,0.5\n', // has a step column: Lightning-style, not Keras
      'data/only-epoch.csv': 'epoch\n0\n',
      'data/half.csv': 'epoch,lo', // header still being written
      'dvclive/plots/metrics/epoch.tsv': 'step\tepoch\n1\t0\n',
      'lightning_logs/version_0/metrics.csv': 'epoch,train_loss\n0,1\n', // Lightning's place, whatever the header
      'notes/readme.md': 'epoch,acc\n',
      // A Keras log saved as an MLflow artifact belongs to that MLflow run.
      'mlruns/1/0123456789abcdef0123456789abcdef/artifacts/training.log': 'epoch,acc\n0,0.5\n',
      // Keras-looking tables inside DVCLive's folders are DVCLive's.
      'dvclive/plots/metrics/custom.tsv': 'epoch\tacc\n0\t0.5\n',
    });
    assert.deepEqual(await discoverUnder(kerasReader, root), []);

    // Same path, new content (different size): the cached sniff must not hide it.
    fs.writeFileSync(`${root}/data/half.csv`, 'epoch,loss,acc\n0,1,0.5\n');
    const found = await discoverUnder(kerasReader, root);
    assert.deepEqual(found.map((c) => c.root), [`${root}/data/half.csv`]);
  });
});
