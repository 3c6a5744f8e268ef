// The approval policy: strict parsing (with the JSON schema the editor uses
// agreeing with the parser) and the pure evaluation of each rule against
// evidence built here, so every outcome (pass, fail, skipped) is exercised.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import type { SmokeReport } from '../../../src/core/models/smoke';
import { evaluatePolicy, parsePolicy, providersToRun, type Evidence, type Policy, type RuleResult } from '../../../src/core/registry/policy';
import type { RunSnapshot } from '../../../src/core/registry/types';
import { repoRoot } from '../../support/fixtures';

const schemaFile = path.join(repoRoot, 'schemas', 'policy.schema.json');

function validatorForSchema(): (data: unknown) => boolean {
  // ajv is not a dependency of RunLens; it comes with the dev tools (eslint, vsce). The schema test needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Ajv = require('ajv') as new (options: object) => { compile(schema: object): (data: unknown) => boolean };
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object);
}

const full = {
  $schema: '../schemas/policy.schema.json',
  version: 1,
  description: 'ship only what is as good as production',
  smokeTest: { executionProviders: ['cpu'], runs: 20, warmup: 2, timeoutSeconds: 60, seed: 7, threads: 1, shapes: { x: [1, 3, 48, 192] }, failOnNonFinite: true },
  latency: [{ executionProvider: 'cpu', p95Ms: 50, p99Ms: 80 }],
  golden: { against: 'production', atol: 1e-4, rtol: 1e-3 },
  metrics: [
    { metric: 'val_accuracy', op: '>=', value: 0.9 },
    { metric: 'val_loss', better: 'lower', maxRegressionPercent: 2 },
  ],
};

const invalid: [string, unknown, RegExp][] = [
  ['missing version', { smokeTest: { executionProviders: ['cpu'] } }, /version: expected 1/],
  ['misspelt top-level key', { version: 1, smoketest: {} }, /smoketest: unknown key/],
  ['unknown provider', { version: 1, smokeTest: { executionProviders: ['tpu'] } }, /smokeTest\.executionProviders\[0\]: expected one of cpu, cuda, webgpu/],
  ['no providers', { version: 1, smokeTest: { executionProviders: [] } }, /non-empty list/],
  ['latency without a limit', { version: 1, latency: [{ executionProvider: 'cpu' }] }, /latency\[0\]: sets no limit/],
  ['negative latency', { version: 1, latency: [{ executionProvider: 'cpu', p95Ms: -1 }] }, /latency\[0\]\.p95Ms: must be more than 0/],
  ['metric rule with both forms', { version: 1, metrics: [{ metric: 'a', op: '>=', value: 1, better: 'lower', maxRegressionPercent: 2 }] }, /metrics\[0\]: give either/],
  ['metric rule with neither form', { version: 1, metrics: [{ metric: 'a' }] }, /metrics\[0\]: give either/],
  ['bad operator', { version: 1, metrics: [{ metric: 'a', op: '=>', value: 1 }] }, /metrics\[0\]\.op: expected one of/],
  ['bad direction', { version: 1, metrics: [{ metric: 'a', better: 'smaller', maxRegressionPercent: 2 }] }, /metrics\[0\]\.better/],
  ['string threshold', { version: 1, metrics: [{ metric: 'a', op: '>=', value: '0.9' }] }, /metrics\[0\]\.value: expected a number/],
  ['fractional runs', { version: 1, smokeTest: { executionProviders: ['cpu'], runs: 2.5 } }, /smokeTest\.runs: expected a whole number/],
  ['bad alias', { version: 1, golden: { against: 'Production!' } }, /golden\.against: expected an alias name/],
  ['shape with zero', { version: 1, smokeTest: { executionProviders: ['cpu'], shapes: { x: [1, 0] } } }, /smokeTest\.shapes\.x\[1\]: must be at least 1/],
];

describe('parsing', () => {
  test('a full policy parses, with defaults filled in', () => {
    const p = parsePolicy(full, 'policy.json');
    assert.equal(p.golden?.executionProvider, 'cpu');
    assert.deepEqual(p.metrics?.[1], { metric: 'val_loss', better: 'lower', maxRegressionPercent: 2, compareTo: 'production' });
    assert.deepEqual(p.smokeTest?.shapes, { x: [1, 3, 48, 192] });
    assert.deepEqual(providersToRun(p), ['cpu']);
    assert.deepEqual(providersToRun(parsePolicy({ version: 1, smokeTest: { executionProviders: ['cpu'] }, latency: [{ executionProvider: 'cuda', p50Ms: 5 }] })), ['cpu', 'cuda']);
  });

  test('mistakes are user errors naming the file and where in it', () => {
    for (const [what, policy, message] of invalid) {
      assert.throws(
        () => parsePolicy(policy, '/w/.runlens/policy.json'),
        (e: unknown) => isUserError(e) && e.message.startsWith('/w/.runlens/policy.json: ') && message.test(e.message),
        what,
      );
    }
  });

  test('the JSON schema accepts what the parser accepts and rejects what it rejects', () => {
    const validate = validatorForSchema();
    assert.equal(validate(full), true, 'the full example');
    assert.equal(validate({ version: 1 }), true, 'the minimal policy');
    for (const [what, policy] of invalid) {
      assert.equal(validate(policy), false, `schema accepts ${what}`);
    }
  });

  test('the schema declares exactly the keys the parser knows (a key added to one must be added to the other)', () => {
    const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as {
      properties: Record<string, { properties?: Record<string, unknown>; items?: { properties?: Record<string, unknown>; oneOf?: { properties: Record<string, unknown> }[] } }>;
    };
    const keys = (o: Record<string, unknown> | undefined) => Object.keys(o ?? {}).sort();
    assert.deepEqual(keys(schema.properties), ['$schema', 'description', 'golden', 'latency', 'metrics', 'smokeTest', 'version']);
    assert.deepEqual(keys(schema.properties.smokeTest.properties), ['executionProviders', 'failOnNonFinite', 'runs', 'seed', 'shapes', 'threads', 'timeoutSeconds', 'warmup']);
    assert.deepEqual(keys(schema.properties.latency.items?.properties), ['executionProvider', 'p50Ms', 'p95Ms', 'p99Ms']);
    assert.deepEqual(keys(schema.properties.golden.properties), ['against', 'atol', 'executionProvider', 'rtol']);
    const metricKeys = new Set(schema.properties.metrics.items!.oneOf!.flatMap((o) => Object.keys(o.properties)));
    assert.deepEqual([...metricKeys].sort(), ['better', 'compareTo', 'maxRegressionPercent', 'metric', 'op', 'value']);
    // And the parser refuses a key next to each of these lists.
    assert.throws(() => parsePolicy({ version: 1, smokeTest: { executionProviders: ['cpu'], extra: 1 } }), /smokeTest\.extra: unknown key/);
    assert.throws(() => parsePolicy({ version: 1, latency: [{ executionProvider: 'cpu', p95Ms: 1, extra: 1 }] }), /latency\[0\]\.extra: unknown key/);
    assert.throws(() => parsePolicy({ version: 1, golden: { extra: 1 } }), /golden\.extra: unknown key/);
    assert.throws(() => parsePolicy({ version: 1, metrics: [{ metric: 'a', op: '>', value: 1, extra: 1 }] }), /metrics\[0\]\.extra: unknown key/);
  });
});

// Evidence -----------------------------------------------------------------------

function run(metrics: Record<string, number | 'NaN'>, name = 'trained'): RunSnapshot {
  return { uid: 'u1', name, format: 'mlflow', experimentName: 'exp', path: '/r', status: 'finished', params: {}, metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { value: v, step: 1 }])) };
}

function report(over: { p95?: number; shapeProblem?: string | null; nan?: number; golden?: boolean | null } = {}): SmokeReport {
  return {
    model: { file: '/m.onnx', fileSize: 1, sha256: 'a', irVersion: 8, opset: 13, producerName: '', producerVersion: '' },
    seed: 42,
    inputs: [],
    runtime: { version: '1.30.0', backends: [] },
    ep: { requested: 'cpu', used: 'cpu', fallbackReason: null },
    loadMs: 1,
    firstRunMs: 1,
    startToFirstResultMs: 1,
    warmup: 1,
    latency: { runs: 10, meanMs: 2, minMs: 1, maxMs: 9, p50Ms: 2, p95Ms: over.p95 ?? 3, p99Ms: 4 },
    throughput: null,
    peakRssBytes: 1,
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, 2], declared: null, shapeProblem: over.shapeProblem ?? null, nan: over.nan ?? 0, posInf: 0, negInf: 0, min: 0, max: 1, mean: 0.5 }],
    runtimeLog: [],
    golden: {
      saved: null,
      comparison:
        over.golden === undefined || over.golden === null
          ? null
          : {
              file: '/g.json',
              pass: over.golden,
              tolerances: { atol: 1e-4, rtol: 1e-3 },
              outputs: [{ name: 'y', maxAbsDiff: over.golden ? 1e-6 : 0.5, maxRelDiff: 0, cosine: 1, mismatches: over.golden ? 0 : 2, elements: 2, problem: null, pass: over.golden }],
              notes: [],
            },
    },
    pass: true,
    problems: [],
    warnings: [],
  };
}

function evidence(over: Partial<Evidence> & { candidateRun?: RunSnapshot | null; sha?: string } = {}): Evidence {
  return {
    candidate: { ref: 'face@2', registeredSha256: 'a'.repeat(64), currentSha256: over.sha ?? 'a'.repeat(64), fileError: null, run: over.candidateRun === undefined ? run({ val_accuracy: 0.95, val_loss: 0.2 }) : over.candidateRun },
    smoke: over.smoke ?? [{ ep: 'cpu', report: report(), error: null }],
    references: over.references ?? [{ alias: 'production', ref: 'face@1', run: run({ val_accuracy: 0.93, val_loss: 0.2 }, 'prod') }],
    golden: over.golden === undefined ? { against: 'production', ref: 'face@1', comparison: report({ golden: true }).golden.comparison, error: null } : over.golden,
  };
}

const policy = parsePolicy(full);
const byId = (rules: RuleResult[], id: string) => {
  const r = rules.find((x) => x.id === id);
  assert.ok(r, `rule ${id} in ${rules.map((x) => x.id).join(', ')}`);
  return r;
};

describe('evaluation', () => {
  test('everything in order: every rule passes, with its evidence', () => {
    const rules = evaluatePolicy(policy, evidence());
    assert.deepEqual(
      rules.map((r) => [r.id, r.status]),
      [
        ['file-integrity', 'pass'],
        ['smoke:cpu', 'pass'],
        ['latency:cpu:p95', 'pass'],
        ['latency:cpu:p99', 'pass'],
        ['golden', 'pass'],
        ['metric:0:val_accuracy', 'pass'],
        ['metric:1:val_loss', 'pass'],
      ],
    );
    assert.match(byId(rules, 'metric:0:val_accuracy').evidence, /val_accuracy = 0\.95 in run trained/);
    assert.match(byId(rules, 'latency:cpu:p95').evidence, /p95 3 ms over 10 runs/);
  });

  test('no policy: only the file integrity rule', () => {
    assert.deepEqual(evaluatePolicy(null, evidence()).map((r) => r.id), ['file-integrity']);
  });

  test('a changed file fails integrity', () => {
    const r = byId(evaluatePolicy(null, evidence({ sha: 'b'.repeat(64) })), 'file-integrity');
    assert.equal(r.status, 'fail');
    assert.match(r.evidence, /changed after registration/);
  });

  test('threshold rules compare exactly, NaN never passes, a missing metric fails naming what the run has', () => {
    const at = (v: number | 'NaN') => byId(evaluatePolicy(policy, evidence({ candidateRun: run({ val_accuracy: v, val_loss: 0.2 }) })), 'metric:0:val_accuracy').status;
    assert.equal(at(0.9), 'pass', '0.9 >= 0.9');
    assert.equal(at(0.8999999), 'fail');
    assert.equal(at('NaN'), 'fail');
    const missing = byId(evaluatePolicy(policy, evidence({ candidateRun: run({ acc: 1 }) })), 'metric:0:val_accuracy');
    assert.equal(missing.status, 'fail');
    assert.match(missing.evidence, /has no metric val_accuracy \(it has: acc\)/);
    const noRun = byId(evaluatePolicy(policy, evidence({ candidateRun: null })), 'metric:0:val_accuracy');
    assert.equal(noRun.status, 'fail');
    assert.match(noRun.evidence, /no source run/);
  });

  test('"no worse than production by more than 2 %" in both directions, and with a negative reference', () => {
    const loss = (candidate: number, prod: number) =>
      byId(evaluatePolicy(policy, evidence({ candidateRun: run({ val_accuracy: 1, val_loss: candidate }), references: [{ alias: 'production', ref: 'face@1', run: run({ val_loss: prod }) }] })), 'metric:1:val_loss');
    assert.equal(loss(0.204, 0.2).status, 'pass', '+2 % is allowed');
    assert.equal(loss(0.2041, 0.2).status, 'fail', 'just over +2 %');
    assert.equal(loss(0.1, 0.2).status, 'pass', 'an improvement');
    assert.match(loss(0.25, 0.2).evidence, /val_loss = 0\.25 vs 0\.2 in face@1 \(\+25 %\); limit 0\.204/);
    assert.equal(loss(-0.98, -1).status, 'pass', 'a negative reference: -0.98 vs -1 is within 2 % of its magnitude');
    assert.equal(loss(-0.97, -1).status, 'fail');

    const higher = parsePolicy({ version: 1, metrics: [{ metric: 'acc', better: 'higher', maxRegressionPercent: 1 }] });
    const acc = (candidate: number) => evaluatePolicy(higher, evidence({ candidateRun: run({ acc: candidate }), references: [{ alias: 'production', ref: 'face@1', run: run({ acc: 0.9 }) }] }))[1].status;
    assert.equal(acc(0.891), 'pass');
    assert.equal(acc(0.8909), 'fail');
  });

  test('comparisons with production are skipped while there is none, and fail when production lacks the metric', () => {
    const none = evaluatePolicy(policy, evidence({ references: [{ alias: 'production', ref: null, run: null }], golden: { against: 'production', ref: null, comparison: null, error: null } }));
    assert.equal(byId(none, 'metric:1:val_loss').status, 'skipped');
    assert.equal(byId(none, 'golden').status, 'skipped');
    const lacking = evaluatePolicy(policy, evidence({ references: [{ alias: 'production', ref: 'face@1', run: run({ other: 1 }) }] }));
    assert.equal(byId(lacking, 'metric:1:val_loss').status, 'fail');
    assert.match(byId(lacking, 'metric:1:val_loss').evidence, /face@1 has no val_loss/);
  });

  test('latency limits: over the limit fails with the measured value; a fallback to another provider fails', () => {
    const slow = evaluatePolicy(policy, evidence({ smoke: [{ ep: 'cpu', report: report({ p95: 51 }), error: null }] }));
    const r = byId(slow, 'latency:cpu:p95');
    assert.equal(r.status, 'fail');
    assert.equal(r.measured, 51);
    assert.equal(r.limit, 50);
    assert.match(r.evidence, /over the limit by 1 ms/);

    const cuda = parsePolicy({ version: 1, smokeTest: { executionProviders: ['cuda'] }, latency: [{ executionProvider: 'cuda', p95Ms: 10 }] });
    const fellBack = { ep: 'cuda' as const, report: { ...report(), ep: { requested: 'cuda' as const, used: 'cpu' as const, fallbackReason: 'CUDA is not installed' } }, error: null };
    const rules = evaluatePolicy(cuda, evidence({ smoke: [fellBack] }));
    assert.equal(byId(rules, 'smoke:cuda').status, 'fail');
    assert.match(byId(rules, 'smoke:cuda').evidence, /ran on cpu instead: CUDA is not installed/);
    assert.equal(byId(rules, 'latency:cuda:p95').status, 'fail');
  });

  test('smoke failures: no report (the model did not load), a wrong output shape, NaN outputs when the policy forbids them', () => {
    const noReport = evaluatePolicy(policy, evidence({ smoke: [{ ep: 'cpu', report: null, error: 'failed while loading the model: protobuf parsing failed' }] }));
    assert.equal(byId(noReport, 'smoke:cpu').status, 'fail');
    assert.match(byId(noReport, 'smoke:cpu').evidence, /protobuf parsing failed/);
    assert.equal(byId(noReport, 'latency:cpu:p95').status, 'fail');
    const shape = evaluatePolicy(policy, evidence({ smoke: [{ ep: 'cpu', report: report({ shapeProblem: 'dim 1 is 3, declared 2' }), error: null }] }));
    assert.match(byId(shape, 'smoke:cpu').evidence, /output y: shape dim 1 is 3, declared 2/);
    const nan = evaluatePolicy(policy, evidence({ smoke: [{ ep: 'cpu', report: report({ nan: 3 }), error: null }] }));
    assert.equal(byId(nan, 'smoke:cpu').status, 'fail');
    const lenient = parsePolicy({ version: 1, smokeTest: { executionProviders: ['cpu'] } });
    assert.equal(byId(evaluatePolicy(lenient, evidence({ smoke: [{ ep: 'cpu', report: report({ nan: 3 }), error: null }] })), 'smoke:cpu').status, 'pass');
  });

  test('golden: outputs outside the tolerance fail, naming the output; a reference that could not run fails', () => {
    const differ = byId(evaluatePolicy(policy, evidence({ golden: { against: 'production', ref: 'face@1', comparison: report({ golden: false }).golden.comparison, error: null } })), 'golden');
    assert.equal(differ.status, 'fail');
    assert.match(differ.evidence, /y \(2\/2 elements outside tolerance, max abs diff 0\.5\)/);
    const broken = byId(evaluatePolicy(policy, evidence({ golden: { against: 'production', ref: 'face@1', comparison: null, error: 'the file of face@1 changed since it was registered' } })), 'golden');
    assert.equal(broken.status, 'fail');
    assert.match(broken.rule, /outputs match production \(face@1\)/);
  });

  test('a policy parses the same way from the file the CLI reads', () => {
    const p: Policy = parsePolicy(JSON.parse(JSON.stringify(full)));
    assert.deepEqual(p, policy);
  });
});
