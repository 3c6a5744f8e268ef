// The panel's UI: toolbar, summary diff table, Compare Code, charts. Holds
// the runs and the settings; every change of a setting is saved in the
// webview state (restored after a reload) and re-renders only what it
// affects.
import type { WireCompareRun, WireDivergence } from '../src/shared/compareWire';
import { COMPARE_PROTOCOL_VERSION, settingsFromState, type CompareSettings, type HostToWebview, type SeriesChangeForPanel } from '../src/shared/comparePanelProtocol';
import { ChartsView } from './charts/chartsView';
import { clear, h, keepingFocus } from './dom';
import type { HostBridge } from './host';
import { buildRunViews, type RunView } from './runs';
import { buildDiffTable, effectiveDirection, tableToCsv, tableToMarkdown } from './table/model';
import { renderDiffTable } from './table/tableView';
import { watchTheme } from './theme';

type Changed = keyof CompareSettings;

export class App {
  private runIds: number[] = [];
  private runs: RunView[] = [];
  private settings: CompareSettings;
  private divergences: WireDivergence[] = [];
  /** The baseline the divergences were computed against (null: none computed yet). */
  private divergenceBaseline: number | null = null;
  private readonly charts: ChartsView;
  private readonly notice = h('div', { class: 'notice', role: 'status', attrs: { 'aria-live': 'polite' } });
  private readonly tableHost = h('div', { class: 'table-scroll', tabIndex: 0, attrs: { 'aria-label': 'Comparison table (scrolls sideways)' } });
  private readonly sentences = h('ul', { class: 'divergences', attrs: { 'aria-label': 'Where runs diverge from the baseline' } });
  private readonly codeHost = h('div', { class: 'code-compare' });
  private readonly baselineSelect = h('vscode-single-select', { class: 'baseline-select', props: { label: 'Baseline run' }, attrs: { 'aria-label': 'Baseline run' }, on: { change: (e) => this.setBaseline(Number((e.target as HTMLSelectElement).value)) } });
  private readonly title = h('h1', {}, 'Compare runs');
  private summaryTimer: ReturnType<typeof setTimeout> | undefined;
  private divergenceTimer: ReturnType<typeof setTimeout> | undefined;
  private divergenceToken = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: HostBridge,
  ) {
    this.settings = settingsFromState(bridge.getState());
    this.charts = new ChartsView({
      settings: () => this.settings,
      runs: () => this.runs,
      divergences: () => this.divergences,
      baselineId: () => this.settings.baselineRunId,
      fetch: async (params) => (await this.bridge.request<'series'>((requestId) => ({ type: 'requestSeries', requestId, params }))).result,
      saveImage: (format, fileName, data) => this.bridge.post({ type: 'saveImage', format, fileName, data }),
      toggleRun: (runId, visible) => {
        const hidden = new Set(this.settings.hiddenRunIds);
        if (visible) hidden.delete(runId);
        else hidden.add(runId);
        this.update({ hiddenRunIds: [...hidden] });
      },
    });
    watchTheme(() => this.charts.rebuildAll());
  }

  start(): void {
    this.bridge.post({ type: 'ready', protocolVersion: COMPARE_PROTOCOL_VERSION });
  }

  dispatch(message: HostToWebview): void {
    switch (message.type) {
      case 'init':
        this.init(message.runIds, message.runs);
        return;
      case 'summary':
        this.setRuns(message.runs);
        this.renderTable();
        this.renderCodeCompare();
        this.charts.layout();
        return;
      case 'series':
      case 'divergence':
      case 'requestFailed':
        this.bridge.settle(message);
        return;
      case 'runsChanged':
        this.onRunsChanged(message.changes);
        return;
      case 'notice':
        this.showNotice(message.level, message.message);
        return;
      default: {
        const unknown: never = message;
        this.showNotice('error', `unknown message ${(unknown as { type: string }).type}`);
      }
    }
  }

  private init(runIds: number[], runs: WireCompareRun[]): void {
    this.runIds = runIds;
    this.setRuns(runs);
    if (this.settings.baselineRunId === null || !this.runs.some((r) => r.id === this.settings.baselineRunId)) this.settings.baselineRunId = this.runs[0]?.id ?? null;
    this.save();
    this.renderShell();
    this.requestDivergence();
    document.body.dataset.state = 'ready';
    this.root.setAttribute('aria-busy', 'false');
  }

  private setRuns(runs: WireCompareRun[]): void {
    this.runs = buildRunViews(this.runIds, runs);
    this.title.textContent = `Compare ${this.runs.length} runs`;
    clear(this.baselineSelect);
    for (const r of this.runs) this.baselineSelect.append(h('vscode-option', { attrs: { value: String(r.id) }, props: { selected: r.id === this.settings.baselineRunId } }, r.name));
    (this.baselineSelect as unknown as { value: string }).value = String(this.settings.baselineRunId ?? '');
    if (this.runs.length < this.runIds.length) this.showNotice('warning', `${this.runIds.length - this.runs.length} of the runs are no longer in the database (re-indexed or removed).`);
  }

  private save(): void {
    this.bridge.setState({ runIds: this.runIds, settings: this.settings });
  }

  /** Applies changed settings: saves them and re-renders what depends on them. */
  private update(patch: Partial<CompareSettings>): void {
    const changed = Object.keys(patch) as Changed[];
    this.settings = { ...this.settings, ...patch };
    this.save();
    const any = (...keys: Changed[]) => changed.some((k) => keys.includes(k));
    if (any('baselineRunId', 'onlyDifferences', 'directions')) this.renderTable();
    if (any('baselineRunId')) {
      this.renderCodeCompare();
      this.requestDivergence();
    }
    if (any('filter', 'groupByPrefix', 'hiddenRunIds')) this.charts.layout();
    if (any('xAxis')) this.charts.reloadAll();
    // (An x axis change redraws when its data comes: the old points on the new axis would be wrong.)
    if (any('smoothing', 'logX', 'logY', 'ignoreOutliers', 'hiddenRunIds')) this.charts.rebuildAll();
  }

  private setBaseline(id: number): void {
    if (Number.isFinite(id) && id !== this.settings.baselineRunId) this.update({ baselineRunId: id });
  }

  private renderShell(): void {
    clear(this.root);
    const s = this.settings;
    const copyMd = h('vscode-button', { attrs: { secondary: true }, on: { click: () => this.copy('markdown') } }, 'Copy as Markdown');
    const copyCsv = h('vscode-button', { attrs: { secondary: true }, on: { click: () => this.copy('csv') } }, 'Copy as CSV');
    const onlyDiff = h('vscode-checkbox', { props: { checked: s.onlyDifferences }, data: { control: 'onlyDifferences' }, on: { change: (e) => this.update({ onlyDifferences: (e.target as HTMLInputElement).checked }) } }, 'Only differences');
    const header = h('header', { class: 'toolbar' }, this.title, h('label', { class: 'field' }, h('span', {}, 'Baseline'), this.baselineSelect), h('span', { class: 'spacer' }), copyMd, copyCsv);

    const summary = h('section', { class: 'summary', attrs: { 'aria-labelledby': 'summary-title' } }, h('div', { class: 'section-head' }, h('h2', { id: 'summary-title' }, 'Summary'), onlyDiff), this.sentences, this.tableHost);

    const filter = h('vscode-textfield', {
      attrs: { placeholder: 'Filter metrics (regular expression)', 'aria-label': 'Filter metrics by regular expression' },
      props: { value: s.filter },
      data: { control: 'filter' },
      on: { input: (e) => this.debounced('filter', () => this.update({ filter: (e.target as HTMLInputElement).value }), 200) },
    });
    const check = (key: 'groupByPrefix' | 'logX' | 'logY' | 'ignoreOutliers', label: string) =>
      h('vscode-checkbox', { props: { checked: s[key] }, data: { control: key }, on: { change: (e) => this.update({ [key]: (e.target as HTMLInputElement).checked }) } }, label);
    const xAxis = h(
      'vscode-single-select',
      // `label` names the inner combobox (the host's aria-label does not reach it).
      { props: { label: 'x axis' }, attrs: { 'aria-label': 'x axis' }, data: { control: 'xAxis' }, on: { change: (e) => this.update({ xAxis: (e.target as HTMLSelectElement).value as CompareSettings['xAxis'] }) } },
      ...(
        [
          ['step', 'Step'],
          ['epoch', 'Epoch'],
          ['relative', 'Relative time'],
          ['wall', 'Wall time'],
        ] as const
      ).map(([value, label]) => h('vscode-option', { attrs: { value }, props: { selected: s.xAxis === value } }, label)),
    );
    (xAxis as unknown as { value: string }).value = s.xAxis;
    const smoothingValue = h('span', { class: 'smoothing-value' }, s.smoothing.toFixed(2));
    const smoothing = h('input', {
      attrs: { type: 'range', min: 0, max: 0.99, step: 0.01, 'aria-label': 'Smoothing (exponential moving average weight)' },
      props: { value: String(s.smoothing) },
      data: { control: 'smoothing' },
      on: {
        input: (e) => {
          const v = Number((e.target as HTMLInputElement).value);
          smoothingValue.textContent = v.toFixed(2);
          this.debounced('smoothing', () => this.update({ smoothing: v }), 80);
        },
      },
    });
    const chartControls = h(
      'div',
      { class: 'chart-controls' },
      filter,
      check('groupByPrefix', 'Group by prefix'),
      h('label', { class: 'field' }, h('span', {}, 'x axis'), xAxis),
      h('label', { class: 'field smoothing' }, h('span', {}, 'Smoothing'), smoothing, smoothingValue),
      check('logX', 'Log x'),
      check('logY', 'Log y'),
      check('ignoreOutliers', 'Ignore outliers'),
    );
    const charts = h('section', { class: 'charts-section', attrs: { 'aria-labelledby': 'charts-title' } }, h('div', { class: 'section-head' }, h('h2', { id: 'charts-title' }, 'Charts'), h('span', { class: 'hint' }, 'Drag to zoom, double-click to reset')), chartControls, this.charts.root);

    this.root.append(header, this.notice, summary, this.codeHost, charts);
    this.renderTable();
    this.renderCodeCompare();
    this.charts.layout();
  }

  private table() {
    return buildDiffTable(this.runs, {
      baselineId: this.settings.baselineRunId ?? this.runs[0]?.id ?? -1,
      onlyDifferences: this.settings.onlyDifferences,
      directions: this.settings.directions,
      divergences: this.divergences,
    });
  }

  private renderTable(): void {
    const table = this.table();
    keepingFocus(this.tableHost, () =>
      this.tableHost.replaceChildren(
        renderDiffTable(table, {
          flipDirection: (key) => {
            const current = effectiveDirection(key, this.settings.directions).direction;
            this.update({ directions: { ...this.settings.directions, [key]: current === 'min' ? 'max' : 'min' } });
          },
        }),
      ),
    );
    const checked = this.runs.length > 1 && this.divergenceBaseline !== null && this.divergenceBaseline === this.settings.baselineRunId;
    const baselineName = this.runs.find((r) => r.id === this.settings.baselineRunId)?.name ?? 'the baseline';
    this.sentences.replaceChildren(
      ...(table.divergenceSentences.length || !checked
        ? table.divergenceSentences.map((s) => h('li', {}, s))
        : [h('li', { class: 'none' }, `No run left ${baselineName}'s noise band on a metric they share.`)]),
    );
  }

  private renderCodeCompare(): void {
    const base = this.runs.find((r) => r.id === this.settings.baselineRunId);
    const others = this.runs.filter((r) => r !== base);
    const select = h(
      'vscode-single-select',
      { props: { label: 'Run to compare with the baseline' }, attrs: { 'aria-label': 'Run to compare with the baseline' } },
      ...others.map((r, i) => h('vscode-option', { attrs: { value: String(r.id) }, props: { selected: i === 0 } }, r.name)),
    );
    const withCommit = others.filter((r) => r.commit);
    const reason = !base ? '' : !base.commit ? `The baseline ${base.name} has no git commit (tag mlflow.source.git.commit).` : withCommit.length === 0 ? 'None of the other runs has a git commit (tag mlflow.source.git.commit).' : '';
    const button = h(
      'vscode-button',
      {
        attrs: { disabled: Boolean(reason) || others.length === 0 },
        on: {
          click: () => {
            const other = Number((select as unknown as { value: string }).value);
            if (base && Number.isFinite(other)) this.bridge.post({ type: 'compareCode', baseRunId: base.id, otherRunId: other });
          },
        },
      },
      'Compare Code',
    );
    this.codeHost.replaceChildren(h('h2', {}, 'Code'), h('div', { class: 'code-row' }, h('span', {}, 'Baseline against'), select, button));
    if (reason) this.codeHost.append(h('p', { class: 'hint' }, reason));
  }

  private copy(format: 'markdown' | 'csv'): void {
    const table = this.table();
    this.bridge.post({ type: 'copyText', format, text: format === 'csv' ? tableToCsv(table) : tableToMarkdown(table) });
  }

  /** Divergence of every run from the baseline; with `keys`, only those metrics are computed again. */
  private requestDivergence(keys?: string[]): void {
    const baselineRunId = this.settings.baselineRunId;
    if (baselineRunId === null || this.runs.length < 2) return;
    const token = ++this.divergenceToken;
    this.bridge
      .request<'divergence'>((requestId) => ({ type: 'requestDivergence', requestId, params: { baselineRunId, runIds: this.runs.map((r) => r.id), keys } }))
      .then((answer) => {
        if (token !== this.divergenceToken) return;
        const redone = keys ? new Set(keys) : undefined;
        this.divergences = redone ? [...this.divergences.filter((d) => d.baselineRunId === baselineRunId && !redone.has(d.key)), ...answer.results] : answer.results;
        this.divergenceBaseline = baselineRunId;
        this.renderTable();
        this.charts.redrawAll();
      })
      .catch((e: Error) => this.showNotice('warning', `Divergence could not be computed: ${e.message}`));
  }

  private onRunsChanged(changes: SeriesChangeForPanel[]): void {
    this.charts.append(changes);
    // Last/best values and divergences follow, a little later and once per burst,
    // for the runs and metrics that changed only (each reads every point of its series).
    for (const c of changes) {
      this.changedRuns.add(c.runId);
      this.changedKeys.add(c.key);
    }
    clearTimeout(this.summaryTimer);
    this.summaryTimer = setTimeout(() => {
      this.bridge.post({ type: 'requestSummary', runIds: [...this.changedRuns] });
      this.changedRuns.clear();
    }, 1000);
    clearTimeout(this.divergenceTimer);
    this.divergenceTimer = setTimeout(() => {
      this.requestDivergence([...this.changedKeys]);
      this.changedKeys.clear();
    }, 3000);
  }

  private readonly changedRuns = new Set<number>();
  private readonly changedKeys = new Set<string>();

  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private debounced(name: string, fn: () => void, ms: number): void {
    clearTimeout(this.timers.get(name));
    this.timers.set(name, setTimeout(fn, ms));
  }

  showNotice(level: 'info' | 'warning' | 'error', message: string): void {
    this.notice.dataset.level = level;
    this.notice.replaceChildren(h('span', {}, message), h('vscode-button', { attrs: { secondary: true, 'aria-label': 'Dismiss' }, on: { click: () => this.notice.replaceChildren() } }, 'Dismiss'));
  }
}
