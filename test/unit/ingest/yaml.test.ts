import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { flattenToStrings, flattenToSummaries, parseYamlTolerant } from '../../../src/core/ingest/yaml';

describe('tolerant YAML loader', () => {
  test('Python-specific tags load: objects keep their fields, tuples become lists, names become text', () => {
    const { data, problems } = parseYamlTolerant(
      [
        'hparams: !!python/object:argparse.Namespace',
        '  lr: 0.1',
        '  sizes: !!python/tuple [1, 2]',
        'act: !!python/name:torch.nn.ReLU ""',
        'mod: !!python/module:numpy ""',
        'n: !!python/long "7"',
        'u: !!python/unicode "héllo"',
        'x: !!python/object/new:collections.OrderedDict [[[a, 1]]]',
        'v: !!python/object/apply:torch.torch_version.TorchVersion ["2.1.0"]',
      ].join('\n'),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(data, {
      hparams: { lr: 0.1, sizes: [1, 2] },
      act: 'torch.nn.ReLU',
      mod: 'numpy',
      n: 7,
      u: 'héllo',
      x: [[['a', 1]]],
      v: ['2.1.0'],
    });
  });

  test('numpy scalars dumped by PyYAML decode to their number; an unknown dtype keeps the parts', () => {
    const bytes = Buffer.alloc(4);
    bytes.writeFloatLE(0.5);
    const numpyScalar = (code: string, b64: string): string =>
      [
        '!!python/object/apply:numpy.core.multiarray.scalar',
        '- !!python/object/apply:numpy.dtype',
        `  args: [${code}, false, true]`,
        '  state: !!python/tuple [3, <, null, null, null, -1, -1, 0]',
        `- !!binary "${b64}"`,
      ]
        .map((line, i) => (i === 0 ? line : `  ${line}`))
        .join('\n');
    const { data } = parseYamlTolerant(`a: ${numpyScalar('f4', bytes.toString('base64'))}\nb: ${numpyScalar('c16', 'AAAA')}\n`);
    const result = data as { a: unknown; b: unknown };
    assert.equal(result.a, 0.5);
    assert.ok(Array.isArray(result.b), 'undecodable scalar stays readable as its parts');
  });

  test('anchors, aliases and merge keys resolve; self-references and alias bombs stay bounded', () => {
    const { data } = parseYamlTolerant('base: &b {lr: 0.1, wd: 0}\nrun:\n  <<: *b\n  wd: 0.01\ncopy: *b\n');
    assert.deepEqual(data, { base: { lr: 0.1, wd: 0 }, run: { lr: 0.1, wd: 0.01 }, copy: { lr: 0.1, wd: 0 } });

    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const started = Date.now();
    const bomb = parseYamlTolerant(levels.join('\n'));
    assert.ok(Date.now() - started < 5000, 'an alias bomb does not expand 10^9 nodes');
    assert.ok(bomb.data && typeof bomb.data === 'object');
  });

  test('bad input never throws: syntax errors, binary junk, empty text, several documents', () => {
    for (const text of ['a: [1, 2\nb: {{{', '\u0000\u0001\u0002garbage: : :', '', '   \n', 'key: "unterminated']) {
      const result = parseYamlTolerant(text);
      assert.ok(Array.isArray(result.problems));
    }
    assert.ok(parseYamlTolerant('a: [1, 2\nb: {{{').problems.length > 0);
    assert.match(parseYamlTolerant('a: 1\n---\nb: 2\n').problems[0], /2 YAML documents/);
    assert.equal(parseYamlTolerant('').data, undefined);
  });

  test('keepNumberText keeps numbers as written where JavaScript would print them differently', () => {
    const { data } = parseYamlTolerant('a: 1.0e-05\nb: 0.1\nc: 42\nd: .inf\ne: "1e-3"\n', { keepNumberText: true });
    assert.deepEqual(data, { a: '1.0e-05', b: 0.1, c: 42, d: '.inf', e: '1e-3' });
  });
});

describe('flattening', () => {
  test('nested keys join with "/", lists and empty maps become JSON, null becomes "null"', () => {
    const flat = flattenToStrings({
      cfg: { data: { size: [200, 200], root: 'x' }, empty: {}, none: null, on: true },
      'model/params/total': 5,
      top: 'text',
      weird: [{ a: NaN }],
    });
    assert.deepEqual(flat, {
      'cfg/data/size': '[200,200]',
      'cfg/data/root': 'x',
      'cfg/empty': '{}',
      'cfg/none': 'null',
      'cfg/on': 'true',
      'model/params/total': '5',
      top: 'text',
      weird: '[{"a":"NaN"}]',
    });
    assert.deepEqual(flattenToStrings({}), {});
  });

  test('a collision after flattening is reported and the later value wins', () => {
    const collisions: string[] = [];
    const flat = flattenToStrings({ 'a/b': 1, a: { b: 2 } }, (key) => collisions.push(key));
    assert.deepEqual(flat, { 'a/b': '2' });
    assert.deepEqual(collisions, ['a/b']);
  });

  test('summaries keep numbers (non-finite included) and stringify the rest', () => {
    assert.deepEqual(flattenToSummaries({ a: { b: NaN, c: 'x' }, d: [1], e: -Infinity }), { 'a/b': NaN, 'a/c': 'x', d: '[1]', e: -Infinity });
  });
});
