// Live tracking benchmarks, against the real agent process:
// - latency from an append to a log file to the agent's runs/changed
//   notification, p50/p95 over N appends, per format, with the debounce used;
// - agent CPU time while idle, watching a workspace of 10,000 files;
// - time for the agent to answer what the tree needs for 10,000 runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParsedSource } from '../src/core/ingest/types';
import { EventFileWriter } from '../src/core/ingest/tensorboard/writer';

import { PROTOCOL_VERSION } from '../src/shared/protocol';
import { startAgent } from '../test/support/agentProcess';
import { openStore } from '../src/core/database/open';

export interface LatencyResult {
  format: string;
  appends: number;
  p50: number;
  p95: number;
  debounceMs: number;
}

interface Writer {
  format: string;
  setup(dir: string): void;
  append(i: number): void;
}

function writers(dir: string): Writer[] {
  const mlflowMetric = path.join(dir, 'mlruns/1/0123456789abcdef0123456789abcdef/metrics/loss');
  const tbFile = path.join(dir, 'tb/run1/events.out.tfevents.1700000000.bench-host.1.0');
  let tb: EventFileWriter | undefined;
  return [
    {
      format: 'mlflow',
      setup() {
        fs.mkdirSync(path.dirname(mlflowMetric), { recursive: true });
        fs.writeFileSync(path.join(dir, 'mlruns/1/meta.yaml'), "experiment_id: '1'\nlifecycle_stage: active\nname: bench\n");
        fs.writeFileSync(path.join(dir, 'mlruns/1/0123456789abcdef0123456789abcdef/meta.yaml'), "run_id: 0123456789abcdef0123456789abcdef\nexperiment_id: '1'\nstatus: 1\nstart_time: 1700000000000\nlifecycle_stage: active\nrun_name: bench\n");
        fs.writeFileSync(mlflowMetric, '1700000000000 1.0 0\n');
      },
      append: (i) => fs.appendFileSync(mlflowMetric, `${1700000000000 + i} ${1 / (i + 2)} ${i + 1}\n`),
    },
    {
      format: 'tensorboard',
      setup() {
        tb = new EventFileWriter(tbFile);
        tb.fileVersion(1700000000);
        tb.scalar(1700000000, 0, 'loss', 1);
      },
      append: (i) => tb!.scalar(1700000000 + i, i + 1, 'loss', 1 / (i + 2)),
    },
    {
      format: 'lightning',
      setup() {
        fs.mkdirSync(path.join(dir, 'lightning_logs/version_0'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'lightning_logs/version_0/metrics.csv'), 'epoch,step,train_loss\n0,0,1.0\n');
      },
      append: (i) => fs.appendFileSync(path.join(dir, 'lightning_logs/version_0/metrics.csv'), `0,${i + 1},${1 / (i + 2)}\n`),
    },
    {
      format: 'keras',
      setup: () => fs.writeFileSync(path.join(dir, 'training.log'), 'epoch,loss\r\n0,1.0\r\n'),
      append: (i) => fs.appendFileSync(path.join(dir, 'training.log'), `${i + 1},${1 / (i + 2)}\r\n`),
    },
    {
      format: 'dvclive',
      setup() {
        fs.mkdirSync(path.join(dir, 'dvclive/plots/metrics'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'dvclive/metrics.json'), '{"loss": 1.0, "step": 0}\n');
        fs.writeFileSync(path.join(dir, 'dvclive/plots/metrics/loss.tsv'), 'step\tloss\n0\t1.0\n');
      },
      append: (i) => fs.appendFileSync(path.join(dir, 'dvclive/plots/metrics/loss.tsv'), `${i + 1}\t${1 / (i + 2)}\n`),
    },
  ];
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export async function benchLatency(workDir: string, appends: number, debounceMs: number): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  for (const [index, writer] of writers(path.join(workDir, 'ws')).entries()) {
    const ws = path.join(workDir, `ws-${index}`);
    fs.mkdirSync(ws, { recursive: true });
    const w = writers(ws)[index];
    w.setup(ws);
    const agent = startAgent(path.join(workDir, `latency-${index}.db`));
    try {
      await agent.request('agent/hello', { clientName: 'bench', protocolVersion: PROTOCOL_VERSION });
      await agent.request('workspace/ingest', { paths: [ws] });
      await agent.request('watch/start', { roots: [ws], ignore: [], usePolling: false, debounceMs });
      const latencies: number[] = [];
      for (let i = 0; i < appends; i++) {
        const seen = agent.notifications.length;
        const t0 = performance.now();
        w.append(i);
        const deadline = t0 + 10_000;
        while (!agent.notifications.slice(seen).some((n) => n.method === 'runs/changed' && n.params.changes.some((c) => c.key.endsWith('loss') && c.newPoints > 0))) {
          if (performance.now() > deadline) throw new Error(`${writer.format}: no change notification within 10 s for append ${i}`);
          await new Promise((r) => setTimeout(r, 2));
        }
        latencies.push(performance.now() - t0);
      }
      results.push({ format: w.format, appends, p50: percentile(latencies, 50), p95: percentile(latencies, 95), debounceMs });
    } finally {
      await agent.stop();
    }
  }
  return results;
}

function cpuMsOf(pid: number): number {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat); 100 ticks/s on Linux.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function benchIdleCpu(workDir: string, files: number, seconds: number): Promise<{ files: number; seconds: number; cpuMs: number }> {
  const ws = path.join(workDir, 'idle-ws');
  for (let i = 0; i < files; i++) {
    const dir = path.join(ws, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}.txt`), 'x');
  }
  const agent = startAgent(path.join(workDir, 'idle.db'));
  try {
    await agent.request('agent/hello', { clientName: 'bench', protocolVersion: PROTOCOL_VERSION });
    await agent.request('watch/start', { roots: [ws], ignore: [], usePolling: false, debounceMs: 200 });
    await new Promise((r) => setTimeout(r, 2000)); // let the initial scan settle
    const before = cpuMsOf(agent.child.pid!);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return { files, seconds, cpuMs: cpuMsOf(agent.child.pid!) - before };
  } finally {
    await agent.stop();
  }
}

export async function benchTreeData(workDir: string, runs: number): Promise<{ runs: number; experimentsMs: number; firstPageMs: number; allPagesMs: number }> {
  const db = path.join(workDir, 'tree.db');
  const store = openStore(db).runs;
  const perSource = 1000;
  for (let s = 0; s < runs / perSource; s++) {
    const source: ParsedSource = {
      format: 'mlflow',
      root: `/bench/mlruns${s}`,
      warnings: [],
      experiments: [
        {
          key: String(s),
          name: `exp-${s}`,
          lifecycle: 'active',
          runs: Array.from({ length: perSource }, (_, i) => ({
            key: `r${i}`,
            name: `run-${s}-${i}`,
            path: `/bench/mlruns${s}/${s}/r${i}`,
            status: 'finished' as const,
            params: { lr: String(i / 1000) },
            tags: {},
            summaries: {},
            metrics: { loss: { steps: [0, 1], values: [1, 0.5], walls: [NaN, NaN] }, val_acc: { steps: [0, 1], values: [0.5, 0.9], walls: [NaN, NaN] } },
          })),
        },
      ],
    };
    store.replaceSource(source, []);
  }
  store.close();
  const agent = startAgent(db);
  try {
    await agent.request('agent/hello', { clientName: 'bench', protocolVersion: PROTOCOL_VERSION });
    let t = performance.now();
    const { experiments } = await agent.request('experiments/list', {});
    const experimentsMs = performance.now() - t;
    t = performance.now();
    await agent.request('runs/list', { sourceRoot: experiments[0].sourceRoot, experimentKey: experiments[0].key, limit: 200 });
    const firstPageMs = performance.now() - t;
    t = performance.now();
    for (const e of experiments) await agent.request('runs/list', { sourceRoot: e.sourceRoot, experimentKey: e.key, limit: 1000 });
    const allPagesMs = performance.now() - t;
    return { runs, experimentsMs, firstPageMs, allPagesMs };
  } finally {
    await agent.stop();
  }
}
