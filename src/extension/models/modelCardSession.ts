// The host side of one model card, free of `vscode` so that the webview tests
// drive the same code against a real agent: gathers the card (inspection,
// latest smoke test and parity check, golden file, registered versions) and
// answers the webview's messages. The buttons' work is done by the actions
// (in VS Code: the same commands as the Models view's context menu).
import { describeError } from '../../core/errors';
import type { CardAction, InspectionWire, ModelCardData, ModelCardHostMessage, ModelCardWebviewMessage, ParityWire, SmokeWire } from '../../shared/modelCardProtocol';
import { MODEL_CARD_PROTOCOL_VERSION } from '../../shared/modelCardProtocol';
import type { AgentRequester } from '../compare/compareSession';

export interface ModelCardActions {
  /** Runs the action to its end (it shows its own progress and may be cancelled); throws to report a failure. */
  run(action: CardAction, modelPath: string): Promise<void>;
}

export async function loadModelCard(modelPath: string, agent: AgentRequester): Promise<ModelCardData> {
  let inspection: InspectionWire | null = null;
  let inspectionError: string | null = null;
  try {
    inspection = (await agent('models/inspect', { path: modelPath })) as InspectionWire;
  } catch (e) {
    inspectionError = describeError(e);
  }
  const results = await agent('models/results', { path: modelPath });
  // Versions made from this file: registered from this path, or the same bytes registered from elsewhere.
  const { models } = await agent('registry/models', {});
  const versions: ModelCardData['versions'] = [];
  for (const m of models) {
    const { versions: all } = await agent('registry/versions', { name: m.name });
    versions.push(...all.filter((v) => v.filePath === modelPath || (inspection !== null && v.sha256 === inspection.sha256)));
  }
  return {
    path: modelPath,
    inspection,
    inspectionError,
    smoke: results.smoke as SmokeWire | null,
    parity: results.parity as ParityWire | null,
    golden: results.golden,
    versions,
  };
}

export class ModelCardSession {
  /** The webview has said `ready` and not gone away since. */
  private listening = false;

  constructor(
    readonly modelPath: string,
    private readonly agent: AgentRequester,
    private readonly post: (message: ModelCardHostMessage) => unknown,
    private readonly actions: ModelCardActions,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async handle(message: ModelCardWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== MODEL_CARD_PROTOCOL_VERSION) this.log(`model card: webview speaks protocol ${message.protocolVersion}, host ${MODEL_CARD_PROTOCOL_VERSION}`);
        this.listening = true;
        await this.refresh();
        return;
      case 'runSmoke':
      case 'checkParity':
      case 'saveGolden':
        await this.perform(message.type);
        return;
      default: {
        const unknown: never = message;
        this.log(`model card: unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Sends the card again (after a smoke test or parity check finished elsewhere, for one). */
  async refresh(): Promise<void> {
    if (!this.listening) return;
    try {
      await this.post({ type: 'card', card: await loadModelCard(this.modelPath, this.agent) });
    } catch (e) {
      await this.post({ type: 'notice', level: 'error', message: `Could not load the model card: ${describeError(e)}` });
    }
  }

  /** Without retained context the webview is torn down when hidden; it says `ready` again when shown. */
  webviewGone(): void {
    this.listening = false;
  }

  private async perform(action: CardAction): Promise<void> {
    await this.post({ type: 'busy', action });
    try {
      await this.actions.run(action, this.modelPath);
    } catch (e) {
      await this.post({ type: 'notice', level: 'error', message: describeError(e) });
    } finally {
      await this.post({ type: 'busy', action: null });
      await this.refresh();
    }
  }
}
