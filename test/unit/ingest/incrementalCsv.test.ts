// Incremental reading of the line-based formats (Lightning CSVLogger, Keras
// CSVLogger, DVCLive) through the real engine and store. Each test copies a
// corpus case, takes the last lines of its growing files off, ingests, and
// appends those same bytes back in pieces (one ending mid-line, one between
// a CR and its LF), re-ingesting after each. After every piece the store must
// hold exactly what a fresh full ingest of the whole lines written so far
// holds, and at the end what a fresh full ingest of the final files holds.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyCorpus, makeTempDir, readExpected } from '../../support/fixtures';
import { ingestPaths, type IngestSummary } from '../../../src/core/ingest/engine';
import { ALL_READERS } from '../../../src/core/ingest/registry';
import { kerasReader } from '../../../src/core/ingest/keras';
import { lightningReader } from '../../../src/core/ingest/lightning';
import { dvcliveReader } from '../../../src/core/ingest/dvclive';
import { listFilesRecursive, toPosixPath } from '../../../src/core/ingest/text';
import type { FileCursor, FormatReader, ParsedSource, RunUpdate } from '../../../src/core/ingest/types';
import type { RunStore } from '../../../src/core/store/types';
import { assertSameNumbers, tempRoot, writeTree } from './helpers';
import { openStore } from '../../../src/core/database/open';

// ---------------------------------------------------------------------------
// Store-side helpers

function freshRunStore(): RunStore {
  return openStore(path.join(makeTempDir('runlens-incremental-db-'), 'runlens.db')).runs;
}

interface SeriesSnapshot {
  steps: number[];
  values: number[];
  walls: number[];
}

interface RunSnapshot {
  name: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  summaries: Record<string, number | string>;
  series: Record<string, SeriesSnapshot>;
}

/** Everything stored, keyed by format, experiment and run key (not by path, so a mirror folder compares equal). */
function snapshot(store: RunStore): Map<string, RunSnapshot> {
  const out = new Map<string, RunSnapshot>();
  for (const summary of store.listRuns({ includeHidden: true }).runs) {
    const run = store.getRun(summary.id)!;
    const series: Record<string, SeriesSnapshot> = {};
    for (const s of run.series) {
      const points = store.readSeries(summary.id, s.key)!;
      series[s.key] = { steps: Array.from(points.steps), values: Array.from(points.values), walls: Array.from(points.walls) };
    }
    out.set(`${summary.format}|${summary.experimentKey}|${summary.runKey}`, {
      name: run.name,
      params: run.params,
      tags: run.tags,
      summaries: run.summaries,
      series,
    });
  }
  return out;
}

function pointCount(snap: Map<string, RunSnapshot>): number {
  let total = 0;
  for (const run of snap.values()) for (const s of Object.values(run.series)) total += s.values.length;
  return total;
}

/** Same runs, names, params, summaries and series, point for point (Object.is: NaN equals NaN, -0 differs from 0). */
function assertSameSnapshot(actual: Map<string, RunSnapshot>, expected: Map<string, RunSnapshot>, label: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${label}: runs`);
  for (const [key, want] of expected) {
    const got = actual.get(key)!;
    assert.equal(got.name, want.name, `${label}: ${key} name`);
    assert.deepEqual(got.params, want.params, `${label}: ${key} params`);
    assert.deepEqual(got.tags, want.tags, `${label}: ${key} tags`);
    assert.deepStrictEqual(got.summaries, want.summaries, `${label}: ${key} summaries`);
    assert.deepEqual(Object.keys(got.series).sort(), Object.keys(want.series).sort(), `${label}: ${key} series keys`);
    for (const [name, series] of Object.entries(want.series)) {
      assertSameNumbers(got.series[name].steps, series.steps, `${label}: ${key} ${name} steps`);
      assertSameNumbers(got.series[name].values, series.values, `${label}: ${key} ${name} values`);
      assertSameNumbers(got.series[name].walls, series.walls, `${label}: ${key} ${name} walls`);
    }
  }
}

/** A fresh store, one full ingest of `dir`, its snapshot. */
async function freshIngest(dir: string): Promise<Map<string, RunSnapshot>> {
  const store = freshRunStore();
  try {
    await ingestPaths(store, ALL_READERS, [dir]);
    return snapshot(store);
  } finally {
    store.close();
  }
}

/** What the writer has finished so far: a copy of `dir` with each growing file cut after its last line feed. */
function completeLinesMirror(dir: string, growing: readonly string[]): string {
  const mirror = path.join(makeTempDir('runlens-mirror-'), path.basename(dir));
  fs.cpSync(dir, mirror, { recursive: true });
  for (const file of growing) {
    const bytes = fs.readFileSync(file);
    const lastLineFeed = bytes.lastIndexOf(0x0a);
    fs.writeFileSync(path.join(mirror, path.relative(dir, file)), bytes.subarray(0, lastLineFeed + 1));
  }
  return mirror;
}

// ---------------------------------------------------------------------------
// File-side helpers

/** Distinct, increasing mtimes, so that no change can hide inside the clock's resolution. */
let clock = Date.now() / 1000 + 10;
function bumpMtime(file: string): void {
  clock += 2;
  fs.utimesSync(file, clock, clock);
}

function appendBytes(file: string, text: string): void {
  fs.appendFileSync(file, text);
  bumpMtime(file);
}

function rewrite(file: string, text: string): void {
  fs.writeFileSync(file, text);
  bumpMtime(file);
}

/** Lines with their line breaks (CRLF or LF kept exactly). */
function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Takes the last `count` lines off `file`; returns them, byte for byte. */
function takeLastLines(file: string, count: number): string {
  const lines = linesOf(fs.readFileSync(file, 'utf8'));
  assert.ok(lines.length > count + 1, `${file} has too few lines for this test`);
  rewrite(file, lines.slice(0, -count).join(''));
  return lines.slice(-count).join('');
}

/**
 * Cuts `text` (whole lines) into pieces that end: after its first line;
 * inside the last field of the second line (a row with every field, one
 * of them cut short, that a reader must not take in yet); between that
 * line's CR and LF (when CRLF); at the end of that line; just before the
 * last line; at the end.
 */
function piecesOf(text: string, delimiter: string): string[] {
  const lines = linesOf(text);
  const cuts = new Set<number>();
  let at = lines[0].length;
  cuts.add(at);
  const second = lines[1];
  const content = second.replace(/\r?\n$/, '');
  cuts.add(at + Math.min(content.lastIndexOf(delimiter) + 3, content.length - 1));
  if (second.endsWith('\r\n')) cuts.add(at + second.length - 1);
  at += second.length;
  cuts.add(at);
  cuts.add(text.length - lines[lines.length - 1].length);
  cuts.add(text.length);
  const sorted = [...cuts].filter((cut) => cut > 0 && cut <= text.length).sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const cut of sorted) {
    if (cut > from) pieces.push(text.slice(from, cut));
    from = cut;
  }
  assert.equal(pieces.join(''), text);
  return pieces;
}

/** The one source `reader` finds under `dir` and the cursors the store holds for it. */
async function candidateAndCursors(reader: FormatReader, dir: string, store: RunStore) {
  const candidates = await reader.discover(await listFilesRecursive(dir));
  assert.equal(candidates.length, 1, `one ${reader.format} source under ${dir}`);
  const [candidate] = candidates;
  const known = store.getSource(candidate.root);
  assert.ok(known, `the store knows ${candidate.root}`);
  const previous = new Map<string, FileCursor>(known.files.map((f) => [f.path, f]));
  return { candidate, previous };
}

/** How the reader would update each run now (it is pure: the store is not touched). */
async function updatesNow(reader: FormatReader, dir: string, store: RunStore): Promise<Record<string, RunUpdate>> {
  const { candidate, previous } = await candidateAndCursors(reader, dir, store);
  const source: ParsedSource = await reader.read(candidate, undefined, previous);
  const out: Record<string, RunUpdate> = {};
  for (const experiment of source.experiments) for (const run of experiment.runs) out[run.key] = run.update ?? 'replace';
  return out;
}

function realCopy(relativeCase: string): string {
  return toPosixPath(fs.realpathSync(copyCorpus(relativeCase)));
}

/**
 * The common scenario. `growing` files have had lines taken off (`removed`);
 * these are appended back piece by piece (all files in step), and after
 * each piece the store is compared with a full ingest of the finished lines.
 * `beforeIngest(step)` may change other files or inspect the reader.
 * Returns the store, still open, for format-specific checks.
 */
async function appendBackAndCompare(
  dir: string,
  removed: ReadonlyMap<string, string>,
  delimiter: string,
  store: RunStore,
  beforeIngest?: (step: number, pieceCount: number) => Promise<void>,
): Promise<void> {
  const pieces = new Map([...removed].map(([file, text]) => [file, piecesOf(text, delimiter)]));
  const steps = Math.max(...[...pieces.values()].map((p) => p.length));
  let before = pointCount(snapshot(store));
  for (let step = 0; step < steps; step++) {
    for (const [file, filePieces] of pieces) if (step < filePieces.length) appendBytes(file, filePieces[step]);
    await beforeIngest?.(step, steps);
    const summary = await ingestPaths(store, ALL_READERS, [dir]);
    assert.deepEqual(summary.warnings, [], `step ${step}: no warnings`);
    const expected = await freshIngest(completeLinesMirror(dir, [...removed.keys()]));
    const actual = snapshot(store);
    assertSameSnapshot(actual, expected, `after piece ${step + 1} of ${steps}`);
    // Only the new points were written: an appended run is not re-read whole.
    const now = pointCount(actual);
    assert.equal(summary.points, now - before, `step ${step}: points written`);
    before = now;
  }
  assertSameSnapshot(snapshot(store), await freshIngest(dir), 'final files, fresh full ingest');
}

/** Ingesting an unchanged tree changes nothing; touching files without new bytes changes nothing either. */
async function assertIdempotent(dir: string, store: RunStore, files: readonly string[]): Promise<void> {
  const snap = snapshot(store);
  const stats = store.stats();
  const again: IngestSummary = await ingestPaths(store, ALL_READERS, [dir]);
  assert.equal(again.sourcesRead, 0, 'nothing re-read');
  assert.equal(again.sourcesUnchanged, again.sourcesFound, 'every source unchanged');
  assert.deepEqual(store.stats(), stats, 'same store stats');
  assertSameSnapshot(snapshot(store), snap, 'second ingest');

  for (const file of files) bumpMtime(file);
  const touched = await ingestPaths(store, ALL_READERS, [dir]);
  assert.ok(touched.sourcesRead >= 1, 'touched files are looked at');
  assert.equal(touched.points, 0, 'no points written for files that did not grow');
  assert.equal(touched.runs, 0, 'every run kept');
  assert.deepEqual(store.stats(), stats, 'same store stats after touching');
  assertSameSnapshot(snapshot(store), snap, 'after touching');
}

// ---------------------------------------------------------------------------

describe('incremental Lightning CSVLogger', () => {
  test('rows appended in pieces (one mid-line, one splitting a same-step merge across reads) equal a full read', async () => {
    const dir = realCopy('logs/lightning-csv/sparse-train-val-rows');
    const metrics = `${dir}/lightning_logs/version_0/metrics.csv`;
    const lines = linesOf(fs.readFileSync(metrics, 'utf8'));
    // The corpus ends with two rows of one (epoch, step): the cut before the
    // last line makes the second of them arrive in a later read than the first.
    const cell = (line: string, index: number) => line.split(',')[index];
    const [last, beforeLast] = [lines[lines.length - 1], lines[lines.length - 2]];
    assert.equal(`${cell(last, 0)},${cell(last, 1)}`, `${cell(beforeLast, 0)},${cell(beforeLast, 1)}`, 'the corpus file ends with a same-step pair');
    const removed = new Map([[metrics, takeLastLines(metrics, 6)]]);

    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'first ingest');
    await appendBackAndCompare(dir, removed, ',', store, async (step, steps) => {
      if (step === steps - 1) assert.deepEqual(await updatesNow(lightningReader, dir, store), { version_0: 'append' });
    });

    // Sanity against the corpus description: every metric column's cells became points.
    const expected = readExpected<Record<string, { per_column: Record<string, { non_empty: number }> }>>('logs/lightning-csv/sparse-train-val-rows');
    const run = snapshot(store).get(`lightning|lightning_logs|version_0`)!;
    for (const [column, { non_empty }] of Object.entries(expected['lightning_logs/version_0'].per_column)) {
      if (column === 'step' || column === 'epoch') continue;
      assert.equal(run.series[column].values.length, non_empty, column);
    }
    await assertIdempotent(dir, store, [metrics, `${dir}/lightning_logs/version_0/hparams.yaml`]);
    store.close();
  });

  test('a new column rewrites metrics.csv: that run is re-read once, the others kept; later rows append again', async () => {
    const dir = realCopy('logs/lightning-csv/column-order-varies');
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    const file = `${dir}/lightning_logs/version_2/metrics.csv`;
    const [header, ...rows] = linesOf(fs.readFileSync(file, 'utf8'));
    const eol = header.endsWith('\r\n') ? '\r\n' : '\n';
    const strip = (line: string) => line.replace(/\r?\n$/, '');
    // What Lightning does when a metric first appears: the whole file again under the wider header.
    const widened = [`${strip(header)},lr_added`, ...rows.map((row) => `${strip(row)},`), strip(rows[rows.length - 1])];
    const newRow = widened[widened.length - 1].split(',');
    newRow[newRow.length - 1] = strip(rows[0]).split(',')[0]; // a real value from the file
    widened[widened.length - 1] = newRow.join(',');
    rewrite(file, widened.map((line) => line + eol).join(''));

    const updates = await updatesNow(lightningReader, dir, store);
    assert.deepEqual(updates, { version_0: 'keep', version_1: 'keep', version_2: 'replace', version_3: 'keep', version_4: 'keep' });
    const summary = await ingestPaths(store, ALL_READERS, [dir]);
    const fresh = await freshIngest(dir);
    assertSameSnapshot(snapshot(store), fresh, 'after the header change');
    const version2 = fresh.get('lightning|lightning_logs|version_2')!;
    assert.equal(summary.runs, 1, 'one run written');
    assert.equal(summary.points, Object.values(version2.series).reduce((n, s) => n + s.values.length, 0), 'that run re-read whole, once');

    // The next rows under the new header append.
    appendBytes(file, widened.slice(1, 3).map((line) => line + eol).join(''));
    assert.deepEqual((await updatesNow(lightningReader, dir, store)).version_2, 'append');
    const before = pointCount(snapshot(store));
    const appended = await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'rows after the header change');
    assert.equal(appended.points, pointCount(snapshot(store)) - before);
    store.close();
  });

  test('a header longer than the head hash covers still notices a new column', async () => {
    const root = tempRoot();
    const columns = Array.from({ length: 80 }, (_, i) => `metric_with_a_long_name_${i}`);
    const rowOf = (step: number, width: number) => [String(Math.floor(step / 10)), String(step), ...Array.from({ length: width }, (_, i) => String((step + 1) / (i + 7)))].join(',');
    const file = `${root}/lightning_logs/version_0/metrics.csv`;
    writeTree(root, { 'lightning_logs/version_0/metrics.csv': [`epoch,step,${columns.join(',')}`, rowOf(0, 80), rowOf(1, 80)].join('\n') + '\n' });
    assert.ok(`epoch,step,${columns.join(',')}`.length > 1024);
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [root]);
    // Rewritten with one more column at the end of the header, beyond the first 1024 bytes, and longer than before.
    const wide = [`epoch,step,${columns.join(',')},late`, `${rowOf(0, 80)},`, `${rowOf(1, 80)},`, `${rowOf(2, 80)},0.5`, `${rowOf(3, 80)},0.25`];
    rewrite(file, wide.join('\n') + '\n');
    assert.deepEqual(await updatesNow(lightningReader, root, store), { version_0: 'replace' });
    const summary = await ingestPaths(store, ALL_READERS, [root]);
    assert.deepEqual(summary.warnings, []);
    assertSameSnapshot(snapshot(store), await freshIngest(root), 'after a long header changed');
    store.close();
  });

  test('hparams.yaml changing alone re-reads the params, keeps the series; shrinking re-reads the run', async () => {
    const dir = realCopy('logs/lightning-csv/sparse-train-val-rows');
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    const hparams = `${dir}/lightning_logs/version_0/hparams.yaml`;
    appendBytes(hparams, 'added_later: 3\n');
    assert.deepEqual(await updatesNow(lightningReader, dir, store), { version_0: 'append' });
    const summary = await ingestPaths(store, ALL_READERS, [dir]);
    assert.equal(summary.points, 0);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after hparams changed');
    assert.equal(snapshot(store).get('lightning|lightning_logs|version_0')!.params.added_later, '3');

    const metrics = `${dir}/lightning_logs/version_0/metrics.csv`;
    takeLastLines(metrics, 10);
    assert.deepEqual(await updatesNow(lightningReader, dir, store), { version_0: 'replace' });
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after the file shrank');
    store.close();
  });
});

describe('incremental Keras CSVLogger', () => {
  const CASE = 'logs/keras-csv/append-mode-restarts';

  test('rows continuing the last session append; an epoch restart appends a new session and keeps the earlier ones', async () => {
    const dir = realCopy(CASE);
    const file = `${dir}/training_log.csv`;
    const expected = readExpected<{ 'segments(epoch resets)': Array<{ rows: number }> }>(CASE)['segments(epoch resets)'];
    // Cut inside the third session, so that the pieces first continue it and then start the fourth.
    const lastSession = expected[expected.length - 1].rows;
    const removed = new Map([[file, takeLastLines(file, lastSession + 3)]]);
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    assert.equal(snapshot(store).size, expected.length - 1);

    const seen: Array<Record<string, RunUpdate>> = [];
    await appendBackAndCompare(dir, removed, ',', store, async () => {
      seen.push(await updatesNow(kerasReader, dir, store));
    });
    // First piece: one more row of session 3.
    assert.deepEqual(seen[0], { 'segment-1': 'keep', 'segment-2': 'keep', 'segment-3': 'append' });
    // The piece that brings the restart: earlier sessions kept, the new one is new.
    const restart = seen.find((updates) => 'segment-4' in updates)!;
    assert.equal(restart['segment-1'], 'keep');
    assert.equal(restart['segment-2'], 'keep');
    assert.equal(restart['segment-4'], 'replace');
    // The last piece only continues session 4.
    assert.deepEqual(seen[seen.length - 1], { 'segment-1': 'keep', 'segment-2': 'keep', 'segment-3': 'keep', 'segment-4': 'append' });

    const runs = snapshot(store);
    assert.equal(runs.size, expected.length);
    expected.forEach((segment, index) => {
      assert.equal(runs.get(`keras|training_log.csv|segment-${index + 1}`)!.series.accuracy.values.length, segment.rows, `segment ${index + 1} rows`);
    });
    await assertIdempotent(dir, store, [file]);
    store.close();
  });

  test('a lone session is renamed when a second one starts; a rewritten file replaces every session', async () => {
    const dir = realCopy(CASE);
    const file = `${dir}/training_log.csv`;
    const original = fs.readFileSync(file, 'utf8');
    const firstSession = readExpected<{ 'segments(epoch resets)': Array<{ rows: number }> }>(CASE)['segments(epoch resets)'][0].rows;
    const lines = linesOf(original);
    const rest = takeLastLines(file, lines.length - 1 - firstSession);
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    assert.equal(snapshot(store).get('keras|training_log.csv|segment-1')!.name, 'training_log.csv');

    appendBytes(file, linesOf(rest).slice(0, 2).join(''));
    assert.deepEqual(await updatesNow(kerasReader, dir, store), { 'segment-1': 'append', 'segment-2': 'replace' });
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after the second session started');
    assert.equal(snapshot(store).get('keras|training_log.csv|segment-1')!.name, 'training_log.csv #1');

    // Keras without append=True truncates and starts over: fewer sessions, all re-read, the vanished ones gone.
    rewrite(file, lines.slice(0, 3).join(''));
    assert.deepEqual(await updatesNow(kerasReader, dir, store), { 'segment-1': 'replace' });
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after a rewrite');
    assert.equal(snapshot(store).size, 1);
    store.close();
  });

  test('a finished file without a final line break is read whole; when it grows its sessions are re-read', async () => {
    const dir = realCopy(CASE);
    const file = `${dir}/training_log.csv`;
    const lines = linesOf(fs.readFileSync(file, 'utf8'));
    const kept = lines.slice(0, 8);
    rewrite(file, kept.join('').replace(/\r\n$/, ''));
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    const fresh = await freshIngest(dir);
    assertSameSnapshot(snapshot(store), fresh, 'unterminated last row');
    assert.equal(fresh.get('keras|training_log.csv|segment-2')!.series.accuracy.values.length, 2, 'the row without its CRLF is a point');

    appendBytes(file, `\r\n${lines.slice(8, 12).join('')}`);
    const updates = await updatesNow(kerasReader, dir, store);
    assert.ok(Object.values(updates).every((u) => u === 'replace'), JSON.stringify(updates));
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after it grew');
    store.close();
  });
});

describe('incremental DVCLive', () => {
  test('TSV rows appended in pieces and metrics.json rewritten each step equal a full read', async () => {
    const dir = realCopy('logs/dvclive/lightning-hydra-nested');
    const live = `${dir}/dvclive`;
    const tsvs = (await listFilesRecursive(`${live}/plots/metrics`)).filter((file) => file.endsWith('.tsv'));
    assert.ok(tsvs.length >= 5);
    const summaryFile = `${live}/metrics.json`;
    const finalSummary = fs.readFileSync(summaryFile, 'utf8');
    const finalStep = (JSON.parse(finalSummary) as { step: number }).step;
    // DVCLive rewrites metrics.json at every step; `step` has no TSV, so it is a summary.
    const summaryAt = (step: number) => finalSummary.replace(`"step": ${finalStep}`, `"step": ${step}`);
    rewrite(summaryFile, summaryAt(1));
    const removed = new Map(tsvs.map((file) => [file, takeLastLines(file, 4)]));

    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    const runKey = 'dvclive|lightning-hydra-nested|dvclive';
    assert.equal(snapshot(store).get(runKey)!.summaries.step, 1);
    await appendBackAndCompare(dir, removed, '\t', store, async (step, steps) => {
      rewrite(summaryFile, step === steps - 1 ? finalSummary : summaryAt(step + 2));
      assert.deepEqual(await updatesNow(dvcliveReader, dir, store), { dvclive: 'append' });
    });
    assert.equal(snapshot(store).get(runKey)!.summaries.step, finalStep, 'the summary follows the rewritten metrics.json');
    assert.equal('train/loss' in snapshot(store).get(runKey)!.summaries, false, 'a key with a series is no summary');
    await assertIdempotent(dir, store, [...tsvs, summaryFile, `${live}/params.yaml`]);
    store.close();
  });

  test('DVCLive 0.x scalars with timestamps; a new TSV appears; a TSV rewritten (resume=False) re-reads the run', async () => {
    const dir = realCopy('logs/dvclive/legacy-v0-scalars-timestamp');
    const scalars = `${dir}/dvclive/scalars`;
    const tsvs = (await listFilesRecursive(scalars)).filter((file) => file.endsWith('.tsv'));
    const removed = new Map(tsvs.map((file) => [file, takeLastLines(file, 4)]));
    const store = freshRunStore();
    await ingestPaths(store, ALL_READERS, [dir]);
    await appendBackAndCompare(dir, removed, '\t', store);

    // A metric logged for the first time: its whole file is appended as a new series.
    const lossLines = linesOf(fs.readFileSync(`${scalars}/train/loss.tsv`, 'utf8'));
    writeTree(dir, { 'dvclive/scalars/train/lr.tsv': lossLines.slice(0, 3).join('').replace('train/loss', 'train/lr') });
    assert.deepEqual(await updatesNow(dvcliveReader, dir, store), { dvclive: 'append' });
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after a new TSV');

    // A new session without resume starts the TSVs over.
    rewrite(`${scalars}/eval/acc.tsv`, lossLines.slice(0, 2).join('').replace('train/loss', 'eval/acc'));
    assert.deepEqual(await updatesNow(dvcliveReader, dir, store), { dvclive: 'replace' });
    await ingestPaths(store, ALL_READERS, [dir]);
    assertSameSnapshot(snapshot(store), await freshIngest(dir), 'after a TSV was rewritten');
    await assertIdempotent(dir, store, tsvs);
    store.close();
  });
});
