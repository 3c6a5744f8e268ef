// Writes the demo workspace: small training logs in every supported format,
// laid out byte for byte the way each tool writes them (MLflow's FileStore,
// TensorBoard's event files, Lightning's CSVLogger, Keras' CSVLogger, DVCLive).
// Deterministic: the same bytes on every run and every machine, so the demo is
// reproducible and we ship no third-party files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventFileWriter } from '../ingest/tensorboard/writer';
import { asFloat32, curve, pythonRepr } from './curves';

/** Fixed times, so the bytes never change. 2024-11-14T22:13:20Z. */
const T0 = 1_731_622_400_000;

interface DemoRun {
  name: string;
  lr: number;
  batch: number;
  epochs: number;
  stepsPerEpoch: number;
  seed: number;
  /** Lower is a better final loss. */
  quality: number;
}

const RUNS: DemoRun[] = [
  { name: 'baseline', lr: 0.001, batch: 64, epochs: 12, stepsPerEpoch: 50, seed: 11, quality: 1 },
  { name: 'higher-lr', lr: 0.01, batch: 64, epochs: 12, stepsPerEpoch: 50, seed: 23, quality: 0.8 },
  { name: 'big-batch', lr: 0.001, batch: 256, epochs: 12, stepsPerEpoch: 13, seed: 37, quality: 1.2 },
];

function write(root: string, relative: string, content: string | Buffer, written: string[]): void {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  written.push(relative);
}

function series(run: DemoRun, kind: 'loss' | 'val_loss' | 'acc' | 'val_acc', n: number): number[] {
  const seed = run.seed * 7 + ['loss', 'val_loss', 'acc', 'val_acc'].indexOf(kind);
  switch (kind) {
    case 'loss':
      return asFloat32(curve(n, { start: 2.3, end: 0.08 * run.quality, rate: 0.05, noise: 0.06, seed }));
    case 'val_loss':
      return asFloat32(curve(n, { start: 2.2, end: 0.12 * run.quality, rate: 0.25, noise: 0.03, seed }));
    case 'acc':
      return asFloat32(curve(n, { start: 0.1, end: 1 - 0.03 * run.quality, rate: 0.05, noise: 0.01, seed }).map((v) => Math.min(v, 1)));
    case 'val_acc':
      return asFloat32(curve(n, { start: 0.12, end: 1 - 0.05 * run.quality, rate: 0.25, noise: 0.005, seed }).map((v) => Math.min(v, 1)));
  }
}

function mlflowRunId(i: number): string {
  return `${(0xa11ce000 + i).toString(16)}${'0'.repeat(16)}${(1000 + i).toString(16).padStart(8, '0')}`.slice(0, 32);
}

function writeMlflow(root: string, written: string[]): void {
  const base = 'mlflow/mlruns';
  const location = 'file:///home/demo/project/mlruns';
  write(root, `${base}/0/meta.yaml`, `artifact_location: ${location}/0\ncreation_time: ${T0}\nexperiment_id: '0'\nlast_update_time: ${T0}\nlifecycle_stage: active\nname: Default\n`, written);
  write(root, `${base}/1/meta.yaml`, `artifact_location: ${location}/1\ncreation_time: ${T0}\nexperiment_id: '1'\nlast_update_time: ${T0}\nlifecycle_stage: active\nname: mnist-mlp\n`, written);
  RUNS.forEach((run, i) => {
    const id = mlflowRunId(i);
    const dir = `${base}/1/${id}`;
    const start = T0 + i * 3_600_000;
    const epochMs = 20_000;
    const end = start + run.epochs * epochMs + 1500;
    write(
      root,
      `${dir}/meta.yaml`,
      `artifact_uri: ${location}/1/${id}/artifacts\nend_time: ${end}\nentry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\n` +
        `run_id: ${id}\nrun_name: ${run.name}\nrun_uuid: ${id}\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: ${start}\nstatus: 3\ntags: []\nuser_id: demo\n`,
      written,
    );
    // Params and tags: one file each, value without a trailing newline.
    write(root, `${dir}/params/lr`, String(run.lr), written);
    write(root, `${dir}/params/batch_size`, String(run.batch), written);
    write(root, `${dir}/params/epochs`, String(run.epochs), written);
    write(root, `${dir}/params/optimizer`, 'adam', written);
    write(root, `${dir}/tags/mlflow.runName`, run.name, written);
    write(root, `${dir}/tags/mlflow.user`, 'demo', written);
    write(root, `${dir}/tags/mlflow.source.name`, 'train.py', written);
    write(root, `${dir}/tags/mlflow.source.type`, 'LOCAL', written);
    write(root, `${dir}/tags/mlflow.source.git.commit`, `3f1c0de${i}a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e`.slice(0, 40), written);
    // Metrics: "timestamp value step" per line; keys with '/' are nested folders.
    const lines = (values: number[], stepOf: (k: number) => number, timeOf: (k: number) => number) =>
      values.map((v, k) => `${timeOf(k)} ${pythonRepr(v)} ${stepOf(k)}\n`).join('');
    const trainSteps = run.epochs * 5;
    const trainLoss = series(run, 'loss', trainSteps);
    write(root, `${dir}/metrics/train/loss`, lines(trainLoss, (k) => k * 10, (k) => start + k * (epochMs / 5)), written);
    write(root, `${dir}/metrics/val_loss`, lines(series(run, 'val_loss', run.epochs), (k) => k, (k) => start + (k + 1) * epochMs), written);
    write(root, `${dir}/metrics/val_accuracy`, lines(series(run, 'val_acc', run.epochs), (k) => k, (k) => start + (k + 1) * epochMs), written);
  });
}

function writeTensorBoard(root: string, written: string[]): void {
  RUNS.forEach((run, i) => {
    const wallStart = T0 / 1000 + 86_400 + i * 3600;
    const relative = `tensorboard/logs/${run.name}/events.out.tfevents.${Math.floor(wallStart)}.demo-host.${4242 + i}.0`;
    const writer = new EventFileWriter();
    writer.fileVersion(wallStart);
    writer.hparams(wallStart, { lr: run.lr, batch_size: run.batch, optimizer: 'adam' });
    const steps = run.epochs * run.stepsPerEpoch;
    const loss = series(run, 'loss', steps);
    const acc = series(run, 'acc', steps);
    for (let s = 0; s < steps; s++) {
      const wall = wallStart + s * 0.4;
      writer.scalar(wall, s, 'train/loss', loss[s]);
      writer.scalar(wall, s, 'train/accuracy', acc[s], 'tensor');
    }
    const valLoss = series(run, 'val_loss', run.epochs);
    valLoss.forEach((v, e) => writer.scalar(wallStart + (e + 1) * run.stepsPerEpoch * 0.4, (e + 1) * run.stepsPerEpoch - 1, 'val/loss', v));
    write(root, relative, writer.toBuffer(), written);
  });
}

function writeLightning(root: string, written: string[]): void {
  RUNS.slice(0, 2).forEach((run, version) => {
    const dir = `lightning/lightning_logs/version_${version}`;
    // CSVLogger writes one row per log call; train and val rows are sparse.
    const header = ['epoch', 'step', 'train_loss', 'val_acc', 'val_loss'];
    const rows: string[] = [header.join(',')];
    const trainEvery = 10;
    const perEpoch = run.stepsPerEpoch;
    const loss = series(run, 'loss', (run.epochs * perEpoch) / trainEvery);
    const valAcc = series(run, 'val_acc', run.epochs);
    const valLoss = series(run, 'val_loss', run.epochs);
    let k = 0;
    for (let epoch = 0; epoch < run.epochs; epoch++) {
      for (let s = epoch * perEpoch; s < (epoch + 1) * perEpoch; s++) {
        if ((s + 1) % trainEvery === 0) rows.push(`${epoch},${s},${pythonRepr(loss[k++])},,`);
      }
      rows.push(`${epoch},${(epoch + 1) * perEpoch - 1},,${pythonRepr(valAcc[epoch])},${pythonRepr(valLoss[epoch])}`);
    }
    write(root, `${dir}/metrics.csv`, rows.join('\n') + '\n', written);
    write(root, `${dir}/hparams.yaml`, `lr: ${run.lr}\nbatch_size: ${run.batch}\nmodel:\n  hidden: 128\n  dropout: 0.1\n`, written);
  });
}

function writeKeras(root: string, written: string[]): void {
  // Keras' CSVLogger uses Python's csv module: CRLF line endings on every OS,
  // columns in sorted order after `epoch`.
  const run = RUNS[0];
  const cols = ['accuracy', 'loss', 'val_accuracy', 'val_loss'];
  const data = [series(run, 'acc', run.epochs), series(run, 'loss', run.epochs), series(run, 'val_acc', run.epochs), series(run, 'val_loss', run.epochs)];
  const lines = [['epoch', ...cols].join(',')];
  for (let e = 0; e < run.epochs; e++) lines.push([String(e), ...data.map((d) => pythonRepr(d[e]))].join(','));
  write(root, 'keras/training.log', lines.join('\r\n') + '\r\n', written);
}

function writeDvclive(root: string, written: string[]): void {
  // DVCLive >= 2: plots/metrics/<key>.tsv with "step<TAB>key", metrics.json
  // holding the latest values (nested), params.yaml.
  const run = RUNS[1];
  const base = 'dvclive-project/dvclive';
  const tsv = (name: string, values: number[]) => `step\t${name}\n` + values.map((v, s) => `${s}\t${pythonRepr(v)}`).join('\n') + '\n';
  const trainLoss = series(run, 'loss', run.epochs);
  const valAcc = series(run, 'val_acc', run.epochs);
  write(root, `${base}/plots/metrics/train/loss.tsv`, tsv('loss', trainLoss), written);
  write(root, `${base}/plots/metrics/val/acc.tsv`, tsv('acc', valAcc), written);
  const metrics = { train: { loss: trainLoss[trainLoss.length - 1] }, val: { acc: valAcc[valAcc.length - 1] }, step: run.epochs - 1 };
  write(root, `${base}/metrics.json`, JSON.stringify(metrics, null, 4) + '\n', written);
  write(root, `${base}/params.yaml`, `lr: ${run.lr}\nbatch_size: ${run.batch}\noptimizer:\n  name: adam\n  betas: [0.9, 0.999]\n`, written);
  write(root, 'dvclive-project/dvc.yaml', `metrics:\n- dvclive/metrics.json\nplots:\n- dvclive/plots/metrics:\n    x: step\nparams:\n- dvclive/params.yaml\n`, written);
}

export function generateDemoWorkspace(root: string): string[] {
  const written: string[] = [];
  fs.mkdirSync(root, { recursive: true });
  writeMlflow(root, written);
  writeTensorBoard(root, written);
  writeLightning(root, written);
  writeKeras(root, written);
  writeDvclive(root, written);
  write(root, 'README.md', DEMO_README, written);
  return written;
}

const DEMO_README = `# RunLens demo workspace

Generated by \`runlens demo\` (src/core/demo/generateDemo.ts): small training logs
in every format RunLens reads, written the way each tool writes them.

- \`mlflow/mlruns/\`: MLflow FileStore, experiment "mnist-mlp", 3 runs
- \`tensorboard/logs/\`: TensorBoard event files, 3 runs (simple_value and tensor scalars, hparams)
- \`lightning/lightning_logs/\`: PyTorch Lightning CSVLogger, 2 versions
- \`keras/training.log\`: Keras CSVLogger
- \`dvclive-project/dvclive/\`: DVCLive 3
`;
