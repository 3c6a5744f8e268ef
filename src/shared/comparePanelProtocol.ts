// The comparison panel's messages between the extension (host) and its
// webview, declared once and imported by both sides. Discriminated unions on
// `type`; both dispatchers switch exhaustively, so a message added here and
// not handled is a compile error. The host sends nothing before the webview
// says `ready` (it may say so again after being hidden and shown).
import { CHART_X_AXES } from './compareWire';
import type { ChartXAxis, DivergenceParams, DownsampledSeriesParams, DownsampledSeriesResult, WireCompareRun, WireDivergence } from './compareWire';

export const COMPARE_VIEW_TYPE = 'runlens.compare';
export const COMPARE_PROTOCOL_VERSION = 1;
export const MAX_COMPARE_RUNS = 50;

export type Direction = 'min' | 'max';

/** Everything the user set in the panel; kept in the webview's state so that a window reload restores it. */
export interface CompareSettings {
  baselineRunId: number | null;
  onlyDifferences: boolean;
  xAxis: ChartXAxis;
  /** EMA weight, 0 (off) to 0.99. */
  smoothing: number;
  logX: boolean;
  logY: boolean;
  ignoreOutliers: boolean;
  /** Regular expression (or plain text when it is not one) on metric keys. */
  filter: string;
  groupByPrefix: boolean;
  /** Per-metric overrides of the guessed direction. */
  directions: Record<string, Direction>;
  hiddenRunIds: number[];
}

export const DEFAULT_SETTINGS: CompareSettings = {
  baselineRunId: null,
  onlyDifferences: false,
  xAxis: 'step',
  smoothing: 0.6,
  logX: false,
  logY: false,
  ignoreOutliers: false,
  filter: '',
  groupByPrefix: true,
  directions: {},
  hiddenRunIds: [],
};

/** What the webview persists with setState; the panel serializer reads `runIds` from it after a reload. */
export interface ComparePanelState {
  runIds: number[];
  settings: CompareSettings;
}

export interface SeriesChangeForPanel {
  runId: number;
  key: string;
  newPoints: number;
}

export type HostToWebview =
  | { type: 'init'; runIds: number[]; runs: WireCompareRun[] }
  | { type: 'summary'; runs: WireCompareRun[] }
  | { type: 'series'; requestId: number; result: DownsampledSeriesResult }
  | { type: 'divergence'; requestId: number; baselineRunId: number; results: WireDivergence[] }
  | { type: 'runsChanged'; changes: SeriesChangeForPanel[] }
  | { type: 'requestFailed'; requestId: number; message: string }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string };

export type WebviewToHost =
  | { type: 'ready'; protocolVersion: number }
  | { type: 'requestSeries'; requestId: number; params: DownsampledSeriesParams }
  | { type: 'requestDivergence'; requestId: number; params: DivergenceParams }
  /** Fresh last/best values after live changes: of these runs only (default: every run of the panel). */
  | { type: 'requestSummary'; runIds?: number[] }
  | { type: 'copyText'; format: 'markdown' | 'csv'; text: string }
  | { type: 'saveImage'; format: 'png' | 'svg'; fileName: string; /** base64 for PNG, the document for SVG */ data: string }
  | { type: 'compareCode'; baseRunId: number; otherRunId: number }
  | { type: 'openRun'; runId: number };

export type HostToWebviewType = HostToWebview['type'];
export type WebviewToHostType = WebviewToHost['type'];

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a message that claims to come from the webview. The webview is our
 * own code, but it renders data from files on disk; the host acts only on
 * messages of the declared shapes.
 */
export function parseWebviewMessage(m: unknown): WebviewToHost | undefined {
  if (!isObj(m) || !isStr(m.type)) return undefined;
  const type = m.type as WebviewToHostType;
  switch (type) {
    case 'ready':
      return isNum(m.protocolVersion) ? { type, protocolVersion: m.protocolVersion } : undefined;
    case 'requestSeries': {
      const p = m.params;
      if (!isNum(m.requestId) || !isObj(p) || !Array.isArray(p.runIds) || !p.runIds.every(isNum) || !isStr(p.key) || !isNum(p.width)) return undefined;
      if (!CHART_X_AXES.includes(p.xAxis as ChartXAxis)) return undefined;
      if ((p.xMin !== undefined && !isNum(p.xMin)) || (p.xMax !== undefined && !isNum(p.xMax))) return undefined;
      if (p.since !== undefined && (!isObj(p.since) || !Object.values(p.since).every(isNum))) return undefined;
      return { type, requestId: m.requestId, params: p as unknown as DownsampledSeriesParams };
    }
    case 'requestDivergence': {
      const p = m.params;
      if (!isNum(m.requestId) || !isObj(p) || !isNum(p.baselineRunId) || !Array.isArray(p.runIds) || !p.runIds.every(isNum)) return undefined;
      if (p.keys !== undefined && !(Array.isArray(p.keys) && p.keys.every(isStr))) return undefined;
      return { type, requestId: m.requestId, params: p as unknown as DivergenceParams };
    }
    case 'requestSummary':
      if (m.runIds === undefined) return { type };
      return Array.isArray(m.runIds) && m.runIds.every(isNum) ? { type, runIds: m.runIds } : undefined;
    case 'copyText':
      return (m.format === 'markdown' || m.format === 'csv') && isStr(m.text) ? { type, format: m.format, text: m.text } : undefined;
    case 'saveImage':
      return (m.format === 'png' || m.format === 'svg') && isStr(m.fileName) && isStr(m.data) ? { type, format: m.format, fileName: m.fileName, data: m.data } : undefined;
    case 'compareCode':
      return isNum(m.baseRunId) && isNum(m.otherRunId) ? { type, baseRunId: m.baseRunId, otherRunId: m.otherRunId } : undefined;
    case 'openRun':
      return isNum(m.runId) ? { type, runId: m.runId } : undefined;
    default: {
      const unknown: never = type;
      void unknown;
      return undefined;
    }
  }
}

/** Run ids from a persisted panel state, whatever shape it came back in. */
export function runIdsFromState(state: unknown): number[] {
  if (!isObj(state) || !Array.isArray(state.runIds)) return [];
  return state.runIds.filter(isNum).slice(0, MAX_COMPARE_RUNS);
}

/** Settings from a persisted state, each field checked and defaulted. */
export function settingsFromState(state: unknown): CompareSettings {
  const s = isObj(state) && isObj(state.settings) ? state.settings : {};
  const bool = (k: keyof CompareSettings) => (typeof s[k] === 'boolean' ? (s[k] as boolean) : (DEFAULT_SETTINGS[k] as boolean));
  const directions: Record<string, Direction> = {};
  if (isObj(s.directions)) for (const [k, v] of Object.entries(s.directions)) if (v === 'min' || v === 'max') directions[k] = v;
  return {
    baselineRunId: isNum(s.baselineRunId) ? s.baselineRunId : null,
    onlyDifferences: bool('onlyDifferences'),
    xAxis: CHART_X_AXES.includes(s.xAxis as ChartXAxis) ? (s.xAxis as ChartXAxis) : 'step',
    smoothing: isNum(s.smoothing) ? Math.min(0.99, Math.max(0, s.smoothing)) : DEFAULT_SETTINGS.smoothing,
    logX: bool('logX'),
    logY: bool('logY'),
    ignoreOutliers: bool('ignoreOutliers'),
    filter: isStr(s.filter) ? s.filter : '',
    groupByPrefix: bool('groupByPrefix'),
    directions,
    hiddenRunIds: Array.isArray(s.hiddenRunIds) ? s.hiddenRunIds.filter(isNum) : [],
  };
}
