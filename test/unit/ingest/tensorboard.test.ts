import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { ParsedRun, ParsedSource } from '../../../src/core/ingest/types';
import { discoverTensorBoardSources } from '../../../src/core/ingest/tensorboard/discover';
import { readEventFile } from '../../../src/core/ingest/tensorboard/eventFile';
import { decodeEvent } from '../../../src/core/ingest/tensorboard/events';
import { float16BitsToNumber, numberToFloat16Bits } from '../../../src/core/ingest/tensorboard/float16';
import { tensorboardReader } from '../../../src/core/ingest/tensorboard/reader';
import { frameRecord } from '../../../src/core/ingest/tensorboard/tfrecord';
import {
  DT_DOUBLE,
  DT_FLOAT,
  DT_HALF,
  DT_STRING,
  encodeEvent,
  encodeHParamsSessionStart,
  EventFileWriter,
  eventFileName,
  type ScalarEncoding,
  type TensorStorage,
} from '../../../src/core/ingest/tensorboard/writer';
import { copyCorpus, makeTempDir, readExpected } from '../../support/fixtures';

// --- helpers -------------------------------------------------------------------

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else out.push(full.split(path.sep).join('/'));
  }
  return out.sort();
}

async function readAll(dir: string): Promise<ParsedSource[]> {
  const candidates = await tensorboardReader.discover(listFiles(dir));
  const sources: ParsedSource[] = [];
  for (const candidate of candidates) sources.push(await tensorboardReader.read(candidate));
  return sources;
}

async function readSingleRun(dir: string): Promise<{ source: ParsedSource; run: ParsedRun }> {
  const sources = await readAll(dir);
  assert.equal(sources.length, 1);
  assert.equal(sources[0].experiments.length, 1);
  assert.equal(sources[0].experiments[0].runs.length, 1);
  return { source: sources[0], run: sources[0].experiments[0].runs[0] };
}

function assertSameNumbers(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((v, i) => assert.ok(Object.is(actual[i], v), `${what}[${i}]: got ${actual[i]}, want ${v}`));
}

const f32 = (x: number) => Math.fround(x);

// --- corpus ----------------------------------------------------------------------

interface ExpectedFile {
  name: string;
  bytes: number;
  records: number;
  crc_errors: number;
  trailing_bytes: number;
  file_version: string;
  scalar_tags: Record<string, number>;
  non_scalar_tags: Record<string, number>;
}

interface ExpectedScalar {
  points: number;
  'first(step,value)': [number, number];
  'last(step,value)': [number, number];
  min_step: number;
  max_step: number;
  files: number;
}

type ExpectedCase = Record<string, { files: ExpectedFile[]; scalars_merged: Record<string, ExpectedScalar> }>;

const CORPUS_CASES = ['lightning-lstm-single-file', 'tf1-estimator-simple-value'];

for (const caseName of CORPUS_CASES) {
  test(`corpus ${caseName}: one source whose runs, tags, counts, steps and values match expected.json`, async (t) => {
    const relative = `logs/tensorboard/${caseName}`;
    const caseDir = copyCorpus(relative);
    const expected = readExpected<ExpectedCase>(relative);
    const allFiles = listFiles(caseDir);

    const candidates = await tensorboardReader.discover(allFiles);
    assert.equal(candidates.length, 1, 'one source per case');
    const expectedEventFiles = Object.entries(expected).flatMap(([runDir, run]) => run.files.map((f) => path.posix.join(caseDir, runDir, f.name)));
    assert.deepEqual([...candidates[0].files].sort(), expectedEventFiles.sort());

    const started = performance.now();
    const source = await tensorboardReader.read(candidates[0]);
    const elapsedMs = performance.now() - started;
    const bytes = Object.values(expected).flatMap((r) => r.files).reduce((sum, f) => sum + f.bytes, 0);
    t.diagnostic(`parsed ${caseName} (${(bytes / 1024).toFixed(0)} KB) in ${elapsedMs.toFixed(1)} ms`);

    assert.equal(source.format, 'tensorboard');
    assert.deepEqual(source.warnings, []);
    assert.equal(source.experiments.length, 1);
    const experiment = source.experiments[0];
    assert.equal(experiment.name, path.posix.basename(source.root));
    const runsByDir = new Map(experiment.runs.map((r) => [path.posix.relative(caseDir, r.path), r]));
    assert.deepEqual([...runsByDir.keys()].sort(), Object.keys(expected).sort());

    for (const [runDir, expectedRun] of Object.entries(expected)) {
      const run = runsByDir.get(runDir)!;
      assert.equal(run.key, path.posix.relative(source.root, run.path));
      assert.equal(run.status, 'unknown');
      assert.deepEqual(Object.keys(run.metrics).sort(), Object.keys(expectedRun.scalars_merged).sort(), `${runDir}: scalar tags`);

      for (const [tag, want] of Object.entries(expectedRun.scalars_merged)) {
        const series = { steps: Array.from(run.metrics[tag].steps), values: Array.from(run.metrics[tag].values), walls: Array.from(run.metrics[tag].walls) };
        const n = series.steps.length;
        assert.equal(n, want.points, `${runDir} ${tag}: points`);
        assert.equal(series.values.length, n);
        assert.equal(series.walls.length, n);
        assert.ok(Object.is(series.steps[0], want['first(step,value)'][0]), `${runDir} ${tag}: first step`);
        assert.ok(Object.is(series.values[0], want['first(step,value)'][1]), `${runDir} ${tag}: first value ${series.values[0]}`);
        assert.ok(Object.is(series.steps[n - 1], want['last(step,value)'][0]), `${runDir} ${tag}: last step`);
        assert.ok(Object.is(series.values[n - 1], want['last(step,value)'][1]), `${runDir} ${tag}: last value ${series.values[n - 1]}`);
        assert.equal(Math.min(...series.steps), want.min_step, `${runDir} ${tag}: min step`);
        assert.equal(Math.max(...series.steps), want.max_step, `${runDir} ${tag}: max step`);
        // simple_value is a float32: every value must be one exactly.
        series.values.forEach((v, i) => assert.ok(Object.is(Math.fround(v), v), `${runDir} ${tag}[${i}] is not a float32`));
        series.walls.forEach((w, i) => assert.ok(Number.isFinite(w) && w >= run.startTime!, `${runDir} ${tag} wall[${i}]`));
      }

      for (const file of expectedRun.files) {
        const content = await readEventFile(path.posix.join(caseDir, runDir, file.name));
        assert.equal(content.records, file.records, `${file.name}: records`);
        assert.equal(content.cursor.offset, file.bytes - file.trailing_bytes, `${file.name}: cursor after the last record`);
        assert.equal(content.warnings.length, file.crc_errors, `${file.name}: damage`);
        assert.equal(content.fileVersion, file.file_version);
        const counts = Object.fromEntries([...content.scalars].map(([tag, s]) => [tag, s.values.length]));
        assert.deepEqual(counts, file.scalar_tags, `${file.name}: scalar tags per file`);
        assert.equal(run.startTime === undefined, false);
        for (const described of Object.keys(file.non_scalar_tags)) {
          const tag = described.replace(/ \(.*$/, '');
          assert.ok(!(tag in run.metrics), `${tag} is not a scalar`);
        }
      }
    }
  });
}

test('corpus lightning-lstm-single-file: hparams-plugin session start becomes params equal to hparams.yaml', async () => {
  const caseDir = copyCorpus('logs/tensorboard/lightning-lstm-single-file');
  const { run } = await readSingleRun(caseDir);
  const yamlParams = parseYaml(fs.readFileSync(path.join(caseDir, 'lightning_logs/version_0/hparams.yaml'), 'utf8')) as Record<string, unknown>;
  const want = Object.fromEntries(Object.entries(yamlParams).map(([k, v]) => [k, String(v)]));
  assert.deepEqual(run.params, want);
  assert.equal(run.key, 'version_0');
  assert.equal(run.name, 'version_0');
  // The first event is the file_version one, stamped when the file was created.
  assert.ok(Math.abs(run.startTime! - 1716735746 * 1000) < 1000, `startTime ${run.startTime}`);
});

test('corpus tf1-estimator-simple-value: runs model_dir and model_dir/eval in one source; no params', async () => {
  const caseDir = copyCorpus('logs/tensorboard/tf1-estimator-simple-value');
  const [source] = await readAll(caseDir);
  assert.equal(source.root, caseDir);
  assert.deepEqual(source.experiments[0].runs.map((r) => [r.key, r.name]), [
    ['model_dir', 'model_dir'],
    ['model_dir/eval', 'model_dir/eval'],
  ]);
  for (const run of source.experiments[0].runs) assert.deepEqual(run.params, {});
});

// --- writer -> reader round trips ------------------------------------------------

const SPECIAL_VALUES = [0, -0, 1, -2.5, 0.1, 1 / 3, 1e-45, 3.4028234663852886e38, 1e300, -1e-300, NaN, Infinity, -Infinity, 123456.789];

function expectedAfter(encoding: ScalarEncoding, v: number): number {
  switch (encoding) {
    case 'simple_value':
    case 'tensor':
      return Math.fround(v);
    case 'tensor_double':
      return v;
    case 'tensor_half':
      return float16BitsToNumber(numberToFloat16Bits(v));
  }
}

const ENCODINGS: [ScalarEncoding, TensorStorage][] = [
  ['simple_value', 'content'],
  ['tensor', 'content'],
  ['tensor', 'typed'],
  ['tensor_double', 'content'],
  ['tensor_double', 'typed'],
  ['tensor_half', 'content'],
  ['tensor_half', 'typed'],
];

for (const [encoding, storage] of ENCODINGS) {
  test(`round trip: ${encoding} scalars (${storage}) keep NaN, ±Infinity, -0 and exact values; int64 steps; wall times`, async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'logs', 'run', eventFileName({ timestampSecs: 1_700_000_000, host: 'box', pid: 7 }));
    const writer = new EventFileWriter(file, { tensorStorage: storage });
    writer.fileVersion(1_700_000_000.25);
    const steps = SPECIAL_VALUES.map((_, i) => (i === 3 ? 2 ** 40 : i === 4 ? -5 : i * 10));
    const walls = SPECIAL_VALUES.map((_, i) => 1_700_000_000.5 + i * 0.123456);
    SPECIAL_VALUES.forEach((v, i) => writer.scalar(walls[i], steps[i], 'm/value', v, encoding));
    writer.close();

    const { source, run } = await readSingleRun(dir);
    assert.deepEqual(source.warnings, []);
    assert.equal(source.root, path.join(dir, 'logs'));
    assert.equal(run.key, 'run');
    const series = run.metrics['m/value'];
    assertSameNumbers(series.values, SPECIAL_VALUES.map((v) => expectedAfter(encoding, v)), 'values');
    assertSameNumbers(series.steps, steps, 'steps');
    assertSameNumbers(series.walls, walls.map((w) => w * 1000), 'walls');
    assert.equal(run.startTime, 1_700_000_000.25 * 1000);
  });
}

test('double tensors are not squeezed through float32', async () => {
  const dir = makeTempDir();
  const writer = new EventFileWriter(path.join(dir, 'r', 'events.out.tfevents.1.h'));
  writer.scalar(1, 1, 'x', 0.1, 'tensor_double');
  writer.close();
  const { run } = await readSingleRun(dir);
  assert.ok(Object.is(run.metrics.x.values[0], 0.1));
  assert.notEqual(Math.fround(0.1), 0.1);
});

test('DT_HALF decoding is exact for normals, subnormals, zeros, infinities and NaN', () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x8000, -0],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3c00, 1],
    [0x3c01, 1 + 2 ** -10],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x7e00, NaN],
    [0xfc01, NaN],
  ];
  for (const [bits, want] of cases) assert.ok(Object.is(float16BitsToNumber(bits), want), `0x${bits.toString(16)} -> ${float16BitsToNumber(bits)}`);
});

test('number -> half rounds to nearest, ties to even, overflowing to infinity at 65520', () => {
  const cases: [number, number][] = [
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [-1e9, 0xfc00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
    [3 * 2 ** -26, 0x0001],
    [1 + 2 ** -11, 0x3c00], // tie: even mantissa 0
    [1 + 3 * 2 ** -11, 0x3c02], // tie: even mantissa 2
    [2 ** -14 - 2 ** -25, 0x0400], // rounds up from the subnormal range into the smallest normal
    [-0, 0x8000],
    [Infinity, 0x7c00],
  ];
  for (const [value, bits] of cases) assert.equal(numberToFloat16Bits(value), bits, `${value}`);
  assert.ok(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN))));
  // Every half survives the trip back.
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = float16BitsToNumber(bits);
    if (!Number.isNaN(value)) assert.equal(numberToFloat16Bits(value), bits, `0x${bits.toString(16)}`);
  }
});

test('half tensors from half_val and from tensor_content decode to the same exact values', () => {
  const bitPatterns = [0x0001, 0x3555, 0x7bff, 0xfc00, 0x8000];
  for (const bits of bitPatterns) {
    const content = Buffer.alloc(2);
    content.writeUInt16LE(bits);
    const viaContent = decodeEvent(encodeEvent({ wallTimeSecs: 1, summary: [{ tag: 'h', tensor: { dtype: DT_HALF, shape: [], tensorContent: content } }] }));
    const viaHalfVal = decodeEvent(encodeEvent({ wallTimeSecs: 1, summary: [{ tag: 'h', tensor: { dtype: DT_HALF, shape: [], halfVal: [bits] } }] }));
    assert.ok(Object.is(viaContent.scalars[0].value, float16BitsToNumber(bits)));
    assert.ok(Object.is(viaHalfVal.scalars[0].value, float16BitsToNumber(bits)));
  }
});

test('only single-element float tensors of the scalars plugin (or no plugin) are scalars; payloads are skipped unparsed', () => {
  // Bytes that are not valid protobuf: if the decoder parsed them, it would throw.
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x07]);
  const floatContent = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    return b;
  };
  const event = decodeEvent(
    encodeEvent({
      wallTimeSecs: 10,
      step: 3,
      summary: [
        { tag: 'image', opaque: { fieldNumber: 4, bytes: garbage } },
        { tag: 'histo', opaque: { fieldNumber: 5, bytes: garbage } },
        { tag: 'audio', opaque: { fieldNumber: 6, bytes: garbage } },
        { tag: 'text', tensor: { dtype: DT_STRING, shape: [], stringVal: [Buffer.from('hello')] }, pluginName: 'text' },
        { tag: 'checkpoint_path', tensor: { dtype: DT_STRING, shape: [], stringVal: [Buffer.from('/tmp/model.ckpt-500')] } },
        { tag: 'vector', tensor: { dtype: DT_FLOAT, shape: [3], floatVal: [1, 2, 3] } },
        { tag: 'empty', tensor: { dtype: DT_FLOAT, shape: [] } },
        { tag: 'unknown-dim', tensor: { dtype: DT_FLOAT, shape: [-1], floatVal: [1] } },
        { tag: 'hparams-placeholder', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [0] }, pluginName: 'hparams' },
        { tag: 'other-plugin', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [4] }, pluginName: 'pr_curves', dataClass: 2 },
        { tag: 'shape-1x1', tensor: { dtype: DT_FLOAT, shape: [1, 1], tensorContent: floatContent(0.5) } },
        { tag: 'no-metadata-double', tensor: { dtype: DT_DOUBLE, shape: [], doubleVal: [0.1] } },
        { tag: 'custom-plugin-declared-scalar', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [7] }, pluginName: 'custom', dataClass: 1 },
        { tag: 'simple', simpleValue: -1 },
      ],
    }),
  );
  assert.deepEqual(event.scalars, [
    { tag: 'shape-1x1', value: 0.5 },
    { tag: 'no-metadata-double', value: 0.1 },
    { tag: 'custom-plugin-declared-scalar', value: 7 },
    { tag: 'simple', value: -1 },
  ]);
  assert.equal(event.step, 3);
});

test('graph_def, meta_graph_def and session_log events are skipped by length without being parsed', async () => {
  const dir = makeTempDir();
  const writer = new EventFileWriter(path.join(dir, 'run', 'events.out.tfevents.1.h'));
  const garbage = Buffer.alloc(100_000, 0xff);
  writer.fileVersion(1);
  writer.event({ wallTimeSecs: 2, opaque: { fieldNumber: 4, bytes: garbage } });
  writer.event({ wallTimeSecs: 2, opaque: { fieldNumber: 9, bytes: garbage } });
  writer.event({ wallTimeSecs: 2, opaque: { fieldNumber: 7, bytes: garbage } });
  writer.scalar(3, 1, 'loss', 0.5);
  writer.close();
  const { source, run } = await readSingleRun(dir);
  assert.deepEqual(source.warnings, []);
  assert.deepEqual(Object.keys(run.metrics), ['loss']);
});

test('hparams values render as text: numbers like String(n), booleans, strings, null, lists and structs as JSON', async () => {
  const dir = makeTempDir();
  const writer = new EventFileWriter(path.join(dir, 'run', 'events.out.tfevents.1.h'));
  writer.fileVersion(1);
  writer.hparams(1, {
    lr: 0.001,
    big: 1e21,
    layers: 2,
    nan: NaN,
    use_bn: true,
    dropout_on: false,
    optimizer: 'adam',
    nothing: null,
    sizes: [64, 128],
    nested: { a: 'b', c: [true] },
  });
  writer.close();
  const { run } = await readSingleRun(dir);
  const expected: Record<string, string> = {
    lr: '0.001',
    big: '1e+21',
    layers: '2',
    nan: 'NaN',
    use_bn: 'true',
    dropout_on: 'false',
    optimizer: 'adam',
    nothing: 'null',
    sizes: '[64,128]',
    nested: '{"a":"b","c":[true]}',
  };
  for (const [k, v] of Object.entries(expected)) assert.equal(run.params[k], v, k);
  assert.deepEqual(Object.keys(run.metrics), [], 'an hparams summary carries no scalar');
});

test('an hparams param or a tag named __proto__ is stored as an ordinary key', async () => {
  const dir = makeTempDir();
  const writer = new EventFileWriter(path.join(dir, 'run', 'events.out.tfevents.1.h'));
  const hparams = JSON.parse('{"__proto__": 5, "lr": 0.5}') as Record<string, number>;
  writer.hparams(1, hparams);
  writer.scalar(1, 0, '__proto__', 2);
  writer.close();
  const { run } = await readSingleRun(dir);
  assert.ok(Object.hasOwn(run.params, '__proto__'));
  assert.equal(run.params['__proto__'], '5');
  assert.equal(run.params.lr, '0.5');
  assert.ok(Object.hasOwn(run.metrics, '__proto__'));
  assert.equal(Object.getPrototypeOf(run.metrics), Object.prototype);
});

test('several event files in one run dir merge in file-name order, not in creation order', async () => {
  const dir = makeTempDir();
  const runDir = path.join(dir, 'logs', 'run');
  const later = new EventFileWriter(path.join(runDir, eventFileName({ timestampSecs: 1_700_000_100, host: 'h', pid: 1 })));
  later.fileVersion(1_700_000_100);
  later.scalar(1_700_000_101, 10, 'loss', 0.25);
  later.scalar(1_700_000_102, 11, 'loss', 0.125);
  later.close();
  // Created second, but its name sorts first.
  const earlier = new EventFileWriter(path.join(runDir, eventFileName({ timestampSecs: 1_700_000_000, host: 'h', pid: 1 })));
  earlier.fileVersion(1_700_000_000);
  earlier.scalar(1_700_000_001, 1, 'loss', 1);
  earlier.scalar(1_700_000_002, 2, 'loss', 0.5);
  earlier.close();

  const { run } = await readSingleRun(dir);
  assertSameNumbers(run.metrics.loss.steps, [1, 2, 10, 11], 'steps');
  assertSameNumbers(run.metrics.loss.values, [1, 0.5, 0.25, 0.125], 'values');
  assert.equal(run.startTime, 1_700_000_000_000);
});

test('.v2 files with dots in the host name are found and read (TF2 tensor scalars)', async () => {
  const dir = makeTempDir();
  const name = eventFileName({ timestampSecs: 1_700_000_000, host: 'host.name.example.com', pid: 1234, index: 0, suffix: '.v2' });
  assert.equal(name, 'events.out.tfevents.1700000000.host.name.example.com.1234.0.v2');
  const writer = new EventFileWriter(path.join(dir, 'logs', 'fit', 'train', name));
  writer.fileVersion(1_700_000_000);
  writer.scalar(1_700_000_001, 0, 'epoch_loss', 0.75, 'tensor');
  writer.close();
  const { source, run } = await readSingleRun(dir);
  assert.equal(source.root, path.join(dir, 'logs', 'fit'));
  assert.equal(run.key, 'train');
  assertSameNumbers(run.metrics.epoch_loss.values, [0.75], 'values');
});

test('discovery: nested runs join their outermost run, siblings share their parent, other files are ignored', () => {
  const candidates = discoverTensorBoardSources([
    '/w/a/logs/run1/events.out.tfevents.1.h',
    '/w/a/logs/run1/eval/events.out.tfevents.2.h',
    '/w/a/logs/run2/events.out.tfevents.3.h.v2',
    '/w/a/logs/run2/events.out.tfevents.1.h.v2',
    '/w/a/logs/run2/notes.txt',
    '/w/a/logs/run3/events.out.tfevents', // no timestamp part: not an event file
    '/w/tb_logs/modelA/version_0/events.out.tfevents.4.h',
    '/w/tb_logs/modelB/version_0/events.out.tfevents.5.h',
    '/w/tb_logs/modelB/version_1/events.out.tfevents.6.h',
  ]);
  assert.deepEqual(candidates, [
    {
      format: 'tensorboard',
      root: '/w/a/logs',
      files: ['/w/a/logs/run1/eval/events.out.tfevents.2.h', '/w/a/logs/run1/events.out.tfevents.1.h', '/w/a/logs/run2/events.out.tfevents.1.h.v2', '/w/a/logs/run2/events.out.tfevents.3.h.v2'],
    },
    { format: 'tensorboard', root: '/w/tb_logs/modelA', files: ['/w/tb_logs/modelA/version_0/events.out.tfevents.4.h'] },
    { format: 'tensorboard', root: '/w/tb_logs/modelB', files: ['/w/tb_logs/modelB/version_0/events.out.tfevents.5.h', '/w/tb_logs/modelB/version_1/events.out.tfevents.6.h'] },
  ]);
});

test('read: run keys are relative to the log dir; runs are sorted; the experiment is named after the log dir', async () => {
  const dir = makeTempDir();
  for (const rel of ['logs/run2', 'logs/run1/eval', 'logs/run1']) {
    const w = new EventFileWriter(path.join(dir, rel, 'events.out.tfevents.1.h'));
    w.fileVersion(1);
    w.scalar(2, 1, rel, 1);
    w.close();
  }
  const [source] = await readAll(dir);
  assert.equal(source.root, path.join(dir, 'logs'));
  assert.deepEqual(source.experiments.map((e) => [e.key, e.name, e.lifecycle]), [['logs', 'logs', 'active']]);
  const runs = source.experiments[0].runs;
  assert.deepEqual(runs.map((r) => r.key), ['run1', 'run1/eval', 'run2']);
  assert.deepEqual(runs.map((r) => r.path), ['run1', 'run1/eval', 'run2'].map((r) => path.join(dir, 'logs', r)));
  for (const run of runs) assert.deepEqual(Object.keys(run.metrics), [path.posix.join('logs', run.key)]);
});

test('a truncated last record is not an error; after the rest is appended, reading from the saved cursor gets only it', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'logs', 'run', 'events.out.tfevents.1700000000.h');
  const writer = new EventFileWriter(file);
  writer.fileVersion(1_700_000_000);
  for (let step = 0; step < 3; step++) writer.scalar(1_700_000_000 + step, step, 'loss', 1 / (step + 1));
  const pending = frameRecord(encodeEvent({ wallTimeSecs: 1_700_000_010, step: 3, summary: [{ tag: 'loss', simpleValue: 0.2 }] }));
  const splitAt = 21; // inside the data: the header alone is 12 bytes
  writer.raw(pending.subarray(0, splitAt));

  const { source, run } = await readSingleRun(dir);
  assert.deepEqual(source.warnings, []);
  assertSameNumbers(run.metrics.loss.values, [1, 0.5, f32(1 / 3)], 'values before the append');

  const first = await readEventFile(file);
  assert.deepEqual(first.warnings, []);
  assert.equal(first.cursor.offset, fs.statSync(file).size - splitAt);

  writer.raw(pending.subarray(splitAt));
  writer.close();
  const rest = await readEventFile(file, first.cursor);
  assert.deepEqual(rest.warnings, []);
  assert.equal(rest.records, 1);
  assertSameNumbers(rest.scalars.get('loss')!.values, [f32(0.2)], 'appended value');
  assertSameNumbers(rest.scalars.get('loss')!.steps, [3], 'appended step');
  assert.equal(rest.cursor.offset, fs.statSync(file).size);

  const full = await readSingleRun(dir);
  assertSameNumbers(full.run.metrics.loss.values, [1, 0.5, f32(1 / 3), f32(0.2)], 'values after the append');
});

test('a damaged byte in the middle is a warning naming the file and byte offset; everything before and after is kept', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'logs', 'run', 'events.out.tfevents.1700000000.h');
  const writer = new EventFileWriter(file);
  writer.fileVersion(1_700_000_000);
  const offsets: number[] = [];
  for (let step = 0; step < 6; step++) {
    offsets.push(fs.statSync(file).size);
    writer.scalar(1_700_000_000 + step, step, 'loss', step);
  }
  writer.close();
  const original = fs.readFileSync(file);

  for (const [where, byteInRecord] of [
    ['data', 20],
    ['length', 2],
  ] as const) {
    const damaged = Buffer.from(original);
    damaged[offsets[3] + byteInRecord] ^= 0x10;
    fs.writeFileSync(file, damaged);
    const { source, run } = await readSingleRun(dir);
    assertSameNumbers(run.metrics.loss.steps, [0, 1, 2, 4, 5], `steps with damaged ${where}`);
    assert.equal(source.warnings.length, 1, where);
    assert.equal(source.warnings[0].file, file);
    assert.match(source.warnings[0].message, new RegExp(`byte ${offsets[3]}\\b`), where);
  }
});

test('an undecodable event with a valid checksum is skipped with a warning', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'run', 'events.out.tfevents.1.h');
  const writer = new EventFileWriter(file);
  writer.fileVersion(1);
  const badOffset = fs.statSync(file).size;
  writer.raw(frameRecord(Buffer.from([0x2a, 0xff]))); // field 5, length-delimited, length runs past the end
  writer.scalar(2, 1, 'loss', 3);
  writer.close();
  const { source, run } = await readSingleRun(dir);
  assertSameNumbers(run.metrics.loss.values, [3], 'values');
  assert.equal(source.warnings.length, 1);
  assert.match(source.warnings[0].message, new RegExp(`byte ${badOffset}\\b`));
});

test('a file that disappeared after discovery is a warning, not a failure', async () => {
  const dir = makeTempDir();
  const kept = new EventFileWriter(path.join(dir, 'run', 'events.out.tfevents.1.h'));
  kept.fileVersion(1);
  kept.scalar(1, 1, 'loss', 1);
  kept.close();
  const gone = path.join(dir, 'run', 'events.out.tfevents.2.h').split(path.sep).join('/');
  const [candidate] = await tensorboardReader.discover([...listFiles(dir), gone]);
  const source = await tensorboardReader.read(candidate);
  assert.equal(source.warnings.length, 1);
  assert.equal(source.warnings[0].file, gone);
  assertSameNumbers(source.experiments[0].runs[0].metrics.loss.values, [1], 'values');
});

test('an aborted read rejects', async () => {
  const dir = makeTempDir();
  const w = new EventFileWriter(path.join(dir, 'run', 'events.out.tfevents.1.h'));
  w.fileVersion(1);
  w.close();
  const [candidate] = await tensorboardReader.discover(listFiles(dir));
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(tensorboardReader.read(candidate, controller.signal));
});

test('in-memory writer: toBuffer() is the same bytes a file writer writes', () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'events.out.tfevents.1.h');
  const onDisk = new EventFileWriter(file);
  const inMemory = new EventFileWriter();
  for (const w of [onDisk, inMemory]) {
    w.fileVersion(1);
    w.hparams(1, { lr: 0.1 });
    w.scalar(2, 1, 'a', 0.5, 'tensor');
    w.scalar(2, 1, 'b', 0.5);
  }
  onDisk.close();
  assert.ok(inMemory.toBuffer().equals(fs.readFileSync(file)));
});

test('append mode continues an existing file instead of truncating it', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'run', 'events.out.tfevents.1.h');
  const first = new EventFileWriter(file);
  first.fileVersion(1);
  first.scalar(1, 1, 'loss', 1);
  first.close();
  const second = new EventFileWriter(file, { append: true });
  second.scalar(2, 2, 'loss', 2);
  second.close();
  const { run } = await readSingleRun(dir);
  assertSameNumbers(run.metrics.loss.values, [1, 2], 'values');
  const content = await readEventFile(file);
  assert.equal(content.fileVersion, 'brain.Event:2');
  assert.equal(content.records, 3);
});

test('TF-style hparams summary with a placeholder tensor gives params and no scalar', () => {
  const event = decodeEvent(
    encodeEvent({
      wallTimeSecs: 5,
      summary: [
        {
          tag: '_hparams_/session_start_info',
          tensor: { dtype: DT_FLOAT, shape: [], floatVal: [0] },
          pluginName: 'hparams',
          pluginContent: encodeHParamsSessionStart({ units: 32, activation: 'relu' }, 'group-1', 5),
        },
      ],
    }),
  );
  assert.deepEqual(event.scalars, []);
  assert.deepEqual(event.sessionStart, { hparams: { units: '32', activation: 'relu' }, groupName: 'group-1', startTimeSecs: 5 });
});
