// The webview's end of the panel protocol: typed posting, request/answer
// pairing by id, and the persisted state VS Code keeps across reloads.
import type { ComparePanelState, HostToWebview, WebviewToHost } from '../src/shared/comparePanelProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

type Answer = Extract<HostToWebview, { requestId: number }>;
type AnswerOf<T extends Answer['type']> = Extract<HostToWebview, { type: T }>;

export class HostBridge {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Answer) => void; reject: (e: Error) => void }>();

  post(message: WebviewToHost): void {
    this.api.postMessage(message);
  }

  /** Sends a request message and resolves with the host's answer of the matching id. */
  request<T extends 'series' | 'divergence'>(build: (requestId: number) => WebviewToHost): Promise<AnswerOf<T>> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (m: Answer) => void, reject });
      this.post(build(requestId));
    });
  }

  /** Routes answers to their requests; returns false for messages that are not answers. */
  settle(message: HostToWebview): boolean {
    if (!('requestId' in message)) return false;
    const waiting = this.pending.get(message.requestId);
    if (!waiting) return true;
    this.pending.delete(message.requestId);
    if (message.type === 'requestFailed') waiting.reject(new Error(message.message));
    else waiting.resolve(message);
    return true;
  }

  getState(): Partial<ComparePanelState> | undefined {
    return this.api.getState() as Partial<ComparePanelState> | undefined;
  }

  setState(state: ComparePanelState): void {
    this.api.setState(state);
  }
}
