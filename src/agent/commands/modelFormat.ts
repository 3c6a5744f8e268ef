// Formatting shared by `runlens inspect` and `runlens smoke`: sizes, times,
// and JSON that keeps NaN/±Infinity (as the README's "NaN"/"Infinity" strings).
import { toWireDeep } from '../../shared/wireNumbers';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Milliseconds with about three significant digits (0.205 ms, 72.1 ms, 1,234 ms). */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${Math.round(ms).toLocaleString('en-US')} ms`;
  return `${ms.toPrecision(3)} ms`;
}

export function formatNumber(v: number | null | undefined, digits = 6): string {
  if (v === null || v === undefined) return '-';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(digits)));
}

/** Shows whitespace-only or empty strings visibly (paddle2onnx writes a producer of ' '). */
export function quoted(s: string): string {
  return JSON.stringify(s);
}

export function toJson(value: unknown): string {
  return JSON.stringify(toWireDeep(value), null, 2);
}
