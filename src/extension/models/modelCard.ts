// The model card as Markdown, from an inspection and (optionally) the last
// smoke test, both as the agent sends them. Free of `vscode`.
import type { ModelInspection, Dim } from '../../core/models/inspect';
import type { SmokeReport } from '../../core/models/smoke';
import { formatValue, fromWire, type WireNumber, type Wired } from '../../shared/wireNumbers';

export type InspectionWire = Wired<ModelInspection>;
export type SmokeWire = Wired<SmokeReport>;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const num = (v: WireNumber | null | undefined) => (v === null || v === undefined ? NaN : fromWire(v));
const ms = (v: WireNumber | null | undefined) => {
  const n = num(v);
  return Number.isFinite(n) ? `${n.toFixed(3)} ms` : formatValue(n);
};

export function formatDims(shape: readonly Wired<Dim>[] | null): string {
  if (shape === null) return 'not a tensor';
  return `[${shape.map((d) => (d.kind === 'fixed' ? String(num(d.value)) : d.kind === 'symbol' ? d.name : '?')).join(', ')}]`;
}

export function modelCardMarkdown(i: InspectionWire, smoke?: SmokeWire | null): string {
  const bytes = (v: WireNumber) => num(v).toLocaleString('en-US');
  const lines = [
    `# ${i.file.split('/').pop()}`,
    '',
    `- file: \`${i.file}\` (${bytes(i.fileSize)} bytes)`,
    `- sha256: \`${i.sha256}\``,
    `- IR version ${num(i.irVersion)}, opset ${i.opset === null ? 'none' : num(i.opset)} (${i.opsets.map((o) => `${o.domain} ${num(o.version)}`).join(', ')})`,
    `- producer: ${JSON.stringify(i.producerName)} ${JSON.stringify(i.producerVersion)}`,
    `- nodes: ${num(i.nodes.topLevel)} in the main graph, ${num(i.nodes.total)} in total (${num(i.nodes.subgraphs)} subgraphs)`,
    `- initializers: ${num(i.initializers.count)} (${bytes(i.initializers.inlineBytes)} bytes inline, ${bytes(i.initializers.externalBytes)} external)`,
    '',
    '## Inputs',
    '',
    '| name | dtype | shape |',
    '|---|---|---|',
    ...i.inputs.map((t) => `| ${cell(t.name)} | ${t.dtype} | ${cell(formatDims(t.shape))} |`),
    '',
    '## Outputs',
    '',
    '| name | dtype | shape |',
    '|---|---|---|',
    ...i.outputs.map((t) => `| ${cell(t.name)} | ${t.dtype} | ${cell(formatDims(t.shape))} |`),
    '',
    '## Ops (subgraphs included)',
    '',
    i.opHistogram.map((o) => `${cell(o.op)} ×${num(o.count)}`).join(', ') || 'none',
  ];
  if (i.externalData.length) lines.push('', '## External data', '', ...i.externalData.map((e) => `- ${cell(e.location)}: ${e.exists ? 'present' : '**missing**'}`));
  if (i.metadata.length) lines.push('', '## Metadata', '', ...i.metadata.map((m) => `- ${cell(m.key)}: ${cell(m.value)}`));
  if (smoke) {
    lines.push(
      '',
      `## Smoke test: ${smoke.pass ? 'PASS' : 'FAIL'}`,
      '',
      `- execution provider: ${smoke.ep.used}${smoke.ep.fallbackReason ? ` (asked for ${smoke.ep.requested}: ${smoke.ep.fallbackReason})` : ''}`,
      `- load ${ms(smoke.loadMs)}, first run ${ms(smoke.firstRunMs)}`,
      `- latency over ${num(smoke.latency.runs)} runs: p50 ${ms(smoke.latency.p50Ms)}, p95 ${ms(smoke.latency.p95Ms)}, p99 ${ms(smoke.latency.p99Ms)}`,
      `- peak memory ${(num(smoke.peakRssBytes) / 1024 / 1024).toFixed(1)} MiB`,
    );
    if (smoke.throughput) {
      lines.push(`- throughput: ${smoke.throughput.map((t) => `batch ${num(t.batch)}: ${t.error ? `refused (${t.error})` : `${num(t.itemsPerSec).toFixed(1)} items/s`}`).join('; ')}`);
    }
    lines.push('', '| output | shape | NaN | ±Inf | min | max |', '|---|---|---|---|---|---|');
    for (const o of smoke.outputs) {
      lines.push(`| ${cell(o.name)} | ${o.dims.map(num).join('x')}${o.shapeProblem ? ` ✗ ${cell(o.shapeProblem)}` : ''} | ${num(o.nan)} | ${num(o.posInf) + num(o.negInf)} | ${formatValue(num(o.min))} | ${formatValue(num(o.max))} |`);
    }
    for (const p of smoke.problems) lines.push(`- ✗ ${p}`);
    for (const w of smoke.warnings) lines.push(`- ⚠ ${w}`);
  }
  return lines.join('\n') + '\n';
}
