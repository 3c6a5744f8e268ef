// What a smoke test checks in each output: the shape against what the model
// declares, and non-finite values (NaN, ±Inf), with a range summary.
import type { Dim, TensorSpec } from './inspect';

export interface OutputCheck {
  name: string;
  dtype: string;
  dims: number[];
  declared: Dim[] | null;
  /** null when the shape agrees with the declaration. */
  shapeProblem: string | null;
  nan: number;
  posInf: number;
  negInf: number;
  min: number | null;
  max: number | null;
  mean: number | null;
}

export type OutputValues = ArrayLike<number | bigint | string | boolean>;

export function checkOutput(name: string, dtype: string, dims: readonly number[], data: OutputValues, declared: TensorSpec | undefined, symbols: Map<string, number>): OutputCheck {
  const check: OutputCheck = { name, dtype, dims: [...dims], declared: declared?.shape ?? null, shapeProblem: null, nan: 0, posInf: 0, negInf: 0, min: null, max: null, mean: null };
  check.shapeProblem = declared ? shapeProblem(dims, declared, symbols) : 'not declared by the model';
  if (dtype === 'string') return check;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (Number.isNaN(v)) check.nan++;
    else if (v === Infinity) check.posInf++;
    else if (v === -Infinity) check.negInf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      finite++;
    }
  }
  if (finite > 0) {
    check.min = min;
    check.max = max;
    check.mean = sum / finite;
  }
  return check;
}

/**
 * Fixed dims must match; a symbol must take one value everywhere it appears
 * (`symbols` holds the values the inputs gave it and collects new ones).
 */
function shapeProblem(dims: readonly number[], declared: TensorSpec, symbols: Map<string, number>): string | null {
  const shape = declared.shape;
  if (shape === null) return null;
  if (shape.length !== dims.length) return `rank ${dims.length}, declared rank ${shape.length}`;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d.kind === 'fixed' && d.value !== dims[i]) return `dim ${i} is ${dims[i]}, declared ${d.value}`;
    if (d.kind === 'symbol') {
      const seen = symbols.get(d.name);
      if (seen === undefined) symbols.set(d.name, dims[i]);
      else if (seen !== dims[i]) return `dim ${i} (${d.name}) is ${dims[i]}, but ${d.name} is ${seen} elsewhere`;
    }
  }
  return null;
}
