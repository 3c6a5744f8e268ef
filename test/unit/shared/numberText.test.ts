import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatExact, formatShort, isFloat32 } from '../../../src/shared/numberText';

describe('numbers for people', () => {
  it('prints a float32 value at float32 precision, the way TensorBoard shows it', () => {
    const v = Math.fround(0.08434793);
    assert.equal(String(v), '0.0843479335308075');
    assert.equal(formatExact(v), '0.08434793');
    assert.equal(Math.fround(Number(formatExact(v))), v);
  });

  it('keeps a float64 value that is not a float32 whole', () => {
    assert.equal(formatExact(0.1), '0.1');
    assert.equal(formatExact(0.1 + 0.2), '0.30000000000000004');
    assert.equal(isFloat32(0.1 + 0.2), false);
    // A Lightning val_loss written by Python as a 17-digit double is a widened float32.
    assert.equal(isFloat32(0.011143533512949944), true);
    assert.equal(formatExact(0.011143533512949944), '0.0111435335');
    assert.equal(formatExact(3), '3');
    assert.equal(formatExact(0.5), '0.5');
  });

  it('reads back as the same float32 for random float32 values across magnitudes', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 20_000; i++) {
      const v = Math.fround((next() - 0.5) * Math.pow(10, Math.floor(next() * 60) - 30));
      const text = formatExact(v);
      assert.equal(Math.fround(Number(text)), v, `${v} -> ${text}`);
      const significant = Number(text).toExponential().split('e')[0].replace(/[-.]/g, '');
      assert.ok(significant.length <= 9, `${v} -> ${text}`);
    }
  });

  it('spells out NaN, infinities and -0', () => {
    assert.equal(formatExact(NaN), 'NaN');
    assert.equal(formatExact(-Infinity), '-inf');
    assert.equal(formatExact(-0), '-0');
    assert.equal(formatShort(Infinity), 'inf');
    assert.equal(formatShort(-0), '-0');
  });

  it('keeps cells short: a few significant digits, whole integers, exponents at the extremes', () => {
    assert.equal(formatShort(Math.fround(0.08434793)), '0.084348');
    assert.equal(formatShort(0.0076677375473082066), '0.0076677');
    assert.equal(formatShort(10849), '10849');
    assert.equal(formatShort(123456.789), '123460');
    assert.equal(formatShort(1234567.8), '1.2346e6');
    assert.equal(formatShort(3.3546262790251185e-7), '3.3546e-7');
    assert.equal(formatShort(0.5), '0.5');
    assert.equal(formatShort(-2.5e12), '-2.5e12');
  });
});
