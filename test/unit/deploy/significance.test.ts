// The gray-release statistics against values computed independently with
// SciPy 1.17 (scipy.stats.ttest_ind(equal_var=False), t.sf, norm.sf,
// beta.cdf; math.lgamma), quoted in each assertion.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compareVariants, ERROR_TEST, LATENCY_TEST, lnGamma, momentsOf, normalTwoSidedP, regularizedIncompleteBeta, studentTwoSidedP, twoProportionZTest, welchTTest, type VariantFigures } from '../../../src/core/deploy/significance';

const close = (actual: number, expected: number, tolerance: number, what: string) => assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

test('ln Γ and the regularized incomplete beta function match SciPy', () => {
  close(lnGamma(0.5), 0.5723649429247004, 1e-12, 'lgamma(0.5)');
  close(lnGamma(10.5), 13.940625219403763, 1e-11, 'lgamma(10.5)');
  close(lnGamma(100), 359.1342053695754, 1e-9, 'lgamma(100)');
  close(regularizedIncompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658, 1e-12, 'beta.cdf(0.3, 2.5, 0.5)');
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
});

test("Student's t and the normal distribution: two-sided p-values", () => {
  close(studentTwoSidedP(2.228, 10), 0.05001177181711132, 1e-10, '2·t.sf(2.228, 10)');
  close(studentTwoSidedP(1.5, 3.7), 0.2135981692020135, 1e-10, '2·t.sf(1.5, 3.7) (fractional df from Welch)');
  close(studentTwoSidedP(-1.5, 3.7), 0.2135981692020135, 1e-10, 'symmetric');
  close(normalTwoSidedP(1.96), 0.04999579029644087, 1e-12, '2·norm.sf(1.96)');
  close(normalTwoSidedP(5), 5.733031437583866e-7, 1e-15, '2·norm.sf(5) (the tail keeps its digits)');
  assert.equal(normalTwoSidedP(0), 1);
});

test("Welch's t-test from count, sum and sum of squares equals SciPy's on the raw samples", () => {
  // a = [1..5], b = [2, 4, 6, 8, 10]: ttest_ind(b, a, equal_var=False) → t = 1.8973665961010275, p = 0.10753119493062728
  const a = momentsOf(5, 15, 55);
  const b = momentsOf(5, 30, 220);
  assert.deepEqual([a.mean, a.variance, b.mean, b.variance], [3, 2.5, 6, 10]);
  const r = welchTTest(b, a);
  close(r.t, 1.8973665961010275, 1e-12, 't');
  close(r.df, 6.25 / 1.0625, 1e-12, 'Welch–Satterthwaite df');
  close(r.pValue, 0.10753119493062728, 1e-10, 'p');
  assert.deepEqual(welchTTest(momentsOf(3, 3, 3), momentsOf(3, 3, 3)), { t: 0, df: 4, pValue: 1 }, 'identical constant samples');
});

test('two-proportion z-test (pooled): 25/200 against 10/200 errors', () => {
  const r = twoProportionZTest(25, 200, 10, 200);
  close(r.z, 2.654243731222853, 1e-12, 'z');
  close(r.pValue, 0.007948639047200492, 1e-10, 'p');
  assert.deepEqual(twoProportionZTest(0, 100, 0, 100), { z: 0, pValue: 1 }, 'no errors anywhere: no evidence of a difference');
});

const figures = (variant: string, requests: number, errors: number, meanS: number, sdS: number): VariantFigures => {
  // Sums that reproduce a given mean and sample standard deviation.
  const sum = meanS * requests;
  return { variant, requests, errors, latencyCount: requests, latencySum: sum, latencySumSquares: sdS * sdS * (requests - 1) + (sum * sum) / requests };
};

test('compareVariants: not enough data below the minimum, else both tests with their names, p-values and a summary', () => {
  const few = compareVariants(figures('production', 70, 0, 0.01, 0.001), figures('candidate', 12, 0, 0.02, 0.001));
  assert.equal(few.latency.status, 'not-enough-data');
  assert.equal(few.latency.pValue, null);
  assert.equal(few.errorRate.status, 'not-enough-data');
  assert.match(few.summary, /latency: not enough data \(70 production \/ 12 candidate requests; at least 30 each\)/);

  const slower = compareVariants(figures('production', 200, 10, 0.010, 0.002), figures('candidate', 200, 25, 0.012, 0.002));
  assert.equal(slower.latency.test, LATENCY_TEST);
  assert.equal(slower.errorRate.test, ERROR_TEST);
  assert.equal(slower.latency.status, 'tested');
  assert.equal(slower.latency.significant, true);
  close(slower.latency.difference!, 2, 1e-9, 'mean difference in ms');
  close(slower.errorRate.pValue!, 0.007948639047200492, 1e-10, 'error-rate p');
  assert.deepEqual(slower.latency.samples, { production: 200, candidate: 200 });
  assert.match(slower.summary, /candidate is slower by 2\.00 ms \(significant at 0\.05\), p = .*Welch's t-test/);
  assert.match(slower.summary, /candidate errs more often by 7\.50 points/);

  const same = compareVariants(figures('production', 100, 0, 0.01, 0.002), figures('candidate', 100, 0, 0.01, 0.002));
  assert.equal(same.latency.significant, false);
  assert.match(same.summary, /no significant difference in latency/);
});
