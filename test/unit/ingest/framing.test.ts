// The TensorBoard reader's framing worker (src/core/ingest/tensorboard/framing.ts)
// must read exactly what the one-thread path reads: every record, cursor,
// warning and value, on the corpus's real event files, on damaged copies of
// them, across windows smaller than a record and read budgets that cut a
// file into slices; a read it gives up on (cancelled, a failing callback)
// ends cleanly and leaves the worker able to serve the next read. Slices it
// read ahead are used only when the next read is exactly that read.
import { afterEach, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { readEventFile, type EventFileContent } from '../../../src/core/ingest/tensorboard/eventFile';
import { framingReadAheadCounts, framingWorkerRunning, readRecordRangesFramed, stopFramingWorker, type FramingMode } from '../../../src/core/ingest/tensorboard/framing';
import { FILE_START, type RecordCursor } from '../../../src/core/ingest/tensorboard/tfrecord';
import { EventFileWriter } from '../../../src/core/ingest/tensorboard/writer';
import { copyCorpus } from '../../support/fixtures';
import { tempRoot } from './helpers';

afterEach(() => stopFramingWorker());

const CORPUS_EVENT_FILES = ['logs/tensorboard/lightning-lstm-single-file', 'logs/tensorboard/tf1-estimator-simple-value'];

const copies = new Map<string, string>();
/** One copy of a corpus folder per run (copyCorpus makes a temp folder each call). */
function corpusCopy(relative: string): string {
  let dir = copies.get(relative);
  if (!dir) copies.set(relative, (dir = copyCorpus(relative)));
  return dir;
}

function eventFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.startsWith('events.out.tfevents')) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** A whole read as plain data: every series' points, the cursor, counts, warnings and what the file said of itself. */
function plain(content: EventFileContent) {
  return {
    cursor: content.cursor,
    records: content.records,
    truncated: content.truncated,
    fileVersion: content.fileVersion,
    firstWallTimeMs: content.firstWallTimeMs,
    sessionStart: content.sessionStart,
    warnings: content.warnings,
    scalars: [...content.scalars].map(([tag, s]) => [tag, Array.from(s.steps), Array.from(s.values), Array.from(s.walls)]),
  };
}

/** Reads `file` to its end in reads of at most `maxBytes`, as the engine's slices do; each read's result. */
async function readInParts(file: string, framing: FramingMode, windowBytes?: number, maxBytes?: number) {
  const parts = [];
  let cursor: RecordCursor = FILE_START;
  for (;;) {
    const content = await readEventFile(file, cursor, { framing, windowBytes, maxBytes });
    parts.push(plain(content));
    if (!content.truncated) return parts;
    assert.ok(content.cursor.offset > cursor.offset, `a read of ${file} from ${cursor.offset} made no progress`);
    cursor = content.cursor;
  }
}

/** Every record handed over, as [file offset, data length, sum of its bytes], read in parts like readInParts. */
async function recordsInParts(file: string, framing: FramingMode, windowBytes?: number, maxBytes?: number): Promise<number[][]> {
  const records: number[][] = [];
  const handle = await fs.promises.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    let cursor: RecordCursor = FILE_START;
    for (;;) {
      const result = await readRecordRangesFramed(
        handle,
        cursor,
        size,
        file,
        (bytes, start, end, offset) => {
          let sum = 0;
          for (let i = start; i < end; i++) sum += bytes[i];
          records.push([offset, end - start, sum]);
        },
        { framing, windowBytes, maxBytes },
      );
      if (!result.truncated) return records;
      cursor = result.cursor;
    }
  } finally {
    await handle.close();
  }
}

async function assertSameBothWays(file: string, windowBytes?: number, maxBytes?: number): Promise<ReturnType<typeof plain>[]> {
  const onThread = await readInParts(file, 'thread', windowBytes, maxBytes);
  const onWorker = await readInParts(file, 'worker', windowBytes, maxBytes);
  const what = `${path.basename(file)} (window ${windowBytes ?? 'default'}, budget ${maxBytes ?? 'none'})`;
  assert.deepEqual(onWorker, onThread, what);
  assert.deepEqual(await recordsInParts(file, 'worker', windowBytes, maxBytes), await recordsInParts(file, 'thread', windowBytes, maxBytes), `${what}: records`);
  assert.ok(framingWorkerRunning(), 'the worker served the reads');
  return onThread;
}

test('corpus event files: the worker reads every record, value, cursor and warning the one-thread path reads, whatever the window and budget', async () => {
  let files = 0;
  for (const relative of CORPUS_EVENT_FILES) {
    for (const file of eventFilesUnder(corpusCopy(relative))) {
      files++;
      const size = fs.statSync(file).size;
      const whole = await assertSameBothWays(file);
      assert.ok(whole[0].records > 0 && whole[0].cursor.offset === size, `${file}: read to its end`);
      // Windows smaller than some records (graphs, images), and budgets that cut the file into slices.
      await assertSameBothWays(file, 512);
      await assertSameBothWays(file, 4096, Math.ceil(size / 3));
    }
  }
  assert.ok(files >= 3, `found ${files} corpus event files`);
});

/** A damaged copy of a corpus file, made by `damage`. */
function damagedCopy(name: string, damage: (bytes: Buffer) => Buffer): string {
  const [source] = eventFilesUnder(corpusCopy('logs/tensorboard/lightning-lstm-single-file'));
  const file = path.join(tempRoot(), name);
  fs.writeFileSync(file, damage(fs.readFileSync(source)));
  return file;
}

/** Offsets of the first `limit` record headers. */
function recordOffsets(bytes: Buffer, limit: number): number[] {
  const out: number[] = [];
  for (let at = 0; at + 12 <= bytes.length && out.length < limit; at += 16 + bytes.readUInt32LE(at)) out.push(at);
  return out;
}

test('damaged copies: the worker skips, resyncs and reports exactly as the one-thread path does', async () => {
  const flipData = damagedCopy('events.out.tfevents.1.flip-data', (b) => {
    const at = recordOffsets(b, 40)[30];
    b[at + 14] ^= 0xff; // inside the data: that record's data CRC fails, it is skipped
    return b;
  });
  const flipHeader = damagedCopy('events.out.tfevents.1.flip-header', (b) => {
    const at = recordOffsets(b, 40)[20];
    b[at + 1] ^= 0x40; // the length: the header CRC fails, the reader slides to the next intact header
    return b;
  });
  const truncated = damagedCopy('events.out.tfevents.1.truncated', (b) => b.subarray(0, recordOffsets(b, 60)[50] + 7));
  const garbageTail = damagedCopy('events.out.tfevents.1.garbage', (b) => Buffer.concat([b, Buffer.from('not a record at all, just text appended by accident\n'.repeat(4))]));
  for (const file of [flipData, flipHeader, truncated, garbageTail]) {
    const [whole] = await assertSameBothWays(file);
    if (file !== truncated) assert.ok(whole.warnings.length > 0, `${path.basename(file)}: the damage is reported`);
    await assertSameBothWays(file, 1024);
    await assertSameBothWays(file, 300, 20_000);
  }
  // The data flip loses exactly one record; the truncated copy stops at the last whole one, without a warning.
  const [intact] = await readInParts(eventFilesUnder(corpusCopy('logs/tensorboard/lightning-lstm-single-file'))[0], 'thread');
  const [skipped] = await readInParts(flipData, 'worker');
  assert.equal(skipped.records, intact.records - 1);
  const [cut] = await readInParts(truncated, 'worker');
  assert.equal(cut.records, 50);
  assert.deepEqual(cut.warnings, []);
});

/** A PyTorch-style scalar event file of about `bytes` bytes: four tags per step. */
function bigEventFile(bytes: number): { file: string; points: number } {
  const file = path.join(tempRoot(), 'events.out.tfevents.1716000000.big.1.0');
  const fd = fs.openSync(file, 'w');
  let points = 0;
  try {
    let written = 0;
    let writer = new EventFileWriter();
    writer.fileVersion(1_716_000_000);
    for (let step = 0; written < bytes; step++) {
      for (const tag of ['loss', 'accuracy', 'lr', 'grad_norm']) {
        writer.scalar(1_716_000_000 + step * 0.037, step, tag, Math.fround(Math.sin(step) * (tag.length + 1)));
        points++;
      }
      if (step % 20_000 === 19_999) {
        const chunk = writer.toBuffer();
        fs.writeSync(fd, chunk);
        written += chunk.length;
        writer = new EventFileWriter();
      }
    }
    fs.writeSync(fd, writer.toBuffer());
  } finally {
    fs.closeSync(fd);
  }
  return { file, points };
}

test('a big file goes to the worker by default and reads exactly as on one thread; a small one stays on this thread', async () => {
  const { file, points } = bigEventFile(12 * 1024 * 1024);
  const onThread = await readInParts(file, 'thread', undefined, 5 * 1024 * 1024);
  assert.equal(framingWorkerRunning(), false);
  const byDefault = await readInParts(file, 'auto');
  assert.ok(framingWorkerRunning(), 'a 12 MB read went to the worker');
  const count = (parts: ReturnType<typeof plain>[]) => parts.reduce((n, p) => n + p.scalars.reduce((m, s) => m + (s[1] as number[]).length, 0), 0);
  assert.equal(count(byDefault), points);
  assert.equal(count(onThread), points);
  // The same points in the same order, however the reads were cut.
  const joined = (parts: ReturnType<typeof plain>[]) => {
    const byTag = new Map<string, number[][]>();
    for (const part of parts) for (const [tag, steps, values, walls] of part.scalars) byTag.set(tag as string, [...(byTag.get(tag as string) ?? []), [...(steps as number[])], [...(values as number[])], [...(walls as number[])]]);
    return [...byTag].map(([tag, columns]) => [tag, columns.filter((_, i) => i % 3 === 0).flat(), columns.filter((_, i) => i % 3 === 1).flat(), columns.filter((_, i) => i % 3 === 2).flat()]);
  };
  assert.deepEqual(joined(byDefault), joined(onThread));

  stopFramingWorker();
  const [source] = eventFilesUnder(corpusCopy('logs/tensorboard/lightning-lstm-single-file'));
  await readEventFile(source, FILE_START, { framing: 'auto' });
  assert.equal(framingWorkerRunning(), false, 'a small file is read on this thread');
});

test('a cancelled read and a failing callback end the read cleanly, and the worker then serves the next read in full', async () => {
  const { file, points } = bigEventFile(3 * 1024 * 1024);
  const handle = await fs.promises.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      readRecordRangesFramed(handle, FILE_START, size, file, () => {
        if (++seen === 1000) controller.abort();
      }, { framing: 'worker', windowBytes: 64 * 1024, signal: controller.signal }),
      { name: 'AbortError' },
    );
    assert.ok(seen >= 1000 && seen < points, `stopped early (${seen} records)`);

    await assert.rejects(
      readRecordRangesFramed(handle, FILE_START, size, file, (_bytes, _start, _end, offset) => {
        if (offset > 100_000) throw new Error('decoder exploded');
      }, { framing: 'worker', windowBytes: 64 * 1024 }),
      /decoder exploded/,
    );

    let records = 0;
    const result = await readRecordRangesFramed(handle, FILE_START, size, file, () => records++, { framing: 'worker', windowBytes: 64 * 1024 });
    assert.equal(records, points + 1); // the scalars' events and the file_version event
    assert.equal(result.records, records);
    assert.deepEqual(result.cursor, { offset: size, resyncing: false });
    assert.ok(framingWorkerRunning());
  } finally {
    await handle.close();
  }
});

/** Descriptors of this process open on `file` (Linux: /proc/self/fd). */
function openDescriptorsOn(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // Closed while listing.
    }
  }
  return n;
}

test('the worker reads the next slice ahead; it is used only when the next read is exactly that read, and nothing is left open', async () => {
  const { file } = bigEventFile(3 * 1024 * 1024);
  const window = 64 * 1024;
  const slice = 700 * 1024;
  const expected = await readInParts(file, 'thread', window, slice);
  assert.ok(expected.length >= 4, `${expected.length} slices`);

  // Slices read as the engine does, with a pause between them (its write) in which the worker reads ahead.
  const slices = [];
  let cursor: RecordCursor = FILE_START;
  for (;;) {
    const content = await readEventFile(file, cursor, { framing: 'worker', windowBytes: window, maxBytes: slice });
    slices.push(plain(content));
    if (!content.truncated) break;
    cursor = content.cursor;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  assert.deepEqual(slices, expected);
  assert.deepEqual(framingReadAheadCounts(), { adopted: expected.length - 1, abandoned: 0 }, 'every slice after the first was read ahead');

  // A next read with another budget, or from elsewhere: what was read ahead is dropped, the read is exact.
  const first = await readEventFile(file, FILE_START, { framing: 'worker', windowBytes: window, maxBytes: slice });
  const otherBudget = await readEventFile(file, first.cursor, { framing: 'worker', windowBytes: window, maxBytes: slice / 2 });
  assert.deepEqual(plain(otherBudget), plain(await readEventFile(file, first.cursor, { framing: 'thread', windowBytes: window, maxBytes: slice / 2 })));
  const fromStart = await readEventFile(file, FILE_START, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.deepEqual(plain(fromStart), expected[0]);
  assert.equal(framingReadAheadCounts().abandoned, 2);

  // The file replaced at its path by one of the same size with a damaged record in the next slice:
  // the read ahead (of the old file) is not used, the new file's damage is found.
  const replacement = path.join(path.dirname(file), 'replacement');
  const bytes = fs.readFileSync(file);
  const damagedAt = recordOffsets(bytes.subarray(fromStart.cursor.offset), 10)[5] + fromStart.cursor.offset;
  bytes[damagedAt + 14] ^= 0xff;
  fs.writeFileSync(replacement, bytes);
  fs.renameSync(replacement, file);
  const afterReplace = await readEventFile(file, fromStart.cursor, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.deepEqual(plain(afterReplace), plain(await readEventFile(file, fromStart.cursor, { framing: 'thread', windowBytes: window, maxBytes: slice })));
  assert.match(afterReplace.warnings.map((w) => w.message).join('\n'), new RegExp(`Damaged TFRecord at byte ${damagedAt}`));

  // The file grown meanwhile (a run still training) while its last slice was read ahead: that read
  // ahead ended at the old end and is dropped; the read takes in the new record.
  const penultimate = await readEventFile(file, expected[expected.length - 3].cursor, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.ok(penultimate.truncated);
  const more = new EventFileWriter();
  more.scalar(1_800_000_000, 10_000_000, 'loss', 0.5);
  fs.appendFileSync(file, more.toBuffer());
  const afterGrowth = await readEventFile(file, penultimate.cursor, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.deepEqual(plain(afterGrowth), plain(await readEventFile(file, penultimate.cursor, { framing: 'thread', windowBytes: window, maxBytes: slice })));
  assert.equal(afterGrowth.scalars.get('loss')!.steps.at(-1), 10_000_000);

  // Stopped while it reads ahead: the worker closes its own descriptor of the file and ends.
  await readEventFile(file, FILE_START, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.equal(openDescriptorsOn(file), 1, 'the worker holds the file open to read ahead');
  stopFramingWorker();
  for (let waited = 0; openDescriptorsOn(file) > 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(openDescriptorsOn(file), 0);
});

test('a read ahead is dropped when the next read goes to this thread, and is not lost when the file cannot be checked', async () => {
  const { file } = bigEventFile(2 * 1024 * 1024);
  const window = 64 * 1024;
  const slice = 500 * 1024;
  const first = await readEventFile(file, FILE_START, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.ok(first.truncated);
  assert.equal(openDescriptorsOn(file), 1, 'the worker reads ahead');
  // The next read on this thread: the worker lets go of the file.
  await readEventFile(file, first.cursor, { framing: 'thread', windowBytes: window, maxBytes: slice });
  assert.equal(openDescriptorsOn(file), 0);
  assert.equal(framingReadAheadCounts().abandoned, 1);

  // The file's identity cannot be read when the read ahead is announced: it must still be
  // drained by the next read (which gets exactly its own records), not taken for it.
  // The module object itself (the namespace import is read-only); framing.ts reads through to it.
  const nodeFs = createRequire(__filename)('node:fs') as { fstatSync: typeof fs.fstatSync };
  const realFstat = nodeFs.fstatSync;
  let failures = 0;
  nodeFs.fstatSync = ((...args: Parameters<typeof fs.fstatSync>) => {
    if (failures++ === 0) throw Object.assign(new Error('EBADF (forced by the test)'), { code: 'EBADF' });
    return realFstat(...args);
  }) as typeof fs.fstatSync;
  let again;
  try {
    again = await readEventFile(file, FILE_START, { framing: 'worker', windowBytes: window, maxBytes: slice });
  } finally {
    nodeFs.fstatSync = realFstat;
  }
  assert.equal(failures >= 1, true);
  assert.deepEqual(plain(again), plain(first), 'the read itself is unaffected');
  const next = await readEventFile(file, again.cursor, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.deepEqual(plain(next), plain(await readEventFile(file, again.cursor, { framing: 'thread', windowBytes: window, maxBytes: slice })));
  const fromStart = await readEventFile(file, FILE_START, { framing: 'worker', windowBytes: window, maxBytes: slice });
  assert.deepEqual(plain(fromStart), plain(first));
});
