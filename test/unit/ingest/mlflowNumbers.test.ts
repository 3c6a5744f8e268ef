// The MLflow reader parses metric lines straight from bytes. These tests hold
// that fast path to the text functions: every number must be the double
// Number() gives, every line must give the point (or the warning) that
// splitting the text would.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseMetricHistory } from '../../../src/core/ingest/mlflowMetricFile';
import { NOT_FAST, parseDecimalBytes, parseNumberBytes, parseFiniteToken, parseNumberToken, splitLines, WarningCollector } from '../../../src/core/ingest/text';

/** A small deterministic generator, so that a failure names a reproducible case. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function checkNumber(text: string): boolean {
  const bytes = Buffer.from(text, 'latin1');
  const fast = parseDecimalBytes(bytes, 0, bytes.length);
  if (fast !== NOT_FAST) assert.ok(Object.is(fast, Number(text)), `${text}: fast path gave ${String(fast)}, Number() gives ${Number(text)}`);
  const full = parseNumberBytes(bytes, 0, bytes.length);
  const expected = parseNumberToken(text);
  assert.ok(Object.is(full, expected), `${text}: ${String(full)} instead of ${String(expected)}`);
  return fast !== NOT_FAST;
}

/** The exact decimal expansion of mantissa * 2^exponent. */
function exactDecimal(mantissa: bigint, exponent: number): string {
  if (exponent >= 0) return (mantissa << BigInt(exponent)).toString();
  const digits = (mantissa * 5n ** BigInt(-exponent)).toString().padStart(-exponent + 1, '0');
  return `${digits.slice(0, exponent)}.${digits.slice(exponent)}`;
}

describe('decimal numbers from bytes', () => {
  test('hand-picked: ties, powers of two, long mantissas, exponents, signs, zeros, and what is not a plain decimal', () => {
    for (const text of [
      '0', '-0', '+0', '0.0', '-0.0', '.5', '-.5', '5.', '+2.', '1e5', '1E+3', '1e-5', '2.5e-05', '1e22', '1e23', '1e30', '1e-22', '1e-23',
      '9007199254740992', '9007199254740993', '9007199254740994', '9007199254740995', '18014398509481985', '18014398509481987',
      '4503599627370496.5', '4503599627370497.5', '2251799813685248.25', '2251799813685248.75', '0.30000000000000004',
      '0.17881843447685242', '0.55454545346173378', '9.999999747378752e-05', '1.7976931348623157e308', '2.2250738585072014e-308',
      '5e-324', '123456789012345678', '1234567890123456789', '12345678901234567890', '99999999999999999.99', '1.0000000000000000000',
      '0000000000000000000000123.4500000', '1700000000000', '-1700000000000.5',
      'nan', 'NaN', '-nan', 'inf', '-inf', 'Infinity', '-Infinity', 'INF', '', '-', '+', '.', 'e5', '1e', '1e+', '0x10', '1_000', '1.2.3', '--1', 'None',
    ]) {
      checkNumber(text);
    }
  });

  test('random doubles printed shortest, with fixed digits and in exponent form, are exact', () => {
    const random = generator(1);
    let fast = 0;
    let total = 0;
    for (let i = 0; i < 40_000; i++) {
      const x = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      for (const text of [String(x), x.toPrecision(1 + Math.floor(random() * 21)), x.toExponential(Math.floor(random() * 19))]) {
        total++;
        if (checkNumber(text)) fast++;
      }
    }
    assert.ok(fast > total * 0.6, `the fast path decides most of them (${fast} of ${total})`);
  });

  test('random 16 to 19 digit mantissas, with leading zeros, points and exponents, are exact', () => {
    const random = generator(2);
    for (let i = 0; i < 60_000; i++) {
      const significant = 16 + Math.floor(random() * 4);
      let digits = String(1 + Math.floor(random() * 9));
      for (let k = 1; k < significant; k++) digits += Math.floor(random() * 10);
      if (i % 50 === 0) digits = '9'.repeat(significant - 2) + String(Math.floor(random() * 100)).padStart(2, '0');
      const leadingZeros = Math.floor(random() * 5);
      const point = Math.floor(random() * (significant + 1));
      let text = leadingZeros ? `0.${'0'.repeat(leadingZeros - 1)}${digits}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
      if (random() < 0.3) text += `e${Math.floor(random() * 30) - 15}`;
      if (random() < 0.2) text = `-${text}`;
      checkNumber(text);
    }
  });

  test('small and large magnitudes (10^-44 to 10^44) as Python and JavaScript print them are exact, and decided here', () => {
    // A learning rate decayed to 3.3546262790251185e-07 has seventeen digits and needs 10^-23: once left to the
    // text path, which made the rows of a long Lightning run five times slower to read.
    const random = generator(5);
    let fast = 0;
    let total = 0;
    for (let i = 0; i < 40_000; i++) {
      const x = (random() + 0.01) * 10 ** (Math.floor(random() * 60) - 30);
      const shortest = String(x);
      // Python's repr writes the exponent with two digits: 1e-07, not 1e-7.
      const python = shortest.replace(/e([+-])(\d)$/, 'e$10$2');
      for (const text of [shortest, python, x.toExponential(Math.floor(random() * 19)), x.toPrecision(1 + Math.floor(random() * 19)), `-${shortest}`]) {
        total++;
        if (checkNumber(text)) fast++;
      }
    }
    assert.ok(fast > total * 0.99, `the fast path decides nearly all of them (${fast} of ${total})`);
    for (const text of ['3.3546262790251185e-07', '3.3546262790251185e-7', '1e-44', '1e-45', '9.999999999999999e-45', '1.2345678901234567e+40', '1e44', '1e45', '123456789012345678e-40', '4.9406564584124654e-30']) {
      checkNumber(text);
    }
  });

  test('17 to 19 digits cut from midpoints between doubles far from 1 (10^-44 to 10^44) are exact', () => {
    // The hardest inputs for two scalings: a hair (10^-19 relative) from a rounding midpoint.
    const random = generator(6);
    let fast = 0;
    let total = 0;
    for (let i = 0; i < 20_000; i++) {
      const mantissa = (1n << 52n) + BigInt(Math.floor(random() * 2 ** 52));
      const binade = random() < 0.5 ? -146 + Math.floor(random() * 70) : 80 + Math.floor(random() * 66);
      const twice = 2n * mantissa + 1n;
      const power = binade - 53; // the midpoint is twice * 2^power
      const digits = power >= 0 ? (twice << BigInt(power)).toString() : (twice * 5n ** BigInt(-power)).toString();
      const scale = power >= 0 ? 0 : power; // digits * 10^scale is the midpoint
      for (const kept of [17, 18, 19]) {
        const lead = BigInt(digits.slice(0, kept));
        const exponent = digits.length - kept + scale;
        for (const near of [lead, lead + 1n]) {
          total++;
          if (checkNumber(`${near}e${exponent}`)) fast++;
        }
      }
    }
    assert.ok(fast > total * 0.95, `the fast path decides nearly all of them (${fast} of ${total})`);
  });

  test('decimals exactly halfway between two doubles, and one digit either side, are exact', () => {
    const random = generator(3);
    for (let i = 0; i < 30_000; i++) {
      const binade = 45 + Math.floor(random() * 19); // values from 2^45 to 2^64: midpoints need 16 to 20 digits
      const mantissa = (1n << 52n) + BigInt(Math.floor(random() * 2 ** 52));
      const midpoint = exactDecimal(2n * mantissa + 1n, binade - 52 - 1);
      checkNumber(midpoint);
      const last = Number(midpoint[midpoint.length - 1]);
      if (last > 0) checkNumber(midpoint.slice(0, -1) + String(last - 1));
      if (last < 9) checkNumber(midpoint.slice(0, -1) + String(last + 1));
    }
  });
});

/** The metric-line rules as the text functions state them: what the byte parser must agree with. */
function referenceHistory(text: string): { steps: number[]; values: number[]; walls: number[]; problems: string[] } {
  const out = { steps: [] as number[], values: [] as number[], walls: [] as number[], problems: [] as string[] };
  let columns: number | undefined;
  for (const line of splitLines(text.startsWith('\uFEFF') ? text.slice(1) : text)) {
    const trimmed = line.text.trim();
    if (trimmed === '') continue;
    const fields = trimmed.split(/\s+/);
    const timestamp = parseFiniteToken(fields[0]);
    const value = fields.length >= 2 ? parseNumberToken(fields[1]) : undefined;
    const step = fields.length >= 3 ? parseFiniteToken(fields[2]) : 0;
    if (fields.length < 2 || timestamp === undefined || value === undefined || step === undefined) {
      if (line.terminated) out.problems.push(`line ${line.lineNumber}`);
      continue;
    }
    if (!line.terminated && columns !== undefined && fields.length < columns) continue;
    columns ??= fields.length;
    out.steps.push(step);
    out.values.push(value);
    out.walls.push(timestamp);
  }
  return out;
}

describe('metric lines from bytes', () => {
  test('blanks, tabs, CR, CRLF, BOM, non-ASCII blanks, 2 to 5 columns, non-finite values and bad lines agree with the text rules', () => {
    const random = generator(4);
    const values = ['0.5', 'nan', 'NaN', '-inf', 'Infinity', '1e-05', '-0.0', '0.30000000000000004', '17', 'x1', '1.5e400'];
    const blanks = [' ', '  ', '\t', ' \t', '\u00a0', '\u3000', '\v', '\f'];
    const breaks = ['\n', '\r\n', '\r'];
    for (let round = 0; round < 300; round++) {
      let text = round % 7 === 0 ? '\uFEFF' : '';
      const lineCount = 1 + Math.floor(random() * 12);
      for (let i = 0; i < lineCount; i++) {
        const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
        const columns = 1 + Math.floor(random() * 5);
        const fields = [String(1700000000000 + i), pick(values), String(i), 'a'.repeat(32), 'dataset-ü'].slice(0, columns);
        const blank = random() < 0.8 ? ' ' : pick(blanks);
        let line = fields.join(blank);
        if (random() < 0.1) line = pick(blanks) + line;
        if (random() < 0.1) line += pick(blanks);
        if (random() < 0.05) line = '';
        text += line + (i === lineCount - 1 && random() < 0.4 ? '' : pick(breaks));
      }
      const warnings = new WarningCollector(1000);
      const series = parseMetricHistory(text, 'metric', warnings);
      const expected = referenceHistory(text);
      const label = JSON.stringify(text);
      assert.deepEqual(Array.from(series.steps), expected.steps, `${label} steps`);
      assert.equal(series.values.length, expected.values.length, `${label} values`);
      series.values.forEach((v, i) => assert.ok(Object.is(v, expected.values[i]), `${label} value ${i}`));
      assert.deepEqual(Array.from(series.walls), expected.walls, `${label} walls`);
      assert.deepEqual(
        warnings.list().map((w) => w.message.split(':')[0]),
        expected.problems,
        `${label} problems`,
      );
    }
  });
});
