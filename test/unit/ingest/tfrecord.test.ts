import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { crc32c, maskCrc, maskedCrc32c } from '../../../src/core/ingest/tensorboard/crc32c';
import {
  FILE_START,
  frameRecord,
  readRecordRangesFromHandle,
  readRecordsFromFile,
  RECORD_FOOTER_BYTES,
  RECORD_HEADER_BYTES,
  scanRecords,
  type RecordCursor,
} from '../../../src/core/ingest/tensorboard/tfrecord';
import { corpusDir, makeTempDir } from '../../support/fixtures';

// --- CRC-32C ---------------------------------------------------------------

test('CRC-32C matches the published check value and the RFC 3720 test vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
});

test('CRC-32C over a range equals CRC-32C of that slice', () => {
  const bytes = Buffer.from('xx123456789yy', 'ascii');
  assert.equal(crc32c(bytes, 2, 11), 0xe3069283);
});

test('masking rotates right by 15 and adds 0xa282ead8 modulo 2^32', () => {
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.equal(maskCrc(1 << 15), (1 + 0xa282ead8) >>> 0);
  // Wraps around 2^32 instead of growing past it.
  assert.equal(maskCrc(0xffffffff), (0xffffffff + 0xa282ead8) % 2 ** 32);
});

test('the header checksum of a real event file (written by PyTorch) verifies with our masked CRC', () => {
  const file = path.join(corpusDir(), 'logs/tensorboard/lightning-lstm-single-file/lightning_logs/version_0/events.out.tfevents.1716735746.99c8c45923de.3769.0');
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  assert.equal(bytes.readUInt32LE(8), maskedCrc32c(bytes, 0, 8));
  assert.equal(bytes.readUInt32LE(12 + length), maskedCrc32c(bytes, 12, 12 + length));
});

// --- framing -----------------------------------------------------------------

function payload(i: number): Buffer {
  // Different lengths, so that offsets are not multiples of one size.
  return Buffer.from(`record-${i}-${'x'.repeat(i * 3)}`);
}

function framed(count: number): { bytes: Buffer; offsets: number[]; payloads: Buffer[] } {
  const payloads = Array.from({ length: count }, (_, i) => payload(i));
  const offsets: number[] = [];
  let offset = 0;
  for (const p of payloads) {
    offsets.push(offset);
    offset += RECORD_HEADER_BYTES + p.length + RECORD_FOOTER_BYTES;
  }
  return { bytes: Buffer.concat(payloads.map((p) => frameRecord(p))), offsets, payloads };
}

function collect(bytes: Buffer, cursor: RecordCursor = FILE_START, baseOffset = 0) {
  const got: { data: string; offset: number }[] = [];
  const result = scanRecords(bytes, baseOffset, cursor, '/logs/events.out.tfevents.1', (data, offset) => got.push({ data: data.toString(), offset }));
  return { ...result, got };
}

test('frameRecord writes uint64 length, masked CRC of the length, data, masked CRC of the data', () => {
  const data = Buffer.from('hello');
  const record = frameRecord(data);
  assert.equal(record.length, 8 + 4 + 5 + 4);
  assert.equal(record.readBigUInt64LE(0), 5n);
  assert.equal(record.readUInt32LE(8), maskCrc(crc32c(record.subarray(0, 8))));
  assert.equal(record.subarray(12, 17).toString(), 'hello');
  assert.equal(record.readUInt32LE(17), maskCrc(crc32c(data)));
});

test('a clean buffer yields every record with its offset and a cursor at the end', () => {
  const { bytes, offsets, payloads } = framed(6);
  const r = collect(bytes);
  assert.deepEqual(r.got.map((g) => g.data), payloads.map((p) => p.toString()));
  assert.deepEqual(r.got.map((g) => g.offset), offsets);
  assert.deepEqual(r.cursor, { offset: bytes.length, resyncing: false });
  assert.equal(r.records, 6);
  assert.deepEqual(r.warnings, []);
});

test('a record cut anywhere is "not written yet": no warning, cursor at its start; the rest reads from there', () => {
  const { bytes, offsets, payloads } = framed(4);
  const lastStart = offsets[3];
  for (let cut = lastStart; cut < bytes.length; cut++) {
    const r = collect(bytes.subarray(0, cut));
    assert.equal(r.records, 3, `cut at ${cut}`);
    assert.deepEqual(r.warnings, [], `cut at ${cut}`);
    assert.deepEqual(r.cursor, { offset: lastStart, resyncing: false }, `cut at ${cut}`);
    const more = collect(bytes, r.cursor);
    assert.deepEqual(more.got.map((g) => g.data), [payloads[3].toString()]);
    assert.equal(more.cursor.offset, bytes.length);
  }
});

test('a scan can start mid-file from a saved cursor, with the buffer holding only the tail', () => {
  const { bytes, offsets, payloads } = framed(5);
  const r = collect(bytes.subarray(offsets[2]), { offset: offsets[2], resyncing: false }, offsets[2]);
  assert.deepEqual(r.got.map((g) => g.data), payloads.slice(2).map((p) => p.toString()));
  assert.deepEqual(r.got.map((g) => g.offset), offsets.slice(2));
});

test('a damaged data byte loses only that record and is reported with the file and its byte offset', () => {
  const { bytes, offsets, payloads } = framed(5);
  const damaged = Buffer.from(bytes);
  damaged[offsets[2] + RECORD_HEADER_BYTES + 3] ^= 0x40;
  const r = collect(damaged);
  assert.deepEqual(r.got.map((g) => g.data), [0, 1, 3, 4].map((i) => payloads[i].toString()));
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].file, '/logs/events.out.tfevents.1');
  assert.match(r.warnings[0].message, new RegExp(`byte ${offsets[2]}\\b`));
  assert.deepEqual(r.cursor, { offset: bytes.length, resyncing: false });
});

test('a damaged length field is reported once, then the scan resynchronises on the next intact record', () => {
  const { bytes, offsets, payloads } = framed(5);
  for (const byteInHeader of [0, 3, 8, 11]) {
    const damaged = Buffer.from(bytes);
    damaged[offsets[1] + byteInHeader] ^= 0x01;
    const r = collect(damaged);
    assert.deepEqual(r.got.map((g) => g.data), [0, 2, 3, 4].map((i) => payloads[i].toString()), `byte ${byteInHeader}`);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0].message, new RegExp(`byte ${offsets[1]}\\b`));
    assert.deepEqual(r.cursor, { offset: bytes.length, resyncing: false });
  }
});

test('a length with a valid checksum but beyond what protobuf allows is damage, not a 4 GiB wait', () => {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(0, 0);
  header.writeUInt32LE(1, 4); // 2^32 bytes
  header.writeUInt32LE(maskedCrc32c(header, 0, 8), 8);
  const { bytes, payloads } = framed(2);
  const r = collect(Buffer.concat([header, bytes]));
  assert.deepEqual(r.got.map((g) => g.data), payloads.map((p) => p.toString()));
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0].message, /byte 0\b/);
});

test('damage at the end keeps resyncing across scans without repeating the warning', () => {
  const { bytes, payloads } = framed(2);
  const garbage = Buffer.from('this is not a record at all, just bytes');
  const first = collect(Buffer.concat([bytes, garbage]));
  assert.equal(first.records, 2);
  assert.equal(first.warnings.length, 1);
  assert.match(first.warnings[0].message, new RegExp(`byte ${bytes.length}\\b`));
  assert.equal(first.cursor.resyncing, true);
  assert.ok(first.cursor.offset > bytes.length && first.cursor.offset <= bytes.length + garbage.length);

  // The writer recovers and appends a good record after the garbage.
  const later = Buffer.concat([bytes, garbage, frameRecord(payload(7))]);
  const second = collect(later, first.cursor);
  assert.deepEqual(second.got.map((g) => g.data), [payload(7).toString()]);
  assert.deepEqual(second.warnings, []);
  assert.deepEqual(second.cursor, { offset: later.length, resyncing: false });
  assert.equal(payloads.length, 2);
});

test('reading a file in small windows gives the same records as one buffer, including records larger than a window', async () => {
  const dir = makeTempDir();
  const big = Buffer.alloc(5000, 0x61);
  const parts = [frameRecord(payload(0)), frameRecord(big), frameRecord(payload(1)), frameRecord(payload(2))];
  const file = path.join(dir, 'records');
  const all = Buffer.concat(parts);
  // Damage one data byte in the last record and cut the file mid-record, to cover those paths too.
  const tail = frameRecord(payload(3)).subarray(0, 10);
  const damagedStart = all.length - parts[3].length;
  const content = Buffer.concat([all, tail]);
  content[damagedStart + RECORD_HEADER_BYTES] ^= 0xff;
  fs.writeFileSync(file, content);

  const whole = collect(content);
  for (const windowBytes of [16, 17, 64, 1000, 1 << 20]) {
    const got: string[] = [];
    const r = await readRecordsFromFile(file, FILE_START, (data) => got.push(data.toString()), { windowBytes });
    assert.deepEqual(got, whole.got.map((g) => g.data), `window ${windowBytes}`);
    assert.deepEqual(r.cursor, whole.cursor, `window ${windowBytes}`);
    assert.deepEqual(r.warnings.map((w) => w.message), whole.warnings.map((w) => w.message), `window ${windowBytes}`);
    assert.ok(r.warnings.every((w) => w.file === file));
  }
  assert.equal(whole.records, 3);
  assert.equal(whole.warnings.length, 1);
  assert.equal(whole.cursor.offset, all.length);
});

test('a byte budget stops a read after whole records, and reads continued from its cursors give the records of one read', async () => {
  const dir = makeTempDir();
  // Small records, one bigger than the read-ahead room, garbage (a resync) in the middle, a damaged record, a cut tail.
  const parts: Buffer[] = [];
  for (let i = 0; i < 200; i++) parts.push(frameRecord(payload(i % 17)));
  parts.splice(50, 0, frameRecord(Buffer.alloc(100_000, 0x62)));
  parts.splice(120, 0, Buffer.from('garbage bytes that are no record header at all'));
  const damaged = frameRecord(payload(5));
  damaged[RECORD_HEADER_BYTES] ^= 0xff;
  parts.splice(160, 0, damaged);
  parts.push(frameRecord(payload(3)).subarray(0, 10));
  const content = Buffer.concat(parts);
  const file = path.join(dir, 'records');
  fs.writeFileSync(file, content);
  const whole = collect(content);
  for (const windowBytes of [16, 64, 1000, 1 << 20]) {
    for (const maxBytes of [1, 333, 5000, 70_000, Infinity]) {
      const label = `window ${windowBytes}, budget ${maxBytes}`;
      const got: string[] = [];
      const warnings: string[] = [];
      let cursor: RecordCursor = FILE_START;
      let reads = 0;
      const handle = await fs.promises.open(file, 'r');
      try {
        for (;;) {
          const r = await readRecordRangesFromHandle(handle, cursor, content.length, file, (bytes, start, end) => got.push(bytes.toString('utf8', start, end)), { windowBytes, maxBytes });
          reads++;
          warnings.push(...r.warnings.map((w) => w.message));
          assert.ok(r.cursor.offset > cursor.offset || !r.truncated, `${label}: every read makes progress`);
          cursor = r.cursor;
          if (!r.truncated) break;
          assert.ok(reads < 10_000, `${label}: reads end`);
        }
      } finally {
        await handle.close();
      }
      if (maxBytes < content.length / 2) assert.ok(reads > 1, `${label}: the budget cut the read`);
      assert.deepEqual(got, whole.got.map((g) => g.data), label);
      assert.deepEqual(cursor, whole.cursor, label);
      assert.deepEqual(warnings, whole.warnings.map((w) => w.message), label);
    }
  }
});

test('readRecordsFromFile stops at the size the file had when the read began', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'records');
  fs.writeFileSync(file, Buffer.concat([frameRecord(payload(0)), frameRecord(payload(1))]));
  let appended = false;
  const got: string[] = [];
  await readRecordsFromFile(
    file,
    FILE_START,
    (data) => {
      got.push(data.toString());
      if (!appended) {
        fs.appendFileSync(file, frameRecord(payload(2)));
        appended = true;
      }
    },
    { windowBytes: 16 },
  );
  assert.deepEqual(got, [payload(0).toString(), payload(1).toString()]);
});
