// One event file, from a cursor to its current end: framing (tfrecord.ts) +
// event decoding (events.ts), accumulated into per-tag series. The returned
// cursor lets a caller re-read a file that is still being written from where
// this read stopped, getting only the new points.
import * as fs from 'node:fs';
import { SeriesBuilder, type Float64Series } from '../series';
import type { IngestWarning } from '../types';
import { EventDecoder } from './events';
import type { SessionStartInfo } from './hparams';
import { readRecordRangesFramed, type FramingMode } from './framing';
import { FILE_START, type RecordCursor } from './tfrecord';

export interface EventFileContent {
  file: string;
  /** Pass back to continue after the last complete record. */
  cursor: RecordCursor;
  /** Complete records read in this pass, including skipped kinds (graphs, images...). */
  records: number;
  /** From the file's first event ("brain.Event:2"), when this pass saw it. */
  fileVersion?: string;
  /** Wall time (ms since the epoch) of the first event read in this pass that has one; NaN if none. */
  firstWallTimeMs: number;
  /** Scalar series by tag, points in file order. */
  scalars: Map<string, Float64Series>;
  /** The read stopped at `maxBytes`, before the end it was given: `cursor` is where the rest starts. */
  truncated: boolean;
  /** The last hparams session start seen in this pass. */
  sessionStart?: SessionStartInfo;
  warnings: IngestWarning[];
}

/** A file full of undecodable records should not bury every other warning. */
const MAX_DECODE_WARNINGS_PER_FILE = 10;

export interface ReadEventFileOptions {
  signal?: AbortSignal;
  windowBytes?: number;
  /** Stop once about this many bytes were read (whole records; see FileRecordReadOptions.maxBytes). */
  maxBytes?: number;
  /** Stop at this file offset instead of the file's size when the read started. */
  endOffset?: number;
  /** Where the records' checksums are verified (framing.ts); default: a worker thread for big reads. */
  framing?: FramingMode;
}

/**
 * Reads `filePath` from `cursor` (the start by default). I/O errors are
 * thrown; damaged records become warnings and everything else is kept.
 */
export async function readEventFile(
  filePath: string,
  cursor: RecordCursor = FILE_START,
  options: ReadEventFileOptions = {},
): Promise<EventFileContent> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const endOffset = options.endOffset ?? (await handle.stat()).size;
    return await readEventFileFromHandle(handle, filePath, cursor, endOffset, options);
  } finally {
    await handle.close();
  }
}

/** readEventFile over an open file, up to `endOffset` (the size the caller saw). */
export async function readEventFileFromHandle(
  handle: fs.promises.FileHandle,
  filePath: string,
  cursor: RecordCursor,
  endOffset: number,
  options: ReadEventFileOptions = {},
): Promise<EventFileContent> {
  const content: EventFileContent = {
    file: filePath,
    cursor,
    records: 0,
    firstWallTimeMs: NaN,
    scalars: new Map(),
    warnings: [],
    truncated: false,
  };
  let undecodable = 0;
  const decoder = new EventDecoder();
  // Series by interned tag id: one array index per scalar instead of a Map lookup by name.
  const seriesByTag: Array<SeriesBuilder | undefined> = [];
  // By tag name, in the order tags first appear (the order of content.scalars).
  const builders = new Map<string, SeriesBuilder>();

  const scan = await readRecordRangesFramed(
    handle,
    cursor,
    endOffset,
    filePath,
    (bytes, start, end, recordOffset) => {
      try {
        decoder.decode(bytes, start, end);
      } catch (e) {
        // The checksum matched, so the writer wrote this: a newer schema or a
        // bug on their side. Skip just this record.
        undecodable++;
        if (undecodable <= MAX_DECODE_WARNINGS_PER_FILE) {
          content.warnings.push({
            file: filePath,
            message: `Undecodable event at byte ${recordOffset}: ${e instanceof Error ? e.message : String(e)}`,
          });
        }
        return;
      }
      const wallMs = decoder.wallTimeSeconds * 1000;
      if (Number.isNaN(content.firstWallTimeMs) && !Number.isNaN(wallMs)) content.firstWallTimeMs = wallMs;
      if (decoder.fileVersion !== undefined) content.fileVersion ??= decoder.fileVersion;
      if (decoder.sessionStart) content.sessionStart = decoder.sessionStart;
      const step = decoder.step;
      for (let k = 0; k < decoder.count; k++) {
        const tagId = decoder.tagIds[k];
        let series = seriesByTag[tagId];
        if (series === undefined) {
          const tag = decoder.tags.names[tagId];
          // Two byte strings can decode to one name (invalid UTF-8): one series, as the name is the key.
          series = builders.get(tag);
          if (!series) builders.set(tag, (series = new SeriesBuilder(256)));
          seriesByTag[tagId] = series;
        }
        series.push(step, decoder.values[k], wallMs);
      }
    },
    options,
  );

  if (undecodable > MAX_DECODE_WARNINGS_PER_FILE) {
    content.warnings.push({
      file: filePath,
      message: `${undecodable - MAX_DECODE_WARNINGS_PER_FILE} more undecodable events not listed.`,
    });
  }
  content.warnings.unshift(...scan.warnings);
  content.cursor = scan.cursor;
  content.records = scan.records;
  content.truncated = scan.truncated;
  for (const [tag, series] of builders) content.scalars.set(tag, series.finish());
  return content;
}
