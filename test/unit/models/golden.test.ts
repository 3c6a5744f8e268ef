// Golden files: exact round trip of every float (NaN and ±Inf included), and
// the tolerance rules of the comparison.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { compareValues, compareWithGolden, decodeGoldenData, readGolden, writeGolden } from '../../../src/core/models/golden';
import type { OutputTensor } from '../../../src/core/models/smokeProtocol';
import { makeTempDir } from '../../support/fixtures';

const tol = { atol: 1e-4, rtol: 1e-3 };
const meta = { model: { file: 'm.onnx', sha256: 'ab'.repeat(32) }, inputs: { seed: 42, shapes: { x: [1, 4] } } };

function tensors(values: number[], extra: Partial<OutputTensor> = {}): OutputTensor[] {
  return [{ name: 'y', dtype: 'float32', dims: [1, values.length], data: Float32Array.from(values), ...extra }];
}

describe('golden files', () => {
  test('round trip keeps NaN, infinities and every bit of each float', () => {
    const file = path.join(makeTempDir(), 'sub', 'golden.json');
    const values = [0.1, NaN, Infinity, -Infinity, -0, 3.4e38, 1e-45];
    writeGolden(file, meta, [...tensors(values), { name: 'ids', dtype: 'int64', dims: [2], data: BigInt64Array.of(-1n, 2n ** 40n) }]);
    const golden = readGolden(file);
    assert.equal(golden.format, 'runlens-golden');
    assert.deepEqual([...(decodeGoldenData('float32', golden.outputs[0].data) as Float32Array)], [...Float32Array.from(values)]);
    assert.deepEqual([...(decodeGoldenData('int64', golden.outputs[1].data) as Float64Array)], [-1, 2 ** 40]);
    const same = compareWithGolden(file, golden, [...tensors(values), { name: 'ids', dtype: 'int64', dims: [2], data: BigInt64Array.of(-1n, 2n ** 40n) }], tol);
    assert.equal(same.pass, true, JSON.stringify(same));
  });

  test('within tolerance passes, outside fails, with max abs/rel diff and cosine', () => {
    const file = path.join(makeTempDir(), 'g.json');
    writeGolden(file, meta, tensors([1, 2, 3, 4]));
    const golden = readGolden(file);
    const close = compareWithGolden(file, golden, tensors([1.00005, 2, 3, 4]), tol);
    assert.equal(close.pass, true);
    assert.ok(close.outputs[0].maxAbsDiff! > 0 && close.outputs[0].maxAbsDiff! < 1e-4);
    const far = compareWithGolden(file, golden, tensors([1, 2, 3, 4.1]), tol);
    assert.equal(far.pass, false);
    assert.equal(far.outputs[0].mismatches, 1);
    assert.ok(Math.abs(far.outputs[0].maxAbsDiff! - 0.1) < 1e-5);
    assert.ok(Math.abs(far.outputs[0].maxRelDiff! - 0.025) < 1e-5);
    assert.ok(far.outputs[0].cosine! > 0.99 && far.outputs[0].cosine! < 1);
  });

  test('shape, dtype and missing outputs fail with the reason', () => {
    const file = path.join(makeTempDir(), 'g.json');
    writeGolden(file, meta, tensors([1, 2, 3, 4]));
    const golden = readGolden(file);
    assert.match(compareWithGolden(file, golden, tensors([1, 2, 3]), tol).outputs[0].problem!, /shape \[1, 3\], golden \[1, 4\]/);
    assert.match(compareWithGolden(file, golden, tensors([1, 2, 3, 4], { dtype: 'float64', data: Float64Array.of(1, 2, 3, 4) }), tol).outputs[0].problem!, /dtype float64/);
    assert.match(compareWithGolden(file, golden, tensors([1, 2, 3, 4], { name: 'z' }), tol).outputs[0].problem!, /missing/);
  });

  test('NaN matches only NaN; an infinity only the same infinity', () => {
    assert.equal(compareValues('y', [NaN, Infinity], [NaN, Infinity], tol).pass, true);
    assert.equal(compareValues('y', [NaN], [0], tol).mismatches, 1);
    assert.equal(compareValues('y', [0], [NaN], tol).mismatches, 1);
    assert.equal(compareValues('y', [Infinity], [-Infinity], tol).mismatches, 1);
    assert.equal(compareValues('y', [0, 0], [0, 0], tol).cosine, 1);
  });

  test('unreadable golden files are user errors naming the file', () => {
    const dir = makeTempDir();
    const missing = path.join(dir, 'none.json');
    assert.throws(() => readGolden(missing), (e: unknown) => isUserError(e) && e.message.includes(missing) && /--save-golden/.test(e.message));
    const text = path.join(dir, 'text.json');
    fs.writeFileSync(text, 'not json');
    assert.throws(() => readGolden(text), (e: unknown) => isUserError(e) && /not a RunLens golden file/.test(e.message));
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, '{"a": 1}');
    assert.throws(() => readGolden(other), (e: unknown) => isUserError(e) && /not a RunLens golden file/.test(e.message));
  });
});
