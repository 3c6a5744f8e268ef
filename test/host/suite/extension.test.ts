// The extension in a real VS Code extension host, on the demo workspace plus a
// real MLflow corpus case. Every expectation is read from the log files (or
// the corpus case's expected.json) by test/host/expectations.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AgentState } from '../../../src/extension/agent/agentClient';
import type { RunLensApi } from '../../../src/extension/extension';
import type { ExperimentsNode } from '../../../src/extension/experiments/treeItems';
import type { ModelsNode } from '../../../src/extension/models/modelsTree';
import type { IngestReport } from '../../../src/shared/protocol';
import { formatShort } from '../../../src/shared/numberText';
import { fromWire } from '../../../src/shared/wireNumbers';
import { expectedWorkspace, type ExpectedExperiment, type ExpectedRun } from '../expectations';
import { HOST_MODEL } from '../workspace';
import { hostTestConfig } from './config';

type Node<K extends ExperimentsNode['kind']> = Extract<ExperimentsNode, { kind: K }>;

const EXTENSION_ID = 'runlens.runlens';

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test window has no workspace folder');
  assert.equal(folder.uri.scheme, 'file', `the extension host sees the workspace as ${folder.uri.toString()}`);
  return folder.uri.fsPath;
}

const rel = (root: string, p: string) => path.relative(root, p).split(path.sep).join('/');

function describeExpected(e: ExpectedExperiment): string {
  return `${e.format} ${e.name ?? ''} at ${e.sourceRoot}`;
}

function waitFor<T>(what: string, timeoutMs: number, poll: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const value = await poll();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

/** The open model card of a model file (its tab, in any editor group). */
function modelCardTab(fileName: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('runlens.modelCard') && t.label === `Model: ${fileName}`);
}

describe('RunLens in a real VS Code extension host', function () {
  let api: RunLensApi;
  let root: string;
  let expected: ExpectedExperiment[];

  before(async function () {
    this.timeout(60_000);
    root = workspaceRoot();
    expected = expectedWorkspace(root);
    const extension = vscode.extensions.getExtension<RunLensApi>(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
    api = await extension.activate();
    assert.ok(api && api.ready, 'activate() did not return the RunLens API');
    await api.ready;
  });

  async function experimentNodes(): Promise<Node<'experiment'>[]> {
    const nodes = await api.tree.getChildren();
    return nodes.filter((n): n is Node<'experiment'> => n.kind === 'experiment');
  }

  async function findExperiment(e: ExpectedExperiment): Promise<Node<'experiment'>> {
    const nodes = await experimentNodes();
    const node = nodes.find((n) => n.experiment.format === e.format && rel(root, n.experiment.sourceRoot) === e.sourceRoot && (e.name === undefined || n.experiment.name === e.name));
    assert.ok(
      node,
      `no experiment ${describeExpected(e)} in the tree; it shows: ${nodes.map((n) => `${n.experiment.format} ${n.experiment.name} at ${rel(root, n.experiment.sourceRoot)}`).join('; ')}`,
    );
    return node;
  }

  async function findRun(e: ExpectedExperiment, r: ExpectedRun): Promise<Node<'run'>> {
    const children = await api.tree.getChildren(await findExperiment(e));
    const run = children.find((n): n is Node<'run'> => n.kind === 'run' && (n.run.label ?? n.run.name) === r.name);
    assert.ok(run, `run ${r.name} missing under ${describeExpected(e)}`);
    return run;
  }

  it('activates, and starts the agent on the configured Node and database', function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(extension.isActive, true);
    const state: AgentState = api.agent.currentState;
    assert.equal(state.kind, 'running', `agent state after ready: ${JSON.stringify(state)}`);
    if (state.kind !== 'running') return;
    const config = hostTestConfig();
    assert.equal(state.runtime.path, config.agentNodePath, 'runlens.agent.nodePath was not used');
    assert.equal(path.resolve(state.hello.databasePath), path.resolve(config.databasePath), 'runlens.database.path was not used');
    assert.ok(api.activationMs < 5000, `activate() took ${api.activationMs} ms; it must return at once and start the agent in the background`);
    // For `npm run bench`: activation measured in a real VS Code host.
    if (config.resultsFile) {
      fs.writeFileSync(path.join(path.dirname(config.resultsFile), 'activation.json'), JSON.stringify({ activationMs: api.activationMs, readyMs: api.readyMs ?? null, firstItemsMs: api.firstItemsMs ?? null }));
    }
  });

  it('registers every command that package.json contributes', async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const declared = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(declared.length > 0, 'package.json declares no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      declared.filter((c) => !registered.has(c)),
      [],
      'commands declared in package.json but not registered',
    );
  });

  it("shows the workspace's experiments, with their run counts", async function () {
    assert.ok(expected.length >= 5, `the test workspace should hold at least 5 experiments, expectations found ${expected.length}`);
    for (const e of expected) {
      const node = await findExperiment(e);
      assert.equal(node.experiment.runCount, e.runs.length, `run count of ${describeExpected(e)}`);
      assert.equal(node.experiment.lastError, null, `${describeExpected(e)} has an error: ${node.experiment.lastError}`);
    }
    assert.equal(api.tree.experimentCount, (await api.tree.getChildren()).length);
  });

  it('lists the runs of each experiment by name', async function () {
    for (const e of expected) {
      const children = await api.tree.getChildren(await findExperiment(e));
      assert.ok(!children.some((n) => n.kind === 'more'), `${describeExpected(e)} should fit in one page`);
      const names = children.filter((n): n is Node<'run'> => n.kind === 'run').map((n) => n.run.label ?? n.run.name);
      assert.deepEqual([...names].sort(), e.runs.map((r) => r.name).sort(), `runs of ${describeExpected(e)}`);
    }
  });

  it('expands a run into its metrics, with the exact last values of the files', async function () {
    let checked = 0;
    for (const e of expected) {
      for (const r of e.runs) {
        const runNode = await findRun(e, r);
        const groups = await api.tree.getChildren(runNode);
        const metricsGroup = groups.find((g): g is Node<'group'> => g.kind === 'group' && g.group === 'metrics');
        if (r.metrics.length === 0) {
          assert.equal(metricsGroup, undefined, `${r.name} has no metrics in its files but shows a Metrics group`);
          continue;
        }
        assert.ok(metricsGroup, `${r.name} (${describeExpected(e)}) shows no Metrics group`);
        const metrics = (await api.tree.getChildren(metricsGroup)).filter((n): n is Node<'metric'> => n.kind === 'metric');
        const byKey = new Map(metrics.map((m) => [m.series.key, m]));
        if (r.allKeys) assert.deepEqual([...byKey.keys()].sort(), [...r.allKeys].sort(), `metric keys of ${r.name} (${describeExpected(e)})`);
        for (const m of r.metrics) {
          const node = byKey.get(m.key);
          assert.ok(node, `metric ${m.key} missing from ${r.name} (${describeExpected(e)})`);
          const where = `${describeExpected(e)} / ${r.name} / ${m.key}`;
          assert.equal(fromWire(node.series.lastValue), m.last, `last value of ${where}`);
          assert.equal(fromWire(node.series.lastStep), m.lastStep, `last step of ${where}`);
          const item = api.tree.getTreeItem(node);
          assert.equal(item.label, m.key);
          // Short in the row; the hover has the exact value (a float32 at float32 precision).
          assert.equal(item.description, `${formatShort(m.last)} @ ${formatShort(m.lastStep)}`, `tree item of ${where}`);
          const hover = String(item.tooltip);
          const text = /last (\S+) at step/.exec(hover)?.[1] ?? '';
          const exact = text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
          assert.ok(Object.is(exact, m.last) || exact === m.last || Math.fround(exact) === m.last, `the hover of ${where} names the file's ${m.last}: ${hover}`);
          checked++;
        }
        if (r.params && Object.keys(r.params).length) {
          const paramsGroup = groups.find((g): g is Node<'group'> => g.kind === 'group' && g.group === 'params');
          assert.ok(paramsGroup, `${r.name} shows no Params group`);
          const params = (await api.tree.getChildren(paramsGroup)).filter((n): n is Node<'param'> => n.kind === 'param');
          assert.deepEqual(Object.fromEntries(params.map((p) => [p.key, p.value])), r.params, `params of ${r.name} (${describeExpected(e)})`);
        }
      }
    }
    assert.ok(checked >= 20, `only ${checked} metric values were checked`);
  });

  it('shows each run with the icon of its status', async function () {
    const seen = new Map<string, string>();
    for (const e of expected) {
      for (const r of e.runs) {
        const node = await findRun(e, r);
        const item = api.tree.getTreeItem(node);
        const icon = (item.iconPath as vscode.ThemeIcon).id;
        seen.set(node.run.status, icon);
        const want = { finished: 'pass', failed: 'error', killed: 'circle-slash', scheduled: 'clock' }[node.run.status as string];
        if (want) assert.equal(icon, want, `icon of ${r.name} (${node.run.status})`);
        assert.match(String(item.description), new RegExp(`^(${node.run.status}|running|idle|stale) · `), `description of ${r.name}: ${item.description}`);
        assert.ok(item.tooltip instanceof vscode.MarkdownString && item.tooltip.value.includes(node.run.uid), `tooltip of ${r.name} names its uid`);
      }
    }
    assert.ok(seen.has('failed') && seen.has('finished'), `statuses seen: ${[...seen.keys()].join(', ')}`);
  });

  it('stars and hides a run in RunLens only, leaving the files as they were', async function () {
    const e = expected.find((x) => x.runs.length > 1)!;
    const r = e.runs[0];
    const files = (dir: string): string[] =>
      fs.statSync(dir).isFile() ? [`${dir}:${fs.statSync(dir).size}:${fs.statSync(dir).mtimeMs}`] : fs.readdirSync(dir).flatMap((f) => files(path.join(dir, f)));
    const node = await findRun(e, r);
    const before = files(node.run.path);
    await vscode.commands.executeCommand('runlens.starRun', node);
    const starred = await findRun(e, r);
    assert.equal(starred.run.starred, true);
    assert.match(String(api.tree.getTreeItem(starred).label), /^★ /);
    await vscode.commands.executeCommand('runlens.hideRun', starred);
    const visible = (await api.tree.getChildren(await findExperiment(e))).filter((n): n is Node<'run'> => n.kind === 'run');
    assert.ok(!visible.some((n) => n.run.uid === node.run.uid), 'a hidden run leaves the view');
    await vscode.commands.executeCommand('runlens.toggleHiddenRuns');
    try {
      const shown = await findRun(e, r);
      assert.equal(shown.run.hidden, true);
      assert.match(String(api.tree.getTreeItem(shown).description), /^hidden · /);
      await vscode.commands.executeCommand('runlens.unhideRun', shown);
      await vscode.commands.executeCommand('runlens.unstarRun', shown);
    } finally {
      await vscode.commands.executeCommand('runlens.toggleHiddenRuns');
    }
    const after = await findRun(e, r);
    assert.equal(after.run.starred, false);
    assert.equal(after.run.hidden, false);
    assert.deepEqual(files(node.run.path), before, 'the run\'s files are untouched');
  });

  it('compares two selected runs in the comparison panel, which loads its data from the agent', async function () {
    this.timeout(30_000);
    const e = expected.find((x) => x.runs.length > 1)!;
    const [a, b] = [await findRun(e, e.runs[0]), await findRun(e, e.runs[1])];
    // What the panel asks the agent shows the webview ran: it asks only after its ready handshake.
    const agent = api.agent;
    const original = agent.request.bind(agent);
    const asked: string[] = [];
    agent.request = (async (method: string, params: never, token?: vscode.CancellationToken) => {
      asked.push(method);
      return original(method as never, params, token);
    }) as typeof agent.request;
    try {
      await vscode.commands.executeCommand('runlens.compareRuns', a, [a, b]);
      const tab = await waitFor('the comparison panel', 10_000, () => {
        const t = vscode.window.tabGroups.activeTabGroup.activeTab;
        return t && t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('runlens.compare') ? t : undefined;
      });
      const names = (n: Node<'run'>) => n.run.label ?? n.run.name;
      assert.ok(tab.label.includes(names(a)) && tab.label.includes(names(b)), `panel title: ${tab.label}`);
      await waitFor('the webview to say ready and get its runs', 20_000, () => (asked.includes('compare/summary') ? true : undefined));
      await waitFor('the charts to ask for downsampled series', 20_000, () => (asked.includes('series/downsampled') ? true : undefined));
    } finally {
      agent.request = original;
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('compares two selected runs as text in a diff editor', async function () {
    const e = expected.find((x) => x.runs.length > 1)!;
    const [a, b] = [await findRun(e, e.runs[0]), await findRun(e, e.runs[1])];
    await vscode.commands.executeCommand('runlens.compareRunsAsText', a, [a, b]);
    const tab = await waitFor('a diff editor', 10_000, () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t && t.input instanceof vscode.TabInputTextDiff ? t : undefined;
    });
    assert.ok(tab.label.includes(a.run.name) && tab.label.includes(b.run.name), `diff title: ${tab.label}`);
    const input = tab.input as vscode.TabInputTextDiff;
    const left = (await vscode.workspace.openTextDocument(input.original)).getText();
    assert.ok(left.includes(a.run.name), 'the left side is the first run');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows a new point live when a training process appends to a metric file', async function () {
    this.timeout(30_000);
    const e = expected.find((x) => x.format === 'mlflow' && x.runs.some((r) => r.metrics.length > 0))!;
    const r = e.runs.find((x) => x.metrics.length > 0)!;
    const node = await findRun(e, r);
    const key = r.metrics[0].key;
    const metricFile = path.join(node.run.path, 'metrics', ...key.split('/'));
    assert.ok(fs.existsSync(metricFile), `${metricFile} exists`);
    const step = r.metrics[0].lastStep + 1000;
    fs.appendFileSync(metricFile, `${Date.now()} 0.125 ${step}\n`);
    await waitFor(`${key} to show step ${step}`, 20_000, async () => {
      const groups = await api.tree.getChildren(await findRun(e, r));
      const metricsGroup = groups.find((g): g is Node<'group'> => g.kind === 'group' && g.group === 'metrics')!;
      const metric = (await api.tree.getChildren(metricsGroup)).find((n): n is Node<'metric'> => n.kind === 'metric' && n.series.key === key);
      return metric && fromWire(metric.series.lastStep) === step && fromWire(metric.series.lastValue) === 0.125 ? true : undefined;
    });
  });

  it('lists the workspace model in the Models view and smoke-tests it', async function () {
    this.timeout(90_000);
    const models = await vscode.commands.executeCommand<unknown>('runlens.refreshModels').then(() => api.models.getChildren());
    const node = models.find((n) => n.kind === 'model' && n.model.path.endsWith(HOST_MODEL));
    assert.ok(node && node.kind === 'model', `the Models view lists ${HOST_MODEL}: ${models.map((m) => (m.kind === 'model' ? m.model.path : m.kind)).join(', ')}`);
    assert.equal(node.model.error, null);
    assert.equal(node.model.size, fs.statSync(node.model.path).size);
    const item = api.models.getTreeItem(node);
    assert.match(String(item.description), /opset \d+/);
    const tensors = await api.models.getChildren(node);
    assert.ok(tensors.some((t) => t.kind === 'tensor' && t.direction === 'input' && t.name === 'input:0'), 'the input tensor is listed');
    // No options: BlazeFace's input is fully static ([1,128,128,3]), so the command asks nothing and runs
    // (a shape prompt would wait for an answer until this test times out).
    await vscode.commands.executeCommand('runlens.runSmokeTest', node);
    const modelPath = (node as Extract<ModelsNode, { kind: 'model' }>).model.path;
    const after = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'model' }> => n.kind === 'model' && n.model.path === modelPath)!;
    assert.ok(after.model.lastSmoke?.passed === true, `smoke result kept: ${JSON.stringify(after.model.lastSmoke)}`);
    // The smoke test's result is shown in the model card.
    await waitFor('the model card panel', 10_000, () => modelCardTab(HOST_MODEL));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens the model card webview when a model is selected in the Models view, and it loads its data from the agent', async function () {
    this.timeout(30_000);
    const node = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'model' }> => n.kind === 'model' && n.model.path.endsWith(HOST_MODEL))!;
    // Selecting the item runs its command, with the node as argument.
    const select = api.models.getTreeItem(node).command!;
    const agent = api.agent;
    const original = agent.request.bind(agent);
    const asked: string[] = [];
    agent.request = (async (method: string, params: never, token?: vscode.CancellationToken) => {
      asked.push(method);
      return original(method as never, params, token);
    }) as typeof agent.request;
    try {
      await vscode.commands.executeCommand(select.command, ...(select.arguments ?? []));
      await waitFor('the model card panel', 10_000, () => modelCardTab(HOST_MODEL));
      // The webview says ready, then the host gathers the card: the inspection and the latest results of this file.
      await waitFor('the webview to say ready and get its card', 20_000, () => (asked.includes('models/results') ? true : undefined));
      assert.ok(asked.includes('models/inspect'), `asked: ${asked.join(', ')}`);
    } finally {
      agent.request = original;
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('checks EP parity from the Models view: every other provider is tried and the result is kept for the card', async function () {
    this.timeout(90_000);
    const node = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'model' }> => n.kind === 'model' && n.model.path.endsWith(HOST_MODEL))!;
    await vscode.commands.executeCommand('runlens.checkParity', node);
    await waitFor('the model card panel', 10_000, () => modelCardTab(HOST_MODEL));
    const { parity } = await api.agent.request('models/results', { path: node.model.path });
    const report = parity as { reference: { label: string }; candidates: { label: string; status: string; reason: string | null }[] } | null;
    assert.ok(report, 'the parity check is stored');
    assert.equal(report.reference.label, 'cpu');
    assert.ok(report.candidates.length > 0, 'onnxruntime-node lists providers besides CPU on this platform');
    for (const c of report.candidates) assert.ok(c.status === 'ran' || c.reason, `${c.label}: ${c.status} with a reason when it did not run`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('registers the model, approves it through the policy gate, moves an alias, and the audit log verifies', async function () {
    this.timeout(120_000);
    const models = await api.models.getChildren();
    const file = models.find((n): n is Extract<ModelsNode, { kind: 'model' }> => n.kind === 'model' && n.model.path.endsWith(HOST_MODEL))!;
    // A policy the model meets: a smoke test on the CPU provider (the protocol test covers a blocking one).
    fs.mkdirSync(path.join(root, '.runlens'), { recursive: true });
    fs.writeFileSync(path.join(root, '.runlens', 'policy.json'), JSON.stringify({ version: 1, smokeTest: { executionProviders: ['cpu'], runs: 5, warmup: 1 } }));
    await vscode.commands.executeCommand('runlens.registerModelVersion', file, { name: 'face' });
    const registered = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'registered' }> => n.kind === 'registered' && n.summary.name === 'face');
    assert.ok(registered, 'the Models view shows the registered model');
    const [v1] = (await api.models.getChildren(registered)).filter((n): n is Extract<ModelsNode, { kind: 'version' }> => n.kind === 'version');
    assert.equal(v1.version.state, 'pending');
    assert.equal((api.models.getTreeItem(v1).iconPath as vscode.ThemeIcon).id, 'circle-outline');
    await vscode.commands.executeCommand('runlens.approveModelVersion', v1, { reason: 'smoke test passes on CPU' });
    const view = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.match(view, /# Approve face@1\? All rules pass/);
    assert.match(view, /smoke test passes on cpu/);
    await vscode.commands.executeCommand('runlens.setModelAlias', v1, { alias: 'production' });
    const [approved] = (await api.models.getChildren(registered)).filter((n): n is Extract<ModelsNode, { kind: 'version' }> => n.kind === 'version');
    assert.equal(approved.version.state, 'approved');
    assert.deepEqual(approved.version.aliases, ['production']);
    assert.match(String(api.models.getTreeItem(approved).description), /approved · @production/);
    const verify = await api.agent.request('audit/verify', {});
    assert.equal(verify.ok, true, JSON.stringify(verify.problems));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('pushes the approved version to a real registry and deploys it on a real engine; the Deployments view shows it healthy, metrics open, removal empties the view', async function () {
    this.timeout(150_000);
    const release = hostTestConfig().release;
    assert.ok(release, 'the runner passes the push/deploy targets');
    if ('unavailable' in release) {
      // Only where dockerd cannot run at all (not root, not Linux); CI runs as root.
      this.skip();
      return;
    }
    const versionNode = async () => {
      const registered = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'registered' }> => n.kind === 'registered' && n.summary.name === 'face')!;
      return (await api.models.getChildren(registered)).find((n): n is Extract<ModelsNode, { kind: 'version' }> => n.kind === 'version' && fromWire(n.version.version) === 1)!;
    };
    await vscode.commands.executeCommand('runlens.pushModelVersion', await versionNode(), { target: `${release.registryHost}/host/face` });
    const pushed = await versionNode();
    assert.equal(pushed.version.state, 'pushed', 'the first push moves the version to pushed');
    const manifest = await fetch(`http://${release.registryHost}/v2/host/face/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' }, signal: AbortSignal.timeout(5000) });
    assert.equal(manifest.status, 200, 'the registry holds the tag the command pushed');

    await vscode.commands.executeCommand('runlens.deployModelVersion', pushed, { port: release.port });
    const [deployment] = await api.deployments.getChildren();
    assert.ok(deployment && deployment.kind === 'deployment', 'the Deployments view lists the deployment');
    assert.equal(deployment.name, 'face');
    assert.match(String(api.deployments.getTreeItem(deployment).description), new RegExp(`v1 on 127\\.0\\.0\\.1:${release.port}`));
    const [container] = await api.deployments.getChildren(deployment);
    assert.ok(container.kind === 'container');
    assert.match(String(api.deployments.getTreeItem(container).description), /production · running · healthy/);
    assert.equal((api.deployments.getTreeItem(container).iconPath as vscode.ThemeIcon).id, 'pass-filled');
    assert.equal((await versionNode()).version.state, 'deployed');
    const health = await fetch(`http://127.0.0.1:${release.port}/healthz`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);

    await vscode.commands.executeCommand('runlens.openDeploymentMetrics', container);
    assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /runlens_predict_requests_total/);
    await vscode.commands.executeCommand('runlens.showDeploymentLogs', container);
    await vscode.commands.executeCommand('runlens.removeDeployment', deployment, { confirmed: true });
    assert.deepEqual(await api.deployments.getChildren(), []);
    const verify = await api.agent.request('audit/verify', {});
    assert.equal(verify.ok, true, JSON.stringify(verify.problems));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('compares two registered versions on their source runs in the comparison panel', async function () {
    this.timeout(60_000);
    // Two versions of one model, each saved into the artifacts of a different demo MLflow run.
    const mlflow = expected.find((x) => x.format === 'mlflow' && x.runs.length >= 2 && x.runs.every((r) => r.metrics.length > 0))!;
    const runNodes = [await findRun(mlflow, mlflow.runs[0]), await findRun(mlflow, mlflow.runs[1])];
    const source = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'model' }> => n.kind === 'model' && n.model.path.endsWith(HOST_MODEL))!.model.path;
    for (const runNode of runNodes) {
      const target = path.join(runNode.run.path, 'artifacts', 'clf.onnx');
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(source, target);
      await vscode.commands.executeCommand('runlens.registerModelVersion', vscode.Uri.file(target), { name: 'clf' });
    }
    const clf = (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'registered' }> => n.kind === 'registered' && n.summary.name === 'clf')!;
    const versions = (await api.models.getChildren(clf)).filter((n): n is Extract<ModelsNode, { kind: 'version' }> => n.kind === 'version');
    assert.deepEqual(versions.map((v) => v.version.run?.name).sort(), runNodes.map((r) => r.run.name).sort(), 'each version knows its source run');
    await vscode.commands.executeCommand('runlens.compareModelVersions', clf, { refs: ['clf@1', 'clf@2'] });
    const tab = await waitFor('the comparison panel', 15_000, () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t && t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('runlens.compare') ? t : undefined;
    });
    assert.match(tab.label, /clf@1/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('restarts the agent after it is killed, and the tree answers again', async function () {
    this.timeout(30_000);
    const before = (await experimentNodes()).length;
    const seen: AgentState['kind'][] = [];
    const sub = api.agent.onDidChangeState((s) => seen.push(s.kind));
    try {
      api.agent.killForTest();
      await waitFor('the agent to leave the running state', 5_000, () => (seen.some((k) => k !== 'running') ? true : undefined));
      await waitFor('the agent to run again', 20_000, () => (api.agent.currentState.kind === 'running' ? true : undefined));
    } finally {
      sub.dispose();
    }
    assert.ok(seen.includes('starting'), `states after the kill: ${seen.join(' -> ')}`);
    assert.equal((await experimentNodes()).length, before, 'experiments after the restart');
  });

  it('re-indexes the workspace from the "Re-index Workspace" command', async function () {
    this.timeout(30_000);
    // Record what the command asks the agent and what it answers: the command
    // turns a failure into a notification, so resolving says nothing by itself.
    const agent = api.agent;
    const original = agent.request.bind(agent);
    const reports: IngestReport[] = [];
    const errors: string[] = [];
    agent.request = (async (method: string, params: never, token?: vscode.CancellationToken) => {
      try {
        const result = await original(method as never, params, token);
        // Only the command's forced ingest: live tracking may send its own.
        if (method === 'workspace/ingest' && (params as { force?: boolean }).force === true) reports.push(result as IngestReport);
        return result;
      } catch (e) {
        errors.push(`${method}: ${(e as Error).message}`);
        throw e;
      }
    }) as typeof agent.request;
    try {
      await vscode.commands.executeCommand('runlens.reindexWorkspace');
    } finally {
      agent.request = original;
    }
    assert.deepEqual(errors, [], 'agent requests failed during the re-index');
    assert.equal(reports.length, 1, 'the command should send exactly one forced workspace/ingest');
    const report = reports[0];
    const sources = new Set(expected.map((e) => e.sourceRoot)).size;
    assert.equal(report.cancelled, false);
    assert.equal(report.sourcesUnchanged, 0, 'a forced re-index must re-read every source');
    assert.ok(report.sourcesRead >= sources, `read ${report.sourcesRead} sources, the workspace has at least ${sources}`);
    const runs = expected.reduce((n, e) => n + e.runs.length, 0);
    assert.ok(report.runs >= runs, `indexed ${report.runs} runs, the workspace has at least ${runs}`);
    assert.deepEqual(report.warnings, [], 'warnings while re-indexing');
    assert.equal((await experimentNodes()).length >= expected.length, true);
  });

  it('says in the Deployments view that no Docker engine was found, and how to point RunLens at one', async function () {
    this.timeout(30_000);
    const config = vscode.workspace.getConfiguration('runlens.deploy');
    const nowhere = `unix://${path.join(root, 'no-docker-here.sock')}`;
    // A workspace value: it wins over the test window's User and Machine settings (which name the real engine).
    const hadSettings = fs.existsSync(path.join(root, '.vscode'));
    await config.update('dockerHost', nowhere, vscode.ConfigurationTarget.Workspace);
    try {
      const nodes = await waitFor('the engine row', 10_000, async () => {
        const children = await api.deployments.getChildren();
        return children.some((n) => n.kind === 'engine-problem') ? children : undefined;
      });
      assert.equal(nodes.length, 1, 'nothing but the engine row: no deployment can be listed');
      const item = api.deployments.getTreeItem(nodes[0]);
      assert.equal(item.label, 'No Docker engine found');
      assert.match(String(item.description), new RegExp(`at ${nowhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const tooltip = (item.tooltip as vscode.MarkdownString).value.replace(/\\(.)/g, '$1');
      assert.match(tooltip, /runlens\.deploy\.dockerHost/);
      assert.match(tooltip, /DOCKER_HOST/);
      assert.equal(item.command?.command, 'workbench.action.openSettings', 'a click opens the setting');
    } finally {
      await config.update('dockerHost', undefined, vscode.ConfigurationTarget.Workspace);
      if (!hadSettings) fs.rmSync(path.join(root, '.vscode'), { recursive: true, force: true });
    }
  });

  it('shows hostile names from files as text in every tree item: labels, descriptions and tooltips, no Markdown, no links, no icons', async function () {
    this.timeout(60_000);
    // A training script can name a logger folder, a metric column, a param and a model file anything
    // (but a folder name has no "/"). HTML stays text because no tooltip enables it (supportHtml).
    const HOSTILE = '**bold** [x](command:runlens.refreshModels) $(zap) <img src=x onerror=alert(1)> `c` _i_';
    const dir = path.join(root, 'hostile-names');
    const version = path.join(dir, HOSTILE, 'version_0');
    fs.mkdirSync(version, { recursive: true });
    fs.writeFileSync(path.join(version, 'metrics.csv'), `step,${HOSTILE.replace(/,/g, ';')}\n0,0.5\n1,0.25\n`);
    fs.writeFileSync(path.join(version, 'hparams.yaml'), `"${HOSTILE}": "${HOSTILE}"\n`);
    fs.copyFileSync(path.join(root, 'models', HOST_MODEL), path.join(dir, `${HOSTILE}.onnx`));
    const seen: string[] = [];
    /** Every string an item shows, checked: a MarkdownString must carry the name escaped and grant nothing. */
    const check = (item: vscode.TreeItem, where: string) => {
      const label = typeof item.label === 'string' ? item.label : item.label?.label ?? '';
      seen.push(label, String(item.description ?? ''));
      const tooltip = item.tooltip;
      if (tooltip instanceof vscode.MarkdownString) {
        assert.ok(!tooltip.isTrusted, `${where}: a tooltip with file content must not be trusted`);
        assert.ok(!tooltip.supportHtml, `${where}: no HTML in tooltips`);
        for (const raw of ['**bold**', '](command:', '$(zap)', '`c`', '_i_']) assert.ok(!tooltip.value.includes(raw), `${where}: "${raw}" reaches the Markdown unescaped: ${tooltip.value}`);
        // Unescaped, the tooltip says the name literally.
        const text = tooltip.value.replace(/&nbsp;/g, ' ').replace(/\\(.)/g, '$1');
        seen.push(text);
      } else if (tooltip !== undefined) seen.push(String(tooltip));
    };
    try {
      await vscode.commands.executeCommand('runlens.reindexWorkspace');
      const experiment = await waitFor('the hostile experiment', 20_000, async () => (await experimentNodes()).find((n) => n.experiment.name === HOSTILE));
      check(api.tree.getTreeItem(experiment), 'experiment');
      const [run] = (await api.tree.getChildren(experiment)).filter((n): n is Node<'run'> => n.kind === 'run');
      check(api.tree.getTreeItem(run), 'run');
      for (const group of (await api.tree.getChildren(run)).filter((n): n is Node<'group'> => n.kind === 'group')) {
        check(api.tree.getTreeItem(group), `group ${group.group}`);
        for (const leaf of await api.tree.getChildren(group)) check(api.tree.getTreeItem(leaf), leaf.kind);
      }
      api.models.refresh();
      const model = await waitFor('the hostile model', 20_000, async () =>
        (await api.models.getChildren()).find((n): n is Extract<ModelsNode, { kind: 'model' }> => n.kind === 'model' && n.model.path.endsWith(`${HOSTILE}.onnx`)),
      );
      check(api.models.getTreeItem(model), 'model');
      for (const tensor of await api.models.getChildren(model)) check(api.models.getTreeItem(tensor), 'tensor');
      const literal = HOSTILE.replace(/,/g, ';');
      assert.ok(seen.filter((s) => s.includes(literal)).length >= 5, `the hostile name is shown literally in the items: ${JSON.stringify(seen)}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await vscode.commands.executeCommand('runlens.reindexWorkspace');
      api.models.refresh();
    }
  });
});
