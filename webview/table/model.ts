// The summary diff table as data: sections of rows, one cell per run, each
// cell with its text, its highlight and its delta against the baseline. Pure
// (no DOM), so the same model renders the table and the Markdown/CSV copies,
// and is unit-tested.
import { guessDirection, type Direction } from '../../src/core/compare/direction';
import { bestOf, deltaAgainst, type Verdict } from '../../src/core/compare/stats';
import type { WireDivergence } from '../../src/shared/compareWire';
import { formatExact, formatShort } from '../../src/shared/numberText';
import { formatValue } from '../../src/shared/wireNumbers';
import { formatPercent, formatSigned, formatStep } from '../format';
import type { RunView } from '../runs';

export interface TableCell {
  /** What the cell shows: numbers in their short form (numberText.ts). */
  text: string;
  /** The exact value, when `text` shortens it: shown on hover (a float32 at float32 precision). */
  exact?: string;
  /** A number cell's value: the copies write it whole (every bit of the double, as the file gave it). */
  value?: number;
  /** Secondary text (the step of a value). */
  detail?: string;
  delta?: { text: string; verdict: Verdict; absolute: number; relative: number | null };
  /** Differs from the baseline's cell. */
  changed?: boolean;
  missing?: boolean;
}

export type RowKind = 'param' | 'metric-last' | 'metric-best' | 'divergence' | 'summary' | 'tag';

export interface TableRow {
  kind: RowKind;
  key: string;
  /** What the row shows of the key: "last", "best (min)"... */
  field: string;
  direction?: Direction;
  directionKnown?: boolean;
  cells: TableCell[];
  /** Every run shows the same text. */
  same: boolean;
}

export interface TableSection {
  id: 'params' | 'metrics' | 'summaries' | 'tags';
  title: string;
  rows: TableRow[];
  /** Rows left out by "only differences". */
  hiddenSame: number;
}

export interface DiffTable {
  columns: { id: number; name: string; color: string; baseline: boolean }[];
  sections: TableSection[];
  /** "val_loss of B exceeds A from step 12,000", one per divergence found. */
  divergenceSentences: string[];
}

export interface TableOptions {
  baselineId: number;
  onlyDifferences: boolean;
  /** User overrides of the guessed directions. */
  directions: Record<string, Direction>;
  divergences: readonly WireDivergence[];
}

export function effectiveDirection(key: string, overrides: Record<string, Direction>): { direction: Direction; known: boolean } {
  const o = overrides[key];
  return o ? { direction: o, known: true } : guessDirection(key);
}

const MISSING = '—';

export function buildDiffTable(runs: readonly RunView[], options: TableOptions): DiffTable {
  const baseline = runs.find((r) => r.id === options.baselineId) ?? runs[0];
  const columns = runs.map((r) => ({ id: r.id, name: r.name, color: r.color, baseline: r === baseline }));
  const sections: TableSection[] = [];

  sections.push(textSection('params', 'Params', 'param', runs, baseline, (r) => r.detail.params, options.onlyDifferences));

  // Metrics: last and best per key, deltas against the baseline's.
  const metricRows: TableRow[] = [];
  const keys = sortedKeys(runs.flatMap((r) => [...r.stats.keys()]));
  const sentences: string[] = [];
  for (const key of keys) {
    const { direction, known } = effectiveDirection(key, options.directions);
    const base = baseline?.stats.get(key);
    const last: TableCell[] = runs.map((r) => {
      const s = r.stats.get(key);
      if (!s) return { text: MISSING, missing: true };
      const cell: TableCell = { ...numberCell(s.last), detail: `step ${formatStep(s.lastStep)}` };
      if (r !== baseline && base) cell.delta = delta(s.last, base.last, direction);
      return cell;
    });
    const baseBest = base ? bestOf(base, direction) : null;
    const best: TableCell[] = runs.map((r) => {
      const s = r.stats.get(key);
      const b = s ? bestOf(s, direction) : null;
      if (!s) return { text: MISSING, missing: true };
      if (!b) return { text: 'no finite value' };
      const cell: TableCell = { ...numberCell(b.value), detail: `step ${formatStep(b.step)}` };
      if (r !== baseline && baseBest) cell.delta = delta(b.value, baseBest.value, direction);
      return cell;
    });
    metricRows.push({ kind: 'metric-last', key, field: 'last', direction, directionKnown: known, cells: last, same: allSame(last) });
    metricRows.push({ kind: 'metric-best', key, field: `best (${direction})`, direction, directionKnown: known, cells: best, same: allSame(best) });

    const found = options.divergences.filter((d) => d.key === key && d.baselineRunId === baseline?.id);
    if (found.length) {
      const cells: TableCell[] = runs.map((r) => {
        if (r === baseline) return { text: 'baseline' };
        const d = found.find((x) => x.runId === r.id);
        if (d) return { text: `${d.direction} from step ${formatStep(d.step)}`, changed: true };
        return r.stats.has(key) && base ? { text: 'within noise' } : { text: MISSING, missing: true };
      });
      metricRows.push({ kind: 'divergence', key, field: 'diverges', direction, directionKnown: known, cells, same: false });
      for (const d of found) {
        const run = runs.find((r) => r.id === d.runId);
        if (run && baseline) sentences.push(`${key} of ${run.name} ${d.direction === 'above' ? 'exceeds' : 'falls below'} ${baseline.name} from step ${formatStep(d.step)}`);
      }
    }
  }
  sections.push({ id: 'metrics', title: 'Metrics', rows: metricRows, hiddenSame: 0 });

  // Summary values that have no series (final scores, hparams-plugin metrics...).
  const summaryRows: TableRow[] = [];
  let hiddenSummaries = 0;
  for (const key of sortedKeys(runs.flatMap((r) => Object.keys(r.detail.summaries)))) {
    const { direction, known } = effectiveDirection(key, options.directions);
    const baseValue = baseline ? summaryNumber(baseline.detail.summaries[key]) : undefined;
    const cells: TableCell[] = runs.map((r) => {
      const raw = r.detail.summaries[key];
      if (raw === undefined) return { text: MISSING, missing: true, changed: baseline?.detail.summaries[key] !== undefined };
      const value = summaryNumber(raw);
      const cell: TableCell = value === undefined ? { text: String(raw) } : numberCell(value);
      if (r !== baseline && value !== undefined && baseValue !== undefined) cell.delta = delta(value, baseValue, direction);
      else if (r !== baseline && baseline && String(raw) !== String(baseline.detail.summaries[key])) cell.changed = true;
      return cell;
    });
    const same = allSame(cells);
    if (options.onlyDifferences && same && runs.length > 1) {
      hiddenSummaries++;
      continue;
    }
    summaryRows.push({ kind: 'summary', key, field: 'value', direction, directionKnown: known, cells, same });
  }
  sections.push({ id: 'summaries', title: 'Summaries (no series)', rows: summaryRows, hiddenSame: hiddenSummaries });

  sections.push(textSection('tags', 'Tags', 'tag', runs, baseline, (r) => r.detail.tags, options.onlyDifferences));
  return { columns, sections, divergenceSentences: sentences };
}

function textSection(id: 'params' | 'tags', title: string, kind: RowKind, runs: readonly RunView[], baseline: RunView | undefined, values: (r: RunView) => Record<string, string>, onlyDifferences: boolean): TableSection {
  const rows: TableRow[] = [];
  let hidden = 0;
  for (const key of sortedKeys(runs.flatMap((r) => Object.keys(values(r))))) {
    const baseValue = baseline ? values(baseline)[key] : undefined;
    const cells: TableCell[] = runs.map((r) => {
      const v = values(r)[key];
      return v === undefined ? { text: MISSING, missing: true, changed: r !== baseline && baseValue !== undefined } : { text: v, changed: r !== baseline && v !== baseValue };
    });
    const same = allSame(cells);
    if (onlyDifferences && same && runs.length > 1) {
      hidden++;
      continue;
    }
    rows.push({ kind, key, field: 'value', cells, same });
  }
  return { id, title, rows, hiddenSame: hidden };
}

/** A number's cell: short, with the exact form beside it when they differ. */
function numberCell(value: number): TableCell {
  const text = formatShort(value);
  const exact = formatExact(value);
  return exact === text ? { text, value } : { text, exact, value };
}

/** The cell's full text, for copies and sameness: a number's whole double, else the text. */
export function exactText(c: TableCell): string {
  return c.value === undefined ? c.text : formatValue(c.value);
}

function delta(value: number, base: number, direction: Direction): TableCell['delta'] {
  const d = deltaAgainst(value, base, direction);
  const text = d.verdict === 'unknown' ? 'n/a' : `${formatSigned(d.absolute)} (${formatPercent(d.relative)})`;
  return { text, verdict: d.verdict, absolute: d.absolute, relative: d.relative };
}

function summaryNumber(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : undefined;
}

function allSame(cells: readonly TableCell[]): boolean {
  return cells.every((c) => exactText(c) === exactText(cells[0]));
}

function sortedKeys(keys: string[]): string[] {
  return [...new Set(keys)].sort((a, b) => a.localeCompare(b));
}

// ---- copies -----------------------------------------------------------------

const mdCell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function cellText(c: TableCell): string {
  return [exactText(c), c.detail ? `@ ${c.detail}` : '', c.delta ? `(Δ ${c.delta.text}, ${c.delta.verdict})` : ''].filter(Boolean).join(' ');
}

export function tableToMarkdown(t: DiffTable): string {
  const header = ['', ...t.columns.map((c) => (c.baseline ? `${c.name} (baseline)` : c.name))];
  const lines = [`| ${header.map(mdCell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const s of t.sections) {
    if (s.rows.length === 0) continue;
    lines.push(`| **${mdCell(s.title)}** |${t.columns.map(() => '').join(' |')} |`);
    for (const r of s.rows) lines.push(`| ${mdCell(r.field === 'value' ? r.key : `${r.key} · ${r.field}`)} | ${r.cells.map((c) => mdCell(cellText(c))).join(' | ')} |`);
  }
  if (t.divergenceSentences.length) lines.push('', ...t.divergenceSentences.map((s) => `- ${s}`));
  return lines.join('\n') + '\n';
}

const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function tableToCsv(t: DiffTable): string {
  const header = ['section', 'key', 'field', ...t.columns.flatMap((c) => [c.name, `${c.name} step`, `${c.name} delta`, `${c.name} delta %`])];
  const rows = [header];
  for (const s of t.sections) {
    for (const r of s.rows) {
      rows.push([
        s.id,
        r.key,
        r.field,
        ...r.cells.flatMap((c) => [
          c.missing ? '' : exactText(c),
          c.detail?.replace(/^step /, '').replace(/,/g, '') ?? '',
          c.delta && Number.isFinite(c.delta.absolute) ? String(c.delta.absolute) : '',
          c.delta && c.delta.relative !== null && Number.isFinite(c.delta.relative) ? String(c.delta.relative * 100) : '',
        ]),
      ]);
    }
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
