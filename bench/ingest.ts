// Ingest throughput and memory on large logs written by the project's own
// writers: a ~200 MB TensorBoard event file (EventFileWriter), a 10 M-point
// MLflow run (real FileStore metric lines) and a 1 M-row Lightning CSV.
// For each: end-to-end ingest into SQLite (ingestPaths + SqliteRunStore) in
// MB/s and points/s, next to a same-run baseline that reads the same bytes
// without storing them (TensorBoard: plus the project's crc32c over every
// record, as the reader must; text: plus finding every line break); database
// bytes per point; and peak RSS / heap during ingest at half and full size,
// each in a fresh child process, to show whether memory stays flat as the
// file grows (the engine reads a source in slices of RUNLENS_BENCH_SLICE_BYTES,
// default its own DEFAULT_SLICE_BYTES). RUNLENS_BENCH_SCALE scales every size
// (default 1 = full size).
//
// The full size is ingested RUNLENS_BENCH_INGEST_RUNS times (default 3), each
// in a fresh process with a fresh database, and each followed by 3 baseline
// runs: the figures compare the fastest ingest with the fastest baseline, so
// both sides of a ratio are the same statistic (a single cold ingest against
// the best of several baselines would put this machine's noise on one side).
// Every ingest's time is printed, so the spread shows.
//
// Used by bench/run.ts through benchIngest(); `node out/bench/ingest.js`
// runs it alone and prints the same report.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_SLICE_BYTES, ingestPaths } from '../src/core/ingest/engine';
import { ALL_READERS } from '../src/core/ingest/registry';
import { crc32c, maskCrc } from '../src/core/ingest/tensorboard/crc32c';
import { EventFileWriter, eventFileName } from '../src/core/ingest/tensorboard/writer';
import { openStore } from '../src/core/database/open';

export type IngestBenchFormat = 'tensorboard' | 'mlflow' | 'lightning';

export interface IngestMemorySample {
  /** 'half' or 'full'. */
  size: 'half' | 'full';
  fileBytes: number;
  points: number;
  /** RSS of the child before ingest started (modules loaded, store open). */
  rssBeforeBytes: number;
  /** Peak RSS of the child process (getrusage maxrss: exact, not sampled). */
  peakRssBytes: number;
  /** Peak V8 heapUsed, sampled every few ms while the event loop was free (may miss peaks inside long synchronous steps). */
  peakHeapUsedBytes: number;
  /** Peak of Buffers/ArrayBuffers outside the heap, sampled the same way. */
  peakArrayBuffersBytes: number;
  samples: number;
  ingestSec: number;
}

export interface IngestBenchFormatResult {
  format: IngestBenchFormat;
  /** Full size: bytes of log files ingested. */
  fileBytes: number;
  /** Points the ingest stored (its own count, checked against what was written). */
  points: number;
  /** End to end: discovery, reading, parsing, storing, one fresh database. The fastest of `ingestRuns`, each in a fresh process. */
  ingestSec: number;
  /** Every full-size ingest's seconds, in the order they ran (the spread of the machine's noise). */
  ingestRuns: number[];
  ingestMBps: number;
  ingestPointsPerSec: number;
  /** What the baseline does, in words. */
  baselineWhat: string;
  /** Best of 3 runs of the baseline over the same files in each child, right after its ingest: the fastest of all. */
  baselineSec: number;
  baselineMBps: number;
  /** Ingest throughput as a fraction of the baseline's (1 = as fast as only reading). */
  ingestVsBaseline: number;
  /** Database file (+ WAL, after a checkpoint) bytes per stored point. */
  dbBytes: number;
  dbBytesPerPoint: number;
  /** Peak memory at half and at full size. */
  memory: [IngestMemorySample, IngestMemorySample];
  /** full peak RSS growth over half's (growth = peak RSS - RSS before ingest); near 1 = flat, near 2 = proportional to the file. */
  memoryGrowthRatio: number;
  /** Seconds spent writing the logs (not part of any figure). */
  writeSec: number;
}

export interface IngestBenchResult {
  scale: number;
  /** The engine's slice size the ingests ran with. */
  sliceBytes: number;
  cpus: number;
  node: string;
  formats: IngestBenchFormatResult[];
  targets: typeof INGEST_TARGETS;
  totalSec: number;
}

/** The targets the report prints next to the figures. */
export const INGEST_TARGETS = {
  /** TensorBoard ingest throughput >= 50 % of reading + CRC-checking the same bytes. */
  tensorboardVsBaseline: 0.5,
  /** End-to-end points per second, every format. */
  pointsPerSec: 5_000_000,
  /** Database bytes per point. */
  dbBytesPerPoint: 20,
  /** Memory flat: full-size peak RSS growth at most this multiple of half-size's. */
  memoryGrowthRatio: 1.25,
};

const MB = 1024 * 1024;
const FULL_TB_BYTES = 200 * MB;
const FULL_MLFLOW_POINTS = 10_000_000;
const FULL_LIGHTNING_ROWS = 1_000_000;

export interface IngestBenchOptions {
  /** Multiplies every size; default RUNLENS_BENCH_SCALE or 1. */
  scale?: number;
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
  /** Only these formats (default all three). */
  formats?: IngestBenchFormat[];
  /** The engine's slice size; default RUNLENS_BENCH_SLICE_BYTES, else the engine's own default. */
  sliceBytes?: number;
  /** Full-size ingests per format, each in a fresh process; default RUNLENS_BENCH_INGEST_RUNS or 3. */
  ingestRuns?: number;
}

// --- writing the logs ------------------------------------------------------------

interface Written {
  /** The folder to ingest. */
  root: string;
  /** The log files, for the baseline. */
  files: string[];
  points: number;
}

/** Deterministic noise in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TB_TAGS = ['train/loss', 'train/accuracy', 'lr', 'grad_norm'];

/**
 * A PyTorch-style event file: file_version, then one simple_value scalar per
 * event, four tags in turn, double wall times. Written through the project's
 * EventFileWriter (in memory, flushed every batch so memory stays small).
 */
export function writeTensorBoard(root: string, targetBytes: number): Written {
  const file = path.join(root, 'tb_logs', 'version_0', eventFileName({ timestampSecs: 1_716_000_000, host: 'bench-host', pid: 4242, index: 0 }));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const noise = lcg(42);
  let bytes = 0;
  let points = 0;
  let step = 0;
  try {
    let writer = new EventFileWriter();
    writer.fileVersion(1_716_000_000);
    let inBatch = 0;
    while (bytes < targetBytes) {
      const wall = 1_716_000_000 + step * 0.0371 + noise() * 0.001;
      for (let t = 0; t < TB_TAGS.length; t++) {
        const base = t === 2 ? 1e-3 * Math.exp(-step / 2e6) : t === 1 ? 1 - Math.exp(-step / 3e5) : 2 * Math.exp(-step / 5e5);
        writer.scalar(wall, step, TB_TAGS[t], base + noise() * 0.01);
        points++;
      }
      step++;
      inBatch += TB_TAGS.length;
      if (inBatch >= 100_000) {
        const buffer = writer.toBuffer();
        fs.writeSync(fd, buffer);
        bytes += buffer.length;
        writer = new EventFileWriter();
        inBatch = 0;
      }
    }
    const rest = writer.toBuffer();
    fs.writeSync(fd, rest);
  } finally {
    fs.closeSync(fd);
  }
  return { root, files: [file], points };
}

const MLFLOW_RUN_ID = '0123456789abcdef0123456789abcdef';
const MLFLOW_METRICS = ['loss', 'accuracy', 'lr', 'val/loss'];

/**
 * One MLflow FileStore run with `points` points over four metrics, lines as
 * MLflow writes them: `<timestamp ms> <value> <step>`, values Python float
 * reprs of float32 numbers (what `loss.item()` logs).
 */
export function writeMlflow(root: string, points: number): Written {
  const store = path.join(root, 'mlruns');
  const runDir = path.join(store, '1', MLFLOW_RUN_ID);
  fs.mkdirSync(path.join(runDir, 'params'), { recursive: true });
  fs.mkdirSync(path.join(runDir, 'tags'), { recursive: true });
  fs.writeFileSync(path.join(store, '1', 'meta.yaml'), "artifact_location: file:///bench/mlruns/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: bench\n");
  fs.writeFileSync(
    path.join(runDir, 'meta.yaml'),
    `artifact_uri: file:///bench/mlruns/1/${MLFLOW_RUN_ID}/artifacts\nend_time: null\nentry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\n` +
      `run_id: ${MLFLOW_RUN_ID}\nrun_name: bench-run\nrun_uuid: ${MLFLOW_RUN_ID}\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 1\ntags: []\nuser_id: bench\n`,
  );
  fs.writeFileSync(path.join(runDir, 'params', 'lr'), '0.001');
  fs.writeFileSync(path.join(runDir, 'params', 'batch_size'), '64');
  fs.writeFileSync(path.join(runDir, 'tags', 'mlflow.runName'), 'bench-run');
  const files: string[] = [];
  const noise = lcg(7);
  const perMetric = Math.ceil(points / MLFLOW_METRICS.length);
  let written = 0;
  for (const [m, key] of MLFLOW_METRICS.entries()) {
    const file = path.join(runDir, 'metrics', ...key.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'w');
    try {
      const n = Math.min(perMetric, points - written);
      const batch: string[] = [];
      for (let i = 0; i < n; i++) {
        const value = Math.fround((m === 2 ? 1e-3 : 2) * Math.exp(-i / (n / 4)) + noise() * 0.05);
        batch.push(`${1_700_000_000_000 + i * 37 + Math.floor(noise() * 5)} ${value} ${i}`);
        if (batch.length === 50_000) {
          fs.writeSync(fd, batch.join('\n') + '\n');
          batch.length = 0;
        }
      }
      if (batch.length) fs.writeSync(fd, batch.join('\n') + '\n');
      written += n;
    } finally {
      fs.closeSync(fd);
    }
    files.push(file);
  }
  return { root, files, points: written };
}

/**
 * A Lightning CSVLogger metrics.csv: a per-step training row every row
 * (epoch, step, lr, train_loss) and, every 500 rows, a validation row at the
 * same step (val_loss only, as Lightning writes it).
 */
export function writeLightning(root: string, rows: number): Written {
  const versionDir = path.join(root, 'lightning_logs', 'version_0');
  fs.mkdirSync(versionDir, { recursive: true });
  fs.writeFileSync(path.join(versionDir, 'hparams.yaml'), 'lr: 0.001\nbatch_size: 64\nmodel:\n  hidden: 512\n  layers: 4\n');
  const file = path.join(versionDir, 'metrics.csv');
  const fd = fs.openSync(file, 'w');
  const noise = lcg(11);
  let points = 0;
  try {
    fs.writeSync(fd, 'epoch,step,lr,train_loss,val_loss\n');
    const batch: string[] = [];
    let written = 0;
    for (let step = 0; written < rows; step++) {
      const epoch = Math.floor(step / 5000);
      const loss = Math.fround(2 * Math.exp(-step / 2e5) + noise() * 0.05);
      batch.push(`${epoch},${step},${Math.fround(1e-3 * Math.exp(-step / 5e5))},${loss},`);
      points += 3; // epoch, lr, train_loss
      written++;
      if (step % 500 === 499 && written < rows) {
        // Same epoch and step as the row before, as Lightning writes it: its epoch cell is a point too.
        batch.push(`${epoch},${step},,,${Math.fround(loss * 1.1)}`);
        points += 2; // epoch, val_loss
        written++;
      }
      if (batch.length >= 50_000) {
        fs.writeSync(fd, batch.join('\n') + '\n');
        batch.length = 0;
      }
    }
    if (batch.length) fs.writeSync(fd, batch.join('\n') + '\n');
  } finally {
    fs.closeSync(fd);
  }
  return { root, files: [file], points };
}

/**
 * A copy of `full` cut to about half: every file cut at a record or line
 * boundary, and the points that remain, counted the same way they were written.
 */
function halfOf(format: IngestBenchFormat, full: Written, root: string): Written {
  fs.rmSync(root, { recursive: true, force: true });
  fs.cpSync(full.root, root, { recursive: true });
  const files = full.files.map((f) => path.join(root, path.relative(full.root, f)));
  for (const file of files) {
    const size = fs.statSync(file).size;
    const cut = format === 'tensorboard' ? tfRecordBoundaryAfter(file, size / 2) : lineBoundaryAfter(file, Math.floor(size / 2));
    fs.truncateSync(file, cut);
  }
  return { root, files, points: NaN }; // counted by the ingest; the full run checks the count
}

function tfRecordBoundaryAfter(file: string, offset: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(8);
    let pos = 0;
    while (pos < offset) {
      fs.readSync(fd, header, 0, 8, pos);
      pos += 12 + Number(header.readBigUInt64LE(0)) + 4;
    }
    return pos;
  } finally {
    fs.closeSync(fd);
  }
}

function lineBoundaryAfter(file: string, offset: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const got = fs.readSync(fd, buffer, 0, buffer.length, offset);
    const newline = buffer.subarray(0, got).indexOf(10);
    if (newline < 0) throw new Error(`no line break after byte ${offset} of ${file}`);
    return offset + newline + 1;
  } finally {
    fs.closeSync(fd);
  }
}

// --- the child that measures -------------------------------------------------------

interface ChildJob {
  format: IngestBenchFormat;
  root: string;
  db: string;
  files: string[];
  baseline: boolean;
  /** The engine's slice size (undefined: its default). */
  sliceBytes?: number;
}

interface ChildResult {
  points: number;
  runs: number;
  warnings: number;
  ingestSec: number;
  fileBytes: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  peakArrayBuffersBytes: number;
  samples: number;
  dbBytes: number;
  baselineSec: number;
  baselineUnits: number;
}

const WINDOW_BYTES = 4 * MB;

/** Reads every record of every file in 4 MB windows and checks both masked CRC-32Cs, as a reader must; stores nothing. */
function baselineTfRecords(files: string[]): number {
  let records = 0;
  const window = Buffer.allocUnsafe(WINDOW_BYTES);
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      let big: Buffer | undefined;
      let offset = 0;
      while (offset < size) {
        let buffer: Buffer = window;
        let got = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - offset), offset);
        let pos = 0;
        while (pos + 12 <= got) {
          const length = buffer.readUInt32LE(pos);
          if (buffer.readUInt32LE(pos + 4) !== 0) throw new Error(`${file}: record longer than 4 GB at ${offset + pos}`);
          const end = pos + 12 + length + 4;
          if (end > got) {
            if (pos === 0 && buffer === window && offset + end <= size) {
              // A record larger than the window: read it whole.
              big = big && big.length >= end ? big : Buffer.allocUnsafe(end);
              buffer = big;
              got = fs.readSync(fd, buffer, 0, end, offset);
              continue;
            }
            break;
          }
          if (maskCrc(crc32c(buffer, pos, pos + 8)) !== buffer.readUInt32LE(pos + 8)) throw new Error(`${file}: header CRC mismatch at ${offset + pos}`);
          if (maskCrc(crc32c(buffer, pos + 12, pos + 12 + length)) !== buffer.readUInt32LE(pos + 12 + length)) throw new Error(`${file}: data CRC mismatch at ${offset + pos}`);
          records++;
          pos = end;
        }
        if (pos === 0) throw new Error(`${file}: truncated record at ${offset}`);
        offset += pos;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return records;
}

/** Reads every file in 4 MB windows and finds every line break; parses and stores nothing. */
function baselineLines(files: string[]): number {
  let lines = 0;
  const window = Buffer.allocUnsafe(WINDOW_BYTES);
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      let offset = 0;
      for (;;) {
        const got = fs.readSync(fd, window, 0, window.length, offset);
        if (got === 0) break;
        for (let at = window.indexOf(10, 0); at !== -1 && at < got; at = window.indexOf(10, at + 1)) lines++;
        offset += got;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return lines;
}

function databaseBytes(db: string): number {
  const check = new Database(db);
  check.pragma('wal_checkpoint(TRUNCATE)');
  check.close();
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(db + suffix)) total += fs.statSync(db + suffix).size;
  return total;
}

async function runChild(job: ChildJob): Promise<ChildResult> {
  const fileBytes = job.files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const store = openStore(job.db).runs;
  global.gc?.();
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakArrayBuffers = before.arrayBuffers;
  let samples = 0;
  const sample = () => {
    const m = process.memoryUsage();
    samples++;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
    if (m.arrayBuffers > peakArrayBuffers) peakArrayBuffers = m.arrayBuffers;
  };
  const sampler = setInterval(sample, 5);
  const t0 = process.hrtime.bigint();
  const summary = await ingestPaths(store, ALL_READERS, [job.root], job.sliceBytes ? { sliceBytes: job.sliceBytes } : {});
  const ingestSec = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  sample();
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  store.close();
  const dbBytes = databaseBytes(job.db);

  let baselineSec = NaN;
  let baselineUnits = 0;
  if (job.baseline) {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const b0 = process.hrtime.bigint();
      baselineUnits = job.format === 'tensorboard' ? baselineTfRecords(job.files) : baselineLines(job.files);
      runs.push(Number(process.hrtime.bigint() - b0) / 1e9);
    }
    baselineSec = Math.min(...runs);
  }
  return {
    points: summary.points,
    runs: summary.runs,
    warnings: summary.warnings.length,
    ingestSec,
    fileBytes,
    rssBeforeBytes: before.rss,
    peakRssBytes,
    peakHeapUsedBytes: peakHeap,
    peakArrayBuffersBytes: peakArrayBuffers,
    samples,
    dbBytes,
    baselineSec,
    baselineUnits,
  };
}

/** Runs one measurement in a fresh Node process, so one format's memory cannot inflate another's. */
function measureInChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', __filename, '--child', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`ingest bench child (${job.format}) exited ${code}: ${out}`));
      try {
        resolve(JSON.parse(last) as ChildResult);
      } catch {
        reject(new Error(`ingest bench child (${job.format}) printed no result: ${out}`));
      }
    });
  });
}

// --- the benchmark -------------------------------------------------------------------

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function benchIngest(dir: string, options: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const started = process.hrtime.bigint();
  const scale = options.scale ?? Number(process.env.RUNLENS_BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error(`RUNLENS_BENCH_SCALE must be a positive number, got ${process.env.RUNLENS_BENCH_SCALE}`);
  const log = options.log ?? ((line: string) => console.log(line));
  const sliceBytes = options.sliceBytes ?? (process.env.RUNLENS_BENCH_SLICE_BYTES ? Number(process.env.RUNLENS_BENCH_SLICE_BYTES) : undefined);
  const formats = options.formats ?? ['tensorboard', 'mlflow', 'lightning'];
  // The baseline is the best of several runs, so the ingest is too: the same
  // statistic on both sides of the ratio. Each ingest runs in a fresh process
  // (a cold start, as in the agent), each into a fresh database.
  const ingestRuns = options.ingestRuns ?? Number(process.env.RUNLENS_BENCH_INGEST_RUNS ?? 3);
  if (!Number.isInteger(ingestRuns) || ingestRuns < 1) throw new Error(`RUNLENS_BENCH_INGEST_RUNS must be a whole number >= 1, got ${process.env.RUNLENS_BENCH_INGEST_RUNS}`);
  const results: IngestBenchFormatResult[] = [];

  for (const format of formats) {
    const work = path.join(dir, `ingest-${format}`);
    fs.mkdirSync(work, { recursive: true });
    try {
      const w0 = process.hrtime.bigint();
      let full: Written;
      if (format === 'tensorboard') {
        log(`[ingest] writing a ${fmt((FULL_TB_BYTES * scale) / MB)} MB TensorBoard event file with EventFileWriter…`);
        full = writeTensorBoard(path.join(work, 'full'), FULL_TB_BYTES * scale);
      } else if (format === 'mlflow') {
        log(`[ingest] writing a ${fmt(FULL_MLFLOW_POINTS * scale)}-point MLflow run (FileStore metric lines)…`);
        full = writeMlflow(path.join(work, 'full'), Math.round(FULL_MLFLOW_POINTS * scale));
      } else {
        log(`[ingest] writing a ${fmt(FULL_LIGHTNING_ROWS * scale)}-row Lightning metrics.csv…`);
        full = writeLightning(path.join(work, 'full'), Math.round(FULL_LIGHTNING_ROWS * scale));
      }
      const half = halfOf(format, full, path.join(work, 'half'));
      const writeSec = Number(process.hrtime.bigint() - w0) / 1e9;
      const fullBytes = full.files.reduce((n, f) => n + fs.statSync(f).size, 0);
      log(`[ingest]   ${fmt(fullBytes / MB, 1)} MB, ${fmt(full.points)} points written in ${fmt(writeSec, 1)} s`);

      log(`[ingest] ${format}: ingesting half size in a fresh process…`);
      const halfResult = await measureInChild({ format, root: half.root, db: path.join(work, 'half.db'), files: half.files, baseline: false, sliceBytes });
      fs.rmSync(half.root, { recursive: true, force: true });
      const fullResults: ChildResult[] = [];
      for (let run = 1; run <= ingestRuns; run++) {
        log(`[ingest] ${format}: ingesting full size, then the baseline, in a fresh process (${run} of ${ingestRuns})…`);
        const db = path.join(work, 'full.db');
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(db + suffix, { force: true });
        const one = await measureInChild({ format, root: full.root, db, files: full.files, baseline: true, sliceBytes });
        if (one.points !== full.points) {
          throw new Error(`${format}: ingest stored ${one.points} points, ${full.points} were written (${one.warnings} warnings)`);
        }
        if (one.warnings > 0) log(`[ingest]   note: ${one.warnings} warnings while ingesting generated logs`);
        fullResults.push(one);
      }
      // Speed from the fastest run; memory from the run that peaked highest (the worst case).
      const fastest = fullResults.reduce((a, b) => (b.ingestSec < a.ingestSec ? b : a));
      const fullResult: ChildResult = {
        ...fullResults.reduce((a, b) => (b.peakRssBytes - b.rssBeforeBytes > a.peakRssBytes - a.rssBeforeBytes ? b : a)),
        ingestSec: fastest.ingestSec,
        dbBytes: fastest.dbBytes,
        baselineSec: Math.min(...fullResults.map((r) => r.baselineSec)),
      };

      const memory = (size: 'half' | 'full', r: ChildResult): IngestMemorySample => ({
        size,
        fileBytes: r.fileBytes,
        points: r.points,
        rssBeforeBytes: r.rssBeforeBytes,
        peakRssBytes: r.peakRssBytes,
        peakHeapUsedBytes: r.peakHeapUsedBytes,
        peakArrayBuffersBytes: r.peakArrayBuffersBytes,
        samples: r.samples,
        ingestSec: r.ingestSec,
      });
      const growth = (r: ChildResult) => Math.max(1, r.peakRssBytes - r.rssBeforeBytes);
      const ingestMBps = fullResult.fileBytes / MB / fullResult.ingestSec;
      const baselineMBps = fullResult.fileBytes / MB / fullResult.baselineSec;
      const result: IngestBenchFormatResult = {
        format,
        fileBytes: fullResult.fileBytes,
        points: fullResult.points,
        ingestSec: fullResult.ingestSec,
        ingestRuns: fullResults.map((r) => r.ingestSec),
        ingestMBps,
        ingestPointsPerSec: fullResult.points / fullResult.ingestSec,
        baselineWhat: format === 'tensorboard' ? 'read in 4 MB windows + crc32c of every record header and payload' : 'read in 4 MB windows + find every line break',
        baselineSec: fullResult.baselineSec,
        baselineMBps,
        ingestVsBaseline: ingestMBps / baselineMBps,
        dbBytes: fullResult.dbBytes,
        dbBytesPerPoint: fullResult.dbBytes / fullResult.points,
        memory: [memory('half', halfResult), memory('full', fullResult)],
        memoryGrowthRatio: growth(fullResult) / growth(halfResult),
        writeSec,
      };
      results.push(result);
      log(
        `[ingest] ${format}: ${fmt(result.ingestPointsPerSec / 1e6, 2)} M points/s, ${fmt(result.ingestMBps, 1)} MB/s (${fmt(result.ingestVsBaseline * 100, 1)} % of the baseline), ` +
          `${fmt(result.dbBytesPerPoint, 1)} bytes/point, peak RSS ${fmt(halfResult.peakRssBytes / MB)} MB at half size, ${fmt(fullResult.peakRssBytes / MB)} MB at full size`,
      );
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return {
    scale,
    sliceBytes: sliceBytes ?? DEFAULT_SLICE_BYTES,
    cpus: os.cpus().length,
    node: process.version,
    formats: results,
    targets: INGEST_TARGETS,
    totalSec: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

function formatFormat(r: IngestBenchFormatResult): string[] {
  const [half, full] = r.memory;
  const t = INGEST_TARGETS;
  const lines = [
    `  ${r.format}: ${fmt(r.fileBytes / MB, 1)} MB, ${fmt(r.points)} points`,
    `    ingest into SQLite (end to end) : ${fmt(r.ingestSec, 2)} s (fastest of ${r.ingestRuns.map((t) => fmt(t, 2)).join(', ')} s), ${fmt(r.ingestMBps, 1)} MB/s, ${fmt(r.ingestPointsPerSec)} points/s  (target >= ${fmt(t.pointsPerSec)} points/s: ${verdict(r.ingestPointsPerSec >= t.pointsPerSec)})`,
    `    baseline (${r.baselineWhat}) : ${fmt(r.baselineSec, 2)} s, ${fmt(r.baselineMBps, 1)} MB/s`,
    `    ingest / baseline               : ${fmt(r.ingestVsBaseline * 100, 1)} %` +
      (r.format === 'tensorboard' ? `  (target >= ${fmt(t.tensorboardVsBaseline * 100)} %: ${verdict(r.ingestVsBaseline >= t.tensorboardVsBaseline)})` : ''),
    `    database                        : ${fmt(r.dbBytes / MB, 1)} MB, ${fmt(r.dbBytesPerPoint, 1)} bytes/point  (target <= ${t.dbBytesPerPoint}: ${verdict(r.dbBytesPerPoint <= t.dbBytesPerPoint)})`,
  ];
  for (const m of [half, full]) {
    lines.push(
      `    memory at ${m.size.padEnd(4)} size (${fmt(m.fileBytes / MB, 1).padStart(6)} MB) : peak RSS ${fmt(m.peakRssBytes / MB)} MB (${fmt(m.rssBeforeBytes / MB)} MB before), ` +
        `peak heap ${fmt(m.peakHeapUsedBytes / MB)} MB, peak buffers ${fmt(m.peakArrayBuffersBytes / MB)} MB (${m.samples} samples), ${fmt(m.ingestSec, 2)} s`,
    );
  }
  lines.push(
    `    memory growth full / half       : ${fmt(r.memoryGrowthRatio, 2)}x  (flat: <= ${t.memoryGrowthRatio}x: ${verdict(r.memoryGrowthRatio <= t.memoryGrowthRatio)}; 2x = grows with the file)`,
  );
  return lines;
}

/** The report bench/run.ts can print as it is: one block per format with the targets. */
export function formatIngestBench(result: IngestBenchResult): string[] {
  return [
    `ingest of large logs (scale ${result.scale}, slices of ${fmt(result.sliceBytes / MB)} MB, ${result.cpus} cpus, node ${result.node}; ${fmt(result.totalSec, 0)} s in all)`,
    ...result.formats.flatMap(formatFormat),
  ];
}

if (require.main === module) {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    runChild(JSON.parse(process.argv[childAt + 1]) as ChildJob).then(
      (r) => process.stdout.write(JSON.stringify(r) + '\n'),
      (e) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-ingest-'));
    const only = process.argv.slice(2).filter((a): a is IngestBenchFormat => ['tensorboard', 'mlflow', 'lightning'].includes(a));
    benchIngest(dir, { formats: only.length ? only : undefined })
      .then((r) => {
        console.log('');
        for (const line of formatIngestBench(r)) console.log(line);
      })
      .catch((e) => {
        console.error(e);
        process.exitCode = 1;
      })
      .finally(() => fs.rmSync(dir, { recursive: true, force: true }));
  }
}
