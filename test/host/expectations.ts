// What the Experiments view must show for a workspace, read straight from the
// log files (and the corpus case's expected.json) with small parsers of its
// own, never with RunLens' readers. Used by the Mocha suite inside the
// extension host and by the UI check in the browser.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Format = 'mlflow' | 'tensorboard' | 'lightning' | 'keras';

export interface ExpectedMetric {
  key: string;
  /** The value a "last value" must be: the latest point by step, then by write order / timestamp. */
  last: number;
  lastStep: number;
}

export interface ExpectedRun {
  name: string;
  /** Metrics whose last value is checked (others may exist, e.g. a CSV's epoch column). */
  metrics: ExpectedMetric[];
  /** All metric keys, when the files define them exactly. */
  allKeys?: string[];
  params?: Record<string, string>;
}

export interface ExpectedExperiment {
  format: Format;
  /** The experiment's name, where the format has one (MLflow); else undefined. */
  name?: string;
  /** The folder the experiment's source root is (relative to the workspace, '/'-separated). */
  sourceRoot: string;
  runs: ExpectedRun[];
}

interface Point {
  step: number;
  value: number;
  /** Tie-breaks among points of one step, compared in order (e.g. timestamp, then position in the file). */
  order: number[];
}

/** The latest point: highest step, then highest `order`. */
function latest(points: Point[]): { value: number; step: number } {
  const later = (a: Point, b: Point): boolean => {
    if (a.step !== b.step) return a.step > b.step;
    for (let i = 0; i < a.order.length; i++) if (a.order[i] !== b.order[i]) return a.order[i] > b.order[i];
    return true;
  };
  let best = points[0];
  for (const p of points) if (later(p, best)) best = p;
  return { value: best.value, step: best.step };
}

function listDirs(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
}

function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(path.join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

function yamlField(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text);
  return m ? m[1].trim().replace(/^'(.*)'$/, '$1') : undefined;
}

/** An MLflow FileStore (mlruns/): experiments with at least one run. */
export function expectedMlflow(workspace: string, mlrunsRelative: string): ExpectedExperiment[] {
  const mlruns = path.join(workspace, mlrunsRelative);
  const experiments: ExpectedExperiment[] = [];
  for (const expDir of listDirs(mlruns)) {
    const metaFile = path.join(mlruns, expDir, 'meta.yaml');
    if (!fs.existsSync(metaFile)) continue;
    const runs: ExpectedRun[] = [];
    for (const runDir of listDirs(path.join(mlruns, expDir))) {
      const dir = path.join(mlruns, expDir, runDir);
      if (!fs.existsSync(path.join(dir, 'meta.yaml'))) continue;
      const meta = fs.readFileSync(path.join(dir, 'meta.yaml'), 'utf8');
      const tagFile = path.join(dir, 'tags', 'mlflow.runName');
      const name = yamlField(meta, 'run_name') || (fs.existsSync(tagFile) ? fs.readFileSync(tagFile, 'utf8').trim() : '') || runDir;
      const metricsDir = path.join(dir, 'metrics');
      const metrics = (fs.existsSync(metricsDir) ? filesUnder(metricsDir) : []).map((key) => {
        const points = fs
          .readFileSync(path.join(metricsDir, key), 'utf8')
          .split('\n')
          .filter((l) => l.trim())
          .map((line, i) => {
            const [ts, value, step] = line.trim().split(/\s+/);
            return { value: Number(value), step: Number(step ?? 0), order: [Number(ts), i] };
          });
        const last = latest(points);
        return { key, last: last.value, lastStep: last.step };
      });
      const paramsDir = path.join(dir, 'params');
      const params = Object.fromEntries((fs.existsSync(paramsDir) ? filesUnder(paramsDir) : []).map((k) => [k, fs.readFileSync(path.join(paramsDir, k), 'utf8')]));
      runs.push({ name, metrics, allKeys: metrics.map((m) => m.key), params });
    }
    if (runs.length) experiments.push({ format: 'mlflow', name: yamlField(fs.readFileSync(metaFile, 'utf8'), 'name'), sourceRoot: mlrunsRelative, runs });
  }
  return experiments;
}

/** The corpus case's own expectation file (computed by its authors with Python, independently of RunLens). */
export function expectedFromCorpusJson(workspace: string, caseRelative: string): ExpectedExperiment[] {
  interface CorpusMetric {
    'mlflow_latest(max step,ts,value)': { value: number; step: number };
  }
  interface CorpusRun {
    meta_run_name: string;
    tag_runName: string;
    run_id: string;
    params: Record<string, string>;
    metrics: Record<string, CorpusMetric>;
  }
  const data = JSON.parse(fs.readFileSync(path.join(workspace, caseRelative, 'expected.json'), 'utf8')) as {
    experiments: { name: string; runs: CorpusRun[] }[];
  };
  return data.experiments
    .filter((e) => e.runs.length > 0)
    .map((e) => ({
      format: 'mlflow' as const,
      name: e.name,
      sourceRoot: `${caseRelative}/mlruns`,
      runs: e.runs.map((r) => {
        const metrics = Object.entries(r.metrics).map(([key, m]) => ({ key, last: m['mlflow_latest(max step,ts,value)'].value, lastStep: m['mlflow_latest(max step,ts,value)'].step }));
        return { name: r.meta_run_name || r.tag_runName || r.run_id, metrics, allKeys: metrics.map((m) => m.key), params: r.params };
      }),
    }));
}

function csvRows(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length)
    .map((l) => l.split(','));
}

/** Keras CSVLogger (training.log): one run; every column but `epoch` is a metric, indexed by epoch. */
export function expectedKeras(workspace: string, fileRelative: string): ExpectedExperiment {
  const [header, ...rows] = csvRows(path.join(workspace, fileRelative));
  const epoch = header.indexOf('epoch');
  const metrics = header
    .map((key, col) => ({ key, col }))
    .filter(({ col }) => col !== epoch)
    .map(({ key, col }) => {
      const points = rows.filter((r) => r[col] !== undefined && r[col] !== '').map((r, i) => ({ value: Number(r[col]), step: Number(r[epoch]), order: [i] }));
      const last = latest(points);
      return { key, last: last.value, lastStep: last.step };
    });
  return { format: 'keras', sourceRoot: fileRelative, runs: [{ name: path.basename(fileRelative), metrics, allKeys: metrics.map((m) => m.key) }] };
}

/** Lightning CSVLogger: lightning_logs/version_N/metrics.csv, sparse rows; values checked for every column but epoch/step. */
export function expectedLightning(workspace: string, logsRelative: string): ExpectedExperiment {
  const runs = listDirs(path.join(workspace, logsRelative))
    .filter((v) => fs.existsSync(path.join(workspace, logsRelative, v, 'metrics.csv')))
    .map((version) => {
      const [header, ...rows] = csvRows(path.join(workspace, logsRelative, version, 'metrics.csv'));
      const stepCol = header.indexOf('step');
      const metrics = header
        .map((key, col) => ({ key, col }))
        .filter(({ key }) => key !== 'epoch' && key !== 'step')
        .map(({ key, col }) => {
          const points = rows.filter((r) => r[col] !== undefined && r[col] !== '').map((r, i) => ({ value: Number(r[col]), step: Number(r[stepCol]), order: [i] }));
          const last = latest(points);
          return { key, last: last.value, lastStep: last.step };
        });
      return { name: version, metrics };
    });
  return { format: 'lightning', sourceRoot: logsRelative, runs };
}

// --- TensorBoard: a minimal TFRecord + protobuf reader for scalar summaries. ---

class Proto {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  }
  /** Next field: [number, wire type, value] where value is a number (varint/fixed) or a Buffer (length-delimited). */
  field(): [number, number, number | Buffer] {
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    switch (wire) {
      case 0:
        return [field, wire, this.varint()];
      case 1: {
        const v = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return [field, wire, v];
      }
      case 2: {
        const len = this.varint();
        const v = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return [field, wire, v];
      }
      case 5: {
        const v = this.buf.readFloatLE(this.pos);
        this.pos += 4;
        return [field, wire, v];
      }
      default:
        throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

function tensorScalar(buf: Buffer): number | undefined {
  const p = new Proto(buf);
  let dtype = 0;
  let value: number | undefined;
  let content: Buffer | undefined;
  while (!p.done) {
    const [field, wire, v] = p.field();
    if (field === 1 && wire === 0) dtype = v as number;
    else if (field === 4 && wire === 2) content = v as Buffer;
    else if (field === 5) value = wire === 2 ? (v as Buffer).readFloatLE(0) : (v as number); // float_val
    else if (field === 6) value = wire === 2 ? (v as Buffer).readDoubleLE(0) : (v as number); // double_val
  }
  if (value === undefined && content) {
    if (dtype === 1 && content.length >= 4) value = content.readFloatLE(0);
    if (dtype === 2 && content.length >= 8) value = content.readDoubleLE(0);
  }
  return dtype === 1 || dtype === 2 ? value : undefined;
}

/** Scalar points of one event file: tag -> points in file order. */
function readEventScalars(file: string): Map<string, Point[]> {
  const data = fs.readFileSync(file);
  const out = new Map<string, Point[]>();
  let pos = 0;
  let order = 0;
  while (pos + 12 <= data.length) {
    const len = Number(data.readBigUInt64LE(pos));
    const record = data.subarray(pos + 12, pos + 12 + len);
    pos += 12 + len + 4;
    const event = new Proto(record);
    let step = 0;
    const values: { tag: string; value: number }[] = [];
    while (!event.done) {
      const [field, , v] = event.field();
      if (field === 2) step = v as number;
      if (field === 5) {
        const summary = new Proto(v as Buffer);
        while (!summary.done) {
          const [sf, , sv] = summary.field();
          if (sf !== 1) continue;
          const value = new Proto(sv as Buffer);
          let tag = '';
          let scalar: number | undefined;
          while (!value.done) {
            const [vf, vw, vv] = value.field();
            if (vf === 1) tag = (vv as Buffer).toString('utf8');
            else if (vf === 2 && vw === 5) scalar = vv as number;
            else if (vf === 8 && vw === 2) scalar = tensorScalar(vv as Buffer);
          }
          if (scalar !== undefined && !tag.startsWith('_hparams_')) values.push({ tag, value: scalar });
        }
      }
    }
    for (const { tag, value } of values) {
      if (!out.has(tag)) out.set(tag, []);
      out.get(tag)!.push({ step, value, order: [order++] });
    }
  }
  return out;
}

/** TensorBoard logdir: one run per folder holding event files. */
export function expectedTensorBoard(workspace: string, logdirRelative: string): ExpectedExperiment {
  const runs = listDirs(path.join(workspace, logdirRelative)).map((name) => {
    const dir = path.join(workspace, logdirRelative, name);
    const merged = new Map<string, Point[]>();
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.')).sort();
    files.forEach((f, fileIndex) => {
      for (const [tag, points] of readEventScalars(path.join(dir, f))) {
        merged.set(tag, [...(merged.get(tag) ?? []), ...points.map((p) => ({ ...p, order: [fileIndex, ...p.order] }))]);
      }
    });
    const metrics = [...merged].map(([key, points]) => {
      const last = latest(points);
      return { key, last: last.value, lastStep: last.step };
    });
    return { name, metrics, allKeys: metrics.map((m) => m.key) };
  });
  return { format: 'tensorboard', sourceRoot: logdirRelative, runs };
}

/** Where the host tests put the corpus case inside the demo workspace. */
export const CORPUS_CASE = 'logs/mlflow/pytorch-mnist-mlflow1';
export const CORPUS_IN_WORKSPACE = 'corpus/pytorch-mnist-mlflow1';

/** Everything the host tests expect of the workspace they build (demo + one corpus case). */
export function expectedWorkspace(workspace: string): ExpectedExperiment[] {
  return [
    ...expectedMlflow(workspace, 'mlflow/mlruns'),
    ...expectedFromCorpusJson(workspace, CORPUS_IN_WORKSPACE),
    expectedTensorBoard(workspace, 'tensorboard/logs'),
    expectedLightning(workspace, 'lightning/lightning_logs'),
    expectedKeras(workspace, 'keras/training.log'),
  ];
}
