// What the deploy tests share: a registry in a temp database with corpus
// models registered (and approved) the way the product does it, the audit
// entries of one action, and free ports on 127.0.0.1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hashFile } from '../../../src/core/registry/fingerprint';
import type { Actor } from '../../../src/core/registry/identity';

import type { AuditEntry, ModelVersion, RegistryStore } from '../../../src/core/registry/types';
import { corpusDir, makeTempDir } from '../../support/fixtures';
import { openStore } from '../../../src/core/database/open';
export { freePort } from '../../host/freePort';

export const deployer: Actor = { display: 'Dee Ployer <dee@example.com>', name: 'Dee Ployer', email: 'dee@example.com', source: 'git' };

export interface TestRegistry {
  registry: RegistryStore;
  dir: string;
  /** Copies a corpus model (or writes bytes) into the temp dir and registers it as the next version of `name`. */
  register(name: string, model: string | Buffer): Promise<ModelVersion>;
  approve(v: ModelVersion): ModelVersion;
  /** The 'release' audit entries recorded since `fromSeq`. */
  releases(fromSeq: number): AuditEntry[];
  head(): number;
  close(): void;
}

export function openTestRegistry(prefix: string): TestRegistry {
  const dir = makeTempDir(prefix);
  const registry = openStore(path.join(dir, 'runlens.db')).registry;
  let counter = 0;
  return {
    registry,
    dir,
    async register(name, model) {
      const file = path.join(dir, `${name}-${++counter}.onnx`);
      if (typeof model === 'string') fs.copyFileSync(path.join(corpusDir(), 'models', model), file);
      else fs.writeFileSync(file, model);
      fs.chmodSync(file, 0o644);
      const { sha256, size } = await hashFile(file);
      return registry.registerVersion(
        { name, filePath: file, sha256, size, description: null, runUid: null, run: null, runInference: { how: 'none', note: 'deploy test' }, git: { present: false, reason: 'deploy test' }, datasets: [] },
        Date.now(),
        deployer.display,
        (v) => [{ kind: 'register', model: v.name, version: v.version, payload: { versionId: v.id, filePath: v.filePath, sha256: v.sha256, size: v.size } }],
      );
    },
    approve(v) {
      return registry.transition({
        versionId: v.id,
        to: 'approved',
        at: Date.now(),
        actor: deployer.display,
        decision: { decision: 'approved', reason: 'deploy test', overridden: false, evaluation: { pass: true } },
        events: ({ before, decisionId }) => [{ kind: 'approve', model: before.name, version: before.version, payload: { versionId: before.id, decisionId, from: before.state, to: 'approved', reason: 'deploy test', overridden: false, evaluation: { pass: true } } }],
      }).version;
    },
    releases(fromSeq) {
      return registry.readAudit({ fromSeq: fromSeq + 1, limit: 1000 }).filter((e) => e.kind === 'release');
    },
    head() {
      return registry.auditHead()?.seq ?? 0;
    },
    close() {
      registry.close();
    },
  };
}

/**
 * The same network with other bytes: the corpus model with a doc_string
 * (ModelProto field 6) appended. Protobuf readers take the last occurrence
 * of a field, so onnxruntime loads it unchanged; the sha256 differs, so it
 * registers as a new version that computes exactly what the first one does.
 */
export function sameNetworkOtherBytes(model: string, docString: string): Buffer {
  const original = fs.readFileSync(path.join(corpusDir(), 'models', model));
  const text = Buffer.from(docString, 'utf8');
  if (text.length > 127) throw new Error('keep the doc string under 128 bytes (one-byte length)');
  return Buffer.concat([original, Buffer.from([(6 << 3) | 2, text.length]), text]);
}

/** The payload fields every release entry has. */
export function releaseOf(entry: AuditEntry): { action: string; outcome: string; target: string; error: string | null; details?: Record<string, unknown> } {
  return JSON.parse(entry.payload) as never;
}
