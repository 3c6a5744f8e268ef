// Two `runlens model approve` processes started together on one version: both
// pass the early state check and spend a second in smoke tests, then race for
// the write. Exactly one approval may be recorded; the other process must be
// told the version is already approved. Three rounds, on three versions.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { sandbox, type AuditJson } from './helpers';

test('two approvals at once leave exactly one recorded approval', async () => {
  const workspace = makeTempDir('runlens-race-');
  const model = path.join(workspace, 'face.onnx');
  fs.copyFileSync(copyCorpus('models/blazeface_front_128.onnx'), model);
  fs.mkdirSync(path.join(workspace, '.runlens'));
  fs.writeFileSync(path.join(workspace, '.runlens', 'policy.json'), JSON.stringify({ version: 1, smokeTest: { executionProviders: ['cpu'], runs: 20, warmup: 2 } }));
  const alice = sandbox(workspace, { name: 'Alice', email: 'alice@example.com' });
  // Bob works on the same database with his own identity.
  const bob = sandbox(workspace, { name: 'Bob', email: 'bob@example.com' });
  const bobRun = (args: string[]) => bob.start([...args, '--db', alice.db]);

  for (let round = 1; round <= 3; round++) {
    const reg = alice.run(['model', 'register', model, '--name', 'face']);
    assert.equal(reg.code, 0, reg.stderr);
    const ref = `face@${round}`;
    const [a, b] = await Promise.all([alice.start(['model', 'approve', ref, '--reason', 'alice says yes']), bobRun(['model', 'approve', ref, '--reason', 'bob says yes'])]);
    const outcomes = [a, b].map((r) => r.code);
    assert.deepEqual([...outcomes].sort(), [0, 1], `round ${round}: one wins, one is refused (alice: ${a.code} ${a.stderr}; bob: ${b.code} ${b.stderr})`);
    const loser = a.code === 1 ? a : b;
    assert.match(loser.stderr, new RegExp(`${ref} is already approved; from approved it can only become pushed or deployed or archived`), `round ${round}: ${loser.stderr}`);

    const shown = alice.json<{ state: string; decisions: { actor: string; reason: string }[]; smokeReports: unknown[] }>(['model', 'show', ref]);
    assert.equal(shown.state, 'approved');
    assert.equal(shown.decisions.length, 1, `round ${round}: exactly one decision`);
    assert.equal(shown.smokeReports.length, 1, `round ${round}: only the winner's evidence`);
    const winner = a.code === 0 ? 'Alice <alice@example.com>' : 'Bob <bob@example.com>';
    assert.equal(shown.decisions[0].actor, winner);
    const approvals = alice.json<AuditJson[]>(['audit', 'list', '--limit', '1000']).filter((e) => e.kind === 'approve' && e.version === round);
    assert.equal(approvals.length, 1, `round ${round}: exactly one approve entry`);
    assert.equal(approvals[0].actor, winner);
  }
  const verify = alice.run(['audit', 'verify']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
