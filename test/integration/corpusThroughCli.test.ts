// Every case in ../shared/corpus/logs reproduces its expected.json exactly
// (point counts, first/last values, run counts, names, params) through the
// real CLI: `node dist/agent.js export <copy> --json` in a child process, its
// stdout parsed. Cases are discovered, not listed; a case without its log file
// is reported as skipped with the reason. The same checker then runs on the
// readers' in-process output, and the two must agree point for point, so a
// difference introduced by the store or the export shows up here.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { discoverSources } from '../../src/core/ingest/engine';
import { ALL_READERS } from '../../src/core/ingest/registry';
import type { ParsedSource } from '../../src/core/ingest/types';
import { agentScript } from '../support/agentProcess';
import {
  assertExportShape,
  assertMatchesExpected,
  assertSameRuns,
  listCorpusLogCases,
  runsFromExport,
  runsFromParsedSources,
  type CorpusLogCase,
  type RunView,
} from '../support/corpusExpectations';
import { copyCorpus, readExpected } from '../support/fixtures';

// Every copyCorpus/makeTempDir adds a process 'exit' listener (test/support/fixtures.ts); this file makes more than 10 copies.
process.setMaxListeners(100);

function exportThroughCli(dir: string, env: NodeJS.ProcessEnv = process.env): { exported: unknown; stderr: string } {
  const r = spawnSync(process.execPath, [agentScript, 'export', dir, '--json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env });
  assert.equal(r.error, undefined, `spawn: ${r.error?.message}`);
  assert.equal(r.status, 0, `runlens export exited ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace on stderr');
  return { exported: JSON.parse(r.stdout), stderr: r.stderr };
}

async function readInProcess(dir: string): Promise<ParsedSource[]> {
  const { candidates, warnings } = await discoverSources(ALL_READERS, dir);
  assert.deepEqual(warnings, [], 'discovery warnings');
  const sources: ParsedSource[] = [];
  for (const candidate of candidates) sources.push(await ALL_READERS.find((r) => r.format === candidate.format)!.read(candidate));
  return sources;
}

const cases = listCorpusLogCases();

test('the corpus has log cases to check, in every format RunLens reads', () => {
  assert.ok(cases.length >= 5, `found ${cases.length} cases`);
  const formats = new Set(cases.filter((c) => !c.skipReason).map((c) => c.format));
  for (const format of ['mlflow', 'tensorboard', 'lightning', 'keras', 'dvclive']) assert.ok(formats.has(format), `a checkable ${format} case`);
});

describe('every corpus case through `runlens export --json`', () => {
  for (const corpusCase of cases) {
    test(corpusCase.relative, { skip: corpusCase.skipReason ?? false }, async (t) => {
      assert.ok(corpusCase.hasExpectedJson, `${corpusCase.relative} has log files but no expected.json to reproduce`);
      const expected = readExpected(corpusCase.relative);
      const copy = copyCorpus(corpusCase.relative);

      const { exported, stderr } = exportThroughCli(copy);
      assert.equal(stderr.match(/^warning: .*$/gm), null, `a clean corpus case reads without warnings:\n${stderr}`);
      assertExportShape(exported, copy);
      const viaCli = runsFromExport(exported);
      assert.ok(viaCli.length > 0, 'the export found runs');
      await t.test('export reproduces expected.json', () => assertMatchesExpected(corpusCase, expected, viaCli, copy));

      await t.test('the readers in process reproduce expected.json too, and the export equals them point for point', async () => {
        const sources = await readInProcess(copy);
        for (const source of sources) assert.deepEqual(source.warnings, [], `${source.format} ${source.root} warnings`);
        const inProcess = runsFromParsedSources(sources, copy);
        assertMatchesExpected(corpusCase, expected, inProcess, copy);
        assertSameRuns(viaCli, inProcess, 'export vs readers');
      });
      if (corpusCase.format === 'mlflow' || corpusCase.format === 'lightning') {
        await t.test('with every read split in two parts on the parse worker, the export is the same point for point', () => {
          const split = exportThroughCli(copy, { ...process.env, RUNLENS_PARSE_WORKER: 'worker' });
          assert.equal(split.stderr, stderr);
          assertSameRuns(runsFromExport(split.exported), viaCli, 'split vs whole reads');
        });
      }
      checkNothingWritten(corpusCase, copy);
    });
  }
});

/** `export` without --db must leave the folder it reads as it was (no database beside the logs). */
function checkNothingWritten(corpusCase: CorpusLogCase, copy: string): void {
  const listed = (dir: string, prefix = ''): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listed(`${dir}/${e.name}`, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
  const extra = listed(copy).filter((f) => !corpusCase.logFiles.includes(f) && f !== 'EXPECTED.md' && f !== 'expected.json');
  assert.deepEqual(extra, [], 'export wrote nothing into the folder it read');
}

// The checker must be able to fail: a damaged view of a real case is refused.
test('the expected.json checker refuses a run with one point changed, missing, or a NaN for a value', () => {
  const corpusCase = cases.find((c) => c.relative === 'logs/tensorboard/lightning-lstm-single-file' && !c.skipReason) ?? cases.find((c) => c.format === 'tensorboard' && !c.skipReason);
  assert.ok(corpusCase, 'a TensorBoard case');
  const copy = copyCorpus(corpusCase.relative);
  const expected = readExpected(corpusCase.relative);
  const good = runsFromExport(exportThroughCli(copy).exported);
  assertMatchesExpected(corpusCase, expected, good, copy);

  const clone = (): RunView[] => structuredClone(good);
  const damaged: Array<[string, (runs: RunView[]) => void]> = [
    ['last value off by one ulp', (runs) => {
      const s = Object.values(runs[0].metrics)[0];
      s.values[s.values.length - 1] = s.values[s.values.length - 1] + Number.EPSILON * Math.max(1, Math.abs(s.values[s.values.length - 1]));
    }],
    ['first point dropped', (runs) => {
      const s = Object.values(runs[0].metrics)[0];
      s.steps.shift();
      s.values.shift();
      s.walls.shift();
    }],
    ['a run missing', (runs) => runs.pop()],
    ['a param changed', (runs) => (runs[0].params = { ...runs[0].params, extra: '1' })],
    ['first value NaN', (runs) => (Object.values(runs[0].metrics)[0].values[0] = NaN)],
  ];
  for (const [what, damage] of damaged) {
    const runs = clone();
    damage(runs);
    assert.throws(() => assertMatchesExpected(corpusCase, expected, runs, copy), assert.AssertionError, `checker accepted: ${what}`);
  }
});

test('the export shape check refuses what README rules out', () => {
  const corpusCase = cases.find((c) => c.format === 'keras' && !c.skipReason);
  assert.ok(corpusCase, 'a Keras case');
  const copy = copyCorpus(corpusCase.relative);
  const good = exportThroughCli(copy).exported as { runs: Record<string, unknown>[] };
  assertExportShape(good, copy);
  const damaged: Array<[string, (e: { runs: Record<string, unknown>[] }) => void]> = [
    ['an absolute path', (e) => (e.runs[0].path = `${copy}/${String(e.runs[0].path)}`)],
    ['a backslash path', (e) => (e.runs[0].path = String(e.runs[0].path).replace(/^/, 'sub\\'))],
    ['a Keras segment without #N', (e) => (e.runs[0].path = String(e.runs[0].path).replace(/#\d+$/, ''))],
    ['Keras segments not numbered from 1', (e) => (e.runs[0].path = String(e.runs[0].path).replace(/#\d+$/, '#0'))],
    ['a missing key', (e) => delete e.runs[0].summary],
    ['an extra key', (e) => (e.runs[0].experiment = 'x')],
    ['a point of two numbers', (e) => (Object.values(e.runs[0].metrics as Record<string, unknown[][]>)[0][0] = [0, 1])],
    ['a wall time as text', (e) => (Object.values(e.runs[0].metrics as Record<string, unknown[][]>)[0][0][2] = '1700000000000')],
    ['null for NaN', (e) => (Object.values(e.runs[0].metrics as Record<string, unknown[][]>)[0][0][1] = null)],
    ['a number param', (e) => (e.runs[0].params = { lr: 0.1 })],
  ];
  for (const [what, damage] of damaged) {
    const exported = structuredClone(good);
    damage(exported);
    assert.throws(() => assertExportShape(exported, copy), assert.AssertionError, `shape check accepted ${what}`);
  }
});

test('non-finite values in a real log come through the export as "NaN", "Infinity", "-Infinity" and decode with Object.is', () => {
  const corpusCase = cases.find((c) => c.format === 'mlflow' && !c.skipReason);
  assert.ok(corpusCase, 'an MLflow case');
  const copy = copyCorpus(corpusCase.relative);
  const metricFile = (function find(dir: string): string | undefined {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        const found = find(full);
        if (found) return found;
      } else if (/\/metrics\/[^/]+$/.test(full)) {
        return full;
      }
    }
    return undefined;
  })(copy);
  assert.ok(metricFile, 'a metric file');
  const text = fs.readFileSync(metricFile, 'utf8');
  const before = text.trimEnd().split('\n').length;
  fs.writeFileSync(metricFile, `${text.trimEnd()}\n1700000000001 nan 900001\n1700000000002 inf 900002\n1700000000003 -inf 900003\n1700000000004 -Infinity 900004\n`);
  const { exported } = exportThroughCli(copy);
  assertExportShape(exported, copy);
  const raw = (exported as { runs: { path: string; metrics: Record<string, unknown[][]> }[] }).runs;
  const key = metricFile.slice(metricFile.indexOf('/metrics/') + '/metrics/'.length);
  const runPath = metricFile.slice(copy.length + 1, metricFile.indexOf('/metrics/'));
  const rows = raw.find((r) => r.path === runPath)!.metrics[key];
  assert.equal(rows.length, before + 4);
  assert.deepEqual(rows.slice(-4).map((r) => r[1]), ['NaN', 'Infinity', '-Infinity', '-Infinity'], 'spelled as README says');
  const series = runsFromExport(exported).find((r) => r.path === runPath)!.metrics[key];
  assert.ok(Object.is(series.values[before], NaN) && Object.is(series.values[before + 1], Infinity) && Object.is(series.values[before + 3], -Infinity));
  assert.deepEqual(series.steps.slice(-4), [900001, 900002, 900003, 900004]);
});
