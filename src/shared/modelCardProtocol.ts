// The model card's messages between the extension (host) and its webview,
// declared once and imported by both sides. Discriminated unions on `type`;
// both dispatchers switch exhaustively. The host sends nothing before the
// webview says `ready`; it then sends the whole card, and again after every
// action that changes it (the card is small: whole snapshots keep it simple).
import type { ModelInspection } from '../core/models/inspect';
import type { ParityReport } from '../core/models/parity';
import type { SmokeReport } from '../core/models/smoke';
import type { ModelVersion } from '../core/registry/types';
import type { ModelResults } from './protocol';
import type { Wired } from './wireNumbers';

export const MODEL_CARD_VIEW_TYPE = 'runlens.modelCard';
export const MODEL_CARD_PROTOCOL_VERSION = 1;

export type InspectionWire = Wired<ModelInspection>;
export type SmokeWire = Wired<SmokeReport>;
export type ParityWire = Wired<ParityReport>;

export interface ModelCardData {
  path: string;
  /** null when the file cannot be inspected; `inspectionError` says why. */
  inspection: InspectionWire | null;
  inspectionError: string | null;
  smoke: SmokeWire | null;
  parity: ParityWire | null;
  golden: ModelResults['golden'];
  /** Registered versions made from this file (same path or same bytes). */
  versions: Wired<ModelVersion>[];
}

/** What the card's buttons ask for; each runs the same command as the Models view's context menu. */
export type CardAction = 'runSmoke' | 'checkParity' | 'saveGolden';

export type ModelCardHostMessage =
  | { type: 'card'; card: ModelCardData }
  /** An action started (`action` set) or finished (`action` null). */
  | { type: 'busy'; action: CardAction | null }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string };

export type ModelCardWebviewMessage = { type: 'ready'; protocolVersion: number } | { type: CardAction };

const CARD_ACTIONS: readonly string[] = ['runSmoke', 'checkParity', 'saveGolden'] satisfies CardAction[];

/** Checks a message that claims to come from the webview; the host acts only on the declared shapes. */
export function parseModelCardMessage(m: unknown): ModelCardWebviewMessage | undefined {
  if (typeof m !== 'object' || m === null || typeof (m as { type?: unknown }).type !== 'string') return undefined;
  const message = m as { type: string; protocolVersion?: unknown };
  if (message.type === 'ready') return typeof message.protocolVersion === 'number' ? { type: 'ready', protocolVersion: message.protocolVersion } : undefined;
  return CARD_ACTIONS.includes(message.type) ? { type: message.type as CardAction } : undefined;
}
