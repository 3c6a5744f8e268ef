// The audit log's hash chain as pure functions: canonical JSON, entry hashes,
// verification of edits, deletions, insertions and reordering, the replay
// against the registry tables, and the exports that can be verified again.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import { describe, test } from 'node:test';
import {
  crossCheck,
  csvField,
  entryHash,
  GENESIS_HASH,
  parseJsonLines,
  replayAudit,
  toCsvRow,
  toJsonLine,
  verifyChain,
  verifyRegistry,
} from '../../../src/core/registry/audit';
import { canonicalJson } from '../../../src/core/registry/canonicalJson';
import type { AuditEntry, ModelVersion } from '../../../src/core/registry/types';

describe('canonical JSON', () => {
  test('the same value gives the same text whatever the key order', () => {
    const a = canonicalJson({ b: 1, a: { y: [1, 'x', null], x: true } });
    const b = canonicalJson({ a: { x: true, y: [1, 'x', null] }, b: 1 });
    assert.equal(a, b);
    assert.equal(a, '{"a":{"x":true,"y":[1,"x",null]},"b":1}');
  });

  test('keys sort by UTF-16 code units; strings and numbers as JSON writes them; -0 is 0; undefined members are left out', () => {
    assert.equal(canonicalJson({ é: 1, z: 2, Z: 3, '10': 4, '9': 5 }), '{"10":4,"9":5,"Z":3,"z":2,"é":1}');
    assert.equal(canonicalJson({ s: 'line\n"q"\u2028', n: 1e21, f: 0.1, m: -0 }), '{"f":0.1,"m":0,"n":1e+21,"s":"line\\n\\"q\\"\u2028"}');
    assert.equal(canonicalJson({ a: undefined, b: [undefined] }), '{"b":[null]}');
  });

  test('refuses what JSON cannot hold instead of writing null', () => {
    assert.throws(() => canonicalJson({ loss: NaN }), /\$\.loss is NaN/);
    assert.throws(() => canonicalJson([Infinity]), /Infinity/);
    assert.throws(() => canonicalJson({ d: new Date(0) }), /Date/);
    assert.throws(() => canonicalJson({ b: 1n }), /bigint/);
  });
});

/** Builds a valid chain the way the store does. */
function chain(drafts: { kind: string; model?: string; version?: number | null; payload: Record<string, unknown> }[], start = 1_700_000_000_000): AuditEntry[] {
  const out: AuditEntry[] = [];
  drafts.forEach((d, i) => {
    const entry = {
      seq: i + 1,
      at: start + i * 1000,
      kind: d.kind,
      actor: 'Ada <ada@example.com>',
      model: d.model ?? 'face',
      version: d.version === undefined ? 1 : d.version,
      payload: canonicalJson(d.payload),
      prevHash: out.length ? out[out.length - 1].hash : GENESIS_HASH,
    };
    out.push({ ...entry, hash: entryHash(entry) });
  });
  return out;
}

const history = () =>
  chain([
    { kind: 'register', payload: { versionId: 1, filePath: '/m/a.onnx', sha256: 'a'.repeat(64), size: 10 } },
    { kind: 'approve', payload: { versionId: 1, decisionId: 1, from: 'pending', to: 'approved', reason: 'good', overridden: false, evaluation: { pass: true } } },
    { kind: 'alias', version: 1, payload: { alias: 'production', from: null, to: 1 } },
    { kind: 'register', version: 2, payload: { versionId: 2, filePath: '/m/b.onnx', sha256: 'b'.repeat(64), size: 11 } },
    { kind: 'reject', version: 2, payload: { versionId: 2, decisionId: 2, from: 'pending', to: 'rejected', reason: 'worse' } },
  ]);

describe('entry hashes and the chain', () => {
  test('an entry hash is sha256 over the canonical JSON of its fields and the previous hash', () => {
    const [first] = history();
    const expected = crypto
      .createHash('sha256')
      .update(
        `{"actor":${JSON.stringify(first.actor)},"at":${first.at},"kind":"register","model":"face","payload":${JSON.stringify(first.payload)},"prevHash":"${GENESIS_HASH}","seq":1,"version":1}`,
      )
      .digest('hex');
    assert.equal(first.hash, expected);
  });

  test('an intact chain verifies and reports its head', () => {
    const entries = history();
    const result = verifyChain(entries);
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.deepEqual(result.head, { seq: 5, hash: entries[4].hash });
  });

  test('every field is covered: changing any one is found at that entry, and only there', () => {
    const changes: [string, (e: AuditEntry) => AuditEntry][] = [
      ['payload', (e) => ({ ...e, payload: e.payload.replace('good', 'fine') })],
      ['actor', (e) => ({ ...e, actor: 'Mallory <m@example.com>' })],
      ['at', (e) => ({ ...e, at: e.at + 1 })],
      ['kind', (e) => ({ ...e, kind: 'reject' })],
      ['model', (e) => ({ ...e, model: 'other' })],
      ['version', (e) => ({ ...e, version: 7 })],
    ];
    for (const [field, change] of changes) {
      const entries = history();
      entries[1] = change(entries[1]);
      const result = verifyChain(entries);
      assert.equal(result.ok, false, field);
      assert.equal(result.problems.length, 1, `${field}: ${JSON.stringify(result.problems)}`);
      assert.equal(result.problems[0].seq, 2, field);
      assert.match(result.problems[0].message, /do not match its hash/, field);
    }
  });

  test('an edit with its own hash recomputed is found at the next entry', () => {
    const entries = history();
    const forged = { ...entries[1], payload: entries[1].payload.replace('good', 'fine') };
    entries[1] = { ...forged, hash: entryHash(forged) };
    const result = verifyChain(entries);
    assert.equal(result.problems[0].seq, 3);
    assert.match(result.problems[0].message, /does not match entry #2's hash/);
  });

  test('a deleted entry is found (first, middle), by the gap it leaves', () => {
    const middle = history().filter((e) => e.seq !== 3);
    const r1 = verifyChain(middle);
    assert.equal(r1.problems[0].seq, 4);
    assert.match(r1.problems[0].message, /entry #3 is missing/);
    const first = history().slice(1);
    const r2 = verifyChain(first);
    assert.equal(r2.problems[0].seq, 2);
    assert.match(r2.problems[0].message, /entry #1 is missing/);
  });

  test('an entry removed and the rest renumbered and rehashed from there on cannot pass as the original, with an anchor', () => {
    const original = history();
    const anchor = original[4].hash;
    const rewritten = chain(
      original.filter((e) => e.seq !== 5).map((e) => ({ kind: e.kind, version: e.version, payload: JSON.parse(e.payload) as Record<string, unknown> })),
    );
    assert.equal(verifyChain(rewritten).ok, true, 'a consistent rewrite passes the chain alone');
    const result = verifyChain(rewritten, { anchor });
    assert.equal(result.ok, false);
    assert.match(result.problems[0].message, /anchor/);
    assert.equal(verifyChain(original, { anchor }).ok, true);
  });

  test('reordered entries break the chain', () => {
    const entries = history();
    [entries[2], entries[3]] = [entries[3], entries[2]];
    assert.equal(verifyChain(entries).ok, false);
  });
});

const version = (v: Partial<ModelVersion> & { id: number; version: number }): ModelVersion => ({
  name: 'face',
  state: 'pending',
  filePath: `/m/${v.version === 1 ? 'a' : 'b'}.onnx`,
  sha256: (v.version === 1 ? 'a' : 'b').repeat(64),
  size: v.version === 1 ? 10 : 11,
  registeredAt: 0,
  registeredBy: 'Ada',
  description: null,
  runUid: null,
  run: null,
  runInference: { how: 'none', note: '' },
  git: { present: false, reason: 'test' },
  datasets: [],
  aliases: [],
  ...v,
});

const tables = () => ({
  versions: [version({ id: 1, version: 1, state: 'approved', aliases: ['production'] }), version({ id: 2, version: 2, state: 'rejected' })],
  aliases: [{ name: 'face', alias: 'production', version: 1, versionId: 1, setAt: 0, setBy: 'Ada' }],
  decisions: [
    { id: 1, versionId: 1, decision: 'approved' as const, decidedAt: 0, actor: 'Ada <ada@example.com>', reason: 'good', overridden: false, evaluation: { pass: true } },
    { id: 2, versionId: 2, decision: 'rejected' as const, decidedAt: 0, actor: 'Ada <ada@example.com>', reason: 'worse', overridden: false, evaluation: null },
  ],
  smokeReports: [],
});

describe('replaying the log against the registry tables', () => {
  test('tables that match the log pass', () => {
    const result = verifyRegistry(history(), tables());
    assert.equal(result.ok, true, JSON.stringify(result.problems));
  });

  test("a version's state edited in the table is found", () => {
    const t = tables();
    t.versions[1] = { ...t.versions[1], state: 'approved' };
    const problems = crossCheck(replayAudit(history()).replayed, t);
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /face@2 is approved in the registry, but the audit log says rejected/);
  });

  test('removing the newest entry is found by the table it no longer explains', () => {
    const result = verifyRegistry(history().slice(0, 4), tables());
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => /face@2 is rejected in the registry, but the audit log says pending/.test(p.message)), JSON.stringify(result.problems));
  });

  test('a decision changed in the table, an alias moved by hand, a sha256 replaced: each is found', () => {
    const t = tables();
    t.decisions[0] = { ...t.decisions[0], reason: 'changed later' };
    t.aliases[0] = { ...t.aliases[0], version: 2, versionId: 2 };
    t.versions[0] = { ...t.versions[0], sha256: 'c'.repeat(64) };
    const messages = crossCheck(replayAudit(history()).replayed, t).map((p) => p.message);
    assert.ok(messages.some((m) => /decision 1 .* differs from what audit entry #2 recorded/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /alias face@production points at version 2, but the audit log last set it to 1/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /face@1's sha256 in the registry differs from what its registration \(#1\) recorded/.test(m)), messages.join('\n'));
  });

  test('a log that breaks the transition table is reported even when its hashes are consistent', () => {
    const forged = chain([
      { kind: 'register', payload: { versionId: 1, filePath: '/m/a.onnx', sha256: 'a'.repeat(64), size: 10 } },
      { kind: 'reject', payload: { versionId: 1, decisionId: 1, from: 'pending', to: 'rejected', reason: 'no' } },
      { kind: 'approve', payload: { versionId: 1, decisionId: 2, from: 'rejected', to: 'approved', reason: 'yes' } },
    ]);
    const { problems } = replayAudit(forged);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].seq, 3);
    assert.match(problems[0].message, /rejected and cannot become approved/);
  });
});

describe('exports', () => {
  test('JSON Lines round-trip: an export verifies, and an edited export does not', () => {
    const entries = history();
    const text = entries.map(toJsonLine).join('\n') + '\n';
    const back = parseJsonLines(text, 'x.jsonl');
    assert.deepEqual(back, entries);
    assert.equal(verifyChain(back).ok, true);
    const edited = text.replace('"reason":"worse"', '"reason":"better"');
    assert.notEqual(edited, text);
    const result = verifyChain(parseJsonLines(edited, 'x.jsonl'));
    assert.equal(result.problems[0].seq, 5);
  });

  test('JSON Lines keep every field and a readable time', () => {
    const line = JSON.parse(toJsonLine(history()[0])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line).sort(), ['actor', 'at', 'hash', 'kind', 'model', 'payload', 'prevHash', 'seq', 'time', 'version']);
    assert.equal(line.time, new Date(1_700_000_000_000).toISOString());
    assert.equal((line.payload as { sha256: string }).sha256, 'a'.repeat(64));
  });

  test('CSV fields are quoted per RFC 4180 and the payload stays the exact hashed text', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"\r\nbye'), '"say ""hi""\r\nbye"');
    const e = history()[1];
    const row = toCsvRow(e);
    // Undo the quoting of the payload cell and compare it with the stored text.
    const cells = row.match(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, ''));
    const payload = cells[7].replace(/^"|"$/g, '').replace(/""/g, '"');
    assert.equal(payload, e.payload);
    assert.equal(cells[9], e.hash);
  });
});
