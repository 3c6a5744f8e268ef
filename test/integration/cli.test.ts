// The `runlens` CLI as a user runs it: a real process, real files, exit codes.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { agentScript } from '../support/agentProcess';
import { copyCorpus, makeTempDir } from '../support/fixtures';

function runlens(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [agentScript, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help works for the CLI and every subcommand', () => {
  const top = runlens(['--help']);
  assert.equal(top.code, 0);
  for (const command of ['ingest', 'runs', 'show', 'export', 'demo', 'serve', 'version']) {
    assert.ok(top.stdout.includes(command), `${command} listed in --help`);
    const sub = runlens([command, '--help']);
    assert.equal(sub.code, 0, `${command} --help`);
    assert.match(sub.stdout, new RegExp(`usage: runlens ${command}`));
    assert.match(sub.stdout, /--db/);
  }
});

test('user errors exit 1 with one line; unknown options are not ignored', () => {
  const unknown = runlens(['frobnicate']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badFlag = runlens(['runs', '--colour'], { RUNLENS_DB: path.join(makeTempDir(), 'x.db') });
  assert.equal(badFlag.code, 1);
  assert.equal(badFlag.stderr.trim().split('\n').length, 1);
  assert.match(badFlag.stderr, /unknown option --colour/);
});

test('ingest, runs, show and export round-trip a real Keras log with its restarts', () => {
  const logDir = copyCorpus('logs/keras-csv/append-mode-restarts');
  const db = path.join(makeTempDir(), 'cli.db');
  const ingest = runlens(['ingest', logDir, '--db', db, '--json']);
  assert.equal(ingest.code, 0, ingest.stderr);
  const summary = JSON.parse(ingest.stdout) as { runs: number; points: number };
  assert.ok(summary.runs >= 4, `append-mode file has 4 segments, got ${summary.runs} runs`);

  const table = runlens(['runs', '--db', db]);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^ID\s+UID\s+FORMAT/m);
  assert.equal(table.stdout.trim().split('\n').length, 2 + summary.runs);

  const runs = JSON.parse(runlens(['runs', '--db', db, '--json']).stdout) as { id: number; uid: string; pointCount: number }[];
  const show = runlens(['show', runs[0].uid, '--db', db, '--json']);
  assert.equal(show.code, 0, show.stderr);
  const detail = JSON.parse(show.stdout) as { uid: string; series: { key: string; pointCount: number }[] };
  assert.equal(detail.uid, runs[0].uid);
  assert.equal(detail.series.reduce((n, s) => n + s.pointCount, 0), runs[0].pointCount);

  const exportedRun = runlens(['export', logDir, '--json']);
  assert.equal(exportedRun.code, 0, exportedRun.stderr);
  const exported = JSON.parse(exportedRun.stdout) as { runs: { path: string; format: string; metrics: Record<string, unknown[][]> }[] };
  assert.equal(exported.runs.length, summary.runs);
  assert.deepEqual(
    exported.runs.map((r) => r.path),
    Array.from({ length: summary.runs }, (_, i) => `training_log.csv#${i + 1}`),
  );
  const points = exported.runs.reduce((n, r) => n + Object.values(r.metrics).reduce((m, s) => m + s.length, 0), 0);
  assert.equal(points, summary.points);
  assert.ok(!fs.existsSync(path.join(logDir, '.runlens')), 'export without --db writes no database next to the logs');
});

test('show of a run that does not exist is a user error naming the database', () => {
  const db = path.join(makeTempDir(), 'empty.db');
  const r = runlens(['show', 'nope', '--db', db]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(db));
});

test('a --db that is not a database is refused by name and left as it was', () => {
  const file = path.join(makeTempDir(), 'thesis.txt');
  fs.writeFileSync(file, 'chapter one\n'.repeat(100));
  const r = runlens(['runs', '--db', file]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(file));
  assert.match(r.stderr, /not a SQLite database/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'chapter one\n'.repeat(100));
});

test('demo writes every format, ingests it and prints the runs table', () => {
  const dir = path.join(makeTempDir(), 'demo');
  const r = runlens(['demo', dir]);
  assert.equal(r.code, 0, r.stderr);
  for (const format of ['mlflow', 'tensorboard', 'lightning', 'keras', 'dvclive']) {
    assert.match(r.stdout, new RegExp(`\\b${format}\\b`), `${format} runs in the demo table`);
  }
  assert.ok(fs.existsSync(path.join(dir, '.runlens', 'runlens.db')));
});

/** Which bundles and native modules a CLI call loaded: a preload script lists require's cache at exit. */
function modulesLoadedBy(args: string[]): string[] {
  const dir = makeTempDir('runlens-cli-modules-');
  const probe = path.join(dir, 'probe.js');
  const out = path.join(dir, 'loaded.json');
  fs.writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const r = spawnSync(process.execPath, ['--require', probe, agentScript, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(fs.readFileSync(out, 'utf8')) as string[];
}

test('ingest and version start light: the agent server, Docker client and ONNX runtime are loaded only by the commands that use them', () => {
  const db = path.join(makeTempDir(), 'light.db');
  const heavy = (loaded: string[]) => loaded.filter((file) => /agentHeavy\.js$|onnxruntime|dockerode|ssh2/.test(file));
  assert.deepEqual(heavy(modulesLoadedBy(['version'])), []);
  assert.deepEqual(heavy(modulesLoadedBy(['ingest', copyCorpus('logs/tensorboard/lightning-lstm-single-file'), '--db', db])), []);
  // The check can fail: a command that needs the rest loads it.
  assert.ok(heavy(modulesLoadedBy(['audit', 'verify', '--db', db])).some((file) => file.endsWith('agentHeavy.js')));
});
