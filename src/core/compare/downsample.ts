// Min/max bucket downsampling for line charts. A chart cannot show more than
// a few values per pixel column, so each of `buckets` equal slices of the x
// range (one per pixel) keeps its lowest and its highest point: spikes
// survive (a mean or a stride would drop them), and so do gaps: a bucket with
// a NaN or infinite value keeps one such point, which the chart draws as a
// break in the line instead of joining its neighbours across it.
// O(n), one pass, and the input need not be sorted by x (steps repeat and go
// back when a run restarts); the output always is.

export interface DownsampleOptions {
  /** Number of x slices; about the chart's width in pixels (two points per pixel). */
  buckets: number;
  /** Inclusive x range; points outside are left out. */
  xMin?: number;
  xMax?: number;
}

export interface Downsampled {
  xs: Float64Array;
  ys: Float64Array;
  /** Points with a finite x inside the range, before downsampling. */
  inRange: number;
  /** False when every point in range fit and was returned as it is. */
  downsampled: boolean;
}

export function downsampleMinMax(xs: ArrayLike<number>, ys: ArrayLike<number>, options: DownsampleOptions): Downsampled {
  const n = Math.min(xs.length, ys.length);
  const lo = options.xMin ?? -Infinity;
  const hi = options.xMax ?? Infinity;
  const buckets = Math.max(1, Math.floor(options.buckets));

  let inRange = 0;
  let xLo = Infinity;
  let xHi = -Infinity;
  let sorted = true;
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (!(x >= lo && x <= hi)) continue; // also drops NaN x (a point without a wall time on a time axis)
    inRange++;
    if (x < xLo) xLo = x;
    if (x > xHi) xHi = x;
    if (x < prev) sorted = false;
    prev = x;
  }

  if (inRange <= 2 * buckets) return { ...pointsInRange(xs, ys, n, lo, hi, inRange, sorted), inRange, downsampled: false };

  const minIdx = new Int32Array(buckets).fill(-1);
  const maxIdx = new Int32Array(buckets).fill(-1);
  const gapIdx = new Int32Array(buckets).fill(-1);
  const width = xHi - xLo;
  const scale = width > 0 ? buckets / width : 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    if (!(x >= lo && x <= hi)) continue;
    const b = Math.min(buckets - 1, Math.floor((x - xLo) * scale));
    const y = ys[i];
    if (!Number.isFinite(y)) {
      // The earliest break in the bucket (by x) stands for all of them.
      if (gapIdx[b] < 0 || x < xs[gapIdx[b]]) gapIdx[b] = i;
      continue;
    }
    if (minIdx[b] < 0 || y < ys[minIdx[b]]) minIdx[b] = i;
    if (maxIdx[b] < 0 || y > ys[maxIdx[b]]) maxIdx[b] = i;
  }

  const outX = new Float64Array(3 * buckets);
  const outY = new Float64Array(3 * buckets);
  let m = 0;
  const picked = [0, 0, 0];
  for (let b = 0; b < buckets; b++) {
    let k = 0;
    if (minIdx[b] >= 0) picked[k++] = minIdx[b];
    if (maxIdx[b] >= 0 && maxIdx[b] !== minIdx[b]) picked[k++] = maxIdx[b];
    if (gapIdx[b] >= 0) picked[k++] = gapIdx[b];
    // At most three points: a tiny insertion sort by (x, file order).
    for (let p = 1; p < k; p++) {
      for (let q = p; q > 0 && before(xs, picked[q], picked[q - 1]); q--) {
        const t = picked[q];
        picked[q] = picked[q - 1];
        picked[q - 1] = t;
      }
    }
    for (let p = 0; p < k; p++) {
      outX[m] = xs[picked[p]];
      outY[m] = ys[picked[p]];
      m++;
    }
  }
  return { xs: outX.slice(0, m), ys: outY.slice(0, m), inRange, downsampled: true };
}

function before(xs: ArrayLike<number>, i: number, j: number): boolean {
  return xs[i] < xs[j] || (xs[i] === xs[j] && i < j);
}

function pointsInRange(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number, lo: number, hi: number, count: number, sorted: boolean): { xs: Float64Array; ys: Float64Array } {
  const idx = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) if (xs[i] >= lo && xs[i] <= hi) idx[k++] = i;
  // Stable: points at the same x keep their file order (the later one is the newer value).
  if (!sorted) idx.sort((a, b) => xs[a] - xs[b] || a - b);
  const outX = new Float64Array(count);
  const outY = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    outX[j] = xs[idx[j]];
    outY[j] = ys[idx[j]];
  }
  return { xs: outX, ys: outY };
}
