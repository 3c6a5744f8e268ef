// A big MLflow metric-file read split in two parts on two cores
// (mlflowMetricParts.ts, parseWorker.ts) must return exactly what one read
// on one thread returns: every point (NaN and -0 included), the cursor with
// its state, and every problem with its line number, for whole files, for
// slices that resume at a cursor, and when the worker cannot take its part.
// The lines are the corpus's real MLflow metric lines, made long enough to
// split and damaged in the ways real files are.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProblemLog, readMetricFile } from '../../../src/core/ingest/mlflowMetricFile';
import { partsAheadCounts, readMetricFileInParts, readMetricPart } from '../../../src/core/ingest/mlflowMetricParts';
import { endParseWorkerAfterNextRequest, parsePartOnWorker, parseWorkerCounts, parseWorkerRunning, stopParseWorker } from '../../../src/core/ingest/parseWorker';
import type { FileCursor } from '../../../src/core/ingest/types';
import { corpusDir } from '../../support/fixtures';
import { splitEveryReadInThisFile, tempRoot } from './helpers';

splitEveryReadInThisFile();

/** The real metric lines of the corpus's MLflow runs ("timestamp value step"). */
function corpusMetricLines(): string[] {
  const root = path.join(corpusDir(), 'logs', 'mlflow');
  const lines: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || !full.split(path.sep).includes('metrics')) continue;
    for (const line of fs.readFileSync(full, 'utf8').split('\n')) if (line.trim() !== '') lines.push(line);
  }
  assert.ok(lines.length >= 20, `the corpus has MLflow metric lines (found ${lines.length})`);
  return lines;
}

/** `count` lines made from the real ones, each with its own step and time, so that no two points are alike. */
function metricLines(count: number): string[] {
  const real = corpusMetricLines();
  return Array.from({ length: count }, (_, i) => {
    const [time, value] = real[i % real.length].split(' ');
    return `${Number(time) + i * 37} ${value} ${i}`;
  });
}

interface PlainRead {
  steps: number[];
  values: number[];
  walls: number[];
  cursor: FileCursor;
  conflict: boolean;
  problems: string[];
  problemCount: number;
}

function plain(read: { series: { steps: Float64Array; values: Float64Array; walls: Float64Array }; cursor: FileCursor; conflict: boolean }, problems: ProblemLog): PlainRead {
  return {
    steps: Array.from(read.series.steps),
    values: Array.from(read.series.values),
    walls: Array.from(read.series.walls),
    cursor: read.cursor,
    conflict: read.conflict,
    problems: problems.messages,
    problemCount: problems.count,
  };
}

/** The file read in reads of at most `maxBytes`, each resuming at the cursor before, one way and the other; each read's result. */
async function readBothWays(file: string, maxBytes = Infinity, resume?: FileCursor) {
  const oneThread: PlainRead[] = [];
  const twoParts: PlainRead[] = [];
  for (const [out, read] of [
    [oneThread, readMetricFile],
    [twoParts, readMetricFileInParts],
  ] as const) {
    let cursor = resume;
    for (let reads = 0; reads < 1000; reads++) {
      const problems = new ProblemLog(file);
      const result = await read(file, problems, cursor, undefined, maxBytes);
      out.push(plain(result, problems));
      if (result.cursor.offset === cursor?.offset || result.cursor.offset >= fs.statSync(file).size) break;
      cursor = result.cursor;
    }
  }
  return { oneThread, twoParts };
}

async function assertSameBothWays(file: string, maxBytes = Infinity, resume?: FileCursor) {
  const before = parseWorkerCounts().parsed;
  const { oneThread, twoParts } = await readBothWays(file, maxBytes, resume);
  assert.deepEqual(twoParts, oneThread);
  assert.ok(parseWorkerCounts().parsed > before, 'the worker parsed parts');
  return oneThread;
}

test('a whole file read in two parts equals one read, on real lines', async () => {
  const file = path.join(tempRoot(), 'loss');
  fs.writeFileSync(file, metricLines(5000).join('\n') + '\n');
  const [read] = await assertSameBothWays(file);
  assert.equal(read.values.length, 5000);
  assert.ok(parseWorkerRunning());
});

test('a small file whose head hash reaches past the split hashes its whole head, as one read does', async () => {
  const file = path.join(tempRoot(), 'loss');
  fs.writeFileSync(file, metricLines(40).join('\n') + '\n');
  assert.ok(fs.statSync(file).size > 1024 && fs.statSync(file).size < 2048, 'about twice the 1 KiB head');
  await assertSameBothWays(file);
});

test('slices that resume at a cursor are split the same way, and their cursors equal one thread\'s', async () => {
  const file = path.join(tempRoot(), 'loss');
  fs.writeFileSync(file, metricLines(4000).join('\n') + '\n');
  const takenBefore = partsAheadCounts.taken;
  const reads = await assertSameBothWays(file, 17_000);
  assert.ok(reads.length >= 5, `read in ${reads.length} slices`);
  assert.equal(reads.reduce((n, r) => n + r.values.length, 0), 4000);
  // Each slice but the first (and the last, which the file's end cuts short) found its worker part asked for ahead.
  assert.ok(partsAheadCounts.taken - takenBefore >= reads.length - 2, `${partsAheadCounts.taken - takenBefore} parts taken ahead in ${reads.length} slices`);
});

test('a part asked for ahead is not taken when the file changed, the next read starts elsewhere, or the worker was stopped', async () => {
  const file = path.join(tempRoot(), 'loss');
  const lines = metricLines(4000);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const slice = async (cursor: FileCursor | undefined, read = readMetricFileInParts) => {
    const problems = new ProblemLog(file);
    return plain(await read(file, problems, cursor, undefined, 20_000), problems);
  };

  // The file grew after the first slice: the second slice is read afresh, and equals one thread's read of it.
  const first = await slice(undefined);
  fs.appendFileSync(file, `${lines[0]}\n`);
  const cancelledBefore = partsAheadCounts.cancelled;
  const takenBefore = partsAheadCounts.taken;
  assert.deepEqual(await slice(first.cursor), await slice(first.cursor, readMetricFile));
  assert.equal(partsAheadCounts.cancelled, cancelledBefore + 1);
  assert.equal(partsAheadCounts.taken, takenBefore);

  // The same slice twice (the second is not the one asked for): each cancels the part asked for
  // after the read before it, and the two are alike.
  const again = await slice(undefined);
  const repeated = await slice(undefined);
  assert.deepEqual(repeated, again);
  assert.equal(partsAheadCounts.cancelled, cancelledBefore + 3);

  // A stopped worker takes its parts with it; the next read asks the new worker.
  stopParseWorker();
  const afterStop = await slice(repeated.cursor);
  assert.deepEqual(afterStop, await slice(repeated.cursor, readMetricFile));
  assert.equal(partsAheadCounts.taken, takenBefore);
  assert.equal(partsAheadCounts.cancelled, cancelledBefore + 3, 'the stopped worker\'s part was forgotten, not cancelled by a read');
});

test('problems in both parts keep their line numbers, counts past the kept few add up, NaN and infinities stay data', async () => {
  const lines = metricLines(3000);
  // 5 bad lines in the first half and 25 in the second (more than a part keeps), so that the kept
  // messages come from both parts and the second part's count goes past what it sends.
  const bad = [...[100, 400, 700, 1000, 1300], ...Array.from({ length: 25 }, (_, k) => 1625 + k * 50)];
  for (const i of bad) lines[i] = i % 100 === 0 ? 'not a metric line' : `${1_700_000_000_000 + i} 0.5 step${i}`;
  lines[10] = '1700000000000 nan 10';
  lines[2990] = '1700000000000 -inf 2990';
  lines[1500] = '1700000000000 -0 1500';
  lines[1501] = '';
  lines[2500] = '  1700000000000\t0.25   2500  ';
  const file = path.join(tempRoot(), 'acc');
  // CRLF line breaks, the last one cut after its CR (the LF is still to come).
  fs.writeFileSync(file, lines.join('\r\n') + '\r');
  const [read] = await assertSameBothWays(file);
  assert.equal(read.problemCount, 30);
  assert.equal(read.problems.length, 20);
  assert.match(read.problems[0], /^line 101: /);
  assert.match(read.problems[5], /^line 1626: /);
  assert.match(read.problems[19], /^line 2326: /);
  assert.equal((read.cursor.state as { cr?: boolean }).cr, true);
  assert.ok(Object.is(read.values[10], NaN) && read.values.includes(-Infinity));
  assert.ok(read.values.some((v) => Object.is(v, -0)));
});

test('an unfinished last line is judged by the column count of the file\'s first line, which only the first part saw', async () => {
  // MLflow 3 lines have more columns; the last line, still being written, has fewer than the first one.
  const lines = metricLines(3000);
  lines[0] = `${lines[0]} 0123456789abcdef dataset-name`;
  const file = path.join(tempRoot(), 'loss');
  fs.writeFileSync(file, lines.join('\n') + '\n1700000999999 0.125 3000');
  const [read] = await assertSameBothWays(file);
  assert.equal(read.values.length, 3000, 'the unfinished 3-column line after a 5-column first line is not a point yet');
  assert.equal(read.cursor.state && (read.cursor.state as { tail?: string }).tail, undefined);

  // A finished file without its last line break: the last line has all its columns, so it counts.
  fs.writeFileSync(file, metricLines(3000).join('\n'));
  const [whole] = await assertSameBothWays(file);
  assert.equal(whole.values.length, 3000);
  assert.equal(typeof (whole.cursor.state as { tail?: string }).tail, 'string');
});

test('an append read after a returned unfinished line is split too, and a changed tail is still a conflict', async () => {
  const file = path.join(tempRoot(), 'loss');
  const lines = metricLines(6000);
  fs.writeFileSync(file, lines.slice(0, 100).join('\n'));
  const problems = new ProblemLog(file);
  const first = await readMetricFile(file, problems, undefined, undefined);
  assert.equal(first.series.values.length, 100);
  fs.appendFileSync(file, '\n' + lines.slice(100).join('\n') + '\n');
  await assertSameBothWays(file, Infinity, first.cursor);

  // The returned last line was cut inside its step: rewritten, it is a conflict either way.
  fs.writeFileSync(file, lines.slice(0, 99).join('\n') + '\n' + lines[99] + '0\n' + lines.slice(100).join('\n') + '\n');
  const { oneThread, twoParts } = await readBothWays(file, Infinity, first.cursor);
  assert.equal(oneThread[0].conflict, true);
  assert.deepEqual(twoParts, oneThread);
});

test('when the worker dies holding its part, this thread reads that part itself, with the same result', async () => {
  const file = path.join(tempRoot(), 'loss');
  const lines = metricLines(4000);
  lines[3500] = 'garbage';
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const expected = new ProblemLog(file);
  const oneThread = plain(await readMetricFile(file, expected, undefined, undefined), expected);

  await parsePartOnWorker({ type: 'mlflow-metric-part', file, dev: 0n, ino: 0n, from: 0, maxBytes: 1 }); // the worker is up
  const failedBefore = parseWorkerCounts().failed;
  endParseWorkerAfterNextRequest();
  const problems = new ProblemLog(file);
  const twoParts = plain(await readMetricFileInParts(file, problems, undefined, undefined), problems);
  assert.ok(parseWorkerCounts().failed > failedBefore || !parseWorkerRunning(), 'the part was not answered');
  assert.deepEqual(twoParts, oneThread);
  assert.match(twoParts.problems[0], /^line 3501: /);
});

test('a part names its file by identity: another file at that path is refused, and the reader reads that part itself', async () => {
  const file = path.join(tempRoot(), 'loss');
  fs.writeFileSync(file, metricLines(100).join('\n') + '\n');
  const st = fs.statSync(file, { bigint: true });
  assert.equal(await readMetricPart(file, st.dev, st.ino + 1n, 0, Infinity), 'replaced');
  const part = await readMetricPart(file, st.dev, st.ino, 0, Infinity);
  assert.notEqual(part, 'replaced');
  assert.equal(part !== 'replaced' && part.values.length, 100);

  const reply = await parsePartOnWorker({ type: 'mlflow-metric-part', file, dev: st.dev, ino: st.ino + 1n, from: 0, maxBytes: null });
  assert.equal(reply?.type, 'failed');
  assert.equal(reply?.type === 'failed' && reply.replaced, true);
});

test('RUNLENS_PARSE_WORKER=thread keeps every read whole on this thread', async () => {
  process.env.RUNLENS_PARSE_WORKER = 'thread';
  try {
    const file = path.join(tempRoot(), 'loss');
    fs.writeFileSync(file, metricLines(3000).join('\n') + '\n');
    const problems = new ProblemLog(file);
    const read = await readMetricFileInParts(file, problems, undefined, undefined);
    assert.equal(read.series.values.length, 3000);
    assert.equal(parseWorkerRunning(), false, 'no worker was started');
  } finally {
    process.env.RUNLENS_PARSE_WORKER = 'worker';
  }
});

test('a budget that ends inside a long line is kept: the split only lands where the second part can stop within it', async () => {
  // Ten short lines, one 230-byte line that a 300-byte budget cuts, then more: one read stops after the ten.
  const file = path.join(tempRoot(), 'loss');
  const short = Array.from({ length: 10 }, (_, i) => `${1700000000000 + i} 0.5 ${i}`);
  const long = `1700000000099 0.${'1'.repeat(200)} 99`;
  fs.writeFileSync(file, [...short, long, ...metricLines(50)].join('\n') + '\n');
  const { oneThread, twoParts } = await readBothWays(file, 300);
  assert.equal(oneThread[0].values.length, 10);
  assert.equal(oneThread[0].cursor.offset, Buffer.byteLength(short.join('\n') + '\n'));
  assert.deepEqual(twoParts, oneThread);
});

test('a part asked for ahead is not taken after a same-size rewrite in place whose modification time was put back', async () => {
  const file = path.join(tempRoot(), 'loss');
  const lines = Array.from({ length: 400 }, (_, i) => `${1700000000000 + i} 0.500 ${i}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  fs.utimesSync(file, 1700000000, 1700000000);
  const first = await readMetricFileInParts(file, new ProblemLog(file), undefined, undefined, 3000);
  // rsync --inplace -t, touch -r: every value rewritten, same size, the old mtime restored. Only the ctime tells.
  fs.writeFileSync(file, lines.map((line) => line.replace(' 0.500 ', ' 0.999 ')).join('\n') + '\n');
  fs.utimesSync(file, 1700000000, 1700000000);
  const takenBefore = partsAheadCounts.taken;
  const problems = new ProblemLog(file);
  const second = plain(await readMetricFileInParts(file, problems, first.cursor, undefined, 3000), problems);
  const expected = new ProblemLog(file);
  assert.deepEqual(second, plain(await readMetricFile(file, expected, first.cursor, undefined, 3000), expected));
  assert.ok(second.values.every((value) => value === 0.999));
  assert.equal(partsAheadCounts.taken, takenBefore);
});
