// Finds log sources under some paths, reads the ones whose files changed, and
// writes them to the store. One source is read and written at a time, so a
// cancel or a crash leaves every finished source complete and nothing half-written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunStore, SeriesChange } from '../store/types';
import { readHeadHash } from './fileCursor';
import type { FileCursor, FormatReader, IngestWarning, SourceCandidate } from './types';
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
}

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
      store.removeSource(known.root);
      summary.sourcesRemoved++;
      summary.changedRoots.push(known.root);
    }
  }

  let done = 0;
  for (const candidate of candidates) {
    if (options.signal?.aborted) {
      summary.cancelled = true;
      break;
    }
    options.onProgress?.({ done, total: candidates.length, message: `${candidate.format}: ${candidate.root}` });
    const files = await statFiles(candidate.files);
    const known = store.getSource(candidate.root);
    if (!options.force && known && sameFiles(files, known.files)) {
      summary.sourcesUnchanged++;
    } else {
      const reader = readerOf.get(candidate.format)!;
      try {
        const previous = !options.force && known ? new Map(known.files.map((f) => [f.path, f])) : undefined;
        const parsed = await reader.read(candidate, options.signal, previous);
        const result = store.replaceSource(parsed, await cursorsAfterRead(files, parsed.cursors), parsed.warnings);
        summary.sourcesRead++;
        summary.runs += result.runs;
        summary.points += result.points;
        summary.warnings.push(...parsed.warnings);
        summary.changedRoots.push(candidate.root);
        summary.changes.push(...result.changes);
      } catch (e) {
        if (options.signal?.aborted) {
          summary.cancelled = true;
          break;
        }
        // A reader bug on one source must not stop the others; what was stored before stays.
        summary.warnings.push({ file: candidate.root, message: `could not be read: ${(e as Error).message}` });
      }
    }
    done++;
  }
  options.onProgress?.({ done, total: candidates.length, message: 'done' });
  summary.durationMs = Date.now() - started;
  return summary;
}
