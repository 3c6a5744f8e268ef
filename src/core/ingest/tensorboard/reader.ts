// The TensorBoard FormatReader: a log dir of run dirs of event files.
// discover() is path-only (see discover.ts for the grouping rule); read()
// parses the event files of the candidate and merges each run's files in
// file-name order, which is the order their writers created them.
//
// Reading is incremental. Every event file's cursor remembers where its last
// complete record ends and, in its state, what the run needs from the bytes
// before that: the file's last hparams, its first wall time, the tags it has
// points for, the TFRecord resync flag and its warnings. A run whose files
// are unchanged is kept; one whose files only grew (or gained a file) gets
// just the new points appended; anything else (a file shrank, its head
// changed, a file vanished, or new points would land out of order) is read
// again in full.
//
// With a byte budget (FormatReader.read's limits) a read stops after the
// record that spends it: the file it stopped in gets a cursor there (its size
// set to that offset, so the next read sees the rest as appended), run dirs
// not reached keep their previous cursors, and the next slice goes on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyChange, HEAD_BYTES, headHashOf } from '../fileCursor';
import { ByteBudget, recycleSeries, SeriesBuilder, type Float64Series } from '../series';
import type { FileCursor, FormatReader, IngestWarning, ParsedRun, ParsedSource, ReadLimits, SourceCandidate } from '../types';
import { compareCodeUnits, discoverTensorBoardSources } from './discover';
import { readEventFileFromHandle, type EventFileContent } from './eventFile';
import { FILE_START, type RecordCursor } from './tfrecord';

/** What an event file's cursor remembers between reads (FileCursor.state). */
export interface EventFileState {
  v: typeof EVENT_FILE_STATE_VERSION;
  /** The record scan was skipping damaged bytes at the offset (already reported). */
  resyncing: boolean;
  /** The last hparams session start read from the file, rendered as params. */
  hparams?: Record<string, string>;
  /** Wall time (ms) of the file's first event that has one; null while none (JSON has no NaN). */
  firstWallMs: number | null;
  /** Tags the file has points for: new points of an earlier file must not follow a later file's points in a series. */
  tags: string[];
  /** Warnings about the bytes before the offset, repeated on later reads, which do not see those bytes. */
  problems?: string[];
}

const EVENT_FILE_STATE_VERSION = 1;
/** Enough to repeat what one file's first problems were without storing a flood. */
const MAX_REMEMBERED_PROBLEMS = 20;

function eventFileStateOf(cursor: FileCursor | undefined): EventFileState | undefined {
  const state = cursor?.state as Partial<EventFileState> | undefined;
  if (!state || state.v !== EVENT_FILE_STATE_VERSION || typeof state.resyncing !== 'boolean' || !Array.isArray(state.tags)) return undefined;
  return state as EventFileState;
}

export const tensorboardReader: FormatReader = {
  format: 'tensorboard',

  async discover(files: readonly string[]): Promise<SourceCandidate[]> {
    return discoverTensorBoardSources(files);
  },

  async read(candidate: SourceCandidate, signal?: AbortSignal, previous?: ReadonlyMap<string, FileCursor>, limits?: ReadLimits): Promise<ParsedSource> {
    const root = candidate.root;
    const warnings: IngestWarning[] = [];
    const cursors: FileCursor[] = [];
    const filesByRunDir = groupByDir(candidate.files);
    const knownByRunDir = groupByDir(previous ? [...previous.keys()] : []);
    const budget = new ByteBudget(limits?.maxBytes);

    const runs: ParsedRun[] = [];
    for (const runDir of [...filesByRunDir.keys()].sort(compareCodeUnits)) {
      const known = knownByRunDir.get(runDir) ?? [];
      if (budget.exhausted) {
        // Not reached in this slice: the store holds what the previous cursors say (vanished files
        // included, so the next slice still notices them), and their problems are said again.
        budget.stopped = true;
        for (const file of known) {
          const cursor = previous!.get(file)!;
          cursors.push(cursor);
          for (const problem of eventFileStateOf(cursor)?.problems ?? []) warnings.push({ file, message: problem });
        }
        continue;
      }
      const eventFiles = filesByRunDir.get(runDir)!.sort(compareBaseNames);
      const run = await readRun(root, runDir, eventFiles, previous ? { cursors: previous, known } : undefined, warnings, cursors, signal, budget);
      runs.push(run);
    }

    const experimentName = path.posix.basename(root) || root;
    return {
      format: 'tensorboard',
      root,
      cursors,
      experiments: [{ key: experimentName, name: experimentName, lifecycle: 'active', runs }],
      warnings,
      ...(budget.stopped ? { complete: false } : {}),
    };
  },
};

function groupByDir(files: readonly string[]): Map<string, string[]> {
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    const dir = path.posix.dirname(file);
    let list = byDir.get(dir);
    if (!list) byDir.set(dir, (list = []));
    list.push(file);
  }
  return byDir;
}

function compareBaseNames(a: string, b: string): number {
  return compareCodeUnits(path.posix.basename(a), path.posix.basename(b));
}

interface PreviousRead {
  cursors: ReadonlyMap<string, FileCursor>;
  /** The run dir's files as the last read knew them. */
  known: readonly string[];
}

/** One event file's part in a run: what earlier reads remembered and what this read found. */
interface FilePart {
  file: string;
  /** The cursor of the last read (with its state), when the file is not read from the start. */
  before?: FileCursor;
  beforeState?: EventFileState;
  /** What this read got from the file (from `before.offset`, or from the start); absent when unchanged, unreadable or not reached. */
  read?: EventFileContent;
  /** The cursor after this read. */
  cursor?: FileCursor;
}

async function readRun(
  root: string,
  runDir: string,
  eventFiles: string[],
  previous: PreviousRead | undefined,
  warnings: IngestWarning[],
  cursors: FileCursor[],
  signal: AbortSignal | undefined,
  budget: ByteBudget,
): Promise<ParsedRun> {
  const key = path.posix.relative(root, runDir) || '.';
  const name = key === '.' ? path.posix.basename(runDir) || runDir : key;
  const parts = previous ? await readAppended(eventFiles, previous, signal, budget) : undefined;
  const update = parts ? updateOf(parts) : 'replace';
  const filesRead = update === 'replace' ? await readFull(eventFiles, signal, budget) : parts!;

  const now = Date.now();
  for (const part of filesRead) {
    for (const problem of part.beforeState?.problems ?? []) warnings.push({ file: part.file, message: problem });
    if (part.read) warnings.push(...part.read.warnings);
    if (part.cursor) {
      cursors.push(part.cursor);
      const abandoned = abandonedTail(part.cursor, now);
      if (abandoned) warnings.push({ file: part.file, message: abandoned });
    }
  }
  const run: ParsedRun = {
    key,
    update,
    name,
    path: runDir,
    status: 'unknown', // the caller tells running from finished by write times
    params: {},
    tags: {},
    metrics: {},
    summaries: {},
  };
  if (update === 'keep') return run;

  // Params and the start time come from every file (remembered or read now); series only from what was read now.
  const series = new Map<string, Float64Series[]>();
  for (const part of filesRead) {
    const firstWallMs = part.beforeState?.firstWallMs ?? part.read?.firstWallTimeMs ?? NaN;
    if (run.startTime === undefined && !Number.isNaN(firstWallMs)) run.startTime = firstWallMs;
    const hparams = part.read?.sessionStart?.hparams ?? part.beforeState?.hparams;
    if (hparams) for (const [param, value] of Object.entries(hparams)) setOwn(run.params, param, value);
    if (part.read) {
      for (const [tag, points] of part.read.scalars) {
        const pieces = series.get(tag);
        if (pieces) pieces.push(points);
        else series.set(tag, [points]);
      }
    }
  }
  // A tag in several files: their points one file after the other, joined once.
  for (const [tag, pieces] of series) {
    if (pieces.length === 1) {
      setOwn(run.metrics, tag, pieces[0]);
      continue;
    }
    const joined = new SeriesBuilder(pieces.reduce((n, p) => n + p.values.length, 0));
    for (const piece of pieces) joined.append(piece);
    recycleSeries(pieces);
    setOwn(run.metrics, tag, joined.finish());
  }
  return run;
}

/**
 * With the last read's cursors: reads what each file gained since (new files
 * from the start). Returns undefined when the run has to be read in full.
 */
async function readAppended(eventFiles: string[], previous: PreviousRead, signal: AbortSignal | undefined, budget: ByteBudget): Promise<FilePart[] | undefined> {
  if (previous.known.length === 0) return undefined; // a run dir the last read did not know: read whole ('replace')
  const current = new Set(eventFiles);
  if (previous.known.some((file) => !current.has(file))) return undefined; // a file vanished: its points must go
  const parts: FilePart[] = [];
  for (const file of eventFiles) {
    const before = previous.cursors.get(file);
    if (!before) {
      parts.push({ file });
      continue;
    }
    const beforeState = eventFileStateOf(before);
    if (!beforeState) return undefined; // read by something that left no state: start over
    let change;
    try {
      change = (await classifyChange(file, before)).change;
    } catch {
      return undefined; // gone meanwhile: the full read reports it
    }
    if (change === 'rewritten') return undefined;
    parts.push(change === 'unchanged' ? { file, before, beforeState, cursor: before } : { file, before, beforeState });
  }
  if (parts.every((part) => part.cursor)) return parts; // all unchanged: nothing to read

  const stoppedBefore = budget.stopped;
  let taken = 0;
  const giveBack = () => {
    // The run is read in full instead: what this attempt took goes back to the budget.
    budget.take(-taken);
    budget.stopped = stoppedBefore;
    return undefined;
  };
  for (const part of parts) {
    if (part.cursor) continue;
    if (budget.exhausted) {
      // Not reached in this slice: the store keeps what it holds of the file (nothing, for a new one).
      budget.stopped = true;
      part.cursor = part.before;
      continue;
    }
    signal?.throwIfAborted();
    const from: RecordCursor = part.before ? { offset: part.before.offset, resyncing: part.beforeState!.resyncing } : FILE_START;
    const result = await readEventFilePart(part.file, from, part.before, part.beforeState, signal, budget);
    if (result instanceof Error) return giveBack(); // unreadable now: the full read reports it
    taken += result.bytes;
    part.read = result.content;
    part.cursor = result.cursor;
  }

  // Series keep the order of a full read (file by file, in name order): new
  // points of one file may not be appended after points the store holds of a
  // later file in the same series. (Points read now of a later file come after
  // them anyway, as the parts are joined in file order.)
  const laterTags = new Set<string>();
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i];
    if (part.read) for (const tag of part.read.scalars.keys()) if (laterTags.has(tag)) return giveBack();
    for (const tag of part.beforeState?.tags ?? []) laterTags.add(tag);
  }
  return parts;
}

/**
 * An unfinished record at the end of a file is a live writer's next event,
 * waited for silently. Once nothing has been written for STALE_WRITER_MS the
 * writer is gone and the cut is damage worth a warning (the cursor still
 * waits at it, in case the writer comes back). Derived from the cursor, so
 * that it is said on every read, kept runs included.
 */
function abandonedTail(cursor: FileCursor, now: number): string | undefined {
  if (now - cursor.mtimeMs < STALE_WRITER_MS) return undefined;
  if (cursor.size === 0) return 'Empty event file: no record at byte 0, and nothing written for over an hour.';
  if (cursor.offset < cursor.size && !(cursor.state as EventFileState | undefined)?.resyncing) {
    return `Incomplete record at byte ${cursor.offset} (${cursor.size - cursor.offset} bytes, cut short): nothing written for over an hour, so the writer is gone.`;
  }
  return undefined;
}

/** How long without a write before an unfinished last record counts as cut off for good. */
const STALE_WRITER_MS = 60 * 60 * 1000;

function updateOf(parts: FilePart[] | undefined): 'replace' | 'append' | 'keep' {
  if (!parts) return 'replace';
  return parts.every((part) => !part.read) ? 'keep' : 'append';
}

async function readFull(eventFiles: string[], signal: AbortSignal | undefined, budget: ByteBudget): Promise<FilePart[]> {
  const parts: FilePart[] = [];
  for (const file of eventFiles) {
    if (budget.exhausted) {
      // The files after the budget are not reached: no cursor, as the store will hold nothing of them.
      budget.stopped = true;
      break;
    }
    signal?.throwIfAborted();
    const result = await readEventFilePart(file, FILE_START, undefined, undefined, signal, budget);
    if (result instanceof Error) {
      // Deleted between discovery and reading, unreadable, ...: the other files still count.
      parts.push({
        file,
        read: { file, cursor: FILE_START, records: 0, firstWallTimeMs: NaN, scalars: new Map(), warnings: [{ file, message: `Cannot read event file: ${result.message}` }], truncated: false },
      });
      continue;
    }
    parts.push({ file, read: result.content, cursor: result.cursor });
  }
  return parts;
}

/**
 * Reads one event file from `from` to its size now (or until the budget is
 * spent), and makes its next cursor: just after the last complete record,
 * with the state carried over from `beforeState` and updated with what this
 * read saw. Takes the bytes it read from the budget.
 */
async function readEventFilePart(
  file: string,
  from: RecordCursor,
  before: FileCursor | undefined,
  beforeState: EventFileState | undefined,
  signal: AbortSignal | undefined,
  budget: ByteBudget,
): Promise<{ content: EventFileContent; cursor: FileCursor; bytes: number } | Error> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const stat = await handle.stat();
    const content = await readEventFileFromHandle(handle, file, from, stat.size, { signal, maxBytes: budget.limited ? budget.remaining : undefined });
    const bytes = content.cursor.offset - from.offset;
    budget.take(bytes);
    if (content.truncated) budget.stopped = true;
    // Cut at the budget: the file as if it ended at the cursor (see FormatReader.read).
    const size = content.truncated ? content.cursor.offset : stat.size;
    // A head shorter than HEAD_BYTES grows with the file, so its hash is taken again.
    const headHash = before && before.size >= HEAD_BYTES ? before.headHash : await headHashOfHandle(handle, size);
    const tags = new Set(beforeState?.tags ?? []);
    for (const [tag, series] of content.scalars) if (series.steps.length > 0) tags.add(tag);
    const problems = [...(beforeState?.problems ?? []), ...content.warnings.map((w) => w.message)].slice(0, MAX_REMEMBERED_PROBLEMS);
    const hparams = content.sessionStart?.hparams ?? beforeState?.hparams;
    const firstWallMs = beforeState?.firstWallMs ?? (Number.isNaN(content.firstWallTimeMs) ? null : content.firstWallTimeMs);
    const state: EventFileState = { v: EVENT_FILE_STATE_VERSION, resyncing: content.cursor.resyncing, firstWallMs, tags: [...tags] };
    if (hparams) state.hparams = hparams;
    if (problems.length > 0) state.problems = problems;
    return { content, cursor: { path: file, size, mtimeMs: stat.mtimeMs, offset: content.cursor.offset, headHash, state }, bytes };
  } catch (error) {
    if (signal?.aborted) throw error;
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    await handle?.close();
  }
}

async function headHashOfHandle(handle: fs.promises.FileHandle, size: number): Promise<string> {
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  let got = 0;
  while (got < head.length) {
    const { bytesRead } = await handle.read(head, got, head.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return headHashOf(head.subarray(0, got));
}

/** Tags and param names are user text: a tag named "__proto__" must become a key, not a prototype. */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
