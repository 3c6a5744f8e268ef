// The registry's SQLite store: numbering, the state re-check inside the write
// transaction (two connections racing), the append-only triggers, aliases,
// rollback, archiving, and verification after the database is edited directly.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { isUserError } from '../../../src/core/errors';
import { approveVersion, rejectVersion } from '../../../src/core/registry/approval';
import { verifyStore } from '../../../src/core/registry/audit';
import type { Actor } from '../../../src/core/registry/identity';
import { aliasHistory, archiveVersion, markDeployed, markPushed, removeAlias, rollbackAlias, setAlias } from '../../../src/core/registry/lifecycle';

import { IllegalTransitionError } from '../../../src/core/registry/states';
import type { ModelVersion, RegistryStore, VersionDraft } from '../../../src/core/registry/types';
import { makeTempDir } from '../../support/fixtures';
import { MIGRATIONS } from '../../../src/core/store/migrations';
import { openStore } from '../../../src/core/database/open';

const tmp = makeTempDir('runlens-registry-store-');
let dbs = 0;
const ada: Actor = { display: 'Ada <ada@example.com>', name: 'Ada', email: 'ada@example.com', source: 'git' };
const bob: Actor = { display: 'Bob <bob@example.com>', name: 'Bob', email: 'bob@example.com', source: 'git' };

function freshDb(): string {
  return path.join(tmp, `r${++dbs}.db`);
}

function draft(name: string, sha = 'a'): VersionDraft {
  return {
    name,
    filePath: `/models/${name}-${sha}.onnx`,
    sha256: sha.repeat(64),
    size: 100,
    description: null,
    runUid: null,
    run: null,
    runInference: { how: 'none', note: 'test' },
    git: { present: false, reason: 'test' },
    datasets: [],
  };
}

function register(registry: RegistryStore, name: string, sha = 'a'): ModelVersion {
  return registry.registerVersion(draft(name, sha), Date.now(), ada.display, (v) => [{ kind: 'register', model: v.name, version: v.version, payload: { versionId: v.id, filePath: v.filePath, sha256: v.sha256, size: v.size } }]);
}

/** Approves without a policy or smoke test: the file does not exist, so approve through the store directly. */
function approve(registry: RegistryStore, v: ModelVersion, actor = ada) {
  return registry.transition({
    versionId: v.id,
    to: 'approved',
    at: Date.now(),
    actor: actor.display,
    decision: { decision: 'approved', reason: 'ok', overridden: false, evaluation: { pass: true } },
    events: ({ before, decisionId }) => [{ kind: 'approve', model: before.name, version: before.version, payload: { versionId: before.id, decisionId, from: before.state, to: 'approved', reason: 'ok', overridden: false, evaluation: { pass: true } } }],
  });
}

describe('versions', () => {
  test('numbered per model name from 1, each registration audited, and the log verifies', () => {
    const registry = openStore(freshDb()).registry;
    try {
      assert.deepEqual([register(registry, 'face'), register(registry, 'face', 'b'), register(registry, 'ocr'), register(registry, 'face', 'c')].map((v) => `${v.name}@${v.version}`), ['face@1', 'face@2', 'ocr@1', 'face@3']);
      assert.equal(registry.latestVersion('face')?.version, 3);
      assert.equal(registry.getVersion('face', 2)?.sha256, 'b'.repeat(64));
      assert.deepEqual(registry.listModels().map((m) => [m.name, m.versions, m.latestVersion]), [['face', 3, 3], ['ocr', 1, 1]]);
      const audit = registry.readAudit();
      assert.deepEqual(audit.map((e) => [e.seq, e.kind, e.model, e.version]), [[1, 'register', 'face', 1], [2, 'register', 'face', 2], [3, 'register', 'ocr', 1], [4, 'register', 'face', 3]]);
      assert.equal(verifyStore(registry).ok, true);
    } finally {
      registry.close();
    }
  });

  test('two connections deciding one version: the second is refused inside its transaction, naming the state', async () => {
    const file = freshDb();
    const first = openStore(file).registry;
    const second = openStore(file).registry;
    try {
      const v = register(first, 'face');
      // Both looked at the version while it was pending...
      const seenBySecond = second.getVersion('face', 1)!;
      assert.equal(seenBySecond.state, 'pending');
      approve(first, v);
      // ...the second decides on what it saw; the store re-reads and refuses.
      assert.throws(
        () => rejectVersion(second, seenBySecond, { reason: 'too slow', actor: bob }),
        (e: unknown) => e instanceof IllegalTransitionError && e.current === 'approved' && /face@1 is approved and cannot become rejected: from approved it can only become pushed or deployed or archived/.test(e.message),
      );
      // approveVersion on the stale object passes its early check and evaluates (the file does not exist, so
      // only --override gets it to the write); the transaction then finds the version approved.
      await assert.rejects(
        approveVersion(second, seenBySecond, { reason: 'me too', actor: bob, workspace: tmp, override: true }),
        (e: unknown) => e instanceof IllegalTransitionError && /face@1 is already approved/.test(e.message),
      );
      assert.equal(first.listDecisions(v.id).length, 1);
      assert.deepEqual(first.readAudit().map((e) => e.kind), ['register', 'approve']);
      assert.equal(verifyStore(second).ok, true);
    } finally {
      first.close();
      second.close();
    }
  });

  test('a refused change writes nothing: no decision, no audit entry, same state', () => {
    const registry = openStore(freshDb()).registry;
    try {
      const v = register(registry, 'face');
      rejectVersion(registry, v, { reason: 'no', actor: ada });
      const before = registry.readAudit().length;
      assert.throws(() => approve(registry, v), IllegalTransitionError);
      assert.throws(() => rejectVersion(registry, v, { reason: ' ', actor: ada }), /needs a reason/);
      assert.equal(registry.readAudit().length, before);
      assert.equal(registry.listDecisions().length, 1);
      assert.equal(registry.getVersionById(v.id)?.state, 'rejected');
    } finally {
      registry.close();
    }
  });

  test('pushed and deployed follow approved, in order, each audited', () => {
    const registry = openStore(freshDb()).registry;
    try {
      const v = register(registry, 'face');
      assert.throws(() => markPushed(registry, v, { actor: ada, details: { image: 'x' } }), /pending and cannot become pushed/);
      assert.throws(() => markDeployed(registry, v, { actor: ada, details: {} }), /pending and cannot become deployed/);
      approve(registry, v);
      const pushed = markPushed(registry, registry.getVersionById(v.id)!, { actor: ada, details: { image: 'registry.local/face:1' } });
      const deployed = markDeployed(registry, pushed, { actor: ada, details: { port: 8080 } });
      assert.equal(deployed.state, 'deployed');
      assert.deepEqual(registry.readAudit().map((e) => e.kind), ['register', 'approve', 'push', 'deploy']);
      assert.equal(verifyStore(registry).ok, true);
    } finally {
      registry.close();
    }
  });
});

describe('aliases', () => {
  test('gated aliases need an approved version; moves are audited with from and to; rollback walks back', () => {
    const registry = openStore(freshDb()).registry;
    try {
      const v1 = register(registry, 'face');
      const v2 = register(registry, 'face', 'b');
      assert.throws(() => setAlias(registry, v1, 'production', { actor: ada }), (e: unknown) => isUserError(e) && /cannot point production at face@1: it is pending; production may only point at an approved version/.test(e.message));
      setAlias(registry, v1, 'candidate', { actor: ada });
      approve(registry, v1);
      approve(registry, v2);
      setAlias(registry, registry.getVersionById(v1.id)!, 'production', { actor: ada, reason: 'first release' });
      assert.throws(() => setAlias(registry, registry.getVersionById(v1.id)!, 'production', { actor: ada }), /production already points at face@1/);
      const moved = setAlias(registry, registry.getVersionById(v2.id)!, 'production', { actor: bob });
      assert.equal(moved.previous?.version, 1);
      assert.equal(moved.current?.version, 2);
      assert.equal(moved.current?.setBy, bob.display);
      const aliasEntries = registry.readAudit().filter((e) => e.kind === 'alias').map((e) => JSON.parse(e.payload) as { alias: string; from: number | null; to: number | null });
      assert.deepEqual(aliasEntries.map((p) => [p.alias, p.from, p.to]), [['candidate', null, 1], ['production', null, 1], ['production', 1, 2]]);

      const back = rollbackAlias(registry, 'face', 'production', { actor: bob, reason: 'v2 regressed' });
      assert.deepEqual([back.previous?.version, back.current?.version], [2, 1]);
      assert.throws(() => rollbackAlias(registry, 'face', 'production', { actor: bob }), /no earlier version to roll back to \(it has only pointed at face@1\)/);
      assert.deepEqual(aliasHistory(registry.readAudit(), 'face', 'production'), [1]);

      // Archiving what an alias points at is refused; after removing the alias it is allowed.
      assert.throws(() => archiveVersion(registry, registry.getVersionById(v1.id)!, { actor: ada }), /face@1 is still candidate, production; move or remove those aliases first/);
      removeAlias(registry, 'face', 'candidate', { actor: ada });
      assert.throws(() => removeAlias(registry, 'face', 'candidate', { actor: ada }), /face has no alias candidate/);
      setAlias(registry, registry.getVersionById(v2.id)!, 'production', { actor: ada });
      archiveVersion(registry, registry.getVersionById(v1.id)!, { actor: ada, reason: 'superseded' });
      // Rolling back to an archived version is refused.
      assert.throws(() => rollbackAlias(registry, 'face', 'production', { actor: ada }), /cannot roll production back: cannot point production at face@1: it is archived/);
      assert.deepEqual(registry.listAliases('face').map((a) => [a.alias, a.version]), [['production', 2]]);
      assert.equal(verifyStore(registry).ok, true);
    } finally {
      registry.close();
    }
  });
});

describe('append-only, and tamper-evident when the guards are removed', () => {
  function seeded(): { file: string; v: ModelVersion } {
    const file = freshDb();
    const registry = openStore(file).registry;
    const v = register(registry, 'face');
    approve(registry, v);
    setAlias(registry, registry.getVersionById(v.id)!, 'production', { actor: ada });
    register(registry, 'face', 'b');
    registry.close();
    return { file, v };
  }

  test('the database refuses UPDATE and DELETE of audit entries and decisions, and an INSERT that does not continue the chain', () => {
    const { file } = seeded();
    const raw = new Database(file);
    try {
      assert.throws(() => raw.prepare(`UPDATE registry_audit SET actor = 'Mallory' WHERE seq = 2`).run(), /append-only/);
      assert.throws(() => raw.prepare(`DELETE FROM registry_audit WHERE seq = 4`).run(), /append-only/);
      assert.throws(() => raw.prepare(`UPDATE model_decisions SET reason = 'x'`).run(), /append-only/);
      assert.throws(() => raw.prepare(`DELETE FROM model_decisions`).run(), /append-only/);
      const last = raw.prepare(`SELECT seq, hash FROM registry_audit ORDER BY seq DESC LIMIT 1`).get() as { seq: number; hash: string };
      const insert = raw.prepare(`INSERT INTO registry_audit (seq, at, kind, actor, model_name, version, payload, prev_hash, hash) VALUES (?, 0, 'archive', 'M', 'face', 1, '{}', ?, 'h')`);
      assert.throws(() => insert.run(last.seq + 2, last.hash), /continue the hash chain/, 'a gap');
      assert.throws(() => insert.run(last.seq + 1, '0'.repeat(64)), /continue the hash chain/, 'a wrong previous hash');
    } finally {
      raw.close();
    }
  });

  test('with the triggers dropped: an edited payload, a deleted entry, an edited state are each found and named', () => {
    const cases: [string, string, RegExp][] = [
      ['edit', `UPDATE registry_audit SET payload = replace(payload, '"reason":"ok"', '"reason":"fine"') WHERE seq = 2`, /^2 approve its contents do not match its hash/],
      ['delete', `DELETE FROM registry_audit WHERE seq = 3`, /^4 register comes after #2: entry #3 is missing/],
      ['state', `UPDATE model_versions SET state = 'approved' WHERE version = 2`, /^4 register face@2 is approved in the registry, but the audit log says pending/],
      ['truncate', `DELETE FROM registry_audit WHERE seq = 4`, /face@2 is in the registry but the audit log never registered it/],
    ];
    for (const [what, sql, expected] of cases) {
      const { file } = seeded();
      const raw = new Database(file);
      raw.exec(`DROP TRIGGER registry_audit_no_update; DROP TRIGGER registry_audit_no_delete;`);
      const changed = raw.prepare(sql).run().changes;
      raw.close();
      assert.equal(changed, 1, `${what}: the tampering took effect`);
      const registry = openStore(file).registry;
      const result = verifyStore(registry);
      registry.close();
      assert.equal(result.ok, false, what);
      const first = result.problems[0];
      assert.match(`${first.seq ?? '-'} ${first.kind ?? '-'} ${first.message}`.replace(/^- - /, ''), expected, `${what}: ${JSON.stringify(result.problems)}`);
    }
  });

  test('migration 4 created the tables and triggers, and reopening does not run it again', () => {
    const { file } = seeded();
    const raw = new Database(file, { readonly: true });
    try {
      const versions = (raw.prepare(`SELECT version FROM schema_version ORDER BY version`).all() as { version: number }[]).map((r) => r.version);
      assert.deepEqual(versions, MIGRATIONS.map((m) => m.version), 'every migration once');
      const triggers = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
      for (const t of ['registry_audit_append_only_insert', 'registry_audit_no_delete', 'registry_audit_no_update', 'model_decisions_no_delete', 'model_decisions_no_update']) assert.ok(triggers.includes(t), t);
      // The v1 placeholder tables are gone (migration 7); the registry's own are there.
      const tables = (raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
      assert.deepEqual(['approvals', 'audit_events', 'deployments'].filter((t) => tables.includes(t)), []);
      assert.ok(tables.includes('model_smoke_reports'));
    } finally {
      raw.close();
    }
  });
});
