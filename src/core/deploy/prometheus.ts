// Prometheus text exposition (version 0.0.4), written by the serving server
// and the gray-release router, and read back by the product (readMetrics,
// grayStatus). Only what those two need: counters, gauges and histograms with
// string labels. Values that are not finite are spelled NaN/+Inf/-Inf, as the
// format says.

export type Labels = Record<string, string>;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** Latency buckets in seconds, from sub-millisecond CPU models to slow ones. */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
}

/** A histogram series: one per label set. */
interface HistogramSeries {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

/** Metric families kept in memory and rendered on every scrape. */
export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly values = new Map<string, Map<string, { labels: Labels; value: number }>>();
  private readonly histograms = new Map<string, { buckets: number[]; series: Map<string, HistogramSeries> }>();

  counter(name: string, help: string): void {
    this.families.set(name, { help, type: 'counter' });
    this.values.set(name, new Map());
  }

  gauge(name: string, help: string): void {
    this.families.set(name, { help, type: 'gauge' });
    this.values.set(name, new Map());
  }

  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS_S): void {
    this.families.set(name, { help, type: 'histogram' });
    this.histograms.set(name, { buckets: [...buckets].sort((a, b) => a - b), series: new Map() });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const series = this.seriesOf(name);
    const key = labelKey(labels);
    const current = series.get(key);
    series.set(key, { labels, value: (current?.value ?? 0) + by });
  }

  set(name: string, labels: Labels, value: number): void {
    this.seriesOf(name).set(labelKey(labels), { labels, value });
  }

  observe(name: string, labels: Labels, value: number): void {
    const h = this.histograms.get(name);
    if (!h) throw new Error(`no histogram ${name} declared`);
    const key = labelKey(labels);
    let s = h.series.get(key);
    if (!s) h.series.set(key, (s = { labels, counts: h.buckets.map(() => 0), sum: 0, count: 0 }));
    h.buckets.forEach((upper, i) => {
      if (value <= upper) s!.counts[i]++;
    });
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${name} ${family.type}`);
      if (family.type === 'histogram') {
        const h = this.histograms.get(name)!;
        for (const s of h.series.values()) {
          h.buckets.forEach((upper, i) => lines.push(sampleLine(`${name}_bucket`, { ...s.labels, le: formatNumber(upper) }, s.counts[i])));
          lines.push(sampleLine(`${name}_bucket`, { ...s.labels, le: '+Inf' }, s.count));
          lines.push(sampleLine(`${name}_sum`, s.labels, s.sum));
          lines.push(sampleLine(`${name}_count`, s.labels, s.count));
        }
      } else {
        for (const s of this.values.get(name)!.values()) lines.push(sampleLine(name, s.labels, s.value));
      }
    }
    return lines.join('\n') + '\n';
  }

  private seriesOf(name: string) {
    const series = this.values.get(name);
    if (!series) throw new Error(`no counter or gauge ${name} declared`);
    return series;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels);
  const text = entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
  return `${name}${text} ${formatNumber(value)}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function parseNumber(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  if (text.trim() === '' || Number.isNaN(v)) throw new Error(`"${text}" is not a number`);
  return v;
}

/**
 * Parses the samples of a text exposition (comments skipped, timestamps
 * ignored). Throws with the line number on a line it cannot read, so a
 * scrape of something that is not a Prometheus endpoint says so.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) throw new Error(`metrics line ${index + 1} is not Prometheus text: ${line.slice(0, 80)}`);
    const labels: Labels = {};
    const body = m[3] ?? '';
    const labelPattern = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;
    let match: RegExpExecArray | null;
    let consumed = 0;
    while ((match = labelPattern.exec(body))) {
      labels[match[1]] = match[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed = labelPattern.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`metrics line ${index + 1} has labels that cannot be read: ${line.slice(0, 80)}`);
    try {
      samples.push({ name: m[1], labels, value: parseNumber(m[4]) });
    } catch (e) {
      throw new Error(`metrics line ${index + 1}: ${(e as Error).message}`);
    }
  });
  return samples;
}

/** The sum of the samples with this name whose labels include `match` (0 when there are none). */
export function sumSamples(samples: readonly Sample[], name: string, match: Labels = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
