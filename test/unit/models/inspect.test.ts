// Inspection against the facts the corpus README documents for its three real
// models, and the bad files a user will feed it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { formatShape, inspectModel, type Dim, type ModelInspection } from '../../../src/core/models/inspect';
import { copyCorpus, makeTempDir } from '../../support/fixtures';
import { buildModel, endlessLoopModel, externalDataModel, externalWeights, FLOAT } from './onnxBuilder';

// One temp folder for the file: each makeTempDir adds a process 'exit' listener.
const tmp = makeTempDir('runlens-inspect-');
let dirs = 0;
function freshDir(): string {
  const dir = path.join(tmp, String(++dirs));
  fs.mkdirSync(dir);
  return dir;
}

const fixed = (value: number): Dim => ({ kind: 'fixed', value });
const symbol = (name: string): Dim => ({ kind: 'symbol', name });
const unknown: Dim = { kind: 'unknown' };

function io(m: ModelInspection, which: 'inputs' | 'outputs') {
  return m[which].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
}

describe('inspect on the corpus models', () => {
  test('silero_vad_v5: unnamed dims, an int64 scalar, 5 top-level nodes and its If subgraphs counted', () => {
    const m = inspectModel(copyCorpus('models/silero_vad_v5.onnx'));
    assert.deepEqual(io(m, 'inputs'), [
      { name: 'input', dtype: 'float32', shape: [unknown, unknown] },
      { name: 'state', dtype: 'float32', shape: [fixed(2), unknown, fixed(128)] },
      { name: 'sr', dtype: 'int64', shape: [] },
    ]);
    assert.deepEqual(io(m, 'outputs'), [
      { name: 'output', dtype: 'float32', shape: [unknown, fixed(1)] },
      { name: 'stateN', dtype: 'float32', shape: [unknown, unknown, unknown] },
    ]);
    assert.equal(m.nodes.topLevel, 5);
    assert.ok(m.nodes.subgraphs > 0);
    const histogramTotal = m.opHistogram.reduce((n, o) => n + o.count, 0);
    assert.equal(histogramTotal, m.nodes.total);
    assert.ok(m.nodes.total > 600, `ops inside the If branches are counted (${m.nodes.total})`);
    const count = (op: string) => m.opHistogram.find((o) => o.op === op)?.count ?? 0;
    // The network itself (convolutions, LSTM) lives only in subgraphs.
    assert.ok(count('LSTM') > 0 && count('Conv') > 0 && count('If') > 0);
    assert.equal(m.opset, 16);
    assert.equal(m.irVersion, 8);
    assert.equal(m.producerName, 'spox');
    assert.equal(m.fileSize, 2327524);
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
    // Its weights are Constant nodes, not initializers.
    assert.equal(m.initializers.count, 0);
    assert.ok(m.constants.inlineBytes > 2_000_000);
    assert.equal(formatShape(m.inputs[2].shape), '[]');
  });

  test('blazeface_front_128: NHWC input with a ":" in its name, four outputs', () => {
    const m = inspectModel(copyCorpus('models/blazeface_front_128.onnx'));
    assert.deepEqual(io(m, 'inputs'), [{ name: 'input:0', dtype: 'float32', shape: [fixed(1), fixed(128), fixed(128), fixed(3)] }]);
    assert.deepEqual(
      m.outputs.map((o) => [o.name, o.dtype]),
      [
        ['Identity:0', 'float32'],
        ['Identity_1:0', 'float32'],
        ['Identity_2:0', 'float32'],
        ['Identity_3:0', 'float32'],
      ],
    );
    assert.deepEqual(m.outputs[0].shape, [fixed(1), fixed(512), fixed(1)]);
    assert.equal(m.producerName, 'tf2onnx');
    assert.equal(m.opset, 12);
    assert.equal(m.nodes.topLevel, m.nodes.total);
    assert.equal(m.initializers.count, 71);
    // Initializers are most of the file.
    assert.ok(m.initializers.inlineBytes > 0.9 * m.fileSize - 50_000 && m.initializers.inlineBytes < m.fileSize);
  });

  test('ppocr_mobile_v2_cls: named p2o.DynamicDimension symbols, opset from the default domain', () => {
    const m = inspectModel(copyCorpus('models/ppocr_mobile_v2_cls.onnx'));
    assert.deepEqual(io(m, 'inputs'), [
      { name: 'x', dtype: 'float32', shape: [symbol('p2o.DynamicDimension.0'), fixed(3), symbol('p2o.DynamicDimension.1'), symbol('p2o.DynamicDimension.2')] },
    ]);
    assert.deepEqual(io(m, 'outputs'), [{ name: 'softmax_0.tmp_0', dtype: 'float32', shape: [symbol('p2o.DynamicDimension.3'), fixed(2)] }]);
    assert.equal(m.opset, 9);
    assert.deepEqual(m.opsets, [{ domain: 'ai.onnx', version: 9 }]);
    // The corpus README says paddle2onnx writes ' '; this file stores no producer_name
    // at all (its bytes start 08 08 3a: ir_version, then the graph). Kept as stored.
    assert.ok(m.producerName.trim() === '', `producer kept as stored: ${JSON.stringify(m.producerName)}`);
    assert.equal(m.producerName, '');
  });
});

describe('inspect on built models', () => {
  function write(bytes: Uint8Array, name = 'model.onnx', dir = freshDir()): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  test('the default domain is read from "" among many domains; producer " " is kept', () => {
    const file = write(
      buildModel({
        irVersion: 8,
        producerName: ' ',
        opsets: [
          { domain: 'com.microsoft', version: 1 },
          { domain: 'ai.onnx.ml', version: 3 },
          { domain: '', version: 15 },
          { domain: 'ai.onnx.training', version: 1 },
        ],
        metadata: { converted_by: 'test' },
        graph: { name: 'g', nodes: [{ opType: 'FusedConv', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', elemType: FLOAT, shape: [1] }], outputs: [{ name: 'y', elemType: FLOAT, shape: [1] }] },
      }),
    );
    const m = inspectModel(file);
    assert.equal(m.opset, 15);
    assert.equal(m.opsets[2].domain, 'ai.onnx');
    assert.equal(m.producerName, ' ');
    assert.deepEqual(m.opHistogram, [{ op: 'com.microsoft:FusedConv', count: 1 }]);
    assert.deepEqual(m.metadata, [{ key: 'converted_by', value: 'test' }]);
  });

  test('older IR: initializers listed as graph inputs are not inputs to feed', () => {
    const file = write(
      buildModel({
        irVersion: 3,
        opsets: [{ domain: '', version: 9 }],
        graph: {
          name: 'g',
          nodes: [{ opType: 'Add', inputs: ['X', 'W'], outputs: ['Y'] }],
          initializers: [{ name: 'W', dataType: FLOAT, dims: [2], floatData: [1, 2] }],
          inputs: [
            { name: 'X', elemType: FLOAT, shape: [2] },
            { name: 'W', elemType: FLOAT, shape: [2] },
          ],
          outputs: [{ name: 'Y', elemType: FLOAT, shape: [2] }],
        },
      }),
    );
    const m = inspectModel(file);
    assert.deepEqual(
      m.inputs.map((i) => i.name),
      ['X'],
    );
    assert.deepEqual(m.initializers, { count: 1, inlineBytes: 8, externalBytes: 0 });
  });

  test('Loop bodies are counted: 1 node at the top, 3 in total', () => {
    const m = inspectModel(write(endlessLoopModel()));
    assert.deepEqual(m.nodes, { topLevel: 1, total: 3, subgraphs: 1 });
    assert.deepEqual(m.opHistogram, [
      { op: 'Identity', count: 2 },
      { op: 'Loop', count: 1 },
    ]);
  });

  test('external data: resolved next to the model, present or missing', () => {
    const dir = freshDir();
    const file = write(externalDataModel('weights.bin'), 'ext.onnx', dir);
    let m = inspectModel(file);
    assert.deepEqual(m.externalData, [{ tensor: 'W', location: 'weights.bin', path: path.join(dir, 'weights.bin'), offset: 0, length: 8, exists: false }]);
    fs.writeFileSync(path.join(dir, 'weights.bin'), externalWeights());
    m = inspectModel(file);
    assert.equal(m.externalData[0].exists, true);
    assert.equal(m.initializers.externalBytes, 8);
  });
});

describe('inspect refuses what is not a model, naming the file', () => {
  const userError = (file: string, pattern: RegExp) => (e: unknown) => {
    assert.ok(isUserError(e), `a UserError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `names ${file}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };

  test('a truncated model', () => {
    const original = copyCorpus('models/silero_vad_v5.onnx');
    const file = path.join(path.dirname(original), 'cut.onnx');
    fs.writeFileSync(file, fs.readFileSync(original).subarray(0, 100_000));
    assert.throws(() => inspectModel(file), userError(file, /not an ONNX model: protobuf decoding failed at byte \d+ .*truncated/));
  });

  test('every prefix of a small model is a UserError or a result, never a crash', () => {
    const bytes = externalDataModel('w.bin');
    const dir = freshDir();
    for (let cut = 0; cut < bytes.length; cut++) {
      const file = path.join(dir, `cut${cut}.onnx`);
      fs.writeFileSync(file, bytes.subarray(0, cut));
      try {
        inspectModel(file);
      } catch (e) {
        assert.ok(isUserError(e), `cut at ${cut}: ${String(e)}`);
      }
    }
  });

  test('a text file renamed .onnx', () => {
    const file = path.join(freshDir(), 'notes.onnx');
    fs.writeFileSync(file, 'These are my notes about the model.\nIt is not here yet.\n');
    assert.throws(() => inspectModel(file), userError(file, /not an ONNX model: .*at byte \d+.*looks like a text file/));
  });

  test('a Git LFS pointer', () => {
    const file = path.join(freshDir(), 'lfs.onnx');
    fs.writeFileSync(file, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n');
    assert.throws(() => inspectModel(file), userError(file, /Git LFS pointer/));
  });

  test('an empty file, a folder, a missing file', () => {
    const dir = freshDir();
    const empty = path.join(dir, 'empty.onnx');
    fs.writeFileSync(empty, '');
    assert.throws(() => inspectModel(empty), userError(empty, /the file is empty/));
    assert.throws(() => inspectModel(dir), userError(dir, /is a folder/));
    const missing = path.join(dir, 'nope.onnx');
    assert.throws(() => inspectModel(missing), userError(missing, /no such file/));
  });

  test('a protobuf that is not a model (no graph)', () => {
    const file = path.join(freshDir(), 'other.onnx');
    fs.writeFileSync(file, Uint8Array.of(0x08, 0x07, 0x12, 0x02, 0x68, 0x69));
    assert.throws(() => inspectModel(file), userError(file, /has no graph/));
  });
});
