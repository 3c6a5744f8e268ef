// Numbers for people in the webviews: steps, deltas, durations and axis
// ticks (rounded, being derived). Logged values are shown by numberText.ts:
// short in cells, exact on hover and in copies.
import { formatValue } from '../src/shared/wireNumbers';

export function formatStep(step: number): string {
  return Number.isFinite(step) ? step.toLocaleString('en-US', { maximumFractionDigits: 6 }) : formatValue(step);
}

export function formatSigned(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return formatValue(v);
  if (v === 0) return '±0';
  const body = compact(Math.abs(v), digits);
  return `${v > 0 ? '+' : '−'}${body}`;
}

export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return 'n/a';
  const pct = ratio * 100;
  if (pct === 0) return '±0 %';
  const digits = Math.abs(pct) >= 100 ? 0 : Math.abs(pct) >= 10 ? 1 : 2;
  return `${pct > 0 ? '+' : '−'}${Math.abs(pct).toFixed(digits)} %`;
}

/** Short form for ticks and tooltips: 4 significant digits, exponent notation for very large or small values. */
export function compact(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return formatValue(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(Math.max(0, digits - 2)).replace('e+', 'e');
  return String(Number(v.toPrecision(digits)));
}

/** Seconds as a duration: 45s, 12m 30s, 3h 05m, 2d 4h. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return formatValue(seconds);
  const sign = seconds < 0 ? '−' : '';
  let s = Math.abs(seconds);
  if (s < 60) return `${sign}${Number(s.toPrecision(3))}s`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s = Math.round(s - m * 60);
  if (d) return `${sign}${d}d ${h}h`;
  if (h) return `${sign}${h}h ${String(m).padStart(2, '0')}m`;
  return `${sign}${m}m ${String(s).padStart(2, '0')}s`;
}

/** Axis tick: short, no float noise (0.30000000000000004 → 0.3), exponents for extremes. */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return formatValue(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) {
    const e = Math.floor(Math.log10(a));
    const m = Number((v / Math.pow(10, e)).toPrecision(3));
    return m === 1 ? `1e${e}` : m === -1 ? `-1e${e}` : `${m}e${e}`;
  }
  return String(Number(v.toPrecision(6)));
}

/** Step ticks: 12k, 384.5k, 1.2M. */
export function formatStepTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(4))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(4))}k`;
  return formatTick(v);
}
