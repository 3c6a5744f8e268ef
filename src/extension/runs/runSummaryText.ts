// Plain-text and Markdown renderings of runs, for the text diff that "Compare
// Runs" opens until the comparison panel exists. Free of `vscode`.
import type { WireRunDetail } from '../../shared/protocol';
import { formatValue, fromWire } from '../../shared/wireNumbers';

/** One line per param and per metric's last value, sorted: two of these diff cleanly. */
export function runAsDiffableText(run: WireRunDetail): string {
  const lines = [`# ${run.name} (${run.format}, ${run.experimentName})`, `# ${run.path}`, '', '[params]'];
  for (const key of Object.keys(run.params).sort()) lines.push(`${key} = ${run.params[key]}`);
  lines.push('', '[metrics: last value @ step]');
  for (const s of [...run.series].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    lines.push(`${s.key} = ${formatValue(fromWire(s.lastValue))} @ ${formatValue(fromWire(s.lastStep))}`);
  }
  const summaryKeys = Object.keys(run.summaries).sort();
  if (summaryKeys.length) {
    lines.push('', '[summaries]');
    for (const key of summaryKeys) {
      const v = run.summaries[key];
      lines.push(`${key} = ${typeof v === 'string' && !['NaN', 'Infinity', '-Infinity', '-0'].includes(v) ? v : formatValue(fromWire(v as never))}`);
    }
  }
  return lines.join('\n') + '\n';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A side-by-side Markdown table for three or more runs; rows that differ are marked. */
export function runsAsMarkdownTable(runs: WireRunDetail[]): string {
  const header = `| | ${runs.map((r) => cell(r.name)).join(' | ')} |\n|---|${runs.map(() => '---').join('|')}|`;
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.series.map((s) => s.key)))].sort();
  const row = (label: string, values: string[]) => {
    const differs = new Set(values).size > 1;
    return `| ${differs ? '**≠** ' : ''}${cell(label)} | ${values.map(cell).join(' | ')} |`;
  };
  const out = ['# Compare runs', '', '## Params', '', header];
  for (const key of paramKeys) out.push(row(key, runs.map((r) => r.params[key] ?? '—')));
  out.push('', '## Metrics (last value)', '', header);
  for (const key of metricKeys) {
    out.push(
      row(
        key,
        runs.map((r) => {
          const s = r.series.find((x) => x.key === key);
          return s ? formatValue(fromWire(s.lastValue)) : '—';
        }),
      ),
    );
  }
  return out.join('\n') + '\n';
}
