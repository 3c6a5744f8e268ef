// A big Lightning metrics.csv read split in two parts on two cores
// (lightningParts.ts, parseWorker.ts) must give exactly what one thread
// gives: every point of every series (every non-empty cell, NaN kept), the cursors with their state, and every warning with its
// line number, for whole reads, slices and appends, damaged rows, and when the
// worker cannot take its part. The rows are the corpus's real CSVLogger rows,
// repeated with later steps until the file is big enough to split.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lightningReader } from '../../../src/core/ingest/lightning';
import { endParseWorkerAfterNextRequest, parseWorkerCounts } from '../../../src/core/ingest/parseWorker';
import type { FileCursor, ParsedSource, SourceCandidate } from '../../../src/core/ingest/types';
import { corpusDir } from '../../support/fixtures';
import { discoverUnder, splitEveryReadInThisFile, tempRoot } from './helpers';

splitEveryReadInThisFile();

const CORPUS_CSV = 'logs/lightning-csv/sparse-train-val-rows/lightning_logs/version_0/metrics.csv';

/** The corpus file's header and data rows (epoch first, step second, then sparse metric cells). */
function corpusRows(): { header: string; rows: string[][] } {
  // Python's csv module (so CSVLogger) ends rows with CRLF.
  const [header, ...lines] = fs.readFileSync(path.join(corpusDir(), CORPUS_CSV), 'utf8').split('\r\n').filter((line) => line.trim() !== '');
  assert.match(header, /^epoch,step,/);
  assert.ok(lines.length > 200, 'the corpus CSV has its rows');
  return { header, rows: lines.map((line) => line.split(',')) };
}

/** The real rows `copies` times over, each copy at later epochs and steps. */
function bigCsvRows(copies: number): { header: string; rows: string[][] } {
  const { header, rows } = corpusRows();
  const out: string[][] = [];
  for (let copy = 0; copy < copies; copy++) {
    for (const [epoch, step, ...cells] of rows) out.push([String(Number(epoch) + copy * 10), String(Number(step) + copy * 100_000), ...cells]);
  }
  return { header, rows: out };
}

function writeCsv(header: string, rows: string[][], lineBreak = '\r\n'): { root: string; file: string } {
  const root = tempRoot();
  const file = path.join(root, 'lightning_logs', 'version_0', 'metrics.csv');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, [header, ...rows.map((row) => row.join(','))].join(lineBreak) + lineBreak);
  return { root, file };
}

/** A read as plain data: every series' points (exact, NaN and -0 kept), warnings, cursors and completeness. */
function plain(source: ParsedSource) {
  return {
    runs: source.experiments.flatMap((experiment) =>
      experiment.runs.map((run) => ({
        key: run.key,
        update: run.update,
        metrics: Object.entries(run.metrics).map(([name, s]) => [name, Array.from(s.steps), Array.from(s.values), Array.from(s.walls)]),
      })),
    ),
    warnings: source.warnings,
    cursors: source.cursors,
    complete: source.complete,
  };
}

/** Reads the tree to its end in slices of `maxBytes` (each slice resuming at the cursors before, as the engine does), one thread or two. */
async function readInSlices(candidate: SourceCandidate, mode: 'thread' | 'worker', maxBytes?: number) {
  process.env.RUNLENS_PARSE_WORKER = mode;
  try {
    const slices = [];
    let previous: Map<string, FileCursor> | undefined;
    for (let slice = 0; slice < 1000; slice++) {
      const source = await lightningReader.read(candidate, undefined, previous, maxBytes === undefined ? undefined : { maxBytes });
      slices.push(plain(source));
      if (source.complete !== false) break;
      previous = new Map((source.cursors ?? []).map((cursor) => [cursor.path, cursor]));
    }
    return slices;
  } finally {
    process.env.RUNLENS_PARSE_WORKER = 'worker';
  }
}

async function assertSameBothWays(root: string, maxBytes?: number, split: 'split' | 'whole' = 'split') {
  const [candidate] = await discoverUnder(lightningReader, root);
  const oneThread = await readInSlices(candidate, 'thread', maxBytes);
  const before = parseWorkerCounts().parsed;
  const twoParts = await readInSlices(candidate, 'worker', maxBytes);
  if (split === 'split') assert.ok(parseWorkerCounts().parsed > before, 'the worker parsed parts');
  else assert.equal(parseWorkerCounts().parsed, before, 'no part went to the worker');
  assert.deepEqual(twoParts, oneThread);
  return oneThread;
}

function seriesLength(read: ReturnType<typeof plain>, name: string): number {
  const series = read.runs[0].metrics.find(([metric]) => metric === name);
  return series ? (series[1] as number[]).length : 0;
}

test('a whole CSV of real rows read in two parts equals one read', async () => {
  const { header, rows } = bigCsvRows(40);
  const { root } = writeCsv(header, rows);
  const [read] = await assertSameBothWays(root);
  assert.equal(read.warnings.length, 0);
  assert.ok(seriesLength(read, 'train_loss_step') > 5000);
  assert.ok(seriesLength(read, 'val_loss') > 100);
  // Every row's epoch cell is a point (an epoch end's two rows at one step too).
  assert.equal(seriesLength(read, 'epoch'), rows.length);
});

test('slices, each split and resumed at the cursor before, equal one thread\'s slices, cursors included', async () => {
  const { header, rows } = bigCsvRows(30);
  const { root } = writeCsv(header, rows, '\n');
  const slices = await assertSameBothWays(root, 60_000);
  assert.ok(slices.length >= 4, `read in ${slices.length} slices`);
});

test('blank lines between rows (a CR before each CRLF) are skipped by both parts, and the reads stay equal', async () => {
  const { header, rows } = bigCsvRows(20);
  const { root } = writeCsv(header, rows, '\r\r\n');
  await assertSameBothWays(root);
  await assertSameBothWays(root, 50_000);
});

test('damaged rows in both parts give the same warnings with the same line numbers, the count past the kept ones included', async () => {
  const { header, rows } = bigCsvRows(20);
  const damaged = rows.map((row) => [...row]);
  const half = Math.floor(damaged.length / 2);
  // A few in the first part, many (more than are listed) in the second.
  for (const i of [10, 500, 1500]) damaged[i] = [...damaged[i], 'extra'];
  for (let k = 0; k < 40; k++) damaged[half + 200 + k * 50][3] = `oops${k}`;
  damaged[half + 50][2] = 'nan';
  damaged[half + 51][4] = '"0.5"';
  damaged[half + 52][4] = '0.25\u00a0';
  const { root } = writeCsv(header, damaged);
  const [read] = await assertSameBothWays(root);
  const lines = read.warnings.filter((w) => w.message.startsWith('line ')).map((w) => Number(/^line (\d+)/.exec(w.message)![1]));
  assert.equal(lines[0], 12);
  assert.ok(lines.some((line) => line > half + 200), 'warnings from the second part are listed, numbered after the first part\'s lines');
  assert.ok(read.warnings.some((w) => /more problems in this file were not listed/.test(w.message)));
});

test('a step that is not a number in the second part (its row index becomes its step) is parsed again on this thread', async () => {
  const { header, rows } = bigCsvRows(20);
  const damaged = rows.map((row) => [...row]);
  damaged[Math.floor(damaged.length * 0.9)][1] = 'step?';
  const { root } = writeCsv(header, damaged);
  const [read] = await assertSameBothWays(root);
  assert.ok(read.warnings.some((w) => /row index used as step/.test(w.message)));
});

test('rows that all share one step (identical values repeated) split anywhere, and every row stays a point', async () => {
  const { header } = corpusRows();
  const rows = Array.from({ length: 12_000 }, (_, i) => ['0', '10', '', '', String((i % 7) / 8), '', '', '']);
  const [read] = await assertSameBothWays(writeCsv(header, rows).root);
  assert.equal(seriesLength(read, 'train_loss_step'), rows.length);
  assert.equal(seriesLength(read, 'epoch'), rows.length);
});

test('an append after a whole read is split too, and continues exactly', async () => {
  const { header, rows } = bigCsvRows(30);
  // The first read ends between the two rows of an epoch end (a validation row whose epoch-end row comes later).
  const cut = rows.findIndex((row, i) => i > rows.length / 3 && rows[i + 1] && row[1] === rows[i + 1][1]) + 1;
  const { root, file } = writeCsv(header, rows.slice(0, cut));
  const [candidate] = await discoverUnder(lightningReader, root);
  process.env.RUNLENS_PARSE_WORKER = 'thread';
  const first = await lightningReader.read(candidate);
  process.env.RUNLENS_PARSE_WORKER = 'worker';
  fs.appendFileSync(file, rows.slice(cut).map((row) => row.join(',')).join('\n') + '\n');
  const previous = new Map((first.cursors ?? []).map((cursor) => [cursor.path, cursor]));
  const readWith = async (mode: 'thread' | 'worker') => {
    process.env.RUNLENS_PARSE_WORKER = mode;
    try {
      return plain(await lightningReader.read(candidate, undefined, previous));
    } finally {
      process.env.RUNLENS_PARSE_WORKER = 'worker';
    }
  };
  const oneThread = await readWith('thread');
  const before = parseWorkerCounts().parsed;
  const twoParts = await readWith('worker');
  assert.ok(parseWorkerCounts().parsed > before, 'the append was split');
  assert.equal(oneThread.runs[0].update, 'append');
  assert.deepEqual(twoParts, oneThread);
});

test('when the worker dies holding its part, this thread parses that part, with the same result', async () => {
  const { header, rows } = bigCsvRows(20);
  const { root } = writeCsv(header, rows);
  const [candidate] = await discoverUnder(lightningReader, root);
  const oneThread = await readInSlices(candidate, 'thread');
  await readInSlices(candidate, 'worker'); // the worker is up
  const failedBefore = parseWorkerCounts().failed;
  endParseWorkerAfterNextRequest();
  const twoParts = await readInSlices(candidate, 'worker');
  assert.ok(parseWorkerCounts().failed > failedBefore, 'the part was not answered');
  assert.deepEqual(twoParts, oneThread);
});

test('without a step column (the row index is the step) a read is never split', async () => {
  const rows = bigCsvRows(20).rows.map(([epoch, , ...cells]) => [epoch, ...cells]);
  const { root } = writeCsv('epoch,train_acc,train_loss_epoch,train_loss_step,val_acc,val_f1,val_loss', rows);
  const [candidate] = await discoverUnder(lightningReader, root);
  const oneThread = await readInSlices(candidate, 'thread');
  const before = parseWorkerCounts().parsed;
  const twoParts = await readInSlices(candidate, 'worker');
  assert.equal(parseWorkerCounts().parsed, before, 'no part went to the worker');
  assert.deepEqual(twoParts, oneThread);
});
