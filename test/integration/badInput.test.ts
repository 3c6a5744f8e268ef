// Bad input made from the REAL corpus files, through the real CLI. Every case
// damages a copy of a corpus case and checks, against an undamaged copy
// ingested the same way:
// - no crash: exit code 0, no internal error, no stack trace (see below);
// - a warning on stderr naming the damaged file and the byte offset or line
//   (in `ingest --json` output too);
// - nothing that could be read is lost: the export of the damaged copy equals,
//   point for point, the export of a copy that simply lacks the damaged part
//   (the cut record, the flipped record, the garbage line...).
//
// Exit codes, decided: damaged or unreadable logs are data problems, reported
// as warnings; the command still did its job (ingest what can be read), so it
// exits 0, even when nothing at all was readable. 1 stays for user errors
// (bad arguments, a PATH that does not exist), 2 for internal errors.
//
// Symbolic links are not followed (src/core/ingest/walk.ts: they loop and lead
// outside the workspace), and that is not a warning: it would flag every
// harmless link (Hydra's and W&B's `latest` links) as "a file with problems"
// on every re-index. The symlink-loop case checks termination and no
// duplicate runs, not a warning.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  assertNoCrash,
  assertWarned,
  findFiles,
  framedRecords,
  garbageBytes,
  insertLines,
  openToOthers,
  runCli,
  unprivilegedPrefix,
  warningLines,
  type FramedRecord,
} from '../support/badInput';
import { assertExportShape, assertSameRuns, runsFromExport, type RunView } from '../support/corpusExpectations';
import { copyCorpus, makeTempDir } from '../support/fixtures';

// Every copyCorpus/makeTempDir adds a process 'exit' listener (test/support/fixtures.ts); this file makes more than 10 copies.
process.setMaxListeners(100);

const TB_CASE = 'logs/tensorboard/lightning-lstm-single-file';
const TB_MULTI_RUN_CASE = 'logs/tensorboard/tf1-estimator-simple-value';
const MLFLOW_CASE = 'logs/mlflow/sb3-rl-nested-metric-keys';
const LIGHTNING_CASE = 'logs/lightning-csv/sparse-train-val-rows';
const LIGHTNING_VERSIONS_CASE = 'logs/lightning-csv/column-order-varies';
const KERAS_CASE = 'logs/keras-csv/append-mode-restarts';

interface Exported {
  runs: RunView[];
  stderr: string;
}

function exportRuns(dir: string, prefix?: string[]): Exported {
  const r = runCli(['export', dir, '--json'], { prefix });
  assertNoCrash(r, `export ${dir}`);
  const json: unknown = JSON.parse(r.stdout);
  assertExportShape(json, dir);
  return { runs: runsFromExport(json), stderr: r.stderr };
}

interface IngestJson {
  runs: number;
  points: number;
  warnings: { file: string; message: string }[];
}

/** `runlens ingest DIR --json --db <fresh db>`: exit code, stderr and the JSON summary. */
function ingest(dir: string, prefix?: string[], dbDir = makeTempDir('runlens-bad-db-')): { summary: IngestJson; stderr: string } {
  const r = runCli(['ingest', dir, '--json', '--db', path.join(dbDir, 'bad.db')], { prefix });
  assertNoCrash(r, `ingest ${dir}`);
  return { summary: JSON.parse(r.stdout) as IngestJson, stderr: r.stderr };
}

/** Runs the damaged copy through `ingest` and `export`; both must warn about `file` at `where`. */
function damagedRun(dir: string, file: string, where: string | RegExp, prefix?: string[], dbDir?: string): Exported {
  const ingested = ingest(dir, prefix, dbDir);
  assertWarned(ingested.stderr, file, where);
  assert.ok(
    ingested.summary.warnings.some((w) => w.file === file && (typeof where === 'string' ? w.message.includes(where) : where.test(`${w.file}: ${w.message}`))),
    `ingest --json lists the warning for ${file}: ${JSON.stringify(ingested.summary.warnings)}`,
  );
  const exported = exportRuns(dir, prefix);
  assertWarned(exported.stderr, file, where);
  assert.equal(ingested.summary.points, countPoints(exported.runs), 'ingest and export agree on the points');
  return exported;
}

function countPoints(runs: readonly RunView[]): number {
  return runs.reduce((n, r) => n + Object.values(r.metrics).reduce((m, s) => m + s.steps.length, 0), 0);
}

function onlyEventFile(dir: string): string {
  const files = findFiles(dir, (rel) => path.posix.basename(rel).startsWith('events.out.tfevents.'));
  assert.equal(files.length, 1, `one event file in ${dir}`);
  return files[0];
}

/** The same file in a second copy of the case. */
function sameFileIn(copy: string, file: string, fromCopy: string): string {
  return path.join(copy, path.relative(fromCopy, file));
}

/** A record in the middle of the file that carries a scalar (the middle of a long scalar run). */
function middleRecord(records: FramedRecord[]): FramedRecord {
  return records[Math.floor(records.length / 2)];
}

describe('TensorBoard event files damaged', () => {
  test('cut in the middle of a record: every complete record before the cut is kept', () => {
    const damaged = copyCorpus(TB_CASE);
    const reference = copyCorpus(TB_CASE);
    const undamaged = copyCorpus(TB_CASE);
    const file = onlyEventFile(damaged);
    const bytes = fs.readFileSync(file);
    const cutRecord = middleRecord(framedRecords(bytes));
    const cut = cutRecord.start + 12 + Math.floor(cutRecord.dataLength / 2);
    fs.truncateSync(file, cut);
    // The reference ends cleanly at the record boundary before the cut.
    fs.truncateSync(sameFileIn(reference, file, damaged), cutRecord.start);

    const got = exportRuns(damaged);
    ingest(damaged);
    assertSameRuns(got.runs, exportRuns(reference).runs, 'cut file vs file ending at the last whole record');
    // ... which is a prefix of the whole file, series by series.
    const whole = exportRuns(undamaged).runs;
    assert.ok(countPoints(got.runs) > 0 && countPoints(got.runs) < countPoints(whole), 'about half the points');
    for (const run of got.runs) {
      const full = whole.find((r) => r.path === run.path)!;
      for (const [key, series] of Object.entries(run.metrics)) {
        for (const column of ['steps', 'values', 'walls'] as const) {
          series[column].forEach((v, i) => Object.is(v, full.metrics[key][column][i]) || assert.fail(`${run.path} ${key} ${column}[${i}] is not the whole file's`));
        }
      }
    }
  });

  // A record cut short at the end of a file is what a live writer's file looks
  // like between two writes, so the reader waits for it silently. Once the
  // writer is evidently gone (no write for an hour), the cut is damage and
  // should be reported with the file and the byte offset of the cut record.
  test(
    'cut in the middle of a record, file not written for an hour: a warning names the file and the offset of the cut record',

    () => {
      const damaged = copyCorpus(TB_CASE);
      const file = onlyEventFile(damaged);
      const cutRecord = middleRecord(framedRecords(fs.readFileSync(file)));
      fs.truncateSync(file, cutRecord.start + 12 + Math.floor(cutRecord.dataLength / 2));
      const anHourAgo = new Date(Date.now() - 3600_000);
      fs.utimesSync(file, anHourAgo, anHourAgo);
      damagedRun(damaged, file, `byte ${cutRecord.start}`);
    },
  );

  test('one byte flipped in a record\'s data: that record is skipped and reported by offset, the rest kept', () => {
    const damaged = copyCorpus(TB_CASE);
    const reference = copyCorpus(TB_CASE);
    const file = onlyEventFile(damaged);
    const bytes = fs.readFileSync(file);
    const hit = middleRecord(framedRecords(bytes));
    const flipped = Buffer.from(bytes);
    flipped[hit.start + 12 + Math.floor(hit.dataLength / 2)] ^= 0xff;
    fs.writeFileSync(file, flipped);
    fs.writeFileSync(sameFileIn(reference, file, damaged), Buffer.concat([bytes.subarray(0, hit.start), bytes.subarray(hit.end)]));

    const got = damagedRun(damaged, file, `byte ${hit.start}`);
    const want = exportRuns(reference);
    assertSameRuns(got.runs, want.runs, 'flipped record vs file without that record');
    assert.equal(warningLines(got.stderr).length, 1, `one warning:\n${got.stderr}`);
  });

  test('one byte flipped in a record\'s length: reported by offset, reading resumes at the next record', () => {
    const damaged = copyCorpus(TB_CASE);
    const reference = copyCorpus(TB_CASE);
    const file = onlyEventFile(damaged);
    const bytes = fs.readFileSync(file);
    const hit = middleRecord(framedRecords(bytes));
    const flipped = Buffer.from(bytes);
    flipped[hit.start] ^= 0x01;
    fs.writeFileSync(file, flipped);
    fs.writeFileSync(sameFileIn(reference, file, damaged), Buffer.concat([bytes.subarray(0, hit.start), bytes.subarray(hit.end)]));

    const got = damagedRun(damaged, file, `byte ${hit.start}`);
    assertSameRuns(got.runs, exportRuns(reference).runs, 'damaged header vs file without that record');
  });

  test('garbage bytes named like an event file, beside a real one: reported at byte 0, the real run intact', () => {
    const damaged = copyCorpus(TB_CASE);
    const reference = copyCorpus(TB_CASE);
    const real = onlyEventFile(damaged);
    const garbage = path.join(path.dirname(real), 'events.out.tfevents.1716735999.garbage-host.1.0');
    fs.writeFileSync(garbage, garbageBytes(256 * 1024));

    const got = damagedRun(damaged, garbage, 'byte 0');
    assertSameRuns(got.runs, exportRuns(reference).runs, 'with a garbage event file vs without');
  });

  test('a folder holding nothing but a garbage event file: exit 0, a warning, no points', () => {
    const dir = path.join(makeTempDir(), 'only-garbage');
    const garbage = path.join(dir, 'run', 'events.out.tfevents.1700000000.host.1.0');
    fs.mkdirSync(path.dirname(garbage), { recursive: true });
    fs.writeFileSync(garbage, garbageBytes(4096, 7));
    const got = damagedRun(dir, garbage, 'byte 0');
    assert.equal(countPoints(got.runs), 0);
  });

  test('an empty event file beside a real one: no crash, the real run intact', () => {
    const damaged = copyCorpus(TB_CASE);
    const reference = copyCorpus(TB_CASE);
    const real = onlyEventFile(damaged);
    fs.writeFileSync(path.join(path.dirname(real), 'events.out.tfevents.1716735700.empty-host.1.0'), '');
    const alone = path.join(path.dirname(path.dirname(real)), 'version_9', 'events.out.tfevents.1716735700.alone.1.0');
    fs.mkdirSync(path.dirname(alone));
    fs.writeFileSync(alone, '');
    const got = exportRuns(damaged);
    ingest(damaged);
    const want = exportRuns(reference);
    // The empty file alone in a folder may show as a run without points; the real run must be exactly as before.
    assertSameRuns(got.runs.filter((r) => countPoints([r]) > 0), want.runs, 'with empty event files vs without');
  });

  test(
    'an empty event file not written for an hour: a warning names it',

    () => {
      const damaged = copyCorpus(TB_CASE);
      const real = onlyEventFile(damaged);
      const empty = path.join(path.dirname(real), 'events.out.tfevents.1716735700.empty-host.1.0');
      fs.writeFileSync(empty, '');
      const anHourAgo = new Date(Date.now() - 3600_000);
      fs.utimesSync(empty, anHourAgo, anHourAgo);
      damagedRun(damaged, empty, /byte 0|empty|no (complete )?record/);
    },
  );
});

describe('text logs damaged', () => {
  test('an MLflow metric file with garbage lines: each reported by line, every other point kept', () => {
    const damaged = copyCorpus(MLFLOW_CASE);
    const reference = copyCorpus(MLFLOW_CASE);
    // The longest metric history of the case.
    const metricFiles = findFiles(damaged, (rel) => /\/metrics\/.+/.test(rel));
    const lineCount = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length;
    const file = metricFiles.reduce((best, f) => (lineCount(f) > lineCount(best) ? f : best));
    assert.ok(lineCount(file) >= 10, `${file} has a history`);
    insertLines(file, [
      [4, 'this is not a metric line'],
      [9, '1675439200000 notanumber 7'],
    ]);

    const got = damagedRun(damaged, file, 'line 4');
    assertWarned(got.stderr, file, 'line 9');
    assertSameRuns(got.runs, exportRuns(reference).runs, 'with garbage lines vs without');
  });

  test('a Lightning metrics.csv with ragged rows (too few and too many fields): each reported by line, the rest kept', () => {
    const damaged = copyCorpus(LIGHTNING_CASE);
    const reference = copyCorpus(LIGHTNING_CASE);
    const [file] = findFiles(damaged, (rel) => rel.endsWith('/metrics.csv'));
    insertLines(file, [
      [11, '0,999,1.0'],
      [21, '0,499,,,0.5,,,,,extra'],
    ]);
    const got = damagedRun(damaged, file, 'line 11');
    assertWarned(got.stderr, file, 'line 21');
    assertSameRuns(got.runs, exportRuns(reference).runs, 'with ragged rows vs without');
  });

  test('a Keras CSVLogger file (CRLF) with ragged rows: each reported by line, sessions and points kept', () => {
    const damaged = copyCorpus(KERAS_CASE);
    const reference = copyCorpus(KERAS_CASE);
    const [file] = findFiles(damaged, (rel) => rel.endsWith('.csv'));
    insertLines(file, [
      [4, '2,0.5'],
      [13, '3,1,2,3,4,5,6,7'],
    ]);
    const got = damagedRun(damaged, file, 'line 4');
    assertWarned(got.stderr, file, 'line 13');
    assertSameRuns(got.runs, exportRuns(reference).runs, 'with ragged rows vs without');
  });
});

describe('the file system in the way', () => {
  test('an unreadable run folder and an unreadable metrics file: both named, every other run intact', (t) => {
    const user = unprivilegedPrefix();
    if ('skip' in user) {
      t.skip(user.skip);
      return;
    }
    const damaged = copyCorpus(LIGHTNING_VERSIONS_CASE);
    const reference = copyCorpus(LIGHTNING_VERSIONS_CASE);
    openToOthers(damaged);
    const dbDir = makeTempDir('runlens-bad-db-');
    fs.chmodSync(dbDir, 0o777);
    const hiddenDir = path.join(damaged, 'lightning_logs', 'version_2');
    const hiddenFile = path.join(damaged, 'lightning_logs', 'version_3', 'metrics.csv');
    assert.ok(fs.existsSync(hiddenDir) && fs.existsSync(hiddenFile), 'the case still has version_2 and version_3');
    fs.chmodSync(hiddenDir, 0o000);
    fs.chmodSync(hiddenFile, 0o000);
    try {
      const got = damagedRun(damaged, hiddenDir, /cannot (list|read)|permission denied|EACCES/i, user.prefix, dbDir);
      assertWarned(got.stderr, hiddenFile, /cannot (list|read)|permission denied|EACCES/i);
      const want = exportRuns(reference).runs;
      const unaffected = (r: RunView) => !r.path.startsWith('lightning_logs/version_2') && !r.path.startsWith('lightning_logs/version_3');
      assertSameRuns(got.runs.filter(unaffected), want.filter(unaffected), 'runs that were readable');
      assert.ok(!got.runs.some((r) => r.path.startsWith('lightning_logs/version_2')), 'nothing invented for the unlistable folder');
      const version3 = got.runs.filter((r) => r.path === 'lightning_logs/version_3');
      assert.ok(version3.every((r) => countPoints([r]) === 0), 'no points from the unreadable metrics.csv');
    } finally {
      fs.chmodSync(hiddenDir, 0o755);
      fs.chmodSync(hiddenFile, 0o644);
    }
  });

  test('a folder symlinked to its parent (a loop): the walk ends, nothing is read twice, nothing lost', () => {
    const damaged = copyCorpus(TB_MULTI_RUN_CASE);
    const reference = copyCorpus(TB_MULTI_RUN_CASE);
    const runDir = path.dirname(onlyEventFile(path.join(damaged, 'model_dir', 'eval')));
    fs.symlinkSync('..', path.join(runDir, 'loop'));
    fs.symlinkSync('.', path.join(damaged, 'self'));
    const r = runCli(['export', damaged, '--json'], { timeoutMs: 60_000 });
    assertNoCrash(r, 'export through a symlink loop');
    const got = runsFromExport(JSON.parse(r.stdout));
    assertSameRuns(got, exportRuns(reference).runs, 'with symlink loops vs without');
    ingest(damaged);
  });
});
