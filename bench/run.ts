// `npm run bench`: prints figures and ratios against baselines measured in the
// same run (these machines are noisy; absolute numbers alone mean little).
// Targets are printed next to the figures; nothing here is a timed test.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchAgentStart } from './agentStart';
import { benchIngest, formatIngestBench } from './ingest';
import { benchComparePanel, describeComparePanelBench } from './comparePanel';
import { benchIdleCpu, benchLatency, benchTreeData } from './live';
import { benchSmokeOverhead } from './smokeOverhead';
import { benchStoreWrite } from './storeWrite';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-'));
  const points = Number(process.env.RUNLENS_BENCH_POINTS ?? 1_000_000);
  try {
    console.log(`RunLens benchmarks (node ${process.version}, ${os.cpus().length} cpus)\n`);

    const w = benchStoreWrite(dir, points);
    console.log(`store write, ${fmt(w.points)} points of one series`);
    console.log(`  bare one-row-per-point INSERT loop : ${fmt(w.bareRowsPerSec)} rows/s, ${fmt(w.bareBytesPerPoint, 1)} bytes/point`);
    console.log(`  RunLens chunked store             : ${fmt(w.storePointsPerSec)} points/s, ${fmt(w.storeBytesPerPoint, 1)} bytes/point`);
    console.log(`  ratio store/bare                  : ${fmt(w.ratio, 1)}x  (target >= 5x: ${verdict(w.ratio >= 5)})`);
    console.log(`  bytes per point                   : ${fmt(w.storeBytesPerPoint, 1)}  (target <= 20: ${verdict(w.storeBytesPerPoint <= 20)})\n`);

    const ingest = await benchIngest(dir);
    for (const line of formatIngestBench(ingest)) console.log(line);
    console.log('');

    const a = await benchAgentStart(dir);
    console.log('agent start (spawn to hello answered, median of 5)');
    console.log(`  bare \`node -e 0\`                   : ${fmt(a.bareNodeMs, 1)} ms`);
    console.log(`  agent                             : ${fmt(a.agentHelloMs, 1)} ms  (${fmt(a.ratio, 1)}x a bare node start)\n`);

    const appends = Number(process.env.RUNLENS_BENCH_APPENDS ?? 200);
    const debounceMs = 100;
    console.log(`live: append -> runs/changed notification, ${appends} appends per format, debounce ${debounceMs} ms (target p95 < 300 ms)`);
    for (const r of await benchLatency(dir, appends, debounceMs)) {
      console.log(`  ${r.format.padEnd(12)} p50 ${fmt(r.p50, 1).padStart(7)} ms   p95 ${fmt(r.p95, 1).padStart(7)} ms  ${verdict(r.p95 < 300)}`);
    }
    const idleSeconds = Number(process.env.RUNLENS_BENCH_IDLE_SECONDS ?? 60);
    const idle = await benchIdleCpu(dir, 10_000, idleSeconds);
    console.log(`\nlive: agent CPU while idle, watching ${fmt(idle.files)} files for ${idle.seconds} s: ${fmt(idle.cpuMs)} ms (${fmt((idle.cpuMs / (idle.seconds * 1000)) * 100, 2)} % of one core; target near zero)`);
    const tree = await benchTreeData(dir, 10_000);
    console.log(
      `\ntree data for ${fmt(tree.runs)} runs (agent side): experiments ${fmt(tree.experimentsMs, 1)} ms, first page of runs ${fmt(tree.firstPageMs, 1)} ms, every run in pages ${fmt(tree.allPagesMs, 1)} ms\n`,
    );

    const compare = await benchComparePanel(dir);
    for (const line of describeComparePanelBench(compare)) console.log(line);
    console.log('');

    const smoke = await benchSmokeOverhead({});
    console.log(`smoke test vs raw session.run (CPU, ${smoke.threads} thread, median of ${smoke.rounds} rounds of ${smoke.runs} runs; target overhead <= 5 % at p50)`);
    for (const m of smoke.models) {
      console.log(
        `  ${m.model.padEnd(28)} raw p50 ${fmt(m.rawP50Ms, 3)} ms  smoke p50 ${fmt(m.smokeP50Ms, 3)} ms  overhead ${fmt(m.overhead * 100, 1)} %  ` +
          `load-to-first-result ${fmt(m.startToFirstResultMs, 0)} ms (raw in-process ${fmt(m.rawLoadToFirstMs, 0)} ms)`,
      );
    }
    console.log(`  worst overhead ${fmt(smoke.worstOverhead * 100, 1)} %  ${verdict(smoke.worstOverhead <= smoke.targetOverhead)}\n`);

    // Activation can only be measured inside a real VS Code: the host tests record it.
    const activation = path.join(__dirname, '..', '..', 'test-results', 'host-activation.json');
    if (fs.existsSync(activation)) {
      const a = JSON.parse(fs.readFileSync(activation, 'utf8')) as { activationMs: number; readyMs: number | null };
      const age = Math.round((Date.now() - fs.statSync(activation).mtimeMs) / 60_000);
      console.log(`extension activation in a real VS Code host (last \`npm run test:host\`, ${age} min ago): activate() ${a.activationMs} ms; agent up and workspace indexed ${a.readyMs ?? '?'} ms after activation`);
    } else {
      console.log('extension activation: run `npm run test:host` first (it measures activation in a real VS Code host and records it in test-results/)');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
