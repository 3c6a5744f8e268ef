// The SQLite implementation of RunStore, over the connection openSqliteStore
// opened: prepared statements, and one transaction per batch of writes.
import * as crypto from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import { UserError } from '../errors';
import type { IngestWarning, LogFormat, ParsedRun, ParsedSource, RunStatus } from '../ingest/types';
import { CHUNK_POINTS, chunkStats, decodeChunk, encodeChunkTransient, type ChunkStats, type PointColumns } from './chunkCodec';
import { readSchemaVersion } from './sqliteSchema';
import type {
  ExperimentGroup,
  FileCursor,
  SmokeTestRecord,
  ModelCheckKind,
  RunAnnotation,
  SeriesChange,
  ReplaceSourceResult,
  RunDetail,
  RunQuery,
  RunStore,
  RunSummary,
  SeriesPoints,
  SeriesSummary,
  SourceRecord,
  StepRange,
  StoreStats,
} from './types';
import { PARITY_PROVIDER_PREFIX } from './types';

export function runUid(format: LogFormat, root: string, experimentKey: string, runKey: string): string {
  return crypto.createHash('sha256').update(`${format}\0${root}\0${experimentKey}\0${runKey}`).digest('hex').slice(0, 12);
}

/** The WAL may grow this big (pages of 4 KiB: 256 MiB) while a background checkpointer is behind (see replaceSource). */
const SLICE_CHECKPOINT_PAGES = 65536;

/**
 * The checkpointer's thread: its own connection to the database, which on
 * each message runs a PASSIVE checkpoint (copies what the WAL holds into the
 * database and syncs it, never blocking the writer). Evaluated source, not a
 * file: the agent is one bundle, and this is all the worker needs.
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// [0]: 1 once closed or gone; [1]: checkpoints finished (the writer counts those it asked for).
const done = new Int32Array(workerData.done);
// However this thread ends, a writer waiting on it wakes up.
process.on('exit', () => {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  Atomics.notify(done, 1);
});
let db;
try {
  const Database = require(workerData.sqlite);
  db = new Database(workerData.file, { timeout: 1000 });
  db.pragma('synchronous = NORMAL');
} catch (e) {
  db = undefined; // then each checkpoint is a no-op, and the writer's own checkpoints do the work
}
parentPort.on('message', (message) => {
  if (message === 'checkpoint') {
    try {
      if (db) db.pragma('wal_checkpoint(PASSIVE)');
    } catch (e) {
      // Busy or failed: the writer's own checkpoints still happen when the WAL grows too big.
    }
    Atomics.add(done, 1, 1);
    Atomics.notify(done, 1);
    return;
  }
  try {
    if (db) db.close();
  } finally {
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
    parentPort.close();
  }
});
`;

/** How long close() waits for the checkpoints still queued (each syncs the database file). */
const CHECKPOINTER_CLOSE_MS = 30_000;

class BackgroundCheckpointer {
  alive = true;
  private requested = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly done: Int32Array,
  ) {
    // An idle checkpointer does not keep the process alive; a failed one leaves checkpoints to the writer.
    worker.unref();
    worker.on('error', () => (this.alive = false));
    worker.on('exit', () => (this.alive = false));
  }

  static start(file: string): BackgroundCheckpointer | undefined {
    try {
      const done = new Int32Array(new SharedArrayBuffer(8));
      const worker = new Worker(CHECKPOINTER_SOURCE, { eval: true, workerData: { file, sqlite: require.resolve('better-sqlite3'), done: done.buffer } });
      return new BackgroundCheckpointer(worker, done);
    } catch {
      return undefined;
    }
  }

  /**
   * Queues a checkpoint of everything committed so far. One running and one
   * queued are enough: the queued one, when it starts, takes in every commit
   * made until then. So a slow disk gets fewer, bigger checkpoints instead of
   * a growing queue of fsyncs that the source's last write would wait for.
   */
  checkpoint(): void {
    if (!this.alive) return;
    if (this.requested - Atomics.load(this.done, 1) >= 2) return;
    this.requested++;
    this.worker.postMessage('checkpoint');
  }

  /** Blocks until the queued checkpoints are done (at most CHECKPOINTER_CLOSE_MS). */
  waitUntilIdle(): void {
    const deadline = Date.now() + CHECKPOINTER_CLOSE_MS;
    for (;;) {
      const finished = Atomics.load(this.done, 1);
      if (finished >= this.requested || !this.alive || Atomics.load(this.done, 0) === 1) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.done, 1, finished, left);
    }
  }

  /** Runs the queued checkpoints, closes its connection and stops (waiting at most CHECKPOINTER_CLOSE_MS). */
  close(): void {
    if (this.alive && Atomics.load(this.done, 0) === 0) {
      this.worker.postMessage('close');
      Atomics.wait(this.done, 0, 0, CHECKPOINTER_CLOSE_MS);
    }
    this.alive = false;
    void this.worker.terminate();
  }
}

/** SQLite has no NaN; where a value must exist, NULL stands for NaN. */
const nanToNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
const nullToNaN = (v: number | null): number => (v === null ? NaN : v);

interface RunRow {
  id: number;
  uid: string;
  name: string;
  format: LogFormat;
  source_root: string;
  experiment_key: string;
  experiment_name: string;
  run_key: string;
  path: string;
  status: RunStatus;
  start_time: number | null;
  end_time: number | null;
  last_write: number | null;
  series_count: number;
  param_count: number;
  point_count: number | null;
  label: string | null;
  note: string | null;
  starred: number;
  hidden: number;
}

const RUN_COLUMNS = `
  r.id, r.uid, r.name, s.format, s.root AS source_root, e.key AS experiment_key, e.name AS experiment_name,
  r.key AS run_key, r.path, r.status, r.start_time, r.end_time, r.last_write, r.label, r.note, r.starred, r.hidden,
  (SELECT COUNT(*) FROM series WHERE run_id = r.id) AS series_count,
  (SELECT COUNT(*) FROM params WHERE run_id = r.id) AS param_count,
  (SELECT SUM(point_count) FROM series WHERE run_id = r.id) AS point_count`;
const RUN_FROM = `FROM runs r JOIN experiments e ON e.id = r.experiment_id JOIN sources s ON s.id = e.source_id`;

function toSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    uid: row.uid,
    name: row.name,
    format: row.format,
    sourceRoot: row.source_root,
    experimentKey: row.experiment_key,
    experimentName: row.experiment_name,
    runKey: row.run_key,
    path: row.path,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    lastWrite: row.last_write,
    seriesCount: row.series_count,
    paramCount: row.param_count,
    pointCount: row.point_count ?? 0,
    label: row.label,
    starred: row.starred === 1,
    hidden: row.hidden === 1,
  };
}

/**
 * When the run was last written to: its newest point time or end time, as the
 * log records them; only for logs that record no times at all (CSV loggers,
 * DVCLive without timestamps) the newest mtime of its files. File mtimes alone
 * would call every copied or checked-out run "just written".
 *
 * An appended run keeps the newer of its stored last write and this one (the
 * SQL does that), so the file-mtime fallback must not stand in for points not
 * read yet: null (keep what is stored) for a slice of a longer read and for
 * an append without new points. The read that completes the source sets the
 * fallback for runs still without one (fileTimeOf).
 */
function lastWriteOf(run: ParsedRun, files: readonly FileCursor[], slice: boolean): number | null {
  let latest = -Infinity;
  let points = 0;
  for (const series of Object.values(run.metrics)) {
    const walls = series.walls;
    points += walls.length;
    for (let i = 0; i < walls.length; i++) if (walls[i] > latest) latest = walls[i];
  }
  for (const t of [run.endTime, run.startTime]) if (t !== undefined && t > latest) latest = t;
  if (Number.isFinite(latest)) return latest;
  if (slice || (run.update === 'append' && points === 0)) return null;
  return fileTimeOf(run.path, files);
}

/** The newest mtime of the files at or under `runPath`. */
function fileTimeOf(runPath: string, files: readonly FileCursor[]): number | null {
  let latest = -Infinity;
  const prefix = runPath.endsWith('/') ? runPath : `${runPath}/`;
  for (const f of files) if ((f.path === runPath || f.path.startsWith(prefix)) && f.mtimeMs > latest) latest = f.mtimeMs;
  return Number.isFinite(latest) ? latest : null;
}

export class SqliteRunStore implements RunStore {
  private readonly db: Database;
  private readonly statements: ReturnType<SqliteRunStore['prepareStatements']>;
  /** Started by the first source written in slices; null when it could not start (or after close). */
  private checkpointer: BackgroundCheckpointer | null | undefined = undefined;
  /** The last write was a slice of a longer read: the next one continues (or completes) it. */
  private writingSlices = false;

  /** Over a connection that openSqliteStore opened and migrated; `closeDatabase` closes it (and every store on it). */
  constructor(
    readonly path: string,
    db: Database,
    private readonly closeDatabase: () => void,
  ) {
    this.db = db;
    this.statements = this.prepareStatements();
  }

  private prepareStatements() {
    const db = this.db;
    return {
      upsertSource: db.prepare(
        `INSERT INTO sources (root, format, ingested_at, last_error) VALUES (?, ?, ?, ?)
         ON CONFLICT(root) DO UPDATE SET format = excluded.format, ingested_at = excluded.ingested_at, last_error = excluded.last_error
         RETURNING id`,
      ),
      deleteSourceFiles: db.prepare(`DELETE FROM source_files WHERE source_id = ?`),
      insertSourceFile: db.prepare(`INSERT INTO source_files (source_id, path, size, mtime_ms, read_offset, fingerprint, reader_state) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      upsertExperiment: db.prepare(
        `INSERT INTO experiments (source_id, key, name, lifecycle) VALUES (?, ?, ?, ?)
         ON CONFLICT(source_id, key) DO UPDATE SET name = excluded.name, lifecycle = excluded.lifecycle
         RETURNING id`,
      ),
      experimentsOfSource: db.prepare(`SELECT id, key FROM experiments WHERE source_id = ?`),
      deleteExperiment: db.prepare(`DELETE FROM experiments WHERE id = ?`),
      upsertRun: db.prepare(
        `INSERT INTO runs (uid, experiment_id, key, name, path, status, start_time, end_time, last_write)
         VALUES (@uid, @experimentId, @key, @name, @path, @status, @startTime, @endTime, @lastWrite)
         ON CONFLICT(experiment_id, key) DO UPDATE SET name = excluded.name, path = excluded.path, status = excluded.status,
           start_time = excluded.start_time, end_time = excluded.end_time,
           last_write = CASE WHEN @append = 1 AND runs.last_write > COALESCE(excluded.last_write, -1e308) THEN runs.last_write
                             ELSE COALESCE(excluded.last_write, runs.last_write) END
         RETURNING id`,
      ),
      runsOfExperiment: db.prepare(`SELECT id, key FROM runs WHERE experiment_id = ?`),
      setLastWriteIfNone: db.prepare(`UPDATE runs SET last_write = ? WHERE id = ? AND last_write IS NULL`),
      seriesCountsOfRun: db.prepare(`SELECT key, point_count FROM series WHERE run_id = ?`),
      runByExperimentAndKey: db.prepare(`SELECT id FROM runs WHERE experiment_id = ? AND key = ?`),
      deleteRun: db.prepare(`DELETE FROM runs WHERE id = ?`),
      deleteParams: db.prepare(`DELETE FROM params WHERE run_id = ?`),
      deleteTags: db.prepare(`DELETE FROM tags WHERE run_id = ?`),
      deleteSummaries: db.prepare(`DELETE FROM summaries WHERE run_id = ?`),
      deleteSeriesOfRun: db.prepare(`DELETE FROM series WHERE run_id = ?`),
      insertParam: db.prepare(`INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)`),
      insertTag: db.prepare(`INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)`),
      insertSummary: db.prepare(`INSERT INTO summaries (run_id, key, number_value, text_value, is_nan) VALUES (?, ?, ?, ?, ?)`),
      findSeries: db.prepare(`SELECT id, point_count, chunk_count, step_min, step_max, value_min, value_max FROM series WHERE run_id = ? AND key = ?`),
      insertSeries: db.prepare(`INSERT INTO series (run_id, key) VALUES (?, ?) RETURNING id`),
      updateSeries: db.prepare(
        `UPDATE series SET point_count = @pointCount, chunk_count = @chunkCount, step_min = @stepMin, step_max = @stepMax,
           value_min = @valueMin, value_max = @valueMax, last_value = @lastValue, last_step = @lastStep, last_wall = @lastWall
         WHERE id = @id`,
      ),
      lastChunk: db.prepare(`SELECT seq, point_count, data FROM chunks WHERE series_id = ? ORDER BY seq DESC LIMIT 1`),
      upsertChunk: db.prepare(
        `INSERT OR REPLACE INTO chunks (series_id, seq, point_count, step_min, step_max, value_min, value_max, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      chunksOfSeries: db.prepare(`SELECT data FROM chunks WHERE series_id = ? ORDER BY seq`),
      chunksInRange: db.prepare(`SELECT data FROM chunks WHERE series_id = ? AND step_max >= ? AND step_min <= ? ORDER BY seq`),
      sourceByRoot: db.prepare(`SELECT id, root, format, ingested_at, last_error FROM sources WHERE root = ?`),
      allSources: db.prepare(`SELECT id, root, format, ingested_at, last_error FROM sources ORDER BY root`),
      filesOfSource: db.prepare(`SELECT path, size, mtime_ms, read_offset, fingerprint, reader_state FROM source_files WHERE source_id = ? ORDER BY path`),
      deleteSource: db.prepare(`DELETE FROM sources WHERE root = ?`),
      runById: db.prepare(`SELECT ${RUN_COLUMNS} ${RUN_FROM} WHERE r.id = ?`),
      runByUid: db.prepare(`SELECT ${RUN_COLUMNS} ${RUN_FROM} WHERE r.uid = ?`),
      runsByUidPrefix: db.prepare(`SELECT ${RUN_COLUMNS} ${RUN_FROM} WHERE r.uid LIKE ? || '%' ORDER BY r.id LIMIT 20`),
      runsByName: db.prepare(`SELECT ${RUN_COLUMNS} ${RUN_FROM} WHERE r.name = ? ORDER BY r.id LIMIT 20`),
      paramsOfRun: db.prepare(`SELECT key, value FROM params WHERE run_id = ? ORDER BY key`),
      tagsOfRun: db.prepare(`SELECT key, value FROM tags WHERE run_id = ? ORDER BY key`),
      summariesOfRun: db.prepare(`SELECT key, number_value, text_value, is_nan FROM summaries WHERE run_id = ? ORDER BY key`),
      seriesOfRun: db.prepare(
        `SELECT id, key, point_count, step_min, step_max, value_min, value_max, last_value, last_step, last_wall FROM series WHERE run_id = ? ORDER BY key`,
      ),
    };
  }

  schemaVersion(): number {
    return readSchemaVersion(this.db);
  }

  /** Closes the database this store is on: the registry on the same connection too. */
  close(): void {
    this.closeDatabase();
  }

  /** Before the connection closes: the checkpointer first (its pending checkpoints done), so that the connection is the last one and closing it checkpoints and removes the WAL. */
  stopCheckpointer(): void {
    this.checkpointer?.close();
    this.checkpointer = null;
  }

  getSource(root: string): SourceRecord | undefined {
    const row = this.statements.sourceByRoot.get(root) as SourceRow | undefined;
    return row ? this.toSourceRecord(row) : undefined;
  }

  listSources(): SourceRecord[] {
    return (this.statements.allSources.all() as SourceRow[]).map((row) => this.toSourceRecord(row));
  }

  private toSourceRecord(row: SourceRow): SourceRecord {
    const files = (
      this.statements.filesOfSource.all(row.id) as { path: string; size: number; mtime_ms: number; read_offset: number; fingerprint: string | null; reader_state: string | null }[]
    ).map(
      (f): FileCursor => ({
        path: f.path,
        size: f.size,
        mtimeMs: f.mtime_ms,
        offset: f.read_offset,
        headHash: f.fingerprint ?? '',
        ...(f.reader_state !== null ? { state: JSON.parse(f.reader_state) as unknown } : {}),
      }),
    );
    return { id: row.id, root: row.root, format: row.format, ingestedAt: row.ingested_at, lastError: row.last_error, files };
  }

  replaceSource(parsed: ParsedSource, files: FileCursor[], warnings: IngestWarning[] = parsed.warnings): ReplaceSourceResult {
    const s = this.statements;
    // A slice of a longer read (FormatReader.read) has not reached every run yet: it removes nothing.
    const complete = parsed.complete !== false;
    const write = this.db.transaction((): ReplaceSourceResult => {
      const lastError = warnings.length ? warnings.map((w) => `${w.file}: ${w.message}`).join('\n').slice(0, 10_000) : null;
      const { id: sourceId } = s.upsertSource.get(parsed.root, parsed.format, Date.now(), lastError) as { id: number };
      s.deleteSourceFiles.run(sourceId);
      for (const f of files) s.insertSourceFile.run(sourceId, f.path, f.size, f.mtimeMs, f.offset, f.headHash, f.state === undefined ? null : JSON.stringify(f.state));

      let runs = 0;
      let points = 0;
      let removedRuns = 0;
      const changes: SeriesChange[] = [];
      const keptExperiments = new Set<number>();
      for (const experiment of parsed.experiments) {
        const { id: experimentId } = s.upsertExperiment.get(sourceId, experiment.key, experiment.name, experiment.lifecycle) as { id: number };
        keptExperiments.add(experimentId);
        const keptRuns = new Set<number>();
        for (const run of experiment.runs) {
          const update = run.update ?? 'replace';
          if (update === 'keep') {
            const kept = s.runByExperimentAndKey.get(experimentId, run.key) as { id: number } | undefined;
            if (kept) {
              keptRuns.add(kept.id);
              // A run read in slices whose times are only its files' (see lastWriteOf) gets them once complete.
              if (complete) s.setLastWriteIfNone.run(fileTimeOf(run.path, files), kept.id);
              continue;
            }
            // Never stored (an earlier read failed part-way): nothing to keep; the next full read adds it.
            continue;
          }
          const { id: runId } = s.upsertRun.get({
            uid: runUid(parsed.format, parsed.root, experiment.key, run.key),
            experimentId,
            key: run.key,
            name: run.name,
            path: run.path,
            status: run.status,
            startTime: run.startTime ?? null,
            endTime: run.endTime ?? null,
            lastWrite: lastWriteOf(run, files, !complete),
            // Appended points are the newest; the run's last write is the newest of old and new (a run read in slices).
            append: update === 'append' ? 1 : 0,
          }) as { id: number };
          keptRuns.add(runId);
          runs++;
          const pointsBefore = new Map(
            (s.seriesCountsOfRun.all(runId) as { key: string; point_count: number }[]).map((r) => [r.key, r.point_count]),
          );
          s.deleteParams.run(runId);
          s.deleteTags.run(runId);
          s.deleteSummaries.run(runId);
          if (update === 'replace') s.deleteSeriesOfRun.run(runId);
          for (const [k, v] of Object.entries(run.params)) s.insertParam.run(runId, k, v);
          for (const [k, v] of Object.entries(run.tags)) s.insertTag.run(runId, k, v);
          for (const [k, v] of Object.entries(run.summaries)) {
            if (typeof v === 'number') s.insertSummary.run(runId, k, nanToNull(v), null, Number.isNaN(v) ? 1 : 0);
            else s.insertSummary.run(runId, k, null, v, 0);
          }
          const runUidValue = runUid(parsed.format, parsed.root, experiment.key, run.key);
          for (const [key, series] of Object.entries(run.metrics)) {
            const n = series.values.length;
            if (n === 0) continue;
            this.appendPoints(runId, key, series);
            points += n;
            const before = pointsBefore.get(key) ?? 0;
            const newPoints = update === 'append' ? n : n - before;
            if (newPoints !== 0 || before === 0) {
              changes.push({ runId, runUid: runUidValue, runName: run.name, key, newPoints, lastStep: series.steps[n - 1], lastValue: series.values[n - 1] });
            }
          }
        }
        if (!complete) continue;
        for (const row of s.runsOfExperiment.all(experimentId) as { id: number }[]) {
          if (!keptRuns.has(row.id)) {
            s.deleteRun.run(row.id);
            removedRuns++;
          }
        }
      }
      if (complete) {
        for (const row of s.experimentsOfSource.all(sourceId) as { id: number }[]) {
          if (!keptExperiments.has(row.id)) s.deleteExperiment.run(row.id);
        }
      }
      return { sourceId, runs, points, removedRuns, changes };
    });
    // Checkpoints. SQLite copies the WAL into the database after a commit
    // that leaves it above wal_autocheckpoint pages (about 4 MB), and waits
    // for the disk (fsync) while it does: 0.3-0.5 s per 60 MB written here,
    // a fifth of a big ingest. A source read in slices hands that to a
    // background connection (BackgroundCheckpointer) after each slice, so
    // the disk works while the next slice is parsed; meanwhile this
    // connection checkpoints only if the WAL outgrows SLICE_CHECKPOINT_PAGES.
    // The write that completes the source then waits until everything is
    // checkpointed, so that, as before, a finished read is in the database
    // file. A one-read source (nearly all: small or barely changed, live
    // updates) checkpoints as it always did.
    const sliced = !complete || this.writingSlices;
    this.writingSlices = !complete;
    const checkpointer = sliced ? this.backgroundCheckpointer() : undefined;
    if (!checkpointer) return write.immediate();
    const checkpointPages = this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.db.pragma(`wal_autocheckpoint = ${Math.max(checkpointPages, SLICE_CHECKPOINT_PAGES)}`);
    try {
      return write.immediate();
    } finally {
      this.db.pragma(`wal_autocheckpoint = ${checkpointPages}`);
      checkpointer.checkpoint();
      if (complete) checkpointer.waitUntilIdle();
    }
  }

  /** The background checkpointer, started on first use; undefined where it cannot run (then this connection checkpoints). */
  private backgroundCheckpointer(): BackgroundCheckpointer | undefined {
    if (this.checkpointer === undefined) this.checkpointer = BackgroundCheckpointer.start(this.path) ?? null;
    return this.checkpointer?.alive ? this.checkpointer : undefined;
  }

  removeSource(root: string): void {
    this.statements.deleteSource.run(root);
  }

  appendPoints(runId: number, key: string, points: PointColumns): void {
    const incoming = points.values.length;
    if (incoming === 0) return;
    if (points.steps.length !== incoming || points.walls.length !== incoming) {
      throw new Error(`appendPoints(${key}): steps, values and walls differ in length`);
    }
    const s = this.statements;
    this.db.transaction(() => {
      let series = s.findSeries.get(runId, key) as SeriesRow | undefined;
      if (!series) {
        const { id } = s.insertSeries.get(runId, key) as { id: number };
        series = { id, point_count: 0, chunk_count: 0, step_min: null, step_max: null, value_min: null, value_max: null };
      }
      const seriesId = series.id;
      let stepMin = series.step_min ?? Infinity;
      let stepMax = series.step_max ?? -Infinity;
      let valueMin = series.value_min ?? Infinity;
      let valueMax = series.value_max ?? -Infinity;
      let hasValues = series.value_min !== null;
      let lastStats: ChunkStats | undefined;
      const writeChunk = (columns: PointColumns, from: number, to: number, seq: number) => {
        const stats = chunkStats(columns, from, to);
        // SQLite copies the blob while binding it: the codec's one scratch buffer serves every chunk.
        s.upsertChunk.run(seriesId, seq, stats.count, stats.stepMin, stats.stepMax, stats.valueMin, stats.valueMax, encodeChunkTransient(columns, from, to));
        stepMin = Math.min(stepMin, stats.stepMin);
        stepMax = Math.max(stepMax, stats.stepMax);
        if (stats.valueMin !== null && stats.valueMax !== null) {
          hasValues = true;
          valueMin = Math.min(valueMin, stats.valueMin);
          valueMax = Math.max(valueMax, stats.valueMax);
        }
        lastStats = stats;
      };

      let seq = series.chunk_count;
      let from = 0;
      if (series.chunk_count > 0) {
        // Refill the last chunk if it has room, so that live appends of a few
        // points at a time do not leave thousands of tiny chunks behind. Only
        // that chunk is decoded and joined with the first new points; the rest
        // are encoded straight from the caller's columns.
        const last = s.lastChunk.get(seriesId) as { seq: number; point_count: number; data: Buffer };
        if (last.point_count < CHUNK_POINTS) {
          const old = decodeChunk(last.data);
          from = Math.min(CHUNK_POINTS - old.values.length, incoming);
          const head: PointColumns = {
            steps: concat(old.steps, points.steps, from),
            values: concat(old.values, points.values, from),
            walls: concat(old.walls, points.walls, from),
          };
          writeChunk(head, 0, head.values.length, last.seq);
          seq = last.seq + 1;
        }
      }
      for (; from < incoming; from += CHUNK_POINTS) writeChunk(points, from, Math.min(from + CHUNK_POINTS, incoming), seq++);
      s.updateSeries.run({
        id: seriesId,
        pointCount: series.point_count + incoming,
        chunkCount: seq,
        stepMin,
        stepMax,
        valueMin: hasValues ? valueMin : null,
        valueMax: hasValues ? valueMax : null,
        lastValue: nanToNull(lastStats!.lastValue),
        lastStep: lastStats!.lastStep,
        lastWall: nanToNull(lastStats!.lastWall),
      });
    })();
  }

  listRuns(query: RunQuery = {}): { runs: RunSummary[]; total: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (!query.includeHidden) where.push('r.hidden = 0');
    if (query.sourceRoot) {
      where.push('s.root = ?');
      args.push(query.sourceRoot);
    }
    if (query.experimentKey !== undefined) {
      where.push('e.key = ?');
      args.push(query.experimentKey);
    }
    if (query.text) {
      where.push(`(instr(lower(r.name), ?) OR instr(lower(e.name), ?) OR instr(r.uid, ?) OR instr(lower(r.path), ?))`);
      const t = query.text.toLowerCase();
      args.push(t, t, t, t);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const { total } = this.db.prepare(`SELECT COUNT(*) AS total ${RUN_FROM} ${whereSql}`).get(...args) as { total: number };
    const limit = query.limit ?? -1;
    const offset = query.offset ?? 0;
    const rows = this.db
      .prepare(`SELECT ${RUN_COLUMNS} ${RUN_FROM} ${whereSql} ORDER BY s.root, e.name, r.start_time, r.name LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as RunRow[];
    return { runs: rows.map(toSummary), total };
  }

  runNames(sourceRoot: string, experimentKey: string): { id: number; name: string; path: string }[] {
    return this.db
      .prepare(`SELECT r.id, r.name, r.path FROM runs r JOIN experiments e ON e.id = r.experiment_id JOIN sources s ON s.id = e.source_id WHERE s.root = ? AND e.key = ? ORDER BY r.id`)
      .all(sourceRoot, experimentKey) as { id: number; name: string; path: string }[];
  }

  annotateRun(runId: number, annotation: RunAnnotation): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    if (annotation.label !== undefined) {
      sets.push('label = ?');
      args.push(annotation.label || null);
    }
    if (annotation.note !== undefined) {
      sets.push('note = ?');
      args.push(annotation.note || null);
    }
    if (annotation.starred !== undefined) {
      sets.push('starred = ?');
      args.push(annotation.starred ? 1 : 0);
    }
    if (annotation.hidden !== undefined) {
      sets.push('hidden = ?');
      args.push(annotation.hidden ? 1 : 0);
    }
    if (sets.length === 0) return;
    const result = this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, runId);
    if (result.changes === 0) throw new UserError('not-found', `no run with id ${runId} in ${this.path}`);
  }

  lastValues(runIds: readonly number[]): Map<number, { key: string; lastValue: number; lastStep: number; pointCount: number }[]> {
    const out = new Map<number, { key: string; lastValue: number; lastStep: number; pointCount: number }[]>();
    if (runIds.length === 0) return out;
    // Chunked IN lists: SQLite limits bound parameters.
    for (let i = 0; i < runIds.length; i += 500) {
      const ids = runIds.slice(i, i + 500);
      const rows = this.db
        .prepare(`SELECT run_id, key, last_value, last_step, point_count FROM series WHERE run_id IN (${ids.map(() => '?').join(',')}) ORDER BY key`)
        .all(...ids) as { run_id: number; key: string; last_value: number | null; last_step: number | null; point_count: number }[];
      for (const r of rows) {
        const list = out.get(r.run_id) ?? [];
        list.push({ key: r.key, lastValue: nullToNaN(r.last_value), lastStep: r.last_step ?? NaN, pointCount: r.point_count });
        out.set(r.run_id, list);
      }
    }
    return out;
  }

  listExperiments(): ExperimentGroup[] {
    const rows = this.db
      .prepare(
        `SELECT s.root AS sourceRoot, s.format, e.key, e.name, e.lifecycle, s.last_error AS lastError,
                (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id AND r.hidden = 0) AS runCount
         FROM experiments e JOIN sources s ON s.id = e.source_id ORDER BY s.format, s.root, e.name`,
      )
      .all() as ExperimentGroup[];
    return rows;
  }

  getRun(idOrUid: number | string): RunDetail | undefined {
    const s = this.statements;
    const row = (typeof idOrUid === 'number' ? s.runById.get(idOrUid) : s.runByUid.get(idOrUid)) as RunRow | undefined;
    if (!row) return undefined;
    const params = Object.fromEntries((s.paramsOfRun.all(row.id) as { key: string; value: string }[]).map((p) => [p.key, p.value]));
    const tags = Object.fromEntries((s.tagsOfRun.all(row.id) as { key: string; value: string }[]).map((p) => [p.key, p.value]));
    const summaries: Record<string, number | string> = {};
    for (const r of s.summariesOfRun.all(row.id) as { key: string; number_value: number | null; text_value: string | null; is_nan: number }[]) {
      summaries[r.key] = r.is_nan ? NaN : (r.number_value ?? r.text_value ?? '');
    }
    const series = (s.seriesOfRun.all(row.id) as SeriesSummaryRow[]).map(
      (r): SeriesSummary => ({
        id: r.id,
        key: r.key,
        pointCount: r.point_count,
        stepMin: r.step_min,
        stepMax: r.step_max,
        valueMin: r.value_min,
        valueMax: r.value_max,
        lastValue: nullToNaN(r.last_value),
        lastStep: r.last_step ?? NaN,
        lastWall: nullToNaN(r.last_wall),
      }),
    );
    return { ...toSummary(row), note: row.note, params, tags, summaries, series };
  }

  findRuns(reference: string): RunSummary[] {
    const s = this.statements;
    const ref = reference.trim();
    if (/^\d+$/.test(ref)) {
      const row = s.runById.get(Number(ref)) as RunRow | undefined;
      if (row) return [toSummary(row)];
    }
    const exact = s.runByUid.get(ref) as RunRow | undefined;
    if (exact) return [toSummary(exact)];
    if (/^[0-9a-f]{4,}$/.test(ref)) {
      const rows = s.runsByUidPrefix.all(ref) as RunRow[];
      if (rows.length) return rows.map(toSummary);
    }
    return (s.runsByName.all(ref) as RunRow[]).map(toSummary);
  }

  readSeries(runId: number, key: string, range?: StepRange): SeriesPoints | undefined {
    const s = this.statements;
    const series = s.findSeries.get(runId, key) as SeriesRow | undefined;
    if (!series) return undefined;
    const rows = (range ? s.chunksInRange.all(series.id, range.min, range.max) : s.chunksOfSeries.all(series.id)) as { data: Buffer }[];
    const decoded = rows.map((r) => decodeChunk(r.data));
    let total = 0;
    for (const d of decoded) total += d.values.length;
    const out = { steps: new Float64Array(total), values: new Float64Array(total), walls: new Float64Array(total) };
    let n = 0;
    for (const d of decoded) {
      for (let i = 0; i < d.values.length; i++) {
        const step = d.steps[i];
        if (range && (step < range.min || step > range.max)) continue;
        out.steps[n] = step;
        out.values[n] = d.values[i];
        out.walls[n] = d.walls[i];
        n++;
      }
    }
    return n === total ? out : { steps: out.steps.slice(0, n), values: out.values.slice(0, n), walls: out.walls.slice(0, n) };
  }

  recordSmokeTest(record: SmokeTestRecord, size: number): void {
    this.db.transaction(() => {
      const { id } = this.db
        .prepare(
          `INSERT INTO models (path, sha256, size, inspected_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, inspected_at = excluded.inspected_at
           RETURNING id`,
        )
        .get(record.modelPath, record.sha256, size, record.startedAt) as { id: number };
      this.db
        .prepare(`INSERT INTO smoke_tests (model_id, started_at, provider, passed, report) VALUES (?, ?, ?, ?, ?)`)
        .run(id, record.startedAt, record.provider, record.passed ? 1 : 0, record.report);
    }).immediate();
  }

  latestSmokeTests(modelPaths: readonly string[], kind: ModelCheckKind = 'smoke'): Map<string, SmokeTestRecord> {
    const out = new Map<string, SmokeTestRecord>();
    const query = this.db.prepare(
      `SELECT m.path, m.sha256, t.started_at, t.provider, t.passed, t.report FROM smoke_tests t JOIN models m ON m.id = t.model_id
       WHERE m.path = ? AND (substr(t.provider, 1, length(?)) = ?) = ? ORDER BY t.started_at DESC, t.id DESC LIMIT 1`,
    );
    for (const p of modelPaths) {
      const row = query.get(p, PARITY_PROVIDER_PREFIX, PARITY_PROVIDER_PREFIX, kind === 'parity' ? 1 : 0) as { path: string; sha256: string; started_at: number; provider: string; passed: number; report: string } | undefined;
      if (row) out.set(p, { modelPath: row.path, sha256: row.sha256, startedAt: row.started_at, provider: row.provider, passed: row.passed === 1, report: row.report });
    }
    return out;
  }

  stats(): StoreStats {
    return this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM sources) AS sources, (SELECT COUNT(*) FROM runs) AS runs, (SELECT COUNT(*) FROM series) AS series,
                (SELECT COALESCE(SUM(point_count), 0) FROM series) AS points, (SELECT COUNT(*) FROM chunks) AS chunks`,
      )
      .get() as StoreStats;
  }
}

interface SourceRow {
  id: number;
  root: string;
  format: LogFormat;
  ingested_at: number;
  last_error: string | null;
}

interface SeriesRow {
  id: number;
  point_count: number;
  chunk_count: number;
  step_min: number | null;
  step_max: number | null;
  value_min: number | null;
  value_max: number | null;
}

interface SeriesSummaryRow {
  id: number;
  key: string;
  point_count: number;
  step_min: number | null;
  step_max: number | null;
  value_min: number | null;
  value_max: number | null;
  last_value: number | null;
  last_step: number | null;
  last_wall: number | null;
}

/** a followed by the first `bCount` of b. */
function concat(a: Float64Array, b: ArrayLike<number>, bCount: number): Float64Array {
  const out = new Float64Array(a.length + bCount);
  out.set(a, 0);
  if (b instanceof Float64Array) out.set(b.subarray(0, bCount), a.length);
  else for (let i = 0; i < bCount; i++) out[a.length + i] = b[i];
  return out;
}
