// Model commands: open a model card, run a smoke test (cancellable, with
// progress), and pick a model from the palette when none was clicked.
import * as vscode from 'vscode';
import type { WireModelSummary } from '../../shared/protocol';
import type { AgentClient } from '../agent/agentClient';
import { displayPath } from '../experiments/treeItems';
import { modelCardMarkdown, type InspectionWire, type SmokeWire } from './modelCard';
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

async function showCard(ctx: ModelCommandContext, modelPath: string, smoke: SmokeWire | null): Promise<void> {
  const inspection = (await ctx.agent.request('models/inspect', { path: modelPath })) as InspectionWire;
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: modelCardMarkdown(inspection, smoke) });
  await vscode.window.showTextDocument(doc, { preview: true });
}

export function registerModelCommands(ctx: ModelCommandContext, register: (id: string, fn: (...args: never[]) => unknown) => vscode.Disposable): vscode.Disposable[] {
  return [
    register('runlens.refreshModels', () => ctx.models.refresh()),
    register('runlens.openModelCard', async (node?: ModelsNode | vscode.Uri) => {
      const modelPath = await resolveModel(ctx, node, 'Open Model Card');
      if (modelPath) await showCard(ctx, modelPath, null);
    }),
    // `options` lets scripts and tests skip the shape prompt.
    register('runlens.runSmokeTest', async (node?: ModelsNode | vscode.Uri, options?: { shapes?: string }) => {
      const modelPath = await resolveModel(ctx, node, 'Run Smoke Test');
      if (!modelPath) return;
      const shapes = options ? (options.shapes ?? '') : await vscode.window.showInputBox({
        title: 'Smoke test: input shapes',
        prompt: 'Optional: sizes for dynamic dimensions, e.g. x=1x3x224x224 (empty: sensible defaults, shown in the report)',
        placeHolder: 'name=1x3x224x224,other=1x512',
      });
      if (shapes === undefined) return;
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `RunLens: smoke test of ${displayPath(modelPath)}`, cancellable: true },
        async (progress, token) => {
          const sub = ctx.agent.onProgress((p) => {
            if (p.operation === 'smoke') progress.report({ message: p.message });
          });
          try {
            return (await ctx.agent.request('models/smoke', { path: modelPath, shapes: shapes || undefined }, token)) as SmokeWire;
          } finally {
            sub.dispose();
          }
        },
      );
      ctx.models.refresh();
      await showCard(ctx, modelPath, report);
      const verdict = report.pass ? 'passed' : `failed: ${report.problems[0] ?? 'see the model card'}`;
      void (report.pass ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(`RunLens: smoke test ${verdict}`);
    }),
  ];
}
