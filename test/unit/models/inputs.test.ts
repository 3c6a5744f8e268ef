// Synthetic input planning: defaults for unknown dims, --shape overrides,
// symbols kept consistent, fill rules, and a stable generator.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { inspectModel, type Dim, type TensorSpec } from '../../../src/core/models/inspect';
import { DEFAULT_SEED, changedShapeOverrides, dynamicShapeDefaults, lcg, materializeInputs, parseShapeOverrides, planInputs, shapeAt, toHalfBits } from '../../../src/core/models/inputs';
import { copyCorpus } from '../../support/fixtures';

const fixed = (value: number): Dim => ({ kind: 'fixed', value });
const symbol = (name: string): Dim => ({ kind: 'symbol', name });
const unknown: Dim = { kind: 'unknown' };
const spec = (name: string, dtype: string, shape: Dim[] | null, elemType = 1): TensorSpec => ({ name, dtype, elemType, kind: 'tensor', shape });

describe('parseShapeOverrides', () => {
  test('comma-separated NAME=DIMS, names with ":" and ".", scalars', () => {
    const o = parseShapeOverrides('x=1x3x48x192, input:0=1x128x128x3,a.b=2,sr=,t=scalar');
    assert.deepEqual([...o], [
      ['x', [1, 3, 48, 192]],
      ['input:0', [1, 128, 128, 3]],
      ['a.b', [2]],
      ['sr', []],
      ['t', []],
    ]);
    assert.equal(parseShapeOverrides(undefined).size, 0);
  });

  test('bad values are user errors that show the expected form', () => {
    for (const bad of ['x', '=1x2', 'x=1xa', 'x=0x3', 'x=1x-3']) {
      assert.throws(() => parseShapeOverrides(bad), (e: unknown) => isUserError(e) && /--shape/.test(e.message), bad);
    }
  });
});

describe('the smoke-test prompt', () => {
  test('asks only for inputs with open dims, prefilled with their real names and the sizes the test would use', () => {
    const model = (file: string) => inspectModel(`${copyCorpus(`models/${file}`)}`).inputs;
    assert.deepEqual(dynamicShapeDefaults(model('blazeface_front_128.onnx')), { value: '', unshaped: [] }, 'input:0 [1,128,128,3] is static: nothing to ask');
    assert.equal(dynamicShapeDefaults(model('ppocr_mobile_v2_cls.onnx')).value, 'x=1x3x224x224');
    // silero: input [?, ?] and state [2, ?, 128] are open; sr (a scalar) is static.
    const silero = dynamicShapeDefaults(model('silero_vad_v5.onnx')).value;
    assert.equal(silero, 'input=1x512,state=2x1x128');
    assert.deepEqual([...parseShapeOverrides(silero).keys()], ['input', 'state'], 'the prefill is valid --shape text');
  });

  test('an input without a shape is named apart, not offered as a scalar; one input that cannot be made leaves the others', () => {
    assert.deepEqual(dynamicShapeDefaults([spec('x', 'float32', null), spec('y', 'float32', [fixed(2)])]), { value: '', unshaped: ['x'] });
    const withBadInput = dynamicShapeDefaults([spec('a', 'float32', [unknown, fixed(3)]), { ...spec('s', 'string', [unknown]), elemType: 8 }]);
    assert.deepEqual(withBadInput, { value: 'a=1x3', unshaped: [] });
  });

  test('only what the user changed is passed on, so a symbol shared by two inputs follows the edit', () => {
    const specs = [spec('input_ids', 'int64', [symbol('batch'), symbol('seq')], 7), spec('attention_mask', 'int64', [symbol('batch'), symbol('seq')], 7)];
    const offered = dynamicShapeDefaults(specs).value;
    assert.equal(offered, 'input_ids=1x512,attention_mask=1x512');
    const changed = changedShapeOverrides('input_ids=1x128,attention_mask=1x512', offered);
    assert.equal(changed, 'input_ids=1x128');
    const plan = planInputs(specs, parseShapeOverrides(changed));
    assert.deepEqual(plan.inputs.map((i) => i.dims.map((d) => d.value)), [[1, 128], [1, 128]], 'the mask follows the edited sequence length');
    assert.equal(changedShapeOverrides(offered, offered), '', 'Enter on the offer: nothing to pass, the test plans the same sizes');
  });
});

describe('planInputs', () => {
  test('silero: first unknown dim is the batch (1), the other 512; state zeros; sr = 16000 int64 scalar', () => {
    const m = inspectModel(copyCorpus('models/silero_vad_v5.onnx'));
    const plan = planInputs(m.inputs);
    assert.deepEqual(plan.inputs.map((i) => shapeAt(i)), [[1, 512], [2, 1, 128], []]);
    assert.deepEqual(plan.inputs[0].dims.map((d) => d.source), ['batch', 'default']);
    assert.deepEqual(plan.inputs[1].dims.map((d) => d.batch), [false, true, false]);
    assert.equal(plan.batchDynamic, true);
    const [input, state, sr] = materializeInputs(plan);
    assert.ok(input.data instanceof Float32Array && input.data.length === 512);
    assert.ok([...(input.data as Float32Array)].every((v) => v >= -1 && v <= 1));
    assert.ok((state.data as Float32Array).every((v) => v === 0));
    assert.ok(sr.data instanceof BigInt64Array);
    assert.deepEqual([...(sr.data as BigInt64Array)], [16000n]);
    assert.deepEqual(sr.dims, []);
    // At batch 8 both the input and the recurrent state follow.
    assert.deepEqual(materializeInputs(plan, 8).map((t) => t.dims), [[8, 512], [2, 8, 128], []]);
  });

  test('ppocr: NCHW image symbols get 1 x 224 x 224 unless --shape says otherwise', () => {
    const m = inspectModel(copyCorpus('models/ppocr_mobile_v2_cls.onnx'));
    assert.deepEqual(shapeAt(planInputs(m.inputs).inputs[0]), [1, 3, 224, 224]);
    const plan = planInputs(m.inputs, parseShapeOverrides('x=1x3x48x192'));
    assert.deepEqual(shapeAt(plan.inputs[0]), [1, 3, 48, 192]);
    assert.deepEqual(plan.inputs[0].dims.map((d) => d.source), ['override', 'declared', 'override', 'override']);
    assert.deepEqual(shapeAt(plan.inputs[0], 32), [32, 3, 48, 192]);
  });

  test('blazeface: all dims fixed, no dynamic batch', () => {
    const m = inspectModel(copyCorpus('models/blazeface_front_128.onnx'));
    const plan = planInputs(m.inputs);
    assert.deepEqual(shapeAt(plan.inputs[0]), [1, 128, 128, 3]);
    assert.equal(plan.batchDynamic, false);
  });

  test('a symbol shared by two inputs takes one value, from --shape when given', () => {
    const specs = [spec('ids', 'int64', [symbol('batch'), symbol('seq')], 7), spec('attention_mask', 'int64', [symbol('batch'), symbol('seq')], 7)];
    const plan = planInputs(specs, parseShapeOverrides('ids=2x77'));
    assert.deepEqual(plan.inputs.map((i) => shapeAt(i)), [[2, 77], [2, 77]]);
    assert.deepEqual(plan.inputs[1].dims.map((d) => d.source), ['symbol', 'symbol']);
    const [ids, mask] = materializeInputs(plan);
    assert.ok((ids.data as BigInt64Array).every((v) => v === 0n));
    assert.ok((mask.data as BigInt64Array).every((v) => v === 1n));
  });

  test('what cannot be generated is a user error naming the input and dtype', () => {
    const cases: [TensorSpec, RegExp][] = [
      [spec('text', 'string', [fixed(1)], 8), /input "text" has dtype string/],
      [spec('w', 'bfloat16', [fixed(1)], 16), /input "w" has dtype bfloat16/],
      [{ name: 'seq', dtype: 'sequence', elemType: 0, kind: 'sequence', shape: null }, /input "seq" is a sequence/],
      [spec('x', 'float32', null), /input "x" declares no shape.*--shape x=/],
    ];
    for (const [s, pattern] of cases) assert.throws(() => planInputs([s]), (e: unknown) => isUserError(e) && pattern.test(e.message), s.name);
  });

  test('--shape that contradicts the model is refused', () => {
    const specs = [spec('x', 'float32', [unknown, fixed(3)])];
    assert.throws(() => planInputs(specs, parseShapeOverrides('x=1x4')), /dim 1 is fixed at 3/);
    assert.throws(() => planInputs(specs, parseShapeOverrides('x=1x3x3')), /has 3 dims; the model declares 2/);
    assert.throws(() => planInputs(specs, parseShapeOverrides('y=1')), /not an input of this model/);
    assert.throws(() => planInputs([spec('x', 'float32', [unknown, unknown, unknown, unknown])]), /elements from default dims.*--shape/);
  });

  test('other dtypes: uint8 covers 0..255, bool and float16 are made', () => {
    const plan = planInputs([spec('img', 'uint8', [fixed(4096)], 2), spec('flag', 'bool', [fixed(2)], 9), spec('h', 'float16', [fixed(3)], 10)]);
    const [img, flag, h] = materializeInputs(plan);
    const bytes = img.data as Uint8Array;
    assert.ok(Math.max(...bytes) > 240 && Math.min(...bytes) < 15);
    assert.deepEqual([...(flag.data as Uint8Array)], [0, 0]);
    assert.ok(h.data instanceof Uint16Array && h.data.length === 3);
  });
});

describe('the generator', () => {
  test('is the documented LCG and gives the same bytes every time', () => {
    const r = lcg(0);
    // state1 = 1013904223, state2 = 1013904223 * 1664525 + 1013904223 mod 2^32
    assert.equal(r(), 1013904223 / 2 ** 32);
    assert.equal(r(), Number((1013904223n * 1664525n + 1013904223n) % 2n ** 32n) / 2 ** 32);
    const plan = planInputs([spec('x', 'float32', [fixed(16)])]);
    assert.equal(plan.seed, DEFAULT_SEED);
    assert.deepEqual(materializeInputs(plan)[0].data, materializeInputs(plan)[0].data);
    assert.notDeepEqual(materializeInputs({ ...plan, seed: 1 })[0].data, materializeInputs(plan)[0].data);
  });

  test('float16 bits', () => {
    assert.equal(toHalfBits(0), 0);
    assert.equal(toHalfBits(1), 0x3c00);
    assert.equal(toHalfBits(-2), 0xc000);
    assert.equal(toHalfBits(0.5), 0x3800);
    assert.equal(toHalfBits(65504), 0x7bff);
    assert.equal(toHalfBits(1e6), 0x7c00);
    assert.equal(toHalfBits(2 ** -24), 0x0001);
    assert.equal(toHalfBits(NaN) & 0x7c00, 0x7c00);
  });
});
