// What a person reads before approving: every policy rule with its evidence
// and result, the smoke tests behind them, and what changed against the
// current production version. Markdown; free of `vscode`.
import type { Evaluation } from '../../core/registry/approval';
import { formatExact } from '../../shared/numberText';
import { fromWire, type WireNumber, type Wired } from '../../shared/wireNumbers';

/**
 * Text from files (model and param names, values, errors, paths) as literal Markdown: the marks that
 * Markdown or HTML read as syntax inside a line get a backslash, so a param named `[x](https://…)`,
 * `<img …>` or `**b**` reads as itself in the preview, and a line break cannot end a table row. Marks
 * that only count at a line's start (`#`, `-`, `1.`) are left as they are: no file text starts a line,
 * and the source stays readable (`0.95`, not `0\.95`).
 */
export const markdownText = (s: string): string => s.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\`*_[\]<>|~&!]/g, '\\$&');
const cell = markdownText;
const value = (v: WireNumber | string | null | undefined) =>
  v === null || v === undefined ? '—' : typeof v === 'number' || ['NaN', 'Infinity', '-Infinity', '-0'].includes(v) ? markdownText(formatExact(fromWire(v as WireNumber))) : markdownText(v);
const MARK = { pass: '✓ pass', fail: '✗ FAIL', skipped: '– skipped' } as const;

export function approvalMarkdown(e: Wired<Evaluation>): string {
  const lines = [
    `# Approve ${cell(e.ref)}? ${e.pass ? 'All rules pass' : `${e.failed.length} rule(s) fail`}`,
    '',
    e.policy.file ? `Policy: ${cell(e.policy.file)}` : 'No policy file (`.runlens/policy.json`): only the file integrity is checked.',
    '',
    '| result | rule | evidence |',
    '|---|---|---|',
    ...e.rules.map((r) => `| ${MARK[r.status]} | ${cell(r.rule)} | ${cell(r.evidence)} |`),
  ];
  if (e.smoke.length) {
    lines.push('', '## Smoke tests', '', '| provider | ran on | runs | p50 | p95 | p99 | error |', '|---|---|---|---|---|---|---|');
    const ms = (v: WireNumber | string | null) => (typeof v === 'number' ? `${markdownText(v.toFixed(3))} ms` : value(v));
    for (const s of e.smoke) lines.push(`| ${cell(s.ep)} | ${cell(s.ranOn ?? '—')} | ${value(s.runs)} | ${ms(s.p50Ms)} | ${ms(s.p95Ms)} | ${ms(s.p99Ms)} | ${cell(s.error ?? '')} |`);
  }
  const d = e.diff;
  lines.push('', d.against ? `## Changes against ${cell(d.against)} (production)` : '## Changes against production', '');
  if (!d.against) lines.push('No production version yet: nothing to compare with.');
  else {
    lines.push(`### Params (${d.params.length} changed, ${fromWire(d.unchangedParams)} unchanged)`, '');
    if (d.params.length) lines.push('| param | before | after |', '|---|---|---|', ...d.params.map((p) => `| ${cell(p.key)} | ${cell(p.before ?? '—')} | ${cell(p.after ?? '—')} |`));
    lines.push('', '### Final metrics', '');
    if (d.metrics.length) {
      lines.push('| metric | before | after | Δ | Δ % |', '|---|---|---|---|---|');
      for (const m of d.metrics) {
        const pct = m.deltaPercent === null ? '—' : `${fromWire(m.deltaPercent).toFixed(2)} %`;
        lines.push(`| ${cell(m.key)} | ${value(m.before)} | ${value(m.after)} | ${value(m.delta)} | ${pct} |`);
      }
    } else lines.push('No metrics to compare.');
  }
  for (const n of e.notes) lines.push('', `> ${cell(n)}`);
  return lines.join('\n') + '\n';
}
