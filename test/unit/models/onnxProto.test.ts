// The wire-level decoder on models built byte by byte: every field it reads,
// both encodings of repeated scalars, and malformed bytes that must end in a
// ProtoDecodeError (with an offset), never in another exception.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Writer } from 'protobufjs/minimal';
import { decodeModel, ProtoDecodeError } from '../../../src/core/models/onnxProto';
import { buildModel, endlessLoopModel, externalDataModel, FLOAT, INT64 } from './onnxBuilder';

describe('decodeModel', () => {
  test('reads header fields, opsets, metadata, inputs with fixed, symbolic and unknown dims', () => {
    const model = decodeModel(
      buildModel({
        irVersion: 9,
        producerName: ' ',
        producerVersion: '1.0',
        opsets: [
          { domain: '', version: 17 },
          { domain: 'com.microsoft', version: 1 },
        ],
        metadata: { author: 'runlens', license: 'MIT' },
        graph: {
          name: 'g',
          nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
          inputs: [{ name: 'x', elemType: FLOAT, shape: ['batch', 3, null] }],
          outputs: [{ name: 'y', elemType: FLOAT, shape: null }],
        },
      }),
    );
    assert.equal(model.irVersion, 9);
    assert.equal(model.producerName, ' ');
    assert.equal(model.producerVersion, '1.0');
    assert.deepEqual(model.opsetImports, [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    assert.deepEqual(model.metadataProps, [
      { key: 'author', value: 'runlens' },
      { key: 'license', value: 'MIT' },
    ]);
    const graph = model.graph!;
    assert.equal(graph.name, 'g');
    assert.deepEqual(
      graph.nodes.map((n) => n.opType),
      ['Relu'],
    );
    assert.deepEqual(graph.inputs[0], { name: 'x', type: { kind: 'tensor', elemType: FLOAT, shape: [{ param: 'batch' }, { value: 3 }, {}] } });
    assert.deepEqual(graph.outputs[0].type, { kind: 'tensor', elemType: FLOAT, shape: null });
  });

  test('external data entries are kept and the payload is not counted as inline bytes', () => {
    const t = decodeModel(externalDataModel('w.bin')).graph!.initializers[0];
    assert.equal(t.name, 'W');
    assert.deepEqual(t.dims, [2]);
    assert.equal(t.inlineBytes, 0);
    assert.deepEqual(t.external, [
      { key: 'location', value: 'w.bin' },
      { key: 'offset', value: '0' },
      { key: 'length', value: '8' },
    ]);
  });

  test('raw_data and typed float_data sizes; dims packed or not', () => {
    const bytes = buildModel({
      irVersion: 8,
      opsets: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        nodes: [],
        initializers: [
          { name: 'raw', dataType: INT64, dims: [3], raw: new Uint8Array(24) },
          { name: 'typed', dataType: FLOAT, dims: [2, 2], floatData: [1, 2, 3, 4] },
        ],
        inputs: [],
        outputs: [],
      },
    });
    const [raw, typed] = decodeModel(bytes).graph!.initializers;
    assert.equal(raw.inlineBytes, 24);
    assert.equal(typed.inlineBytes, 16);
    assert.deepEqual(typed.dims, [2, 2]);

    // The same tensor with dims written one varint each (proto2 style, as tf2onnx does).
    const w = Writer.create();
    w.uint32((7 << 3) | 2).fork();
    w.uint32((5 << 3) | 2).fork();
    w.uint32(1 << 3).int64(4);
    w.uint32(1 << 3).int64(5);
    w.uint32(2 << 3).int64(FLOAT);
    w.ldelim();
    w.ldelim();
    assert.deepEqual(decodeModel(w.finish()).graph!.initializers[0].dims, [4, 5]);
  });

  test('graphs in attributes are decoded as subgraphs', () => {
    const loop = decodeModel(endlessLoopModel()).graph!.nodes[0];
    assert.equal(loop.opType, 'Loop');
    assert.equal(loop.subgraphs.length, 1);
    assert.deepEqual(
      loop.subgraphs[0].nodes.map((n) => n.opType),
      ['Identity', 'Identity'],
    );
  });

  test('every truncation of a model ends in a ProtoDecodeError or a (partial) model, never another error', () => {
    const bytes = endlessLoopModel();
    for (let cut = 0; cut < bytes.length; cut++) {
      try {
        decodeModel(bytes.subarray(0, cut));
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError, `cut at ${cut}: ${String(e)}`);
        assert.ok(e.offset >= 0 && e.offset <= cut, `offset ${e.offset} within the ${cut} bytes`);
      }
    }
  });

  test('flipped bytes never escape as anything but a ProtoDecodeError', () => {
    const original = externalDataModel('weights.bin');
    let state = 7;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Uint8Array.from(original);
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bytes[state % bytes.length] = state >>> 24;
      try {
        decodeModel(bytes);
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError, `trial ${trial}: ${String(e)}`);
      }
    }
  });

  test('group wire types and field number 0 are refused with their offset', () => {
    assert.throws(() => decodeModel(Uint8Array.of(0x08, 0x07, 0x0b)), (e: unknown) => e instanceof ProtoDecodeError && e.offset === 2 && /group start/.test(e.reason));
    assert.throws(() => decodeModel(Uint8Array.of(0x00, 0x01)), (e: unknown) => e instanceof ProtoDecodeError && e.offset === 0);
  });

  test('a wrong wire type for a known field is refused', () => {
    // ir_version (field 1) as a length-delimited field.
    assert.throws(() => decodeModel(Uint8Array.of(0x0a, 0x01, 0x00)), (e: unknown) => e instanceof ProtoDecodeError && /expected a varint field/.test(e.reason));
  });
});
