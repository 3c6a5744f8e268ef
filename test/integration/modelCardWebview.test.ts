// The model card webview in real headless Chromium, fed through the real data
// path: a corpus model inspected, smoke-tested, parity-checked and registered
// by the real agent, the host's ModelCardSession gathering that into the card,
// the page rendering it. The buttons are clicked and the actions they ask for
// run against the same agent, and the card shows the new results. One
// screenshot is kept in test-results/.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ParityReport } from '../../src/core/models/parity';
import type { SmokeReport } from '../../src/core/models/smoke';
import type { AgentRequestMethod, RequestParams, RequestResult } from '../../src/shared/protocol';
import { describeSpeedup } from '../../src/shared/speedup';
import type { Wired } from '../../src/shared/wireNumbers';
import { startAgent, type AgentHandle } from '../support/agentProcess';
import { corpusDir, makeTempDir, repoRoot } from '../support/fixtures';
import { CHROMIUM_PATH, launchChromium, type Chromium } from '../webview/harness';
import { assertAccessibleInEveryTheme } from '../webview/a11y';
import { openModelCardHarness, type ModelCardHarness } from '../webview/modelCardHarness';
import { buildModel, FLOAT } from '../unit/models/onnxBuilder';

const skip = fs.existsSync(CHROMIUM_PATH) ? false : `no chromium at ${CHROMIUM_PATH} (install Debian's chromium, or set RUNLENS_CHROMIUM)`;
const quick = { runs: 5, warmup: 1 };
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const HOSTILE_TEXT = '<script>alert(2)</script>';

describe('model card webview in headless Chromium', { skip, timeout: 240_000 }, () => {
  let agent: AgentHandle;
  let chromium: Chromium;
  let card: ModelCardHarness;
  let model: string;
  let smoke: Wired<SmokeReport>;
  let parity: Wired<ParityReport>;
  const asked: AgentRequestMethod[] = [];
  const request = async <M extends AgentRequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> => {
    asked.push(method);
    return (await agent.request(method, params)) as RequestResult<M>;
  };
  const section = (name: string) => card.page.locator(`section[data-section="${name}"]`);
  const cells = (table: string, rowAttr: string, value: string) => card.page.locator(`table.${table} tr[data-${rowAttr}="${value}"] td`).allTextContents();

  before(async () => {
    const workspace = makeTempDir('runlens-card-');
    model = path.join(workspace, 'models', 'silero_vad_v5.onnx');
    fs.mkdirSync(path.dirname(model));
    fs.copyFileSync(path.join(corpusDir(), 'models', 'silero_vad_v5.onnx'), model);
    const home = makeTempDir('runlens-card-home-');
    fs.writeFileSync(path.join(home, '.gitconfig'), '[user]\n\tname = Card Tester\n\temail = card@example.com\n');
    // The registering user comes from git config: give the agent its own.
    process.env.HOME = home;
    process.env.GIT_CONFIG_GLOBAL = path.join(home, '.gitconfig');
    agent = startAgent(path.join(makeTempDir(), 'card.db'));
    smoke = (await agent.request('models/smoke', { path: model, ...quick, saveGolden: path.join(workspace, 'models', 'silero_vad_v5.golden.json') })) as Wired<SmokeReport>;
    parity = (await agent.request('models/parity', { path: model, eps: ['cpu', 'dml'], ...quick })) as Wired<ParityReport>;
    await agent.request('registry/register', { file: model, name: 'vad', workspace });
    chromium = await launchChromium();
    card = await openModelCardHarness(chromium, {
      modelPath: model,
      agent: request,
      perform: async (action) => {
        // What the extension's commands do for each button, against the same agent.
        if (action === 'checkParity') await agent.request('models/parity', { path: model, eps: ['cpu'], ...quick });
        else if (action === 'runSmoke') await agent.request('models/smoke', { path: model, ...quick, golden: path.join(workspace, 'models', 'silero_vad_v5.golden.json') });
        else await agent.request('models/smoke', { path: model, ...quick, saveGolden: path.join(workspace, 'models', 'silero_vad_v5.golden.json') });
      },
    });
    await card.page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
  });

  after(async () => {
    await card?.close();
    await chromium?.close();
    await agent?.stop();
  });

  it('asks the agent only after the ready handshake, and renders without errors', () => {
    assert.deepEqual(asked.slice(0, 2), ['models/inspect', 'models/results']);
    assert.deepEqual(card.pageErrors, []);
  });

  it('shows the inspection: IR, producer, opsets, inputs and outputs with dims, ops from subgraphs', async () => {
    assert.equal(await card.page.locator('h1').textContent(), 'silero_vad_v5.onnx');
    const facts = await section('inspection').locator('dl.facts').textContent();
    assert.match(facts!, /IR version8/);
    assert.match(facts!, /Opsetsai\.onnx 16/);
    assert.match(facts!, /Nodes5 in the main graph/);
    assert.deepEqual(await cells('tensors', 'name', 'input'), ['input', 'float32', '[?, ?]']);
    assert.deepEqual(await cells('tensors', 'name', 'state'), ['state', 'float32', '[2, ?, 128]']);
    assert.deepEqual(await cells('tensors', 'name', 'sr'), ['sr', 'int64', '[]']);
    assert.deepEqual(await cells('tensors', 'name', 'stateN'), ['stateN', 'float32', '[?, ?, ?]']);
    const ops = await section('ops').locator('td:first-child').allTextContents();
    assert.ok(ops.includes('If') && ops.includes('Conv'), `ops from the If subgraphs: ${ops.join(', ')}`);
  });

  it('shows the last smoke test with its latency and the saved golden file', async () => {
    const text = (await section('smoke').textContent())!;
    assert.match(text, /PASS on cpu/);
    assert.ok(text.includes(`p50 ${Number(smoke.latency.p50Ms).toPrecision(3)} ms`), `p50 of the stored report in: ${text}`);
    assert.equal(await section('golden').locator('[data-golden]').getAttribute('data-golden'), 'saved');
  });

  it('shows the parity table: CPU reference, each provider with latency, speedup and diffs; an unavailable one with its reason', async () => {
    const ref = await cells('parity', 'ep', 'cpu');
    assert.equal(ref[0], 'cpu (reference)');
    assert.equal(ref[4], `${Number(parity.reference.timing.latency.p50Ms).toPrecision(3)} ms`);
    const second = card.page.locator('table.parity tbody tr').nth(1).locator('td');
    const texts = await second.allTextContents();
    assert.equal(texts[0], 'cpu');
    assert.equal(texts[1], 'ran');
    assert.equal(texts[5], describeSpeedup(Number(parity.candidates[0].speedup)));
    assert.deepEqual(texts.slice(6), ['0', '0', 'pass'], 'an identical CPU session agrees exactly');
    const dml = await cells('parity', 'ep', 'dml');
    assert.deepEqual([dml[1], dml[8]], ['unavailable', 'unavailable']);
    assert.match((await card.page.locator('[data-reason-for="dml"]').textContent())!, /^dml: this onnxruntime-node build has no dml execution provider .*Windows/);
  });

  it('shows the registered version made from this file', async () => {
    const rows = await section('versions').locator('tbody tr td:first-child').allTextContents();
    assert.deepEqual(rows, ['vad@1']);
  });

  it("meets WCAG AA in VS Code's Light, Dark and High Contrast themes: every text's contrast, and axe-core finds nothing", async () => {
    await assertAccessibleInEveryTheme(card.page, 30);
  });

  it('keeps a screenshot of the card in test-results/', async () => {
    const results = path.join(repoRoot, 'test-results');
    fs.mkdirSync(results, { recursive: true });
    const file = path.join(results, 'webview-model-card.png');
    await card.page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 10_000, 'a real picture, not a blank page');
  });

  it('runs under the strict CSP and loads nothing but its bundle', async () => {
    const csp = await card.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(csp!, /^default-src 'none'; script-src 'nonce-[A-Za-z0-9]+'; style-src http:\/\/127\.0\.0\.1:\d+ 'nonce-/);
    const facts = await card.pageFacts();
    assert.deepEqual(facts.cspViolations, []);
    assert.deepEqual(facts.alerts, []);
    assert.equal(await card.page.locator('script').count(), 2, 'only the shim and the bundle are scripts');
    assert.deepEqual([...new Set(card.requests)].filter((u) => u !== '/favicon.ico').sort(), ['/', '/dist/modelCard.js', '/host-shim.js']);
  });

  it('Check EP Parity posts its message, disables the buttons while it runs, and the card shows the new check', async () => {
    // Every toolbar state the page goes through, recorded in the page (the check may take well under a second).
    await card.page.evaluate(() => {
      const w = window as unknown as { __toolbarStates: string[] };
      w.__toolbarStates = [];
      new MutationObserver(() => {
        const buttons = Array.from(document.querySelectorAll<HTMLElement & { disabled: boolean }>('.toolbar vscode-button'));
        w.__toolbarStates.push(buttons.map((b) => `${b.textContent}${b.disabled ? ' (disabled)' : ''}`).join(' | '));
      }).observe(document.body, { childList: true, subtree: true });
    });
    await card.page.locator('vscode-button[data-action="checkParity"]').click();
    await card.page.waitForFunction(() => document.querySelectorAll('table.parity tbody tr').length === 2, undefined, { timeout: 60_000 });
    assert.deepEqual(card.actions, ['checkParity']);
    assert.equal(await card.page.locator('table.parity tr[data-ep="dml"]').count(), 0, 'the new check compared cpu only');
    const states = await card.page.evaluate(() => (window as unknown as { __toolbarStates: string[] }).__toolbarStates);
    assert.ok(states.includes('Run Smoke Test (disabled) | Check EP Parity… (disabled) | Save as Golden (disabled)'), `busy state shown: ${states.join(' / ')}`);
    assert.equal(states.at(-1), 'Run Smoke Test | Check EP Parity | Save as Golden', 'enabled again');
  });

  it('Run Smoke Test and Save as Golden post theirs; the smoke test compares with the golden file', async () => {
    await card.page.locator('vscode-button[data-action="runSmoke"]').click();
    await card.page.waitForSelector('table.golden-outputs', { timeout: 60_000 });
    assert.match((await section('golden').textContent())!, /Last smoke test against it: PASS/);
    const savedBefore = await section('golden').locator('[data-golden]').textContent();
    await card.page.locator('vscode-button[data-action="saveGolden"]').click();
    await card.page.waitForFunction((before) => document.querySelector('section[data-section="golden"] [data-golden]')?.textContent !== before, savedBefore, { timeout: 60_000 });
    assert.deepEqual(card.actions, ['checkParity', 'runSmoke', 'saveGolden']);
    assert.deepEqual(card.pageErrors, []);
  });

  it('shows tensor names, producer and metadata from a hostile model as text, and no script runs', async () => {
    const file = path.join(makeTempDir('runlens-card-hostile-'), 'hostile.onnx');
    fs.writeFileSync(
      file,
      buildModel({
        irVersion: 8,
        opsets: [{ domain: '', version: 13 }],
        producerName: HOSTILE_TEXT,
        graph: { name: 'g', nodes: [{ opType: 'Identity', inputs: [HOSTILE_NAME], outputs: [HOSTILE_TEXT] }], inputs: [{ name: HOSTILE_NAME, elemType: FLOAT, shape: [1] }], outputs: [{ name: HOSTILE_TEXT, elemType: FLOAT, shape: [1] }] },
        metadata: { [HOSTILE_NAME]: HOSTILE_TEXT },
      }),
    );
    const hostile = await openModelCardHarness(chromium, { modelPath: file, agent: request, perform: async () => undefined });
    try {
      await hostile.page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
      const names = await hostile.page.locator('table.tensors td:first-child').allTextContents();
      assert.deepEqual(names, [HOSTILE_NAME, HOSTILE_TEXT]);
      assert.deepEqual(await hostile.page.locator('table.metadata td').allTextContents(), [HOSTILE_NAME, HOSTILE_TEXT]);
      assert.match((await hostile.page.locator('dl.facts').textContent())!, /Producer"<script>alert\(2\)<\/script>"/);
      assert.equal(await hostile.page.locator('img').count(), 0, 'no <img> element was created');
      assert.equal(await hostile.page.locator('script').count(), 2, 'only the shim and the bundle are scripts');
      const facts = await hostile.pageFacts();
      assert.deepEqual(facts.alerts, []);
      assert.deepEqual(facts.cspViolations, []);
      assert.deepEqual(hostile.pageErrors, []);
    } finally {
      await hostile.close();
    }
  });
});
