// The epoch x axis from a run's own epoch series, on the rows of a real Lightning CSVLogger file.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { epochXs } from '../../../src/core/compare/epochAxis';
import { corpusDir } from '../../support/fixtures';

test('epoch axis: each epoch runs from its first step to the next epoch\'s first, per-step points spread across it', () => {
  // epoch 0 from step 0, epoch 1 from step 100, epoch 2 from step 200; the last runs to the last step (399) so far.
  const epochSteps = [0, 50, 99, 100, 150, 199, 200, 250];
  const epochValues = [0, 0, 0, 1, 1, 1, 2, 2];
  const xs = epochXs([0, 50, 99, 100, 175, 200, 300, 399, -5], epochSteps, epochValues);
  assert.deepEqual(Array.from(xs.subarray(0, 8)), [0, 0.5, 0.99, 1, 1.75, 2, 2.5, 2.995]);
  assert.ok(Number.isNaN(xs[8]), 'a step before the first epoch point has no epoch');
});

test('epoch axis: a run still in its first (or only) epoch spreads over the steps it has done', () => {
  const xs = epochXs([0, 100, 299], [0, 100, 299], [0, 0, 0]);
  assert.deepEqual(Array.from(xs), [0, 100 / 300, 299 / 300]);
});

test('epoch axis on the corpus Lightning file: every train_loss_step point within its epoch, x ascending', () => {
  const file = path.join(corpusDir(), 'logs/lightning-csv/sparse-train-val-rows/lightning_logs/version_0/metrics.csv');
  const [header, ...rows] = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l !== '').map((l) => l.split(','));
  const at = (name: string) => header.indexOf(name);
  const epochRows = rows.filter((r) => r[at('epoch')] !== '');
  const trainRows = rows.filter((r) => r[at('train_loss_step')] !== '');
  const xs = epochXs(
    trainRows.map((r) => Number(r[at('step')])),
    epochRows.map((r) => Number(r[at('step')])),
    epochRows.map((r) => Number(r[at('epoch')])),
  );
  trainRows.forEach((r, i) => assert.equal(Math.floor(xs[i]), Number(r[at('epoch')]), `step ${r[at('step')]}`));
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i] >= xs[i - 1], 'ascending');
  assert.ok(new Set(Array.from(xs)).size === xs.length, 'no two steps share an x');
});
