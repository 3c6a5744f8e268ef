// One chart: a metric key, every selected run that has it, drawn by uPlot on
// a canvas. Loads its series when it scrolls into view, at the resolution of
// its width; a drag zooms and asks the agent for the visible range at full
// resolution; live updates append points without reloading.
import uPlot from 'uplot';
import { robustRange } from '../../src/core/compare/robustRange';
import type { DownsampledSeriesParams, DownsampledSeriesResult, WireDivergence } from '../../src/shared/compareWire';
import type { CompareSettings } from '../../src/shared/comparePanelProtocol';
import { h } from '../dom';
import { formatExact } from '../../src/shared/numberText';
import { formatDuration, formatStep, formatStepTick, formatTick } from '../format';
import type { RunView } from '../runs';
import { chartTheme, withAlpha } from '../theme';
import { alignRuns, appendSeries, decodeSeries, nearestIndex, prepareRun, type PreparedRun, type RunSeries } from './chartModel';
import { chartToPng, chartToSvg, type ExportMeta } from './exportChart';

export interface ChartHost {
  settings(): CompareSettings;
  runs(): readonly RunView[];
  divergences(): readonly WireDivergence[];
  baselineId(): number | null;
  fetch(params: DownsampledSeriesParams): Promise<DownsampledSeriesResult>;
  saveImage(format: 'png' | 'svg', fileName: string, data: string): void;
}

const HEIGHT = 240;
const SYNC_KEY = 'runlens-compare';
/** Appended raw points beyond this many per pixel trigger a fresh downsample. */
const MAX_POINTS_PER_PIXEL = 4;
const RELATIVE_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000];

type ChartState = 'idle' | 'loading' | 'ready' | 'empty' | 'error';

export class ChartView {
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly resetButton: HTMLElement;
  private u: uPlot | null = null;
  /** The unzoomed series (downsampled for the width, plus live appends). */
  private full = new Map<number, RunSeries>();
  private zoom: { min: number; max: number; data: Map<number, RunSeries> | null } | null = null;
  private prepared: PreparedRun[] = [];
  /** uPlot series index → run id (index 0 is x). */
  private seriesRun: number[] = [];
  private requestedWidth = 0;
  private loadToken = 0;
  private draws = 0;
  private hovering = false;
  private wanted = false;
  /** Runs that changed while the chart was loading: their new points are asked for once it has loaded. */
  private readonly changedWhileLoading = new Set<number>();
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    readonly key: string,
    private readonly host: ChartHost,
  ) {
    this.statusEl = h('span', { class: 'chart-status', attrs: { 'aria-live': 'polite' } });
    this.resetButton = h('vscode-button', { class: 'reset-zoom', attrs: { secondary: true, hidden: true }, on: { click: () => this.resetZoom() } }, 'Reset zoom');
    const exportPng = h('vscode-button', { attrs: { secondary: true, 'aria-label': `Export ${key} as PNG` }, on: { click: () => this.export('png') } }, 'PNG');
    const exportSvg = h('vscode-button', { attrs: { secondary: true, 'aria-label': `Export ${key} as SVG` }, on: { click: () => this.export('svg') } }, 'SVG');
    this.plotEl = h('div', { class: 'plot', tabIndex: 0, role: 'img', attrs: { 'aria-label': `Chart of ${key}. Drag to zoom; + and - zoom, 0 resets.` }, on: { keydown: (e) => this.onKey(e as KeyboardEvent) } });
    this.tooltip = h('div', { class: 'chart-tooltip', role: 'tooltip', attrs: { hidden: true } });
    this.root = h(
      'figure',
      { class: 'chart', data: { key, state: 'idle', draws: 0 } },
      h('figcaption', { class: 'chart-head' }, h('span', { class: 'chart-title', title: key }, key), this.statusEl, h('span', { class: 'chart-actions' }, this.resetButton, exportPng, exportSvg)),
      this.plotEl,
      this.tooltip,
    );
    this.resizeObserver = new ResizeObserver(() => {
      clearTimeout(this.resizeTimer);
      this.resizeTimer = setTimeout(() => this.onResize(), 100);
    });
    this.resizeObserver.observe(this.plotEl);
  }

  /** Runs of the panel that log this metric. */
  private chartRuns(): RunView[] {
    return this.host.runs().filter((r) => r.stats.has(this.key));
  }

  private setState(state: ChartState, status = ''): void {
    this.root.dataset.state = state;
    this.statusEl.textContent = status;
  }

  private plotWidth(): number {
    return Math.max(200, Math.floor(this.plotEl.clientWidth || this.root.clientWidth || 600));
  }

  /** Called when the chart scrolls into view (and again on x axis changes): loads it once. */
  show(): void {
    this.wanted = true;
    if (this.root.dataset.state === 'idle') void this.load();
  }

  /** Fetches the whole range for the width again (x axis changed, a run was re-read, too many appended points). */
  async load(): Promise<void> {
    if (!this.wanted) {
      this.setState('idle');
      return;
    }
    const token = ++this.loadToken;
    const runs = this.chartRuns();
    this.setState('loading', 'loading…');
    this.requestedWidth = this.plotWidth();
    try {
      const result = await this.host.fetch({ runIds: runs.map((r) => r.id), key: this.key, width: this.requestedWidth, xAxis: this.host.settings().xAxis });
      if (token !== this.loadToken) return;
      this.full = new Map(result.series.map((w) => [w.runId, decodeSeries(w)]));
      this.zoom = null;
      this.resetButton.hidden = true;
      this.rebuild();
      if (this.changedWhileLoading.size) {
        const ids = [...this.changedWhileLoading];
        this.changedWhileLoading.clear();
        void this.append(ids);
      }
    } catch (e) {
      if (token === this.loadToken) this.setState('error', `could not load: ${(e as Error).message}`);
    }
  }

  /** Live update: asks only for the points after those the chart holds. */
  async append(runIds: readonly number[]): Promise<void> {
    if (this.root.dataset.state === 'loading') {
      // The answer on its way may have been read before these points were stored.
      for (const id of runIds) this.changedWhileLoading.add(id);
      return;
    }
    if (this.root.dataset.state !== 'ready' && this.root.dataset.state !== 'empty') return;
    const token = this.loadToken;
    const since: Record<string, number> = {};
    const ids = runIds.filter((id) => this.chartRuns().some((r) => r.id === id));
    if (ids.length === 0) return;
    for (const id of ids) since[String(id)] = this.full.get(id)?.total ?? 0;
    let result: DownsampledSeriesResult;
    try {
      result = await this.host.fetch({ runIds: ids, key: this.key, width: this.requestedWidth || this.plotWidth(), xAxis: this.host.settings().xAxis, since });
    } catch {
      return; // The next change or a reload will catch up.
    }
    if (token !== this.loadToken) return;
    for (const w of result.series) {
      const prev = this.full.get(w.runId);
      const next = prev ? appendSeries(prev, w) : w.appended && since[String(w.runId)] === 0 ? decodeSeries(w) : 'reload';
      if (next === 'reload' || next.xs.length > MAX_POINTS_PER_PIXEL * (this.requestedWidth || 1000)) {
        void this.load();
        return;
      }
      this.full.set(w.runId, next);
    }
    // A zoomed chart keeps showing the range the user picked; the new points wait for the reset.
    if (!this.zoom) this.updateData(this.full, true);
  }

  /** Settings that change the drawing but not the data: smoothing, log scales, outliers, hidden runs, theme. */
  rebuild(): void {
    if (this.full.size === 0 && this.root.dataset.state !== 'loading') {
      if (this.u) this.destroyPlot();
      return;
    }
    this.destroyPlot();
    const data = this.zoom?.data ?? this.full;
    const aligned = this.prepare(data);
    const drawn = this.prepared.filter((p) => p.xs.length > 0).length;
    if (drawn === 0) {
      this.setState('empty', this.emptyReason());
      this.root.dataset.runs = '';
      return;
    }
    this.u = new uPlot(this.options(), aligned as unknown as uPlot.AlignedData, this.plotEl);
    this.u.over.addEventListener('mouseenter', () => (this.hovering = true));
    this.u.over.addEventListener('mouseleave', () => {
      this.hovering = false;
      this.tooltip.hidden = true;
    });
    this.u.over.addEventListener('dblclick', () => this.resetZoom());
    if (this.zoom) this.u.setScale('x', { min: this.zoom.min, max: this.zoom.max });
    this.setState('ready', this.describe(data));
  }

  /** The divergence markers moved (baseline changed): redraw without rebuilding. */
  redraw(): void {
    this.u?.redraw(false, false);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.destroyPlot();
  }

  private destroyPlot(): void {
    this.u?.destroy();
    this.u = null;
    this.tooltip.hidden = true;
  }

  private emptyReason(): string {
    const series = [...(this.zoom?.data ?? this.full).values()];
    if (series.length && series.every((s) => s.missing === 'wallTime')) return 'no wall-clock times in these logs; use the step axis';
    if (series.length && series.every((s) => s.missing === 'epoch')) return 'these runs log no epoch series; use the step axis';
    return this.zoom ? 'no points in this range' : 'no points';
  }

  private describe(data: Map<number, RunSeries>): string {
    const series = [...data.values()];
    const total = series.reduce((n, s) => n + s.total, 0);
    const shown = series.reduce((n, s) => n + s.xs.length, 0);
    const sampled = series.some((s) => s.downsampled);
    const runs = series.filter((s) => s.xs.length > 0).length;
    this.root.dataset.points = String(shown);
    return `${runs} run${runs === 1 ? '' : 's'} · ${sampled ? `${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points (min/max per pixel)` : `${shown.toLocaleString('en-US')} points`}${this.zoom ? ' · zoomed' : ''}`;
  }

  /** Builds the aligned columns and the run order of the uPlot series. */
  private prepare(data: Map<number, RunSeries>): (ArrayLike<number | null | undefined>)[] {
    const s = this.host.settings();
    const runs = this.chartRuns().filter((r) => data.has(r.id));
    this.prepared = runs.map((r) => prepareRun(data.get(r.id)!, { smoothing: s.smoothing, logX: s.logX, logY: s.logY }));
    const { xs, columns } = alignRuns(this.prepared);
    this.seriesRun = [-1];
    for (const p of this.prepared) {
      this.seriesRun.push(p.runId);
      if (p.smooth) this.seriesRun.push(p.runId);
    }
    this.root.dataset.runs = this.prepared
      .filter((p) => p.xs.length > 0)
      .map((p) => p.runId)
      .join(',');
    return [xs, ...columns];
  }

  private updateData(data: Map<number, RunSeries>, resetScales: boolean): void {
    if (!this.u) {
      this.rebuild();
      return;
    }
    const before = this.seriesRun.join(',');
    const aligned = this.prepare(data);
    // A run that got its first points adds series: that needs a new plot.
    if (this.seriesRun.join(',') !== before) {
      this.rebuild();
      return;
    }
    this.u.setData(aligned as unknown as uPlot.AlignedData, resetScales);
    this.setState('ready', this.describe(data));
  }

  private options(): uPlot.Options {
    const s = this.host.settings();
    const theme = chartTheme();
    const runs = new Map(this.host.runs().map((r) => [r.id, r]));
    const hidden = new Set(s.hiddenRunIds);
    const series: uPlot.Series[] = [{}];
    for (const p of this.prepared) {
      const run = runs.get(p.runId)!;
      const show = !hidden.has(p.runId);
      const few = p.xs.length <= 3;
      // Smoothing on: the raw line faint behind the smoothed one, in the same colour.
      series.push({
        label: run.name,
        stroke: p.smooth ? withAlpha(run.color, 0.28) : run.color,
        width: p.smooth ? 1 : 2,
        spanGaps: false,
        show,
        points: { show: few, size: 6, stroke: run.color, fill: run.color },
      });
      if (p.smooth) series.push({ label: `${run.name} (smoothed)`, stroke: run.color, width: 2, spanGaps: false, show, points: { show: few, size: 6, stroke: run.color, fill: run.color } });
    }
    const axisBase = { stroke: theme.foreground, font: theme.font, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
    const xAxis: uPlot.Axis = { ...axisBase };
    if (s.xAxis === 'step' || s.xAxis === 'epoch') xAxis.values = (_u, splits) => this.recordTicks('xTicks', splits.map(formatStepTick));
    if (s.xAxis === 'relative') {
      xAxis.values = (_u, splits) => this.recordTicks('xTicks', splits.map(formatDuration));
      xAxis.incrs = RELATIVE_INCRS;
    }
    const yAxis: uPlot.Axis = {
      ...axisBase,
      size: 64,
      values: (_u, splits) => {
        if (!s.logY) return this.recordTicks('yTicks', splits.map(formatTick));
        // A log axis labels its decades (every split would crowd it), unless it spans less than one.
        const decades = splits.map((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
        return this.recordTicks('yTicks', splits.map((v, i) => (decades.some(Boolean) && !decades[i] ? '' : formatTick(v))));
      },
    };
    const yScale: uPlot.Scale = { distr: s.logY ? 3 : 1, log: 10 };
    if (s.ignoreOutliers) {
      yScale.range = (u, dataMin, dataMax) => {
        const visible = u.series.flatMap((ser, i) => (i > 0 && ser.show ? [u.data[i] as ArrayLike<number | null | undefined>] : []));
        const r = robustRange(visible, { positiveOnly: s.logY });
        if (!r) return [dataMin, dataMax];
        const pad = s.logY ? 0 : (r[1] - r[0]) * 0.05;
        return [r[0] - pad, r[1] + pad];
      };
    }
    return {
      width: this.plotWidth(),
      height: HEIGHT,
      legend: { show: false },
      series,
      scales: {
        x: { time: s.xAxis === 'wall', distr: s.logX ? 3 : 1, log: 10 },
        y: yScale,
      },
      axes: [xAxis, yAxis],
      cursor: {
        // The crosshair moves in every chart; a drag (zoom) and a double-click (reset) stay in their own.
        sync: { key: SYNC_KEY, filters: { pub: (type: string) => type !== 'mousedown' && type !== 'mouseup' && type !== 'dblclick' } },
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        // Double-click resets the zoom through our handler (the range data must be swapped back).
        bind: { dblclick: () => () => null },
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      hooks: {
        draw: [(u) => this.onDraw(u)],
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.onCursor(u)],
      },
    };
  }

  private recordTicks(which: 'xTicks' | 'yTicks', labels: string[]): string[] {
    this.root.dataset[which] = labels.filter(Boolean).join(' ');
    return labels;
  }

  private onDraw(u: uPlot): void {
    this.drawDivergences(u);
    this.draws++;
    this.root.dataset.draws = String(this.draws);
    const n = this.draws;
    // The frame that shows this drawing has been painted once the frame after it
    // starts: two animation frames on. For the tests and the benchmark.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        this.root.dataset.painted = String(n);
        this.root.dataset.paintedAt = String(performance.now());
      }),
    );
  }

  /** Vertical dashed lines where a run leaves the baseline's noise band (step axis only). */
  private drawDivergences(u: uPlot): void {
    const s = this.host.settings();
    if (s.xAxis !== 'step') return;
    const hidden = new Set(s.hiddenRunIds);
    const runs = new Map(this.host.runs().map((r) => [r.id, r]));
    const marks = this.host.divergences().filter((d) => d.key === this.key && d.baselineRunId === this.host.baselineId() && !hidden.has(d.runId) && runs.has(d.runId));
    this.root.dataset.divergences = marks.map((d) => `${d.runId}@${d.step}`).join(',');
    if (marks.length === 0) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const ratio = uPlot.pxRatio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const d of marks) {
      const x = u.valToPos(d.step, 'x', true);
      if (!(x >= left && x <= left + width)) continue;
      ctx.strokeStyle = runs.get(d.runId)!.color;
      ctx.lineWidth = ratio;
      ctx.setLineDash([4 * ratio, 3 * ratio]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.beginPath();
      ctx.moveTo(x - 5 * ratio, top);
      ctx.lineTo(x + 5 * ratio, top);
      ctx.lineTo(x, top + 7 * ratio);
      ctx.fill();
    }
    ctx.restore();
  }

  private onSelect(u: uPlot): void {
    if (u.select.width < 3 || !this.hovering) return;
    const min = u.posToVal(u.select.left, 'x');
    const max = u.posToVal(u.select.left + u.select.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.zoomTo(min, max);
  }

  private zoomTo(min: number, max: number): void {
    if (!(max > min)) return;
    const token = ++this.loadToken;
    this.zoom = { min, max, data: this.zoom?.data ?? null };
    this.resetButton.hidden = false;
    // Instant feedback with the points already here; full resolution follows.
    this.u?.setScale('x', { min, max });
    const runs = this.chartRuns();
    void this.host
      .fetch({ runIds: runs.map((r) => r.id), key: this.key, width: this.requestedWidth || this.plotWidth(), xAxis: this.host.settings().xAxis, xMin: min, xMax: max })
      .then((result) => {
        if (token !== this.loadToken || !this.zoom) return;
        const data = new Map(result.series.map((w) => [w.runId, decodeSeries(w)]));
        this.zoom.data = data;
        if (!this.u) return this.rebuild();
        this.updateData(data, true);
        this.u?.setScale('x', { min, max });
      })
      .catch((e: Error) => this.setState('ready', `zoom failed: ${e.message}`));
  }

  resetZoom(): void {
    if (!this.zoom) return;
    this.loadToken++;
    this.zoom = null;
    this.resetButton.hidden = true;
    this.updateData(this.full, true);
  }

  private onKey(e: KeyboardEvent): void {
    const u = this.u;
    if (!u) return;
    const min = u.scales.x.min!;
    const max = u.scales.x.max!;
    const mid = (min + max) / 2;
    if (e.key === '+' || e.key === '=') this.zoomTo(mid - (max - min) / 4, mid + (max - min) / 4);
    else if (e.key === '-') {
      const full = this.fullExtent();
      if (full) this.zoomTo(Math.max(full[0], mid - (max - min)), Math.min(full[1], mid + (max - min)));
    } else if (e.key === '0' || e.key === 'Escape') this.resetZoom();
    else return;
    e.preventDefault();
  }

  private fullExtent(): [number, number] | null {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of this.full.values()) {
      if (s.xs.length === 0) continue;
      lo = Math.min(lo, s.xs[0]);
      hi = Math.max(hi, s.xs[s.xs.length - 1]);
    }
    return lo <= hi ? [lo, hi] : null;
  }

  private onCursor(u: uPlot): void {
    const left = u.cursor.left ?? -1;
    if (!this.hovering || left < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const x = u.posToVal(left, 'x');
    const s = this.host.settings();
    const hidden = new Set(s.hiddenRunIds);
    const runs = new Map(this.host.runs().map((r) => [r.id, r]));
    const rows: HTMLElement[] = [];
    for (const p of this.prepared) {
      const run = runs.get(p.runId);
      if (!run || hidden.has(p.runId)) continue;
      const j = nearestIndex(p.xs, x);
      if (j < 0) continue;
      const raw = p.raw[j];
      const shown = raw === null || raw === undefined ? 'gap' : formatExact(raw);
      const smooth = p.smooth ? p.smooth[j] : undefined;
      const swatch = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      swatch.style.setProperty('--run-color', run.color);
      rows.push(
        h(
          'div',
          { class: 'tip-row' },
          swatch,
          h('span', { class: 'tip-name' }, run.name),
          h('span', { class: 'tip-value' }, shown, smooth !== undefined && smooth !== null ? ` (smoothed ${formatTick(smooth)})` : ''),
          h('span', { class: 'tip-x' }, `at ${this.formatX(p.xs[j])}`),
        ),
      );
    }
    // The cursor's own x, rounded to a whole step on the step axis; each row says where its run's nearest point is.
    this.tooltip.replaceChildren(h('div', { class: 'tip-head' }, this.formatX(s.xAxis === 'step' ? Math.round(x) : x)), ...rows);
    this.tooltip.hidden = rows.length === 0;
    const plotLeft = u.over.offsetLeft;
    const top = u.over.offsetTop + (u.cursor.top ?? 0);
    const place = plotLeft + left + 16;
    const overflow = place + this.tooltip.offsetWidth > this.root.clientWidth;
    this.tooltip.style.left = `${overflow ? Math.max(0, plotLeft + left - 16 - this.tooltip.offsetWidth) : place}px`;
    this.tooltip.style.top = `${Math.max(0, top - 10)}px`;
  }

  private formatX(x: number): string {
    const axis = this.host.settings().xAxis;
    switch (axis) {
      case 'step':
        return `step ${formatStep(Math.round(x * 1000) / 1000)}`;
      case 'epoch':
        return `epoch ${formatStep(Math.round(x * 100) / 100)}`;
      case 'relative':
        return formatDuration(x);
      case 'wall':
        return new Date(x * 1000).toLocaleString();
      default: {
        const unknown: never = axis;
        return String(unknown);
      }
    }
  }

  private onResize(): void {
    if (!this.u) return;
    const width = this.plotWidth();
    if (Math.abs(width - this.u.width) < 2) return;
    this.u.setSize({ width, height: HEIGHT });
    // Much wider than the data was sampled for: fetch again for the new width.
    if (width > this.requestedWidth * 1.5 && !this.zoom) void this.load();
  }

  private exportMeta(): ExportMeta {
    const s = this.host.settings();
    const hidden = new Set(s.hiddenRunIds);
    const theme = chartTheme();
    const runs = this.host.runs().filter((r) => this.prepared.some((p) => p.runId === r.id) && !hidden.has(r.id));
    return {
      title: this.key,
      subtitle: `x: ${s.xAxis}${s.logY ? ', log y' : ''}${s.logX ? ', log x' : ''}${s.smoothing > 0 ? `, smoothing ${s.smoothing}` : ''}`,
      runs: runs.map((r) => ({ name: r.name, color: r.color })),
      background: theme.background,
      foreground: theme.foreground,
      font: theme.font,
      xTicks: this.root.dataset.xTicks ?? '',
      yTicks: this.root.dataset.yTicks ?? '',
    };
  }

  private export(format: 'png' | 'svg'): void {
    if (!this.u) return;
    const fileName = `${this.key.replace(/[^A-Za-z0-9._-]+/g, '_') || 'chart'}.${format}`;
    const data = format === 'png' ? chartToPng(this.u, this.exportMeta()) : chartToSvg(this.u, this.exportMeta());
    this.host.saveImage(format, fileName, data);
  }
}
