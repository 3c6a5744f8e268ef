// The charts section: one chart per metric key (filtered by a regular
// expression, grouped by prefix), a shared legend whose entries show or hide
// a run in every chart, and lazy loading: a chart asks for data only once it
// is near the viewport, so fifty metrics of a million points cost nothing
// until they are looked at.
import { h, clear, keepingFocus } from '../dom';
import type { RunView } from '../runs';
import { metricKeys } from '../runs';
import { chartKeys, groupKeys } from './chartModel';
import { ChartView, type ChartHost } from './chartView';

export interface ChartsHost extends ChartHost {
  toggleRun(runId: number, visible: boolean): void;
}

export class ChartsView {
  readonly root: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly groupsEl: HTMLElement;
  private readonly filterNote: HTMLElement;
  private readonly charts = new Map<string, ChartView>();
  private readonly observer: IntersectionObserver;

  constructor(private readonly host: ChartsHost) {
    this.legend = h('div', { class: 'legend', role: 'group', attrs: { 'aria-label': 'Runs shown in the charts' } });
    this.filterNote = h('p', { class: 'filter-note', attrs: { 'aria-live': 'polite' } });
    this.groupsEl = h('div', { class: 'chart-groups' });
    this.root = h('div', { class: 'charts' }, this.legend, this.filterNote, this.groupsEl);
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (!e.isIntersecting) continue;
          const key = (e.target as HTMLElement).dataset.key;
          if (key !== undefined) this.charts.get(key)?.show();
        }
      },
      // root: the document, not the implicit viewport: VS Code's webview is a cross-origin
      // iframe, where an implicit root ignores rootMargin and charts would load only once visible.
      { root: document, rootMargin: '300px 0px' },
    );
  }

  /** Lays the charts out for the current runs, filter and grouping (keeping charts that stay). */
  layout(): void {
    const runs = this.host.runs();
    const settings = this.host.settings();
    keepingFocus(this.legend, () => this.renderLegend(runs));
    const all = metricKeys(runs);
    const { keys, error, axisOnly } = chartKeys(all, settings.filter);
    const axisNote = axisOnly.length ? ` ${axisOnly.join(', ')} is an x axis (choose it under "x axis"), not charted; type it in the filter to chart it.` : '';
    const countNote = keys.length + axisOnly.length < all.length ? `${keys.length} of ${all.length} metrics match.` : '';
    this.filterNote.textContent = error ?? `${countNote}${axisNote}`.trim();
    for (const [key, chart] of this.charts) {
      if (!all.includes(key)) {
        this.observer.unobserve(chart.root);
        chart.destroy();
        this.charts.delete(key);
      }
    }
    clear(this.groupsEl);
    for (const group of groupKeys(keys, settings.groupByPrefix)) {
      const grid = h('div', { class: 'chart-grid' });
      for (const key of group.keys) {
        let chart = this.charts.get(key);
        if (!chart) {
          chart = new ChartView(key, this.host);
          this.charts.set(key, chart);
          this.observer.observe(chart.root);
        }
        grid.append(chart.root);
      }
      const title = settings.groupByPrefix ? h('h3', { class: 'group-title' }, group.group || 'other') : null;
      this.groupsEl.append(h('section', { class: 'chart-group', data: { group: group.group } }, title, grid));
    }
    if (keys.length === 0) this.groupsEl.append(h('p', { class: 'empty' }, all.length ? 'No metric matches the filter.' : 'These runs have no metric series.'));
  }

  private renderLegend(runs: readonly RunView[]): void {
    const hidden = new Set(this.host.settings().hiddenRunIds);
    clear(this.legend);
    for (const r of runs) {
      const swatch = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      swatch.style.setProperty('--run-color', r.color);
      // The name is the checkbox's own label: clicking it (or Space on it) toggles the run.
      const box = h(
        'vscode-checkbox',
        {
          class: 'legend-item',
          props: { checked: !hidden.has(r.id) },
          data: { runId: r.id, focusId: `legend:${r.id}` },
          on: { change: (e) => this.host.toggleRun(r.id, (e.target as HTMLInputElement).checked) },
        },
        swatch,
        h('span', { class: 'legend-name' }, r.name),
      );
      this.legend.append(box);
    }
  }

  /** Drawing settings changed (smoothing, log, outliers, hidden runs, theme): rebuild loaded charts. */
  rebuildAll(): void {
    for (const c of this.charts.values()) c.rebuild();
  }

  /** The x axis changed: every chart fetches again (loaded ones now, the rest when shown). */
  reloadAll(): void {
    for (const c of this.charts.values()) void c.load();
  }

  redrawAll(): void {
    for (const c of this.charts.values()) c.redraw();
  }

  /** Live points: each chart of a changed key asks for what follows its points. */
  append(changes: readonly { runId: number; key: string }[]): void {
    const byKey = new Map<string, number[]>();
    for (const c of changes) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c.runId]);
    for (const [key, runIds] of byKey) void this.charts.get(key)?.append(runIds);
  }

  chart(key: string): ChartView | undefined {
    return this.charts.get(key);
  }
}
