// Deterministic, plausible training curves for the demo workspace.

/** A small LCG: the same seed gives the same demo on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface CurveOptions {
  start: number;
  end: number;
  /** How fast it approaches `end` (per step, in [0, 1)). */
  rate: number;
  noise: number;
  seed: number;
}

/** An exponential approach from start to end with multiplicative noise. */
export function curve(steps: number, o: CurveOptions): number[] {
  const random = seededRandom(o.seed);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const clean = o.end + (o.start - o.end) * Math.pow(1 - o.rate, i);
    out.push(clean * (1 + (random() - 0.5) * 2 * o.noise));
  }
  return out;
}

/** Values as a float32 logger would hand them to Python (float32, printed by repr). */
export const asFloat32 = (values: number[]): number[] => values.map((v) => Math.fround(v));

/** Python's repr of a float, which is what the CSV/TSV writers of these tools print. */
export function pythonRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  const s = String(v);
  // JS writes 1e-7 as "1e-7"; Python writes "1e-07".
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
