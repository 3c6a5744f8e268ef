// `runlens watch` on real files: lines appended to a real MLflow metric file
// and a new Keras log arrive as change lines, without restarting anything.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { test } from 'node:test';
import { agentScript } from '../support/agentProcess';
import { copyCorpus, corpusDir, makeTempDir } from '../support/fixtures';

interface ChangeLine {
  runName: string;
  key: string;
  newPoints: number;
  lastStep: number | string;
  lastValue: number | string;
}

test('watch prints one JSON line per changed series as files grow', { timeout: 60_000 }, async () => {
  const workspace = makeTempDir();
  const mlruns = copyCorpus('logs/mlflow/pytorch-mnist-mlflow1/mlruns');
  fs.cpSync(mlruns, path.join(workspace, 'mlruns'), { recursive: true });
  const db = path.join(makeTempDir(), 'watch.db');
  const child = spawn(process.execPath, [agentScript, 'watch', workspace, '--json', '--debounce', '50', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: ChangeLine[] = [];
  const waiters: (() => void)[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as ChangeLine);
    waiters.splice(0).forEach((w) => w());
  });
  let stderr = '';
  const ready = new Promise<void>((resolve) =>
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('ready')) resolve();
    }),
  );
  const waitFor = async (predicate: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!predicate()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(lines)}; stderr: ${stderr}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  try {
    await ready;
    // A training process logs two more points of test_loss.
    const metric = path.join(workspace, 'mlruns/1/f8b0899d2d2c42c6a73b7ca8c256e3d6/metrics/test_loss');
    fs.appendFileSync(metric, '1665036200000 0.125 1\n1665036201000 nan 2\n');
    await waitFor(() => lines.some((l) => l.key === 'test_loss'), 'the test_loss change');
    const change = lines.find((l) => l.key === 'test_loss')!;
    assert.equal(change.newPoints, 2);
    assert.equal(change.lastStep, 2);
    assert.equal(change.lastValue, 'NaN');
    assert.equal(lines.filter((l) => l.key === 'test_loss').length, 1, 'one line for one change');

    // A new Keras log appears (real rows from the corpus).
    const keras = fs.readFileSync(path.join(corpusDir(), 'logs/keras-csv/append-mode-restarts/training_log.csv'), 'utf8').split('\r\n').slice(0, 4).join('\r\n') + '\r\n';
    fs.writeFileSync(path.join(workspace, 'training.log'), keras);
    await waitFor(() => lines.some((l) => l.key === 'loss' && l.newPoints === 3), 'the new Keras run');
  } finally {
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
  }
  assert.ok(!fs.existsSync(`${db}.lock`), 'the lock is released on Ctrl+C');
});
