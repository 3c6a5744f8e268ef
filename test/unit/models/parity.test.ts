// The parity check's judgement of two sets of outputs: largest absolute and
// relative differences (safe near zero), the element where the worst one is,
// and pass/fail against atol + rtol·|reference|.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffOutputs, diffValues } from '../../../src/core/models/parity';
import type { OutputTensor } from '../../../src/core/models/smokeProtocol';
import { describeSpeedup } from '../../../src/shared/speedup';

const tol = { atol: 1e-4, rtol: 1e-3 };
const f32 = (name: string, values: number[], dims = [values.length]): OutputTensor => ({ name, dtype: 'float32', dims, data: Float64Array.from(values) });

describe('parity output differences', () => {
  test('identical outputs: zero differences, pass', () => {
    const [d] = diffOutputs([f32('y', [1, -2, 0, 3.5])], [f32('y', [1, -2, 0, 3.5])], tol);
    assert.deepEqual({ abs: d.maxAbsDiff, rel: d.maxRelDiff, mismatches: d.mismatches, pass: d.pass }, { abs: 0, rel: 0, mismatches: 0, pass: true });
  });

  test('one element outside the tolerance fails with its exact abs and rel difference and its index', () => {
    const d = diffValues('y', [1, 2, 4, 8], [1, 2, 4.5, 8.000001], tol);
    assert.equal(d.maxAbsDiff, 0.5);
    assert.equal(d.maxRelDiff, 0.125);
    assert.deepEqual(d.worst, { index: 2, reference: 4, candidate: 4.5 });
    assert.equal(d.mismatches, 1, '8.000001 is inside 1e-4 + 1e-3·8');
    assert.equal(d.pass, false);
  });

  test('the boundary is atol + rtol·|reference|', () => {
    // 1 + 0.0011 is just inside (1e-4 + 1e-3 = 0.0011 allowed at 1); 0.0012 is outside.
    assert.equal(diffValues('y', [1], [1.00109], tol).pass, true);
    assert.equal(diffValues('y', [1], [1.0012], tol).pass, false);
    // At a reference of 0 only atol is allowed.
    assert.equal(diffValues('y', [0], [0.00009], tol).pass, true);
    assert.equal(diffValues('y', [0], [0.00011], tol).pass, false);
  });

  test('relative difference near zero uses atol as the scale instead of dividing by zero', () => {
    const d = diffValues('y', [0, 1e-9, 10], [5e-5, 1e-9, 10], tol);
    assert.ok(Number.isFinite(d.maxRelDiff!), `finite, got ${d.maxRelDiff}`);
    assert.ok(Math.abs(d.maxRelDiff! - 0.5) < 1e-12, `5e-5 / max(0, 1e-4) = 0.5, got ${d.maxRelDiff}`);
    assert.equal(d.pass, true, 'within atol');
  });

  test('NaN matches only NaN, an infinity only the same infinity; they do not enter the max differences', () => {
    const d = diffValues('y', [NaN, Infinity, -Infinity, 1, NaN], [NaN, Infinity, Infinity, 1, 2], tol);
    assert.equal(d.mismatches, 2);
    assert.equal(d.maxAbsDiff, 0);
    assert.equal(d.pass, false);
  });

  test('a missing output, another dtype or another shape is a problem, not a number', () => {
    const ref = [f32('a', [1, 2], [1, 2]), f32('b', [1]), { ...f32('c', [1]), dtype: 'float16' }];
    const cand = [f32('a', [1, 2], [2, 1]), { ...f32('c', [1]) }];
    const [a, b, c] = diffOutputs(ref, cand, tol);
    assert.equal(a.problem, 'shape [2, 1], reference [1, 2]');
    assert.equal(b.problem, 'missing from the candidate');
    assert.equal(c.problem, 'dtype float32, reference float16');
    assert.ok([a, b, c].every((d) => !d.pass && d.maxAbsDiff === null));
  });

  test('int64 outputs are compared as numbers, strings for equality', () => {
    const i64 = (values: bigint[]): OutputTensor => ({ name: 'ids', dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values) });
    const [d] = diffOutputs([i64([1n, 7n])], [i64([1n, 9n])], tol);
    assert.equal(d.maxAbsDiff, 2);
    const s = diffValues('s', ['a', 'b'], ['a', 'c'], tol);
    assert.deepEqual({ mismatches: s.mismatches, pass: s.pass, abs: s.maxAbsDiff }, { mismatches: 1, pass: false, abs: null });
  });
});

describe('speedup words', () => {
  test('faster, slower, same, unknown', () => {
    assert.equal(describeSpeedup(2.156), '2.16× faster');
    assert.equal(describeSpeedup(0.25), '4.00× slower');
    assert.equal(describeSpeedup(1.001), 'same speed');
    assert.equal(describeSpeedup(null), '-');
    assert.equal(describeSpeedup(NaN), '-');
  });
});
