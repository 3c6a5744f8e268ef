import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  WarningCollector,
  parseDelimitedTable,
  parseNumberToken,
  parsePythonJson,
  readTextFile,
  splitDelimitedRow,
  splitLines,
} from '../../../src/core/ingest/text';
import { tempRoot, writeTree } from './helpers';

describe('number parsing', () => {
  test('numbers as Python, NumPy, Java and JavaScript print them, non-finite ones included', () => {
    const cases: Array<[string, number]> = [
      ['0.55454545346173378', 0.55454545346173378],
      ['9.999999747378752e-05', 9.999999747378752e-5],
      ['1E+3', 1000],
      ['-.5', -0.5],
      ['+2.', 2],
      [' 7 ', 7],
      ['nan', NaN],
      ['NaN', NaN],
      ['-nan', NaN],
      ['inf', Infinity],
      ['+inf', Infinity],
      ['-inf', -Infinity],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['INF', Infinity],
    ];
    for (const [text, expected] of cases) assert.ok(Object.is(parseNumberToken(text), expected), `${text} → ${parseNumberToken(text)}`);
  });

  test('anything else is not a number, including what Number() would accept', () => {
    for (const text of ['', '   ', '0x10', '1_000', 'tensor(0.5)', '1.2.3', 'e5', 'nanx', 'None', '0b1', '1e', '--1']) {
      assert.equal(parseNumberToken(text), undefined, JSON.stringify(text));
    }
  });
});

describe('lines and rows', () => {
  test('LF, CRLF and CR split alike; the last line without a break is marked unterminated', () => {
    assert.deepEqual(splitLines('a\r\nb\nc\rd'), [
      { text: 'a', lineNumber: 1, terminated: true },
      { text: 'b', lineNumber: 2, terminated: true },
      { text: 'c', lineNumber: 3, terminated: true },
      { text: 'd', lineNumber: 4, terminated: false },
    ]);
    assert.deepEqual(splitLines('a\n'), [{ text: 'a', lineNumber: 1, terminated: true }]);
    assert.deepEqual(splitLines(''), []);
  });

  test('quoted fields as Python csv writes them', () => {
    assert.deepEqual(splitDelimitedRow('1,"[0.1, 0.2]","say ""hi""",', ','), ['1', '[0.1, 0.2]', 'say "hi"', '']);
    assert.deepEqual(splitDelimitedRow('a\tb', '\t'), ['a', 'b']);
  });

  test('a table reports rows with the wrong field count, except a last row still being written', () => {
    const warnings = new WarningCollector();
    const table = parseDelimitedTable('a,b\n1,2\n3\n\n4,5\n6', ',', 'f.csv', warnings);
    assert.deepEqual(table?.header, ['a', 'b']);
    assert.deepEqual(table?.rows.map((r) => [r.cells, r.lineNumber]), [[['1', '2'], 2], [['4', '5'], 5]]);
    assert.deepEqual(warnings.list(), [{ file: 'f.csv', message: 'line 3: expected 2 fields like the header, found 1; row skipped' }]);
  });

  test('reading a file drops a byte-order mark', async () => {
    const root = tempRoot();
    writeTree(root, { 'bom.txt': '\uFEFFvalue' });
    assert.equal(await readTextFile(`${root}/bom.txt`), 'value');
  });
});

describe('Python JSON', () => {
  test('NaN and ±Infinity tokens parse outside strings and stay text inside them', () => {
    const parsed = parsePythonJson('{"a": NaN, "b": -Infinity, "c": [Infinity], "d": "NaN and Infinity", "e": "q\\"NaN"}') as Record<string, unknown>;
    assert.ok(Number.isNaN(parsed.a));
    assert.equal(parsed.b, -Infinity);
    assert.deepEqual(parsed.c, [Infinity]);
    assert.equal(parsed.d, 'NaN and Infinity');
    assert.equal(parsed.e, 'q"NaN');
    assert.throws(() => parsePythonJson('{"a": 1,'), SyntaxError);
  });
});

describe('warning collector', () => {
  test('caps one file at the limit and says how many more there were', () => {
    const warnings = new WarningCollector(2);
    for (let i = 1; i <= 5; i++) warnings.addLine('big.csv', i, 'bad');
    warnings.add('other.csv', 'one problem');
    assert.deepEqual(warnings.list(), [
      { file: 'big.csv', message: 'line 1: bad' },
      { file: 'big.csv', message: 'line 2: bad' },
      { file: 'other.csv', message: 'one problem' },
      { file: 'big.csv', message: '3 more problems in this file were not listed' },
    ]);
  });
});
