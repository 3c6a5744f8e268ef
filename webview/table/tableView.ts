// Renders the diff table model as a plain, semantic <table> (row and column
// headers for screen readers; every string as text), with the controls that
// change it: baseline, only differences, direction flips, copies.
import { h } from '../dom';
import type { DiffTable, TableCell, TableRow } from './model';

export interface TableHandlers {
  flipDirection(key: string): void;
}

export function renderDiffTable(table: DiffTable, handlers: TableHandlers): HTMLElement {
  const colCount = 2 + table.columns.length;
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      h('th', { attrs: { scope: 'col' }, class: 'key-col' }, 'key'),
      h('th', { attrs: { scope: 'col' }, class: 'field-col' }, ''),
      ...table.columns.map((c) => {
        const swatch = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
        swatch.style.setProperty('--run-color', c.color);
        return h('th', { attrs: { scope: 'col' }, class: c.baseline ? 'run-col baseline' : 'run-col', data: { runId: c.id } }, swatch, h('span', { class: 'run-name' }, c.name), c.baseline ? h('span', { class: 'badge' }, 'baseline') : null);
      }),
    ),
  );
  const bodies = table.sections.map((s) => {
    const title = h('th', { attrs: { scope: 'rowgroup', colspan: colCount }, class: 'section-title' }, s.title, s.hiddenSame ? h('span', { class: 'hidden-count' }, ` · ${s.hiddenSame} identical hidden`) : null);
    const rows = s.rows.length ? s.rows.map((r) => renderRow(r, handlers)) : [h('tr', {}, h('td', { attrs: { colspan: colCount }, class: 'empty' }, s.hiddenSame ? 'no differences' : 'none'))];
    return h('tbody', { data: { section: s.id } }, h('tr', { class: 'section' }, title), ...rows);
  });
  return h('table', { class: 'diff-table', attrs: { 'aria-label': 'Runs compared: params, metrics and summaries' } }, head, ...bodies);
}

function renderRow(r: TableRow, handlers: TableHandlers): HTMLElement {
  const field = h('td', { class: 'field' }, r.field);
  if (r.kind === 'metric-best' && r.direction) {
    const label = r.direction === 'min' ? 'lower is better' : 'higher is better';
    const flip = h(
      'vscode-button',
      {
        class: 'flip',
        data: { focusId: `flip:${r.key}` },
        // The accessible name starts with the visible text ("↓ min"), as speech input users say it (WCAG 2.5.3).
        attrs: { secondary: true, 'aria-label': `${r.direction === 'min' ? '↓ min' : '↑ max'}: ${r.key}, ${label}${r.directionKnown ? '' : ' (assumed)'}; press to flip` },
        title: `${label}${r.directionKnown ? '' : ' (assumed from the name)'}. Click to flip.`,
        on: { click: () => handlers.flipDirection(r.key) },
      },
      r.direction === 'min' ? '↓ min' : '↑ max',
    );
    field.replaceChildren(h('span', {}, 'best'), ' ', flip);
  }
  return h(
    'tr',
    { class: `row ${r.kind}${r.same ? ' same' : ''}`, data: { key: r.key, kind: r.kind } },
    // The key is repeated on a metric's second and third rows (dimmed), so every row reads on its own.
    h('th', { attrs: { scope: 'row' }, class: r.kind === 'metric-best' || r.kind === 'divergence' ? 'key repeat' : 'key', title: r.key }, r.key),
    field,
    ...r.cells.map(renderCell),
  );
}

function renderCell(c: TableCell): HTMLElement {
  const classes = ['cell'];
  if (c.changed) classes.push('changed');
  if (c.missing) classes.push('missing');
  const td = h('td', { class: classes.join(' '), title: c.exact ?? (c.text.length > 60 ? c.text : undefined) }, h('span', { class: 'value', data: c.exact ? { exact: c.exact } : {} }, c.text));
  if (c.detail) td.append(h('span', { class: 'detail' }, c.detail));
  if (c.delta) {
    const mark = c.delta.verdict === 'better' ? ' ✓' : c.delta.verdict === 'worse' ? ' ✗' : '';
    td.append(h('span', { class: `delta ${c.delta.verdict}`, title: `${c.delta.verdict} than the baseline`, data: { verdict: c.delta.verdict } }, `Δ ${c.delta.text}${mark}`));
  }
  return td;
}
