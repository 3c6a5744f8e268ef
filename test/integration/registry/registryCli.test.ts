// The model registry through the real CLI, on real files: a corpus MLflow run
// ingested, a corpus ONNX model placed in that run's artifacts and registered
// (the run inferred), a policy that passes and one that fails (metric rule and
// latency limit), a blocked approval and its override, aliases, refused
// transitions, and the audit log verified, exported, and tampered with in the
// database file itself.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { copyCorpus, makeTempDir, readExpected } from '../../support/fixtures';
import { listFiles, sandbox, type AuditJson, type Sandbox, type VersionJson } from './helpers';

const CASE = 'logs/mlflow/pytorch-mnist-mlflow1';
const TRAINED = 'f8b0899d2d2c42c6a73b7ca8c256e3d6'; // params and test_loss / test_micro_accuracy
const OTHER = '8e5d1fe41dcd4cc5ba32921b07f1b7f1'; // no params; test_accuracy, test_loss, train_*

interface ExpectedRun {
  run_id: string;
  tag_runName: string;
  params: Record<string, string>;
  metrics: Record<string, { last_line: { value: number } }>;
}
const expectedRuns = readExpected<{ experiments: { runs: ExpectedRun[] }[] }>(CASE).experiments.flatMap((e) => e.runs);
const expectedRun = (id: string) => expectedRuns.find((r) => r.run_id === id)!;

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

let cli: Sandbox;
let logs: string;
let blazeface: string;
let ppocr: string;
const audit = () => cli.json<AuditJson[]>(['audit', 'list', '--limit', '1000']);
const show = (ref: string) => cli.json<VersionJson & { decisions: { decision: string; actor: string; reason: string; overridden: boolean }[]; smokeReports: { ep: string; passed: boolean }[] }>(['model', 'show', ref]);

function placeModel(source: string, runId: string, rel: string): string {
  const dest = path.join(logs, 'mlruns', '1', runId, 'artifacts', rel);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(source, dest);
  return dest;
}

function writePolicy(file: string, policy: object): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(policy, null, 2));
  return file;
}

before(() => {
  logs = copyCorpus(CASE);
  blazeface = copyCorpus('models/blazeface_front_128.onnx');
  ppocr = copyCorpus('models/ppocr_mobile_v2_cls.onnx');
  cli = sandbox(path.dirname(logs));
  const ingest = cli.run(['ingest', logs]);
  assert.equal(ingest.code, 0, ingest.stderr);
});

describe('register', () => {
  test("a model in a run's artifacts is registered with that run inferred, its snapshot, hash, datasets, identity; nothing is copied", () => {
    const runs = cli.json<{ uid: string; runKey: string; path: string }[]>(['runs']);
    const trained = runs.find((r) => r.runKey === TRAINED)!;
    assert.ok(trained, 'the corpus run was ingested');
    const model = placeModel(blazeface, TRAINED, 'onnx/face.onnx');
    const datasetDir = path.join(logs, 'mlruns', '1', OTHER);
    const datasetFile = path.join(logs, 'mlruns', '1', 'meta.yaml');
    const before = listFiles(cli.workspace);

    const r = cli.run(['model', 'register', model, '--name', 'face', '--dataset', `${datasetDir},${datasetFile}`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as VersionJson;
    assert.deepEqual(listFiles(cli.workspace), before, 'registration wrote nothing into the workspace');

    assert.equal(`${v.name}@${v.version}`, 'face@1');
    assert.equal(v.state, 'pending');
    assert.equal(v.filePath, model);
    assert.equal(v.sha256, sha256(model));
    assert.equal(v.size, fs.statSync(model).size);
    assert.equal(v.registeredBy, cli.identity);
    assert.equal(v.runInference.how, 'contains');
    assert.equal(v.runUid, trained.uid);
    const expected = expectedRun(TRAINED);
    assert.equal(v.run?.name, expected.tag_runName);
    assert.deepEqual(v.run?.params, expected.params);
    for (const [key, m] of Object.entries(expected.metrics)) assert.equal(v.run?.metrics[key]?.value, m.last_line.value, key);
    assert.deepEqual(v.git, { present: false, reason: v.git.reason });
    assert.match(String(v.git.reason), /not a git repository/);
    assert.deepEqual(
      v.datasets.map((d) => [d.path, d.kind, d.files]),
      [
        [datasetDir, 'directory', listFiles(datasetDir).length],
        [datasetFile, 'file', 1],
      ],
    );
    assert.equal(v.datasets[1].sha256, sha256(datasetFile));

    const entries = audit();
    assert.deepEqual(entries.map((e) => [e.seq, e.kind, e.model, e.version, e.actor]), [[1, 'register', 'face', 1, cli.identity]]);
    assert.equal(entries[0].payload.sha256, v.sha256);
  });

  test('register refuses what it cannot record, with one line saying why', () => {
    const noName = cli.run(['model', 'register', blazeface]);
    assert.equal(noName.code, 1);
    assert.match(noName.stderr, /needs --name NAME/);
    const missing = cli.run(['model', 'register', path.join(logs, 'nope.onnx'), '--name', 'face']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.onnx: no such file/);
    const wrongFlag = cli.run(['model', 'register', blazeface, '--name', 'face', '--override']);
    assert.equal(wrongFlag.code, 1);
    assert.match(wrongFlag.stderr, /model register does not take --override/);
    assert.equal(audit().length, 1, 'nothing was recorded');
  });
});

describe('approve', () => {
  test('a passing policy: evaluate shows every rule passing with evidence; approve records identity, reason and smoke evidence', () => {
    writePolicy(path.join(cli.workspace, '.runlens', 'policy.json'), {
      version: 1,
      smokeTest: { executionProviders: ['cpu'], runs: 10, warmup: 1 },
      latency: [{ executionProvider: 'cpu', p95Ms: 60_000 }],
      golden: { against: 'production' },
      metrics: [
        { metric: 'test_micro_accuracy', op: '>=', value: 0.9 },
        { metric: 'test_loss', better: 'lower', maxRegressionPercent: 2 },
      ],
    });
    const evaluation = cli.json<{ pass: boolean; rules: { id: string; status: string; evidence: string; measured?: number }[] }>(['model', 'evaluate', 'face@1']);
    assert.equal(evaluation.pass, true, JSON.stringify(evaluation.rules, null, 1));
    const status = Object.fromEntries(evaluation.rules.map((r) => [r.id, r.status]));
    assert.deepEqual(status, { 'file-integrity': 'pass', 'smoke:cpu': 'pass', 'latency:cpu:p95': 'pass', golden: 'skipped', 'metric:0:test_micro_accuracy': 'pass', 'metric:1:test_loss': 'skipped' });
    const latency = evaluation.rules.find((r) => r.id === 'latency:cpu:p95')!;
    assert.ok(typeof latency.measured === 'number' && latency.measured > 0, `a measured p95: ${JSON.stringify(latency)}`);
    assert.equal(audit().length, 1, 'evaluate records nothing');

    const noReason = cli.run(['model', 'approve', 'face@1']);
    assert.equal(noReason.code, 1);
    assert.match(noReason.stderr, /needs --reason/);

    const approved = cli.run(['model', 'approve', 'face@1', '--reason', 'first release']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /pass\s+smoke test passes on cpu/);
    assert.match(approved.stdout, new RegExp(`approved face@1 by ${cli.identity}: first release`));
    const v = show('face@1');
    assert.equal(v.state, 'approved');
    assert.deepEqual(v.decisions.map((d) => [d.decision, d.actor, d.reason, d.overridden]), [['approved', cli.identity, 'first release', false]]);
    assert.deepEqual(v.smokeReports.map((s) => [s.ep, s.passed]), [['cpu', true]]);
    const approve = audit().find((e) => e.kind === 'approve')!;
    assert.equal(approve.actor, cli.identity);
    assert.equal((approve.payload.evaluation as { pass: boolean }).pass, true);

    const alias = cli.run(['model', 'alias', 'face@1', 'production', '--reason', 'first release']);
    assert.equal(alias.code, 0, alias.stderr);
  });

  test('a failing policy (metric rule, latency limit) blocks approval and records nothing; the output shows rules, evidence and the diff against production', () => {
    placeModel(blazeface, OTHER, 'face.onnx');
    const reg = cli.run(['model', 'register', path.join(logs, 'mlruns', '1', OTHER, 'artifacts', 'face.onnx'), '--name', 'face']);
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stderr, /same file content is already registered as face@1/);
    const failing = writePolicy(path.join(makeTempDir(), 'strict.json'), {
      version: 1,
      smokeTest: { executionProviders: ['cpu'], runs: 10, warmup: 1 },
      latency: [{ executionProvider: 'cpu', p95Ms: 0.001 }],
      golden: { against: 'production' },
      metrics: [
        { metric: 'test_accuracy', op: '>=', value: 0.99 },
        { metric: 'test_loss', better: 'lower', maxRegressionPercent: 2 },
      ],
    });
    const entriesBefore = audit().length;
    const blocked = cli.run(['model', 'approve', 'face@2', '--reason', 'try', '--policy', failing]);
    assert.equal(blocked.code, 1, blocked.stdout + blocked.stderr);
    assert.match(blocked.stderr, /face@2 NOT approved: 2 rule\(s\) fail \(latency:cpu:p95, metric:0:test_accuracy\)/);
    const accuracy = expectedRun(OTHER).metrics.test_accuracy.last_line.value;
    assert.match(blocked.stdout, /FAIL\s+p95 latency on cpu <= 0\.001 ms\s+p95 [\d.]+ ms over 10 runs, over the limit/);
    assert.match(blocked.stdout, new RegExp(`FAIL\\s+test_accuracy >= 0\\.99\\s+test_accuracy = ${String(Number(accuracy.toPrecision(6))).replace('.', '\\.')} in run ${expectedRun(OTHER).tag_runName}`));
    assert.match(blocked.stdout, /pass\s+outputs match production \(face@1\) on cpu .* max abs diff 0/);
    assert.match(blocked.stdout, /pass\s+test_loss no worse than production \(face@1\) by more than 2 %/);
    // The diff against production: face@1's run had params, face@2's has none.
    assert.match(blocked.stdout, /params against face@1 \(4 changed, 0 unchanged\)/);
    assert.match(blocked.stdout, /batch_size\s+128\s+\(none\)/);
    assert.match(blocked.stdout, /test_micro_accuracy\s+0\.943\s+-/);
    assert.equal(audit().length, entriesBefore, 'a blocked approval records nothing');
    assert.equal(show('face@2').state, 'pending');
  });

  test('--override approves anyway and records which rules were overridden, by whom and why', () => {
    const failing = writePolicy(path.join(makeTempDir(), 'strict.json'), {
      version: 1,
      latency: [{ executionProvider: 'cpu', p95Ms: 0.001 }],
      metrics: [{ metric: 'test_accuracy', op: '>=', value: 0.99 }],
    });
    const r = cli.run(['model', 'approve', 'face@2', '--reason', 'latency measured on a loaded CI box', '--policy', failing, '--override', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const outcome = JSON.parse(r.stdout) as { status: string; overridden: boolean; evaluation: { failed: string[] } };
    assert.equal(outcome.status, 'approved');
    assert.equal(outcome.overridden, true);
    assert.deepEqual(outcome.evaluation.failed, ['latency:cpu:p95', 'metric:0:test_accuracy']);
    const tail = audit().slice(-2);
    assert.deepEqual(tail.map((e) => [e.kind, e.version, e.actor]), [['override', 2, cli.identity], ['approve', 2, cli.identity]]);
    assert.deepEqual((tail[0].payload.failedRules as { id: string }[]).map((f) => f.id), ['latency:cpu:p95', 'metric:0:test_accuracy']);
    assert.equal(tail[0].payload.reason, 'latency measured on a loaded CI box');
    assert.equal(tail[1].payload.overridden, true);
    assert.equal(show('face@2').decisions[0].overridden, true);
  });

  test("golden outputs against production: a different model's outputs fail the rule", () => {
    const model = path.join(cli.workspace, 'exports', 'ocr.onnx');
    fs.mkdirSync(path.dirname(model), { recursive: true });
    fs.copyFileSync(ppocr, model);
    const reg = cli.json<VersionJson>(['model', 'register', model, '--name', 'face', '--run', expectedRun(TRAINED).tag_runName]);
    assert.equal(reg.version, 3);
    assert.equal(reg.runInference.how, 'given');
    const policy = writePolicy(path.join(makeTempDir(), 'golden.json'), { version: 1, smokeTest: { executionProviders: ['cpu'], runs: 3, warmup: 0 }, golden: { against: 'production' } });
    const r = cli.run(['model', 'evaluate', 'face@3', '--policy', policy, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const e = JSON.parse(r.stdout) as { rules: { id: string; status: string; evidence: string }[] };
    assert.deepEqual(e.rules.map((x) => [x.id, x.status]), [['file-integrity', 'pass'], ['smoke:cpu', 'pass'], ['golden', 'fail']]);
    assert.match(e.rules[2].evidence, /differ: /);
  });
});

describe('aliases and states', () => {
  test('aliases move (audited with from and to), production only takes approved versions, rollback goes back', () => {
    const moved = cli.run(['model', 'alias', 'face@2', 'production']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /face@production: face@1 → face@2/);
    const last = audit().at(-1)!;
    assert.deepEqual([last.kind, last.payload.alias, last.payload.from, last.payload.to], ['alias', 'production', 1, 2]);

    const pending = cli.run(['model', 'alias', 'face@3', 'production']);
    assert.equal(pending.code, 1);
    assert.match(pending.stderr, /cannot point production at face@3: it is pending; production may only point at an approved version/);
    assert.equal(cli.run(['model', 'alias', 'face@3', 'candidate']).code, 0);
    assert.equal(show('face@production').version, 2);
    assert.deepEqual(show('face@candidate').aliases, ['candidate']);

    const back = cli.run(['model', 'rollback', 'face', '--reason', 'face@2 regressed in canary']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(show('face@production').version, 1);
    assert.equal(audit().at(-1)!.kind, 'rollback');
  });

  test('illegal transitions are refused, naming the current state and what it may become', () => {
    const cases: [string[], RegExp][] = [
      [['model', 'reject', 'face@2', '--reason', 'late doubts'], /face@2 is approved and cannot become rejected: from approved it can only become pushed or deployed or archived/],
      [['model', 'approve', 'face@1', '--reason', 'again'], /face@1 is already approved; from approved it can only become pushed or deployed or archived/],
      [['model', 'archive', 'face@1'], /face@1 is still production; move or remove that alias first/],
    ];
    for (const [args, message] of cases) {
      const r = cli.run(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
    assert.equal(cli.run(['model', 'alias', 'face', 'candidate', '--remove']).code, 0);
    assert.equal(cli.run(['model', 'reject', 'face@3', '--reason', 'wrong model']).code, 0);
    const afterReject = cli.run(['model', 'approve', 'face@3', '--reason', 'changed my mind']);
    assert.equal(afterReject.code, 1);
    assert.match(afterReject.stderr, /face@3 is rejected and cannot become approved: from rejected it can only become archived/);
    assert.equal(cli.run(['model', 'archive', 'face@3', '--reason', 'cleanup']).code, 0);
    const final = cli.run(['model', 'archive', 'face@3']);
    assert.equal(final.code, 1);
    assert.match(final.stderr, /archived is final: no further state changes/);
    const list = cli.json<{ version: number; state: string; aliases: string[] }[]>(['model', 'list', 'face']);
    assert.deepEqual(list.map((v) => [v.version, v.state, v.aliases]), [[1, 'approved', ['production']], [2, 'approved', []], [3, 'archived', []]]);
  });
});

describe('audit log', () => {
  let head = '';
  const seqOf = (kind: string, version: number) => audit().find((e) => e.kind === kind && e.version === version)!.seq;

  test('verify passes on the untouched log; exports in JSON Lines and CSV carry every entry and the export verifies', () => {
    const ok = cli.run(['audit', 'verify']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const entries = audit();
    head = entries.at(-1)!.hash;
    assert.match(ok.stdout, new RegExp(`verified: ${entries.length} entries`));
    assert.match(ok.stdout, new RegExp(`head #${entries.length} ${head}`));

    const dir = makeTempDir();
    const jsonl = path.join(dir, 'audit.jsonl');
    const csv = path.join(dir, 'audit.csv');
    assert.equal(cli.run(['audit', 'export', '--format', 'jsonl', '--out', jsonl]).code, 0);
    assert.equal(cli.run(['audit', 'export', '--format', 'csv', '--out', csv, '--db', cli.db]).code, 0);
    const lines = fs.readFileSync(jsonl, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; kind: string; hash: string });
    assert.deepEqual(lines.map((l) => [l.seq, l.kind, l.hash]), entries.map((e) => [e.seq, e.kind, e.hash]));
    const rows = fs.readFileSync(csv, 'utf8').split('\r\n').filter(Boolean);
    assert.equal(rows[0], 'seq,time,at,kind,actor,model,version,payload,prev_hash,hash');
    assert.equal(rows.length, entries.length + 1);
    assert.ok(rows[entries.length].endsWith(`,${head}`));
    const stdoutExport = cli.run(['audit', 'export', '--format', 'jsonl']);
    assert.equal(stdoutExport.stdout, fs.readFileSync(jsonl, 'utf8'));

    const fromFile = cli.run(['audit', 'verify', '--file', jsonl, '--anchor', head]);
    assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
    fs.writeFileSync(jsonl, fs.readFileSync(jsonl, 'utf8').replace('first release', 'FIRST release'));
    const edited = cli.run(['audit', 'verify', '--file', jsonl]);
    assert.equal(edited.code, 1);
    assert.match(edited.stderr, new RegExp(`entry #${seqOf('approve', 1)} \\(approve\\): its contents do not match its hash`));
  });

  test('deleting an entry from the database file is detected, naming the entry after the gap', () => {
    const copy = path.join(makeTempDir(), 'deleted.db');
    fs.copyFileSync(cli.db, copy);
    const alias = seqOf('alias', 2);
    const raw = new Database(copy);
    assert.throws(() => raw.prepare('DELETE FROM registry_audit WHERE seq = ?').run(alias), /append-only/, 'the trigger refuses');
    raw.exec('DROP TRIGGER registry_audit_no_delete');
    assert.equal(raw.prepare('DELETE FROM registry_audit WHERE seq = ?').run(alias).changes, 1);
    raw.close();
    const r = cli.run(['audit', 'verify', '--db', copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`verify FAILED at entry #${alias + 1} \\(\\w+\\): comes after #${alias - 1}: entry #${alias} is missing`));

    const truncated = path.join(makeTempDir(), 'truncated.db');
    fs.copyFileSync(cli.db, truncated);
    const raw2 = new Database(truncated);
    raw2.exec('DROP TRIGGER registry_audit_no_delete');
    raw2.prepare('DELETE FROM registry_audit WHERE seq = (SELECT MAX(seq) FROM registry_audit)').run();
    raw2.close();
    const t = cli.run(['audit', 'verify', '--db', truncated]);
    assert.equal(t.code, 1, 'removing the newest entry (the archive of face@3) is detected');
    assert.match(t.stdout, /face@3 is archived in the registry, but the audit log says rejected/);
    const anchored = cli.run(['audit', 'verify', '--db', truncated, '--anchor', head]);
    assert.match(anchored.stdout, /no entry has the anchor hash/);
  });

  test("editing a past event's payload in the database file, with the trigger dropped, is detected and named", () => {
    const approve = seqOf('approve', 1);
    const raw = new Database(cli.db);
    const edit = `UPDATE registry_audit SET payload = replace(payload, '"reason":"first release"', '"reason":"approved after review"') WHERE seq = ${approve}`;
    assert.throws(() => raw.exec(edit), /append-only/, 'the trigger refuses');
    raw.exec('DROP TRIGGER registry_audit_no_update');
    raw.exec(edit);
    assert.match((raw.prepare('SELECT payload FROM registry_audit WHERE seq = ?').get(approve) as { payload: string }).payload, /approved after review/);
    raw.close();
    const r = cli.run(['audit', 'verify']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`verify FAILED at entry #${approve} \\(approve\\): its contents do not match its hash`));
    assert.match(r.stdout, new RegExp(`entry #${approve} \\(approve\\): decision 1 \\(approved face@1 by ${cli.identity}\\) differs from what audit entry #${approve} recorded`));
    const json = cli.run(['audit', 'verify', '--json']);
    const result = JSON.parse(json.stdout) as { ok: boolean; firstBroken: { seq: number; kind: string; message: string } };
    assert.equal(result.ok, false);
    assert.deepEqual([result.firstBroken.seq, result.firstBroken.kind], [approve, 'approve']);
  });
});

describe('help', () => {
  test('model and audit have help for themselves and for each subcommand', () => {
    const top = cli.run(['--help']);
    assert.match(top.stdout, /^\s+model\s/m);
    assert.match(top.stdout, /^\s+audit\s/m);
    for (const [command, subs] of [
      ['model', ['register', 'list', 'show', 'evaluate', 'approve', 'reject', 'alias', 'rollback', 'archive', 'push', 'pull']],
      ['audit', ['verify', 'export', 'list']],
    ] as const) {
      const overview = cli.run([command, '--help']);
      assert.equal(overview.code, 0);
      for (const sub of subs) {
        assert.match(overview.stdout, new RegExp(`^\\s+${sub}\\s`, 'm'), `${command} --help lists ${sub}`);
        const help = cli.run([command, sub, '--help']);
        assert.equal(help.code, 0, `${command} ${sub} --help`);
        assert.match(help.stdout, new RegExp(`^usage: runlens ${command} ${sub}`), `${command} ${sub} --help`);
        assert.match(help.stdout, /--db/);
      }
    }
    const unknown = cli.run(['model', 'promote', 'face@1']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown subcommand "promote"/);
  });
});

describe('integrity', () => {
  test('a file changed after registration fails the integrity rule, and is not smoke-tested in place of what was registered', () => {
    const model = path.join(cli.workspace, 'exports', 'changed.onnx');
    fs.copyFileSync(blazeface, model);
    // --dataset repeated (not comma-separated): every occurrence counts.
    const one = path.join(logs, 'mlruns', '1', TRAINED, 'params');
    const two = path.join(logs, 'mlruns', '1', OTHER, 'metrics');
    const v = cli.json<VersionJson>(['model', 'register', model, '--name', 'face', '--dataset', one, '--dataset', two]);
    assert.deepEqual(v.datasets.map((d) => [d.path, d.kind]), [[one, 'directory'], [two, 'directory']]);
    fs.appendFileSync(model, Buffer.from([0]));
    const policy = writePolicy(path.join(makeTempDir(), 'p.json'), { version: 1, smokeTest: { executionProviders: ['cpu'], runs: 3, warmup: 0 }, golden: { against: 'production' } });
    const r = cli.run(['model', 'evaluate', `face@${v.version}`, '--policy', policy, '--json']);
    assert.equal(r.code, 1);
    const e = JSON.parse(r.stdout) as { rules: { id: string; status: string; evidence: string }[]; smoke: { ep: string; runs: number | null; error: string | null }[] };
    assert.deepEqual(e.rules.map((x) => [x.id, x.status]), [['file-integrity', 'fail'], ['smoke:cpu', 'fail'], ['golden', 'fail']]);
    assert.match(e.rules[0].evidence, new RegExp(`now hashes to ${sha256(model).slice(0, 12)}…, registered as ${v.sha256.slice(0, 12)}…`));
    assert.deepEqual(e.smoke, [{ ep: 'cpu', ranOn: null, error: 'not run: the registered file is missing or changed', runs: null, p50Ms: null, p95Ms: null, p99Ms: null }]);
  });
});
