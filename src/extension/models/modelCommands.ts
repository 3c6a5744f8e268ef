// Model commands: open a model card, run a smoke test, check EP parity, save
// golden outputs (each cancellable, with progress), and pick a model from the
// palette when none was clicked. Results land in the model card.
import * as vscode from 'vscode';
import { goldenPathFor } from '../../core/models/golden';
import { changedShapeOverrides, dynamicShapeDefaults, parseShapeOverrides } from '../../core/models/inputs';
import type { TensorSpec } from '../../core/models/inspect';
import type { ParityWire, SmokeWire } from '../../shared/modelCardProtocol';
import type { ProgressParams, WireModelSummary } from '../../shared/protocol';
import type { AgentClient } from '../agent/agentClient';
import { displayPath } from '../experiments/treeItems';
import { OPEN_MODEL_CARD_PANEL_COMMAND } from './modelCardPanel';
import type { ModelsNode, ModelsTreeProvider } from './modelsTree';

export interface ModelCommandContext {
  agent: AgentClient;
  models: ModelsTreeProvider;
}

async function resolveModel(ctx: ModelCommandContext, node: ModelsNode | vscode.Uri | undefined, title: string): Promise<string | undefined> {
  if (node instanceof vscode.Uri) return node.fsPath;
  if (node && node.kind === 'version') return node.version.filePath;
  if (node && (node.kind === 'model' || node.kind === 'tensor')) return node.model.path;
  const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const { models } = await ctx.agent.request('models/list', { roots });
  if (models.length === 0) {
    void vscode.window.showInformationMessage('RunLens found no .onnx models in this workspace.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    models.map((m: WireModelSummary) => ({ label: displayPath(m.path), description: m.error ?? `opset ${m.opset}`, path: m.path })),
    { title, placeHolder: 'Pick a model' },
  );
  return picked?.path;
}

/** Opens the model's card, or reveals it and shows its latest results. */
async function showCard(modelPath: string): Promise<void> {
  await vscode.commands.executeCommand(OPEN_MODEL_CARD_PANEL_COMMAND, modelPath);
}

/** Runs one agent request under a cancellable notification that shows the agent's progress messages. */
function withAgentProgress<T>(ctx: ModelCommandContext, title: string, work: (token: vscode.CancellationToken) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const sub = ctx.agent.onProgress((p: ProgressParams) => {
      if (p.operation === 'smoke') progress.report({ message: p.message });
    });
    try {
      return await work(token);
    } finally {
      sub.dispose();
    }
  });
}

/**
 * Sizes for the model's open dims, prefilled with its real input names and
 * the sizes the test would use; a model whose inputs are all static is not
 * asked about (''). Returns only what the user changed (the rest the smoke
 * test plans itself, keeping shared symbols consistent); undefined: the
 * user cancelled.
 */
async function askDynamicShapes(ctx: ModelCommandContext, modelPath: string): Promise<string | undefined> {
  let inputs: TensorSpec[] = [];
  try {
    const inspection = (await ctx.agent.request('models/inspect', { path: modelPath })) as { inputs?: TensorSpec[] };
    inputs = Array.isArray(inspection.inputs) ? inspection.inputs : [];
  } catch {
    // A model that cannot be read: the smoke test reports why, in the model card.
    return '';
  }
  const offered = dynamicShapeDefaults(inputs);
  if (offered.value === '' && offered.unshaped.length === 0) return '';
  const unshapedNote = offered.unshaped.length ? ` ${offered.unshaped.join(', ')} declare${offered.unshaped.length === 1 ? 's' : ''} no shape: add NAME=DIMS for ${offered.unshaped.length === 1 ? 'it' : 'them'}.` : '';
  const entered = await vscode.window.showInputBox({
    title: `Smoke test of ${displayPath(modelPath)}: sizes for dynamic dimensions`,
    prompt: `Only inputs with dims the model leaves open are listed. Edit the sizes, or press Enter to use these.${unshapedNote}`,
    value: offered.value,
    validateInput: (text) => {
      try {
        const given = parseShapeOverrides(text);
        const missing = offered.unshaped.filter((name) => !given.has(name) || given.get(name)!.length === 0);
        return missing.length ? `${missing.join(', ')} declare${missing.length === 1 ? 's' : ''} no shape: give ${missing.map((m) => `${m}=DIMS`).join(', ')}` : undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  return entered === undefined ? undefined : changedShapeOverrides(entered, offered.value);
}

export function registerModelCommands(ctx: ModelCommandContext, register: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable): vscode.Disposable[] {
  return [
    register('runlens.refreshModels', () => ctx.models.refresh()),
    register('runlens.openModelCard', async (node?: ModelsNode | vscode.Uri) => {
      const modelPath = await resolveModel(ctx, node, 'Open Model Card');
      if (modelPath) await showCard(modelPath);
    }),
    // `options` lets scripts and tests skip the shape prompt.
    register('runlens.runSmokeTest', async (node?: ModelsNode | vscode.Uri, options?: { shapes?: string }) => {
      const modelPath = await resolveModel(ctx, node, 'Run Smoke Test');
      if (!modelPath) return;
      const shapes = options ? (options.shapes ?? '') : await askDynamicShapes(ctx, modelPath);
      if (shapes === undefined) return;
      // With a golden file beside the model, every smoke test is compared with it.
      const { golden } = await ctx.agent.request('models/results', { path: modelPath });
      const report = await withAgentProgress(ctx, `RunLens: smoke test of ${displayPath(modelPath)}`, async (token) =>
        (await ctx.agent.request('models/smoke', { path: modelPath, shapes: shapes || undefined, golden: golden.exists ? golden.path : undefined }, token)) as SmokeWire,
      );
      ctx.models.refresh();
      await showCard(modelPath);
      const verdict = report.pass ? 'passed' : `failed: ${report.problems[0] ?? 'see the model card'}`;
      void (report.pass ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(`RunLens: smoke test ${verdict}`);
    }),
    register('runlens.checkParity', async (node?: ModelsNode | vscode.Uri) => {
      const modelPath = await resolveModel(ctx, node, 'Check EP Parity');
      if (!modelPath) return;
      const report = await withAgentProgress(ctx, `RunLens: EP parity of ${displayPath(modelPath)}`, async (token) => (await ctx.agent.request('models/parity', { path: modelPath }, token)) as ParityWire);
      await showCard(modelPath);
      const ran = report.candidates.filter((c) => c.status === 'ran').map((c) => c.label);
      const verdict = !report.pass
        ? `differences found: ${report.problems[0]}`
        : ran.length
          ? `${ran.join(', ')} match${ran.length === 1 ? 'es' : ''} CPU within tolerance`
          : `no provider besides CPU could run here (${report.candidates.map((c) => c.label).join(', ') || 'none listed'}); see the model card for why`;
      void (report.pass ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(`RunLens: EP parity ${verdict}`);
    }),
    register('runlens.saveGolden', async (node?: ModelsNode | vscode.Uri) => {
      const modelPath = await resolveModel(ctx, node, 'Save Outputs as Golden');
      if (!modelPath) return;
      const target = goldenPathFor(modelPath);
      const report = await withAgentProgress(ctx, `RunLens: saving golden outputs of ${displayPath(modelPath)}`, async (token) =>
        (await ctx.agent.request('models/smoke', { path: modelPath, saveGolden: target }, token)) as SmokeWire,
      );
      ctx.models.refresh();
      await showCard(modelPath);
      void vscode.window.showInformationMessage(`RunLens: golden outputs saved to ${displayPath(report.golden.saved ?? target)}; later smoke tests compare with them`);
    }),
  ];
}
