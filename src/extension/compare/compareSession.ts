// The host's side of one comparison panel, without vscode: answers the
// webview's messages from the agent, forwards live changes, and hands the
// editor actions (clipboard, save, diff editor) to `CompareActions`. The
// panel wires it to a real webview; the webview tests wire it to headless
// Chromium, so both run this same code.
import type { WireCompareRun } from '../../shared/compareWire';
import { COMPARE_PROTOCOL_VERSION, type HostToWebview, type SeriesChangeForPanel, type WebviewToHost } from '../../shared/comparePanelProtocol';
import type { AgentRequestMethod, RequestParams, RequestResult, WireRunDetail, WireSeriesChange } from '../../shared/protocol';

export type AgentRequester = <M extends AgentRequestMethod>(method: M, params: RequestParams<M>) => Promise<RequestResult<M>>;

export interface CompareActions {
  copyText(format: 'markdown' | 'csv', text: string): Promise<void> | void;
  saveImage(format: 'png' | 'svg', fileName: string, data: string): Promise<void> | void;
  compareCode(base: WireRunDetail, other: WireRunDetail): Promise<string | void> | string | void;
  openRun(run: WireRunDetail): Promise<void> | void;
}

export class CompareSession {
  private ready = false;
  private runs: WireCompareRun[] = [];

  constructor(
    readonly runIds: readonly number[],
    private readonly agent: AgentRequester,
    private readonly post: (message: HostToWebview) => unknown,
    private readonly actions: CompareActions,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async handle(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== COMPARE_PROTOCOL_VERSION) this.log(`compare panel speaks protocol ${message.protocolVersion}, host ${COMPARE_PROTOCOL_VERSION}`);
        this.ready = true;
        await this.sendInit();
        return;
      case 'requestSeries': {
        // The webview may only ask about the runs of its own panel.
        const runIds = message.params.runIds.filter((id) => this.runIds.includes(id));
        await this.answer(message.requestId, async () => ({ type: 'series', requestId: message.requestId, result: await this.agent('series/downsampled', { ...message.params, runIds }) }));
        return;
      }
      case 'requestDivergence': {
        const { baselineRunId, keys } = message.params;
        const runIds = message.params.runIds.filter((id) => this.runIds.includes(id));
        await this.answer(message.requestId, async () => ({
          type: 'divergence',
          requestId: message.requestId,
          baselineRunId,
          results: this.runIds.includes(baselineRunId) ? (await this.agent('compare/divergence', { baselineRunId, runIds, keys })).results : [],
        }));
        return;
      }
      case 'requestSummary': {
        // Stats read every point of a series: after a live change, only the runs that changed.
        const wanted = message.runIds ? this.runIds.filter((id) => message.runIds!.includes(id)) : [...this.runIds];
        const fresh = (await this.agent('compare/summary', { runIds: wanted })).runs;
        const byId = new Map([...this.runs, ...fresh].map((r) => [r.run.id, r]));
        this.runs = this.runIds.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
        this.post({ type: 'summary', runs: this.runs });
        return;
      }
      case 'copyText':
        await this.actions.copyText(message.format, message.text);
        return;
      case 'saveImage':
        await this.actions.saveImage(message.format, message.fileName, message.data);
        return;
      case 'compareCode': {
        const base = this.runs.find((r) => r.run.id === message.baseRunId)?.run;
        const other = this.runs.find((r) => r.run.id === message.otherRunId)?.run;
        if (!base || !other) return;
        const problem = await this.actions.compareCode(base, other);
        if (problem) this.post({ type: 'notice', level: 'warning', message: problem });
        return;
      }
      case 'openRun': {
        const run = this.runs.find((r) => r.run.id === message.runId)?.run;
        if (run) await this.actions.openRun(run);
        return;
      }
      default: {
        const unknown: never = message;
        this.log(`compare panel: unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Live updates from the agent's runs/changed: only this panel's runs, only once the webview listens. */
  onRunsChanged(changes: readonly WireSeriesChange[]): void {
    if (!this.ready) return;
    const mine: SeriesChangeForPanel[] = changes.filter((c) => this.runIds.includes(c.runId)).map((c) => ({ runId: c.runId, key: c.key, newPoints: c.newPoints }));
    if (mine.length) this.post({ type: 'runsChanged', changes: mine });
  }

  /** The webview went away (hidden without retained context); it says ready again when it is back. */
  webviewGone(): void {
    this.ready = false;
  }

  private async sendInit(): Promise<void> {
    try {
      this.runs = (await this.agent('compare/summary', { runIds: [...this.runIds] })).runs;
    } catch (e) {
      this.log(`compare/summary failed: ${(e as Error).message}`);
      this.post({ type: 'notice', level: 'error', message: `Could not load the runs: ${(e as Error).message}` });
      this.runs = [];
    }
    this.post({ type: 'init', runIds: [...this.runIds], runs: this.runs });
  }

  private async answer(requestId: number, work: () => Promise<HostToWebview>): Promise<void> {
    try {
      this.post(await work());
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      this.log(`compare panel request ${requestId} failed: ${message}`);
      this.post({ type: 'requestFailed', requestId, message });
    }
  }
}
