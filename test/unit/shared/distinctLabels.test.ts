import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { distinctLabels } from '../../../src/shared/distinctLabels';

/** The labels of runs that all carry `name`, one per path. */
const labelsOfOneName = (name: string, paths: string[]) => distinctLabels(paths.map((path) => ({ name, path })));

test('names shown once stay; the same name is told apart by the fewest folders that differ', () => {
  assert.deepEqual(
    distinctLabels([
      { name: 'training.log', path: '/w/keras/a/training.log' },
      { name: 'training.log', path: '/w/keras/b/training.log' },
      { name: 'other', path: '/w/other' },
    ]),
    ['training.log (a)', 'training.log (b)', 'other'],
  );
  // TF2 Keras: logs/fit/<time>/train and /validation, several fits.
  assert.deepEqual(
    distinctLabels([
      { name: 'train', path: '/w/logs/fit/20240101-120000/train' },
      { name: 'validation', path: '/w/logs/fit/20240101-120000/validation' },
      { name: 'train', path: '/w/logs/fit/20240102-090000/train' },
    ]),
    ['train (20240101-120000)', 'validation', 'train (20240102-090000)'],
  );
  // Deeper folders only where the last ones are the same.
  assert.deepEqual(labelsOfOneName('version_0', ['/w/a/x/lightning_logs/version_0', '/w/b/x/lightning_logs/version_0']), ['version_0 (a/x/lightning_logs)', 'version_0 (b/x/lightning_logs)']);
});

test('MLflow runs of one name are told apart by their run folders, shortened; paths that cannot tell them apart are numbered', () => {
  assert.deepEqual(labelsOfOneName('baseline', ['/w/mlruns/1/8e5d1fe41dcd4cc5ba32921b07f1b7f1', '/w/mlruns/1/f8b0899d2d2c42c6a73b7ca8c256e3d6']), ['baseline (8e5d1fe4…)', 'baseline (f8b0899d…)']);
  // Keras segments of one file share its path.
  assert.deepEqual(labelsOfOneName('x', ['/w/f.log', '/w/f.log']), ['x', 'x #2']);
  // A made label never equals another item's own name.
  const labels = distinctLabels([
    { name: 'a', path: '/w/b/a' },
    { name: 'a', path: '/w/c/a' },
    { name: 'a (b)', path: '/w/z' },
  ]);
  assert.equal(new Set(labels).size, 3, labels.join(', '));
});

test('timestamps are not ids, a path that is a prefix of another is named by its folder, and ten thousand runs of one name each get their own', () => {
  assert.deepEqual(labelsOfOneName('r', ['/a/2024-01-01-12-00-00/r', '/a/2024-01-01-13-00-00/r']), ['r (2024-01-01-12-00-00)', 'r (2024-01-01-13-00-00)']);
  assert.deepEqual(labelsOfOneName('train', ['/w/logs/train', '/w/logs/foo/train']), ['train (logs)', 'train (foo)']);
  // Ids that share their first 8 characters are shown whole rather than numbered.
  assert.deepEqual(labelsOfOneName('b', ['/m/1/8e5d1fe41dcd4cc5ba32921b07f1b7f1', '/m/1/8e5d1fe4ffffffffffffffffffffffff']), ['b (8e5d1fe41dcd4cc5ba32921b07f1b7f1)', 'b (8e5d1fe4ffffffffffffffffffffffff)']);
  const emoji = '🚀'.repeat(40);
  const [long] = distinctLabels([{ name: 'x', path: `/w/${emoji}/x` }, { name: 'x', path: '/w/y/x' }]);
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(long), 'no half of a surrogate pair');
  const many = Array.from({ length: 10_000 }, (_, i) => ({ name: 'train', path: `/w/logs/trial-${i}/train` }));
  const labels = distinctLabels(many);
  assert.equal(new Set(labels).size, many.length);
  assert.equal(labels[42], 'train (trial-42)');
});
