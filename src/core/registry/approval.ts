// The approval gate: gather the evidence a policy asks for (the file's hash
// now, smoke tests in the isolated worker, the reference version's outputs and
// run), evaluate the policy, and record the decision. The slow part (smoke
// tests) runs before the write transaction; the transaction re-checks the
// version's state, so of two approvals racing for one version exactly one is
// recorded and the other is told what happened.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { runSmokeTest, SmokeCancelledError, type SmokeOptions, type SmokeReport } from '../models/smoke';
import type { ExecutionProvider } from '../models/ortRuntime';
import { toWire } from '../../shared/wireNumbers';
import { hashFile } from './fingerprint';
import type { Actor } from './identity';
import { evaluatePolicy, loadPolicy, providersToRun, referencedAliases, POLICY_FILE, type Evidence, type GoldenEvidence, type LoadedPolicy, type Policy, type ReferenceEvidence, type RuleResult, type SmokeEvidence } from './policy';
import { assertTransition } from './states';
import type { AuditDraft, ModelVersion, NewSmokeReport, RegistryStore } from './types';
import { diffSnapshots, refOf, type SnapshotDiff } from './versions';

/** What approval showed and recorded: stored with the decision and in the audit entry. Plain JSON. */
export interface Evaluation {
  ref: string;
  sha256: string;
  evaluatedAt: number;
  policy: { file: string | null; sha256: string | null; policy: Policy | null };
  rules: RuleResult[];
  pass: boolean;
  /** Ids of failing rules. */
  failed: string[];
  /** The diff of params and final metrics against the current production version. */
  diff: SnapshotDiff;
  smoke: { ep: string; ranOn: string | null; error: string | null; runs: number | null; p50Ms: number | string | null; p95Ms: number | string | null; p99Ms: number | string | null }[];
  notes: string[];
}

export interface EvaluateOptions {
  /** An explicit policy file; default `<workspace>/.runlens/policy.json` when it exists. */
  policyFile?: string;
  workspace: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** The smoke worker script (tests under tsc's out/ pass theirs). */
  workerScript?: string;
  now?: () => number;
}

export interface EvaluationWithReports {
  evaluation: Evaluation;
  /** Full smoke reports, stored as the approval's evidence. */
  reports: NewSmokeReport[];
}

export function findPolicy(workspace: string, explicit?: string): LoadedPolicy | null {
  if (explicit) return loadPolicy(explicit);
  const file = path.join(workspace, POLICY_FILE);
  return fs.existsSync(file) ? loadPolicy(file) : null;
}

function aliasTarget(registry: RegistryStore, name: string, alias: string): ModelVersion | undefined {
  const a = registry.listAliases(name).find((x) => x.alias === alias);
  return a ? registry.getVersionById(a.versionId) : undefined;
}

/** JSON with NaN/±Infinity spelled as strings and bigints as decimal text: what canonical JSON can store. */
export function plainJson<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' ? toWire(v) : typeof v === 'bigint' ? v.toString() : v)));
}

export async function evaluateVersion(registry: RegistryStore, version: ModelVersion, options: EvaluateOptions): Promise<EvaluationWithReports> {
  const progress = options.onProgress ?? (() => undefined);
  const loaded = findPolicy(options.workspace, options.policyFile);
  const policy = loaded?.policy ?? null;
  const notes: string[] = [];
  if (!loaded) notes.push(`no policy (${path.join(options.workspace, POLICY_FILE)} does not exist): only the file's integrity is checked`);

  progress(`hashing ${version.filePath}`);
  let currentSha256: string | null = null;
  let fileError: string | null = null;
  try {
    currentSha256 = (await hashFile(version.filePath)).sha256;
  } catch (e) {
    fileError = `cannot read the registered file: ${(e as Error).message}`;
  }

  const references: ReferenceEvidence[] = [];
  for (const alias of new Set(['production', ...referencedAliases(policy)])) {
    const target = aliasTarget(registry, version.name, alias);
    references.push({ alias, ref: target ? refOf(target) : null, run: target?.run ?? null });
  }

  const smokeOptions: SmokeOptions = {
    runs: policy?.smokeTest?.runs,
    warmup: policy?.smokeTest?.warmup,
    seed: policy?.smokeTest?.seed,
    threads: policy?.smokeTest?.threads,
    timeoutMs: policy?.smokeTest?.timeoutSeconds === undefined ? undefined : Math.round(policy.smokeTest.timeoutSeconds * 1000),
    shapes: policy?.smokeTest?.shapes ? new Map(Object.entries(policy.smokeTest.shapes)) : undefined,
    signal: options.signal,
    workerScript: options.workerScript,
  };
  const run = async (file: string, extra: SmokeOptions): Promise<{ report: SmokeReport | null; error: string | null }> => {
    try {
      return { report: await runSmokeTest(file, { ...smokeOptions, ...extra }), error: null };
    } catch (e) {
      // A model that does not load or times out is evidence against it, not a reason to stop.
      if (e instanceof SmokeCancelledError) throw e;
      return { report: null, error: (e as Error).message };
    }
  };

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-approval-'));
  try {
    // The reference outputs first: the candidate's run on that provider compares against them.
    const candidateIntact = fileError === null && currentSha256 === version.sha256;
    let golden: GoldenEvidence | null = null;
    let goldenFile: string | undefined;
    if (policy?.golden) {
      const g = policy.golden;
      const target = aliasTarget(registry, version.name, g.against);
      golden = { against: g.against, ref: target ? refOf(target) : null, comparison: null, error: null };
      if (!target) {
        // Nothing to compare with: the rule is skipped.
      } else if (!candidateIntact) {
        // Testing other bytes than the ones registered would approve something nobody registered.
        golden.error = 'not run: the registered file is missing or changed';
      } else if (target.id === version.id) {
        golden.error = `${refOf(version)} is itself ${g.against}`;
      } else {
        progress(`checking ${refOf(target)} (${g.against})`);
        let refSha: string | null = null;
        try {
          refSha = (await hashFile(target.filePath)).sha256;
        } catch (e) {
          golden.error = `the ${g.against} file cannot be read: ${(e as Error).message}`;
        }
        if (refSha !== null && refSha !== target.sha256) {
          golden.error = `the file of ${refOf(target)} (${target.filePath}) changed since it was registered, so it is no reference`;
        } else if (refSha !== null) {
          progress(`running ${refOf(target)} on ${g.executionProvider} for reference outputs`);
          goldenFile = path.join(tmp, 'reference.golden.json');
          const r = await run(target.filePath, { ep: g.executionProvider, runs: 1, warmup: 0, batchSizes: [], saveGolden: goldenFile });
          if (!r.report) {
            golden.error = `${refOf(target)} could not run for reference outputs: ${r.error}`;
            goldenFile = undefined;
          }
        }
      }
    }

    const smoke: SmokeEvidence[] = [];
    if (candidateIntact) {
      for (const ep of providersToRun(policy)) {
        progress(`smoke test of ${refOf(version)} on ${ep}`);
        const withGolden = golden && goldenFile && ep === policy!.golden!.executionProvider;
        const r = await run(version.filePath, {
          ep: ep as ExecutionProvider,
          golden: withGolden ? goldenFile : undefined,
          tolerances: withGolden ? { atol: policy!.golden!.atol, rtol: policy!.golden!.rtol } : undefined,
        });
        smoke.push({ ep, report: r.report, error: r.error });
        if (withGolden) {
          golden!.comparison = r.report?.golden.comparison ?? null;
          if (!r.report) golden!.error = `${refOf(version)} did not run on ${ep}: ${r.error}`;
        }
      }
    } else {
      for (const ep of providersToRun(policy)) smoke.push({ ep, report: null, error: 'not run: the registered file is missing or changed' });
    }

    const evidence: Evidence = {
      candidate: { ref: refOf(version), registeredSha256: version.sha256, currentSha256, fileError, run: version.run },
      smoke,
      references,
      golden,
    };
    const rules = evaluatePolicy(policy, evidence);
    const failed = rules.filter((r) => r.status === 'fail').map((r) => r.id);
    const production = references.find((r) => r.alias === 'production')!;
    const productionVersion = production.ref ? aliasTarget(registry, version.name, 'production') : undefined;
    if (!version.run) notes.push(`${refOf(version)} has no source run: metric rules cannot pass and the diff shows nothing for it`);
    const evaluation: Evaluation = {
      ref: refOf(version),
      sha256: version.sha256,
      evaluatedAt: (options.now ?? Date.now)(),
      policy: { file: loaded?.file ?? null, sha256: loaded?.sha256 ?? null, policy },
      rules,
      pass: failed.length === 0,
      failed,
      diff: diffSnapshots(productionVersion?.run ?? null, version.run, production.ref),
      smoke: smoke.map((s) => ({
        ep: s.ep,
        ranOn: s.report?.ep.used ?? null,
        error: s.error,
        runs: s.report?.latency.runs ?? null,
        p50Ms: s.report ? toWire(s.report.latency.p50Ms) : null,
        p95Ms: s.report ? toWire(s.report.latency.p95Ms) : null,
        p99Ms: s.report ? toWire(s.report.latency.p99Ms) : null,
      })),
      notes,
    };
    const reports: NewSmokeReport[] = smoke.map((s) => ({
      ep: s.ep,
      ranAt: evaluation.evaluatedAt,
      passed: rules.find((r) => r.id === `smoke:${s.ep}`)?.status !== 'fail' && s.report !== null,
      report: s.report ? plainJson(s.report) : { error: s.error },
    }));
    return { evaluation: plainJson(evaluation) as Evaluation, reports };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface DecideOptions extends EvaluateOptions {
  reason: string;
  actor: Actor;
}

export interface ApproveOptions extends DecideOptions {
  /** Approve although rules fail; the failing rules and the reason are recorded as an override. */
  override?: boolean;
}

export interface ApproveOutcome {
  status: 'approved' | 'blocked';
  overridden: boolean;
  version: ModelVersion;
  evaluation: Evaluation;
  decisionId: number | null;
  auditSeqs: number[];
}

function requireReason(reason: string, what: string): string {
  const r = reason.trim();
  if (!r) throw new UserError('bad-argument', `${what} needs a reason (--reason "why")`);
  return r;
}

export async function approveVersion(registry: RegistryStore, version: ModelVersion, options: ApproveOptions): Promise<ApproveOutcome> {
  const reason = requireReason(options.reason, 'approval');
  // Fail fast, before minutes of smoke tests; the transaction checks again.
  assertTransition(refOf(version), version.state, 'approved');
  const { evaluation, reports } = await evaluateVersion(registry, version, options);
  if (!evaluation.pass && !options.override) return { status: 'blocked', overridden: false, version, evaluation, decisionId: null, auditSeqs: [] };
  const overridden = !evaluation.pass;
  const failedRules = evaluation.rules.filter((r) => r.status === 'fail').map((r) => ({ id: r.id, rule: r.rule, evidence: r.evidence }));
  const identity = { name: options.actor.name, email: options.actor.email, source: options.actor.source };
  const result = registry.transition({
    versionId: version.id,
    to: 'approved',
    at: (options.now ?? Date.now)(),
    actor: options.actor.display,
    decision: { decision: 'approved', reason, overridden, evaluation },
    smokeReports: reports,
    events: ({ before, decisionId, smokeReports }) => {
      const events: AuditDraft[] = [];
      if (overridden) events.push({ kind: 'override', model: before.name, version: before.version, payload: { versionId: before.id, decisionId, reason, failedRules, identity } });
      events.push({
        kind: 'approve',
        model: before.name,
        version: before.version,
        payload: { versionId: before.id, decisionId, from: before.state, to: 'approved', reason, overridden, evaluation, smokeReports, identity },
      });
      return events;
    },
  });
  return { status: 'approved', overridden, version: result.version, evaluation, decisionId: result.decisionId, auditSeqs: result.auditSeqs };
}

export function rejectVersion(registry: RegistryStore, version: ModelVersion, options: { reason: string; actor: Actor; now?: () => number }): { version: ModelVersion; decisionId: number | null; auditSeqs: number[] } {
  const reason = requireReason(options.reason, 'rejection');
  const identity = { name: options.actor.name, email: options.actor.email, source: options.actor.source };
  return registry.transition({
    versionId: version.id,
    to: 'rejected',
    at: (options.now ?? Date.now)(),
    actor: options.actor.display,
    decision: { decision: 'rejected', reason, overridden: false, evaluation: null },
    events: ({ before, decisionId }) => [
      { kind: 'reject', model: before.name, version: before.version, payload: { versionId: before.id, decisionId, from: before.state, to: 'rejected', reason, identity } },
    ],
  });
}
