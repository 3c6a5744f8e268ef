// Finds log sources under some paths, reads the ones whose files changed, and
// writes them to the store. One source is read and written at a time, so a
// cancel or a crash leaves every finished source complete and nothing half-written.
//
// A source is read in slices of about `sliceBytes` of new data (see
// FormatReader.read): read a slice, write it (one transaction), read on from
// the cursors just written, until the reader says the source is complete.
// Memory then stays flat however large a log grows, and a cancel between
// slices leaves a store whose cursors describe exactly what it holds, so the
// next ingest goes on from there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunStore, SeriesChange } from '../store/types';
import { readHeadHash } from './fileCursor';
import { recycleSeries, releaseColumnPool } from './series';
import type { FileCursor, FormatReader, IngestWarning, ParsedSource, ReadLimits, SourceCandidate } from './types';
import { stopFramingWorker } from './tensorboard/framing';
import { stopParseWorker } from './parseWorker';
import { walkFiles } from './walk';
import { isInside } from '../util/paths';

export interface IngestProgress {
  done: number;
  total: number;
  message: string;
}

export interface IngestOptions {
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: IngestProgress) => void;
  /** New bytes one read of a source may take in before its points are written (default DEFAULT_SLICE_BYTES). */
  sliceBytes?: number;
  /** A slice of this source was just written (committed): what is stored now may be shown, before the ingest ends. */
  onSliceWritten?: (root: string) => void;
}

/**
 * Big enough that a slice's fixed costs (a transaction, re-planning the
 * source's runs, refilling each series' last chunk) vanish next to its
 * points; small enough that what a slice holds stays small: its points take
 * 1.5 to 3 times its bytes as float64 columns (a CSV cell of a few bytes
 * becomes 24), plus the read buffer. Measured (bench/ingest.ts): 16 MiB
 * reads as fast as 32 or 48 MiB in every format, with a peak RSS 50-100 MB
 * above the agent's own, the same for a 25 MB file as for a 400 MB one.
 */
export const DEFAULT_SLICE_BYTES = 16 * 1024 * 1024;

export interface IngestSummary {
  sourcesFound: number;
  sourcesRead: number;
  sourcesUnchanged: number;
  sourcesRemoved: number;
  runs: number;
  points: number;
  warnings: IngestWarning[];
  durationMs: number;
  cancelled: boolean;
  changedRoots: string[];
  /** Per series: what this ingest added (empty for sources that did not change). */
  changes: SeriesChange[];
}

interface FileStat {
  path: string;
  size: number;
  mtimeMs: number;
}

async function statFiles(files: readonly string[]): Promise<FileStat[]> {
  const out: FileStat[] = [];
  for (const file of files) {
    try {
      const st = await fs.promises.stat(file);
      out.push({ path: file, size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // Deleted between discovery and now: the reader will not find it either.
    }
  }
  return out;
}

/** The reader's cursors where it gave them; a fully-read cursor for every other file. */
async function cursorsAfterRead(stats: readonly FileStat[], fromReader: readonly FileCursor[] | undefined): Promise<FileCursor[]> {
  const given = new Map((fromReader ?? []).map((c) => [c.path, c]));
  const out: FileCursor[] = [];
  for (const st of stats) {
    const cursor = given.get(st.path);
    if (cursor) {
      out.push(cursor);
      continue;
    }
    try {
      out.push({ ...st, offset: st.size, headHash: await readHeadHash(st.path, st.size) });
    } catch {
      // Gone since: the next read notices.
    }
  }
  return out;
}

function sameCursors(a: ReadonlyMap<string, FileCursor> | undefined, b: ReadonlyMap<string, FileCursor>): boolean {
  if ((a?.size ?? 0) !== b.size) return false;
  for (const [file, cursor] of b) {
    const other = a!.get(file);
    if (!other || other.offset !== cursor.offset || other.size !== cursor.size || other.mtimeMs !== cursor.mtimeMs || other.headHash !== cursor.headHash) return false;
  }
  return true;
}

async function unreadableFiles(files: readonly { path: string }[]): Promise<{ path: string; code: string }[]> {
  const out: { path: string; code: string }[] = [];
  for (const f of files) {
    try {
      await fs.promises.access(f.path, fs.constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      if (code !== 'ENOENT') out.push({ path: f.path, code });
    }
  }
  return out;
}

function sameFiles(a: readonly FileStat[], b: readonly FileStat[]): boolean {
  if (a.length !== b.length) return false;
  const byPath = new Map(b.map((f) => [f.path, f]));
  return a.every((f) => {
    const other = byPath.get(f.path);
    return other !== undefined && other.size === f.size && other.mtimeMs === f.mtimeMs;
  });
}


export async function discoverSources(readers: readonly FormatReader[], root: string, signal?: AbortSignal): Promise<{ candidates: SourceCandidate[]; warnings: IngestWarning[] }> {
  const walked = await walkFiles(root, { signal });
  const warnings: IngestWarning[] = walked.unreadable.map((u) => ({ file: u.path, message: `cannot list this folder: ${u.message}` }));
  if (walked.truncated) warnings.push({ file: root, message: `more than ${walked.files.length} files; the rest were not searched for logs` });
  const candidates: SourceCandidate[] = [];
  for (const reader of readers) candidates.push(...(await reader.discover(walked.files)));
  return { candidates, warnings };
}

export async function ingestPaths(store: RunStore, readers: readonly FormatReader[], paths: readonly string[], options: IngestOptions = {}): Promise<IngestSummary> {
  const started = Date.now();
  const summary: IngestSummary = {
    sourcesFound: 0,
    sourcesRead: 0,
    sourcesUnchanged: 0,
    sourcesRemoved: 0,
    runs: 0,
    points: 0,
    warnings: [],
    durationMs: 0,
    cancelled: false,
    changedRoots: [],
    changes: [],
  };
  const readerOf = new Map(readers.map((r) => [r.format, r]));
  const roots = paths.map((p) => path.resolve(p));
  const candidates: SourceCandidate[] = [];
  for (const root of roots) {
    if (!fs.existsSync(root)) {
      summary.warnings.push({ file: root, message: 'does not exist' });
      continue;
    }
    const found = await discoverSources(readers, root, options.signal);
    candidates.push(...found.candidates);
    summary.warnings.push(...found.warnings);
  }
  summary.sourcesFound = candidates.length;

  // Sources we knew under these paths that are gone from disk.
  const foundRoots = new Set(candidates.map((c) => c.root));
  for (const known of store.listSources()) {
    if (roots.some((r) => isInside(known.root, r)) && !foundRoots.has(known.root)) {
      // Discovery sniffs headers: a file we may no longer read is not a file that is gone.
      // Keep what was read from it rather than delete it, and say why.
      const unreadable = await unreadableFiles(known.files);
      if (unreadable.length) {
        for (const u of unreadable) summary.warnings.push({ file: u.path, message: `cannot be read (${u.code}); what was read from it before is kept` });
        continue;
      }
      store.removeSource(known.root);
      summary.sourcesRemoved++;
      summary.changedRoots.push(known.root);
    }
  }

  let done = 0;
  try {
    for (const candidate of candidates) {
      if (options.signal?.aborted) {
        summary.cancelled = true;
        break;
      }
      options.onProgress?.({ done, total: candidates.length, message: `${candidate.format}: ${candidate.root}` });
      const files = await statFiles(candidate.files);
      const known = store.getSource(candidate.root);
      const unreadable = known ? await unreadableFiles(files) : [];
      if (!options.force && known && sameFiles(files, known.files)) {
        summary.sourcesUnchanged++;
      } else if (unreadable.length) {
        // A file we may no longer read (permissions changed mid-run): keep everything read
        // from this source so far, say which file, and read it again once it is readable.
        for (const u of unreadable) summary.warnings.push({ file: u.path, message: `cannot be read (${u.code}); what was read from it before is kept` });
        summary.sourcesUnchanged++;
      } else {
        const reader = readerOf.get(candidate.format)!;
        const progress = (message: string) => options.onProgress?.({ done, total: candidates.length, message: `${candidate.format}: ${candidate.root} (${message})` });
        // A source with no cursors at all (forgotten by a migration) is read from scratch: readers take an
        // empty map of cursors for "every file new, append it", which would add every point a second time.
        const previous = !options.force && known && known.files.length > 0 ? known.files : undefined;
        const read = await readSource(store, reader, candidate, files, previous, options, progress);
        if (read.slices > 0) {
          summary.sourcesRead++;
          summary.runs += read.runs;
          summary.points += read.points;
          summary.changedRoots.push(candidate.root);
          summary.changes.push(...read.changes);
        }
        summary.warnings.push(...read.warnings);
        if (read.cancelled) {
          summary.cancelled = true;
          break;
        }
      }
      done++;
    }
  } finally {
    releaseColumnPool();
    stopFramingWorker();
    stopParseWorker();
  }
  options.onProgress?.({ done, total: candidates.length, message: 'done' });
  summary.durationMs = Date.now() - started;
  return summary;
}

interface SourceRead {
  /** Slices written (0: nothing was written). */
  slices: number;
  /** Runs written (replaced or appended to), each once however many slices touched it. */
  runs: number;
  points: number;
  /** Per series, what all slices together added. */
  changes: SeriesChange[];
  warnings: IngestWarning[];
  cancelled: boolean;
}

/**
 * Reads one source slice by slice, writing each slice before reading the
 * next. The last slice written holds every warning (readers repeat earlier
 * ones); the changes of all slices are merged per series.
 */
async function readSource(
  store: RunStore,
  reader: FormatReader,
  candidate: SourceCandidate,
  files: readonly FileStat[],
  knownFiles: readonly FileCursor[] | undefined,
  options: IngestOptions,
  progress: (message: string) => void,
): Promise<SourceRead> {
  const out: SourceRead = { slices: 0, runs: 0, points: 0, changes: [], warnings: [], cancelled: false };
  let limits: ReadLimits | undefined = { maxBytes: options.sliceBytes ?? DEFAULT_SLICE_BYTES };
  const writtenRuns = new Set<string>();
  const changes = new Map<string, SeriesChange>();
  let previous = knownFiles ? new Map(knownFiles.map((f) => [f.path, f])) : undefined;
  for (;;) {
    let cursors: FileCursor[];
    let parsed: ParsedSource;
    try {
      parsed = await reader.read(candidate, options.signal, previous, limits);
      // A slice's cursors are exactly what the store holds; only a complete read vouches for the files it gave none.
      cursors = parsed.complete === false ? (parsed.cursors ?? []) : await cursorsAfterRead(files, parsed.cursors);
      const result = store.replaceSource(parsed, cursors, parsed.warnings);
      options.onSliceWritten?.(candidate.root);
      // Written: the slice's columns can serve the next slice's builders.
      recycleSeries(parsed.experiments.flatMap((e) => e.runs.flatMap((r) => Object.values(r.metrics))));
      out.points += result.points;
      for (const change of result.changes) {
        const id = `${change.runId}\0${change.key}`;
        const earlier = changes.get(id);
        if (earlier) {
          changes.delete(id); // re-inserted: the merged change sits where its last slice put it
          change.newPoints += earlier.newPoints;
        }
        changes.set(id, change);
      }
    } catch (e) {
      if (options.signal?.aborted) {
        out.cancelled = true;
        break;
      }
      // A reader bug on one source must not stop the others; what was stored before stays.
      out.warnings = [...out.warnings, { file: candidate.root, message: `could not be read: ${(e as Error).message}` }];
      break;
    }
    out.slices++;
    out.warnings = parsed.warnings;
    for (const experiment of parsed.experiments) {
      for (const run of experiment.runs) if ((run.update ?? 'replace') !== 'keep') writtenRuns.add(`${experiment.key}\0${run.key}`);
    }
    if (parsed.complete !== false) break;
    if (options.signal?.aborted) {
      out.cancelled = true;
      break;
    }
    progress(`${out.points} points so far`);
    const next = new Map(cursors.map((c) => [c.path, c]));
    // A slice must move some cursor on. One that did not (a reader that keeps re-reading what it
    // cannot keep a cursor for) would loop forever: the rest is then read in one go.
    if (sameCursors(previous, next)) limits = undefined;
    previous = next;
  }
  out.runs = writtenRuns.size;
  // One series' change over all slices: points added in all, and where it ended. A series
  // that ends where it began (a re-read run, as long as before) is no change, as in one read.
  out.changes = [...changes.values()].filter((change) => change.newPoints !== 0);
  return out;
}
