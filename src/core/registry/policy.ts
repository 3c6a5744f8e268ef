// The approval policy: `.runlens/policy.json` in the workspace (its JSON schema
// is schemas/policy.schema.json; keep the two in step), parsed strictly, and
// evaluated against evidence into one result per rule. Evaluation is pure: the
// smoke tests and the reference versions are gathered by approval.ts.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { DEFAULT_ATOL, DEFAULT_RTOL, type GoldenComparison } from '../models/golden';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../models/ortRuntime';
import type { SmokeReport } from '../models/smoke';
import { fromWire, toWire, type WireNumber } from '../../shared/wireNumbers';
import type { RunSnapshot } from './types';

export const POLICY_FILE = path.join('.runlens', 'policy.json');
export const POLICY_VERSION = 1;

export const METRIC_OPS = ['>=', '>', '<=', '<', '==', '!='] as const;
export type MetricOp = (typeof METRIC_OPS)[number];

export interface SmokePolicy {
  /** The smoke test must pass on each of these, on that provider itself (a fallback to CPU fails the rule). */
  executionProviders: ExecutionProvider[];
  runs?: number;
  warmup?: number;
  timeoutSeconds?: number;
  seed?: number;
  threads?: number;
  /** Input shapes for dynamic dims, by input name. */
  shapes?: Record<string, number[]>;
  /** Fail when an output holds NaN or ±Inf on the synthetic input (`runlens smoke` only warns). */
  failOnNonFinite?: boolean;
}

export interface LatencyLimit {
  executionProvider: ExecutionProvider;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
}

export interface GoldenPolicy {
  /** Alias of the version whose outputs are the reference (default production). */
  against: string;
  executionProvider: ExecutionProvider;
  atol?: number;
  rtol?: number;
}

export type MetricRule =
  | { metric: string; op: MetricOp; value: number }
  | { metric: string; better: 'lower' | 'higher'; maxRegressionPercent: number; compareTo: string };

export interface Policy {
  version: typeof POLICY_VERSION;
  description?: string;
  smokeTest?: SmokePolicy;
  latency?: LatencyLimit[];
  golden?: GoldenPolicy;
  metrics?: MetricRule[];
}

export interface LoadedPolicy {
  file: string;
  sha256: string;
  policy: Policy;
}

// Parsing ---------------------------------------------------------------------

class PolicyError extends UserError {
  constructor(file: string, where: string, message: string) {
    super('bad-argument', `${file}: ${where ? `${where}: ` : ''}${message} (see schemas/policy.schema.json)`);
  }
}

type Obj = Record<string, unknown>;

/** Reads and checks a policy file; unknown keys are errors, so a misspelt rule cannot be silently ignored. */
export function loadPolicy(file: string): LoadedPolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError('not-found', `cannot read the policy ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(file, '', `not valid JSON: ${(e as Error).message}`);
  }
  return { file: path.resolve(file), sha256: crypto.createHash('sha256').update(text).digest('hex'), policy: parsePolicy(json, file) };
}

export function parsePolicy(json: unknown, file = 'policy'): Policy {
  const fail = (where: string, message: string): never => {
    throw new PolicyError(file, where, message);
  };
  const object = (v: unknown, where: string, keys: readonly string[]): Obj => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'expected an object');
    for (const k of Object.keys(v as Obj)) if (!keys.includes(k)) fail(where ? `${where}.${k}` : k, `unknown key (expected one of: ${keys.join(', ')})`);
    return v as Obj;
  };
  const number = (v: unknown, where: string, rule: { min?: number; exclusiveMin?: number; integer?: boolean } = {}): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(where, 'expected a number');
    if (rule.integer && !Number.isInteger(v)) fail(where, 'expected a whole number');
    if (rule.min !== undefined && v < rule.min) fail(where, `must be at least ${rule.min}`);
    if (rule.exclusiveMin !== undefined && v <= rule.exclusiveMin) fail(where, `must be more than ${rule.exclusiveMin}`);
    return v;
  };
  const string = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || v.trim() === '') return fail(where, 'expected a non-empty string');
    return v;
  };
  const ep = (v: unknown, where: string): ExecutionProvider => {
    if (!(EXECUTION_PROVIDERS as readonly unknown[]).includes(v)) fail(where, `expected one of ${EXECUTION_PROVIDERS.join(', ')}`);
    return v as ExecutionProvider;
  };
  const alias = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(v)) return fail(where, 'expected an alias name such as "production"');
    return v;
  };
  const optional = <T>(o: Obj, key: string, read: (v: unknown) => T): T | undefined => (o[key] === undefined ? undefined : read(o[key]));

  const root = object(json, '', ['$schema', 'version', 'description', 'smokeTest', 'latency', 'golden', 'metrics']);
  if (root.version !== POLICY_VERSION) fail('version', `expected ${POLICY_VERSION}`);
  const policy: Policy = { version: POLICY_VERSION };
  if (root.description !== undefined) policy.description = string(root.description, 'description');

  if (root.smokeTest !== undefined) {
    const s = object(root.smokeTest, 'smokeTest', ['executionProviders', 'runs', 'warmup', 'timeoutSeconds', 'seed', 'threads', 'shapes', 'failOnNonFinite']);
    if (!Array.isArray(s.executionProviders) || s.executionProviders.length === 0) fail('smokeTest.executionProviders', 'expected a non-empty list, e.g. ["cpu"]');
    const eps = (s.executionProviders as unknown[]).map((v, i) => ep(v, `smokeTest.executionProviders[${i}]`));
    if (new Set(eps).size !== eps.length) fail('smokeTest.executionProviders', 'lists a provider twice');
    const smoke: SmokePolicy = { executionProviders: eps };
    smoke.runs = optional(s, 'runs', (v) => number(v, 'smokeTest.runs', { integer: true, min: 1 }));
    smoke.warmup = optional(s, 'warmup', (v) => number(v, 'smokeTest.warmup', { integer: true, min: 0 }));
    smoke.timeoutSeconds = optional(s, 'timeoutSeconds', (v) => number(v, 'smokeTest.timeoutSeconds', { exclusiveMin: 0 }));
    smoke.seed = optional(s, 'seed', (v) => number(v, 'smokeTest.seed', { integer: true, min: 0 }));
    smoke.threads = optional(s, 'threads', (v) => number(v, 'smokeTest.threads', { integer: true, min: 1 }));
    smoke.failOnNonFinite = optional(s, 'failOnNonFinite', (v) => (typeof v === 'boolean' ? v : fail('smokeTest.failOnNonFinite', 'expected true or false')));
    if (s.shapes !== undefined) {
      if (typeof s.shapes !== 'object' || s.shapes === null || Array.isArray(s.shapes)) fail('smokeTest.shapes', 'expected an object: input name → list of dims');
      smoke.shapes = {};
      for (const [name, dims] of Object.entries(s.shapes as Obj)) {
        if (!Array.isArray(dims)) fail(`smokeTest.shapes.${name}`, 'expected a list of dims, e.g. [1, 3, 224, 224] ([] for a scalar)');
        smoke.shapes[name] = (dims as unknown[]).map((d, i) => number(d, `smokeTest.shapes.${name}[${i}]`, { integer: true, min: 1 }));
      }
    }
    policy.smokeTest = dropUndefined(smoke);
  }

  if (root.latency !== undefined) {
    if (!Array.isArray(root.latency)) fail('latency', 'expected a list of limits, e.g. [{"executionProvider": "cpu", "p95Ms": 50}]');
    policy.latency = (root.latency as unknown[]).map((item, i) => {
      const where = `latency[${i}]`;
      const l = object(item, where, ['executionProvider', 'p50Ms', 'p95Ms', 'p99Ms']);
      const limit: LatencyLimit = { executionProvider: ep(l.executionProvider, `${where}.executionProvider`) };
      for (const k of ['p50Ms', 'p95Ms', 'p99Ms'] as const) limit[k] = optional(l, k, (v) => number(v, `${where}.${k}`, { exclusiveMin: 0 }));
      if (limit.p50Ms === undefined && limit.p95Ms === undefined && limit.p99Ms === undefined) fail(where, 'sets no limit: give p50Ms, p95Ms or p99Ms');
      return dropUndefined(limit);
    });
  }

  if (root.golden !== undefined) {
    const g = object(root.golden, 'golden', ['against', 'executionProvider', 'atol', 'rtol']);
    policy.golden = dropUndefined({
      against: g.against === undefined ? 'production' : alias(g.against, 'golden.against'),
      executionProvider: g.executionProvider === undefined ? (policy.smokeTest?.executionProviders[0] ?? 'cpu') : ep(g.executionProvider, 'golden.executionProvider'),
      atol: optional(g, 'atol', (v) => number(v, 'golden.atol', { min: 0 })),
      rtol: optional(g, 'rtol', (v) => number(v, 'golden.rtol', { min: 0 })),
    });
  }

  if (root.metrics !== undefined) {
    if (!Array.isArray(root.metrics)) fail('metrics', 'expected a list of rules');
    policy.metrics = (root.metrics as unknown[]).map((item, i): MetricRule => {
      const where = `metrics[${i}]`;
      const m = object(item, where, ['metric', 'op', 'value', 'better', 'maxRegressionPercent', 'compareTo']);
      const metric = string(m.metric, `${where}.metric`);
      const absolute = m.op !== undefined || m.value !== undefined;
      const relative = m.better !== undefined || m.maxRegressionPercent !== undefined || m.compareTo !== undefined;
      if (absolute === relative) fail(where, 'give either "op" and "value" (a threshold) or "better" and "maxRegressionPercent" (a comparison with production)');
      if (absolute) {
        if (!(METRIC_OPS as readonly unknown[]).includes(m.op)) fail(`${where}.op`, `expected one of ${METRIC_OPS.join(' ')}`);
        return { metric, op: m.op as MetricOp, value: number(m.value, `${where}.value`) };
      }
      if (m.better !== 'lower' && m.better !== 'higher') fail(`${where}.better`, 'expected "lower" or "higher" (which direction is an improvement)');
      return {
        metric,
        better: m.better as 'lower' | 'higher',
        maxRegressionPercent: number(m.maxRegressionPercent, `${where}.maxRegressionPercent`, { min: 0 }),
        compareTo: m.compareTo === undefined ? 'production' : alias(m.compareTo, `${where}.compareTo`),
      };
    });
  }
  return policy;
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Every provider a policy needs a smoke run on: smoke rules, latency limits and the golden comparison. */
export function providersToRun(policy: Policy | null): ExecutionProvider[] {
  const eps = new Set<ExecutionProvider>();
  for (const ep of policy?.smokeTest?.executionProviders ?? []) eps.add(ep);
  for (const l of policy?.latency ?? []) eps.add(l.executionProvider);
  if (policy?.golden) eps.add(policy.golden.executionProvider);
  return [...eps];
}

/** Aliases the policy compares with (their versions are looked up before evaluating). */
export function referencedAliases(policy: Policy | null): string[] {
  const aliases = new Set<string>();
  if (policy?.golden) aliases.add(policy.golden.against);
  for (const m of policy?.metrics ?? []) if ('compareTo' in m) aliases.add(m.compareTo);
  return [...aliases];
}

// Evaluation ------------------------------------------------------------------

export interface SmokeEvidence {
  ep: ExecutionProvider;
  report: SmokeReport | null;
  /** Why there is no report (the model did not load, the run timed out...). */
  error: string | null;
}

export interface ReferenceEvidence {
  alias: string;
  /** NAME@VERSION the alias points at; null when it points nowhere. */
  ref: string | null;
  run: RunSnapshot | null;
}

export interface GoldenEvidence {
  against: string;
  ref: string | null;
  comparison: GoldenComparison | null;
  /** Why no comparison was made although a reference exists. */
  error: string | null;
}

export interface Evidence {
  candidate: { ref: string; registeredSha256: string; currentSha256: string | null; fileError: string | null; run: RunSnapshot | null };
  smoke: SmokeEvidence[];
  references: ReferenceEvidence[];
  golden: GoldenEvidence | null;
}

export type RuleStatus = 'pass' | 'fail' | 'skipped';

export interface RuleResult {
  id: string;
  /** The rule in words, e.g. "val_accuracy >= 0.9". */
  rule: string;
  status: RuleStatus;
  /** What was measured or found, in words. */
  evidence: string;
  /** The measured value and limit, for programs (finite numbers or "NaN"/"Infinity" strings). */
  measured?: WireNumber | string | null;
  limit?: WireNumber | string | null;
}

const fmt = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(toWire(v)));
const ms = (v: number): string => `${Number.isFinite(v) ? Number(v.toPrecision(3)) : toWire(v)} ms`;

export function evaluatePolicy(policy: Policy | null, evidence: Evidence): RuleResult[] {
  const rules: RuleResult[] = [integrityRule(evidence)];
  if (!policy) return rules;
  const smokeOn = (ep: ExecutionProvider) => evidence.smoke.find((s) => s.ep === ep);

  for (const ep of policy.smokeTest?.executionProviders ?? []) {
    rules.push(smokeRule(ep, smokeOn(ep), policy.smokeTest?.failOnNonFinite ?? false));
  }
  for (const limit of policy.latency ?? []) {
    for (const k of ['p50Ms', 'p95Ms', 'p99Ms'] as const) {
      const max = limit[k];
      if (max === undefined) continue;
      rules.push(latencyRule(limit.executionProvider, k, max, smokeOn(limit.executionProvider)));
    }
  }
  if (policy.golden) rules.push(goldenRule(policy.golden, evidence.golden));
  (policy.metrics ?? []).forEach((m, i) => rules.push(metricRule(m, i, evidence)));
  return rules;
}

function integrityRule(e: Evidence): RuleResult {
  const rule = 'model file unchanged since registration';
  const id = 'file-integrity';
  if (e.candidate.fileError) return { id, rule, status: 'fail', evidence: e.candidate.fileError };
  if (e.candidate.currentSha256 === e.candidate.registeredSha256) return { id, rule, status: 'pass', evidence: `sha256 ${e.candidate.currentSha256!.slice(0, 12)}… as registered` };
  return {
    id,
    rule,
    status: 'fail',
    evidence: `the file now hashes to ${e.candidate.currentSha256?.slice(0, 12)}…, registered as ${e.candidate.registeredSha256.slice(0, 12)}…: it was changed after registration (register it again)`,
    measured: e.candidate.currentSha256,
    limit: e.candidate.registeredSha256,
  };
}

function smokeRule(ep: ExecutionProvider, s: SmokeEvidence | undefined, failOnNonFinite: boolean): RuleResult {
  const id = `smoke:${ep}`;
  const rule = `smoke test passes on ${ep}`;
  if (!s || !s.report) return { id, rule, status: 'fail', evidence: `no smoke report: ${s?.error ?? 'the test did not run'}` };
  const r = s.report;
  if (r.ep.used !== ep) return { id, rule, status: 'fail', evidence: `ran on ${r.ep.used} instead: ${r.ep.fallbackReason ?? 'the provider is not available'}` };
  const problems = r.outputs.filter((o) => o.shapeProblem).map((o) => `output ${o.name}: shape ${o.shapeProblem}`);
  if (failOnNonFinite) {
    for (const o of r.outputs) if (o.nan + o.posInf + o.negInf > 0) problems.push(`output ${o.name} has ${o.nan} NaN and ${o.posInf + o.negInf} infinite values`);
  }
  if (problems.length) return { id, rule, status: 'fail', evidence: problems.join('; ') };
  return { id, rule, status: 'pass', evidence: `loaded and ran ${r.latency.runs} times on ${ep} (onnxruntime ${r.runtime.version}); ${r.outputs.length} output(s) with the declared shapes` };
}

function latencyRule(ep: ExecutionProvider, key: 'p50Ms' | 'p95Ms' | 'p99Ms', max: number, s: SmokeEvidence | undefined): RuleResult {
  const label = key.slice(0, 3);
  const id = `latency:${ep}:${label}`;
  const rule = `${label} latency on ${ep} <= ${ms(max)}`;
  if (!s || !s.report) return { id, rule, status: 'fail', evidence: `not measured: ${s?.error ?? 'the smoke test did not run'}`, limit: max };
  if (s.report.ep.used !== ep) return { id, rule, status: 'fail', evidence: `measured on ${s.report.ep.used}, not ${ep}: ${s.report.ep.fallbackReason ?? ''}`.trim(), limit: max };
  const value = s.report.latency[key];
  const pass = Number.isFinite(value) && value <= max;
  return { id, rule, status: pass ? 'pass' : 'fail', evidence: `${label} ${ms(value)} over ${s.report.latency.runs} runs${pass ? '' : `, over the limit by ${ms(value - max)}`}`, measured: toWire(value), limit: max };
}

function goldenRule(g: GoldenPolicy, e: GoldenEvidence | null): RuleResult {
  const id = 'golden';
  const tol = `atol ${g.atol ?? DEFAULT_ATOL}, rtol ${g.rtol ?? DEFAULT_RTOL}`;
  const rule = `outputs match ${g.against} on ${g.executionProvider} (${tol})`;
  if (!e || e.ref === null) return { id, rule, status: 'skipped', evidence: `no ${g.against} version: nothing to compare with` };
  const ruleWith = `outputs match ${g.against} (${e.ref}) on ${g.executionProvider} (${tol})`;
  if (e.error || !e.comparison) return { id, rule: ruleWith, status: 'fail', evidence: e.error ?? 'no comparison was made' };
  const c = e.comparison;
  const worst = c.outputs.reduce((m, o) => Math.max(m, o.maxAbsDiff ?? Infinity), 0);
  const failing = c.outputs.filter((o) => !o.pass).map((o) => `${o.name} (${o.problem ?? `${o.mismatches}/${o.elements} elements outside tolerance, max abs diff ${fmt(o.maxAbsDiff ?? NaN)}`})`);
  const notes = c.notes.length ? `; note: ${c.notes.join('; ')}` : '';
  if (c.pass) return { id, rule: ruleWith, status: 'pass', evidence: `${c.outputs.length} output(s) within tolerance, max abs diff ${fmt(worst)}${notes}`, measured: toWire(worst) };
  return { id, rule: ruleWith, status: 'fail', evidence: `differ: ${failing.join(', ')}${notes}`, measured: toWire(worst) };
}

/** A run's final value of a metric; undefined when the run does not have it. */
export function metricValue(run: RunSnapshot | null, key: string): number | undefined {
  const m = run?.metrics[key];
  return m === undefined ? undefined : fromWire(m.value);
}

function compare(a: number, op: MetricOp, b: number): boolean {
  switch (op) {
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '<':
      return a < b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

function metricRule(m: MetricRule, index: number, e: Evidence): RuleResult {
  const id = `metric:${index}:${m.metric}`;
  const run = e.candidate.run;
  const rule = 'op' in m ? `${m.metric} ${m.op} ${m.value}` : `${m.metric} no worse than ${m.compareTo} by more than ${m.maxRegressionPercent} % (${m.better} is better)`;
  if (!run) return { id, rule, status: 'fail', evidence: `${e.candidate.ref} has no source run, so it has no ${m.metric}` };
  const value = metricValue(run, m.metric);
  if (value === undefined) {
    const known = Object.keys(run.metrics);
    return { id, rule, status: 'fail', evidence: `run ${run.name} has no metric ${m.metric} (it has: ${known.slice(0, 12).join(', ') || 'none'}${known.length > 12 ? ', …' : ''})` };
  }
  if ('op' in m) {
    const pass = compare(value, m.op, m.value);
    return { id, rule, status: pass ? 'pass' : 'fail', evidence: `${m.metric} = ${fmt(value)} in run ${run.name}`, measured: toWire(value), limit: m.value };
  }
  const ref = e.references.find((r) => r.alias === m.compareTo);
  if (!ref || ref.ref === null) return { id, rule, status: 'skipped', evidence: `no ${m.compareTo} version: nothing to compare with (${m.metric} = ${fmt(value)})`, measured: toWire(value) };
  const ruleWith = `${m.metric} no worse than ${m.compareTo} (${ref.ref}) by more than ${m.maxRegressionPercent} % (${m.better} is better)`;
  const before = metricValue(ref.run, m.metric);
  if (before === undefined || !Number.isFinite(before)) {
    return { id, rule: ruleWith, status: 'fail', evidence: `${ref.ref} has ${before === undefined ? `no ${m.metric}` : `${m.metric} = ${fmt(before)}`} to compare with`, measured: toWire(value) };
  }
  // Relative to the magnitude, so a negative reference (a log-likelihood) regresses the same way.
  const allowance = (Math.abs(before) * m.maxRegressionPercent) / 100;
  const limit = m.better === 'lower' ? before + allowance : before - allowance;
  const pass = Number.isFinite(value) && (m.better === 'lower' ? value <= limit : value >= limit);
  const change = before === 0 ? '' : ` (${value >= before ? '+' : ''}${fmt(((value - before) / Math.abs(before)) * 100)} %)`;
  return {
    id,
    rule: ruleWith,
    status: pass ? 'pass' : 'fail',
    evidence: `${m.metric} = ${fmt(value)} vs ${fmt(before)} in ${ref.ref}${change}; limit ${fmt(limit)}`,
    measured: toWire(value),
    limit: toWire(limit),
  };
}
