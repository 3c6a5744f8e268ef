// `runlens inspect` and `runlens smoke` as commands: flags, human tables,
// JSON, exit codes. Called through their Command objects with the CLI's own
// parser (cli.ts registers them; the end-to-end CLI tests cover that wiring).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../src/core/errors';
import { parseArgs } from '../../../src/agent/args';
import type { Command } from '../../../src/agent/command';
import { inspectCommand } from '../../../src/agent/commands/inspect';
import { smokeCommand } from '../../../src/agent/commands/smoke';
import { copyCorpus, makeTempDir } from '../../support/fixtures';

async function run(command: Command, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command.run(parseArgs(argv, command.flags), { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const silero = copyCorpus('models/silero_vad_v5.onnx');
const ppocr = copyCorpus('models/ppocr_mobile_v2_cls.onnx');
const tmp = makeTempDir('runlens-cmd-');

describe('runlens inspect', () => {
  test('prints readable tables: header, inputs, outputs, ops', async () => {
    const r = await run(inspectCommand, [ppocr]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ir version\s+8$/m);
    assert.match(r.stdout, /^producer\s+"" version ""$/m);
    assert.match(r.stdout, /^opset\s+ai\.onnx 9$/m);
    assert.match(r.stdout, /^NAME\s+DTYPE\s+SHAPE$/m);
    assert.match(r.stdout, /^x\s+float32\s+\[p2o\.DynamicDimension\.0, 3, p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2\]$/m);
    assert.match(r.stdout, /^softmax_0\.tmp_0\s+float32\s+\[p2o\.DynamicDimension\.3, 2\]$/m);
    assert.match(r.stdout, /^Conv\s+53$/m);
  });

  test('--json is the full inspection', async () => {
    const r = await run(inspectCommand, [silero, '--json']);
    assert.equal(r.code, 0);
    const m = JSON.parse(r.stdout) as { nodes: { topLevel: number }; inputs: { name: string; shape: unknown[] }[]; opset: number };
    assert.equal(m.nodes.topLevel, 5);
    assert.equal(m.opset, 16);
    assert.deepEqual(m.inputs[2], { name: 'sr', dtype: 'int64', elemType: 7, kind: 'tensor', shape: [] });
  });

  test('no model, or a bad one, is a user error', async () => {
    await assert.rejects(run(inspectCommand, []), (e: unknown) => isUserError(e) && /needs a MODEL/.test(e.message));
    const text = path.join(tmp, 'readme.onnx');
    fs.writeFileSync(text, '# not a model\n');
    await assert.rejects(run(inspectCommand, [text]), (e: unknown) => isUserError(e) && e.message.includes(text));
  });
});

describe('runlens smoke', () => {
  test('prints a report and exits 0 when every check passes', async () => {
    const r = await run(smokeCommand, [ppocr, '--runs', '3', '--warmup', '1', '--shape', 'x=1x3x48x192', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ran on\s+cpu$/m);
    assert.match(r.stdout, /^P50\s+P95\s+P99\s+MEAN\s+MIN\s+MAX$/m);
    assert.match(r.stdout, /^x\s+float32\s+\[p2o.*\]\s+1x3x48x192\s+LCG uniform \[-1, 1\]/m);
    assert.match(r.stdout, /^BATCH\s+RUNS\s+P50\s+ITEMS\/S/m);
    assert.match(r.stdout, /^softmax_0\.tmp_0\s+float32\s+1x2\s+0\s+0\s+.*ok$/m);
    assert.match(r.stdout, /^result: PASS$/m);
  });

  test('--save-golden then --golden passes; another --seed fails with exit 1', async () => {
    const golden = path.join(tmp, 'silero.json');
    assert.equal((await run(smokeCommand, [silero, '--runs', '2', '--save-golden', golden])).code, 0);
    const same = await run(smokeCommand, [silero, '--runs', '2', '--golden', golden, '--json']);
    assert.equal(same.code, 0, same.stderr);
    const report = JSON.parse(same.stdout) as { golden: { comparison: { pass: boolean; outputs: { maxRelDiff: unknown }[] } } };
    assert.equal(report.golden.comparison.pass, true);
    const other = await run(smokeCommand, [silero, '--runs', '2', '--golden', golden, '--seed', '7']);
    assert.equal(other.code, 1);
    assert.match(other.stdout, /golden comparison with .* FAIL/);
    assert.match(other.stderr, /smoke: FAIL: outputs differ from the golden file/);
  });

  test('--ep cuda without the CUDA provider runs on CPU and warns in plain words', async () => {
    const r = await run(smokeCommand, [silero, '--runs', '2', '--ep', 'cuda']);
    assert.equal(r.code, 0);
    if (!/requested cuda/.test(r.stdout)) return; // a machine with the CUDA provider
    assert.match(r.stderr, /warning: ran on CPU instead of cuda: the CUDA execution provider is not installed/);
  });

  test('bad flags are user errors', async () => {
    const cases: [string[], RegExp][] = [
      [[silero, '--ep', 'tpu'], /--ep tpu: expected one of cpu, cuda, webgpu/],
      [[silero, '--runs', '0'], /--runs 0: expected a whole number of at least 1/],
      [[silero, '--warmup', 'x'], /--warmup x/],
      [[silero, '--timeout', '0'], /--timeout must be more than 0/],
      [[silero, '--shape', 'input'], /expected NAME=DIMS/],
      [[], /needs a MODEL/],
    ];
    for (const [argv, pattern] of cases) await assert.rejects(run(smokeCommand, argv), (e: unknown) => isUserError(e) && pattern.test(e.message), argv.join(' '));
  });
});
