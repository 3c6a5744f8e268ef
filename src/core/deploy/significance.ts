// Is the candidate of a gray release different from production? Two tests
// on the figures the router keeps per variant (counts and sums, never raw
// samples): Welch's t-test on mean latency (unequal variances, since a new
// model can be slower *and* noisier) and a two-proportion z-test on error
// rate. Below a minimum sample size neither is run: the answer is "not
// enough data", never a p-value from three requests.

/** What the router reports for one variant (latencies in seconds). */
export interface VariantFigures {
  variant: string;
  requests: number;
  errors: number;
  latencyCount: number;
  latencySum: number;
  latencySumSquares: number;
}

export const MIN_SAMPLES = 30;
export const ALPHA = 0.05;

export const LATENCY_TEST = "Welch's t-test (two-sided) on mean latency";
export const ERROR_TEST = 'two-proportion z-test (two-sided, pooled) on error rate';

export interface TestOutcome {
  test: string;
  /** 'not-enough-data' when a variant has fewer than `minimumSamples` samples. */
  status: 'tested' | 'not-enough-data';
  samples: { production: number; candidate: number };
  minimumSamples: number;
  statistic: number | null;
  /** Welch–Satterthwaite degrees of freedom (latency test only). */
  degreesOfFreedom: number | null;
  pValue: number | null;
  significant: boolean | null;
  /** Candidate minus production: mean latency in ms, or error rate. */
  difference: number | null;
}

export interface SignificanceReport {
  alpha: number;
  latency: TestOutcome;
  errorRate: TestOutcome;
  /** One line for people, e.g. "candidate is slower by 3.1 ms (p = 0.002, Welch's t-test …)". */
  summary: string;
}

export interface LatencyMoments {
  n: number;
  mean: number;
  variance: number;
}

/** Mean and sample variance from count, sum and sum of squares (variance NaN below 2 samples). */
export function momentsOf(count: number, sum: number, sumSquares: number): LatencyMoments {
  if (count === 0) return { n: 0, mean: NaN, variance: NaN };
  const mean = sum / count;
  // Clamp tiny negative values from floating-point cancellation.
  const variance = count > 1 ? Math.max(0, (sumSquares - (sum * sum) / count) / (count - 1)) : NaN;
  return { n: count, mean, variance };
}

export interface WelchResult {
  t: number;
  df: number;
  pValue: number;
}

export function welchTTest(a: LatencyMoments, b: LatencyMoments): WelchResult {
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se2 = va + vb;
  if (se2 === 0) {
    // Both constant: equal means are the same, different means are as different as it gets.
    return a.mean === b.mean ? { t: 0, df: a.n + b.n - 2, pValue: 1 } : { t: Math.sign(a.mean - b.mean) * Infinity, df: a.n + b.n - 2, pValue: 0 };
  }
  const t = (a.mean - b.mean) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  return { t, df, pValue: studentTwoSidedP(t, df) };
}

export interface ZResult {
  z: number;
  pValue: number;
}

export function twoProportionZTest(errorsA: number, nA: number, errorsB: number, nB: number): ZResult {
  const pooled = (errorsA + errorsB) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  // No errors anywhere (or only errors): no evidence of a difference.
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (errorsA / nA - errorsB / nB) / se;
  return { z, pValue: normalTwoSidedP(z) };
}

/** Two-sided p of Student's t: I_{df/(df+t²)}(df/2, 1/2). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Two-sided p of a standard normal: erfc(|z|/√2). */
export function normalTwoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/**
 * erfc through the regularized upper incomplete gamma function, Q(1/2, x²),
 * so it shares the continued fractions below and stays accurate in the tail.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x === 0) return 1;
  return upperIncompleteGammaQ(0.5, x * x);
}

/** Lanczos approximation of ln Γ(x) (g = 7, 9 terms; about 15 significant digits for x > 0). */
export function lnGamma(x: number): number {
  const g = 7;
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const shifted = x - 1;
  let series = coefficients[0];
  for (let i = 1; i < coefficients.length; i++) series += coefficients[i] / (shifted + i);
  const base = shifted + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(base) - base + Math.log(series);
}

const EPSILON = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 500;

/** I_x(a, b), by the continued fraction on whichever side converges fast (the other by symmetry). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** The continued fraction of the incomplete beta function, evaluated with Lentz's method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < TINY ? TINY : d);
  let result = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    // Even step, then odd step, of the fraction's terms d_{2m} and d_{2m+1}.
    for (const coefficient of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + coefficient * d;
      d = 1 / (Math.abs(d) < TINY ? TINY : d);
      c = 1 + coefficient / c;
      if (Math.abs(c) < TINY) c = TINY;
      const delta = c * d;
      result *= delta;
      if (coefficient < 0 && Math.abs(delta - 1) < EPSILON) return result;
    }
  }
  return result;
}

/** Q(a, x) = Γ(a, x)/Γ(a): a series for small x, a continued fraction (Lentz) for large x. */
function upperIncompleteGammaQ(a: number, x: number): number {
  const logFront = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n <= MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return 1 - sum * Math.exp(logFront);
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(logFront) * h;
}

/** Compares the candidate's figures with production's; below `minimumSamples` a test says "not enough data". */
export function compareVariants(production: VariantFigures, candidate: VariantFigures, options: { alpha?: number; minimumSamples?: number } = {}): SignificanceReport {
  const alpha = options.alpha ?? ALPHA;
  const minimumSamples = options.minimumSamples ?? MIN_SAMPLES;
  const prod = momentsOf(production.latencyCount, production.latencySum, production.latencySumSquares);
  const cand = momentsOf(candidate.latencyCount, candidate.latencySum, candidate.latencySumSquares);

  const latencyBase = { test: LATENCY_TEST, samples: { production: prod.n, candidate: cand.n }, minimumSamples };
  let latency: TestOutcome;
  if (prod.n < minimumSamples || cand.n < minimumSamples) {
    latency = { ...latencyBase, status: 'not-enough-data', statistic: null, degreesOfFreedom: null, pValue: null, significant: null, difference: null };
  } else {
    const w = welchTTest(cand, prod);
    latency = { ...latencyBase, status: 'tested', statistic: w.t, degreesOfFreedom: w.df, pValue: w.pValue, significant: w.pValue < alpha, difference: (cand.mean - prod.mean) * 1000 };
  }

  const errorBase = { test: ERROR_TEST, samples: { production: production.requests, candidate: candidate.requests }, minimumSamples, degreesOfFreedom: null };
  let errorRate: TestOutcome;
  if (production.requests < minimumSamples || candidate.requests < minimumSamples) {
    errorRate = { ...errorBase, status: 'not-enough-data', statistic: null, pValue: null, significant: null, difference: null };
  } else {
    const z = twoProportionZTest(candidate.errors, candidate.requests, production.errors, production.requests);
    errorRate = { ...errorBase, status: 'tested', statistic: z.z, pValue: z.pValue, significant: z.pValue < alpha, difference: candidate.errors / candidate.requests - production.errors / production.requests };
  }
  return { alpha, latency, errorRate, summary: summarize(latency, errorRate, alpha) };
}

function summarize(latency: TestOutcome, errorRate: TestOutcome, alpha: number): string {
  const parts: string[] = [];
  if (latency.status === 'not-enough-data') {
    parts.push(`latency: not enough data (${latency.samples.production} production / ${latency.samples.candidate} candidate requests; at least ${latency.minimumSamples} each)`);
  } else {
    const d = latency.difference!;
    const verdict = latency.significant ? `candidate is ${d > 0 ? 'slower' : 'faster'} by ${Math.abs(d).toFixed(2)} ms (significant at ${alpha})` : `no significant difference in latency (${d >= 0 ? '+' : ''}${d.toFixed(2)} ms)`;
    parts.push(`latency: ${verdict}, p = ${formatP(latency.pValue!)}, ${latency.test}, n = ${latency.samples.production}/${latency.samples.candidate}`);
  }
  if (errorRate.status === 'not-enough-data') {
    parts.push(`error rate: not enough data (at least ${errorRate.minimumSamples} requests each)`);
  } else {
    const d = errorRate.difference! * 100;
    const verdict = errorRate.significant ? `candidate errs ${d > 0 ? 'more' : 'less'} often by ${Math.abs(d).toFixed(2)} points (significant at ${alpha})` : `no significant difference in error rate (${d >= 0 ? '+' : ''}${d.toFixed(2)} points)`;
    parts.push(`error rate: ${verdict}, p = ${formatP(errorRate.pValue!)}, ${errorRate.test}`);
  }
  return parts.join('; ');
}

function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(2) : p.toFixed(4);
}
