// A chart as a file: PNG (the canvas uPlot drew, axes included, with a title
// and a legend around it) or SVG (the same lines as vectors, built from the
// drawn data; every string XML-escaped).
import uPlot from 'uplot';

export interface ExportMeta {
  title: string;
  subtitle: string;
  runs: { name: string; color: string }[];
  background: string;
  foreground: string;
  font: string;
  xTicks: string;
  yTicks: string;
}

const HEADER = 40;
const LEGEND_ROW = 18;

/** PNG as base64 (no data: prefix). */
export function chartToPng(u: uPlot, meta: ExportMeta): string {
  const ratio = uPlot.pxRatio;
  const src = u.ctx.canvas;
  const legendHeight = LEGEND_ROW * Math.ceil(meta.runs.length / 3) + 8;
  const canvas = document.createElement('canvas');
  canvas.width = src.width;
  canvas.height = src.height + (HEADER + legendHeight) * ratio;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = meta.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.scale(ratio, ratio);
  ctx.fillStyle = meta.foreground;
  ctx.font = `bold ${meta.font}`;
  ctx.fillText(meta.title, 8, 18);
  ctx.font = meta.font;
  ctx.globalAlpha = 0.75;
  ctx.fillText(meta.subtitle, 8, 34);
  ctx.globalAlpha = 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(src, 0, HEADER * ratio);
  ctx.scale(ratio, ratio);
  const colWidth = src.width / ratio / 3;
  meta.runs.forEach((r, i) => {
    const x = 8 + (i % 3) * colWidth;
    const y = HEADER + src.height / ratio + 8 + Math.floor(i / 3) * LEGEND_ROW;
    ctx.fillStyle = r.color;
    ctx.fillRect(x, y + 3, 14, 4);
    ctx.fillStyle = meta.foreground;
    ctx.font = meta.font;
    ctx.fillText(r.name, x + 20, y + 10, colWidth - 28);
  });
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const num = (v: number) => (Math.round(v * 100) / 100).toString();

interface AxisInternals {
  _splits?: number[];
  _values?: string[];
}

/** SVG document text. */
export function chartToSvg(u: uPlot, meta: ExportMeta): string {
  const ratio = uPlot.pxRatio;
  const plot = { left: u.bbox.left / ratio, top: u.bbox.top / ratio + HEADER, width: u.bbox.width / ratio, height: u.bbox.height / ratio };
  const legendHeight = LEGEND_ROW * Math.ceil(meta.runs.length / 3) + 8;
  const width = u.width;
  const height = u.height + HEADER + legendHeight;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${xml(meta.title)}</title>`);
  out.push(`<rect width="100%" height="100%" fill="${xml(meta.background)}"/>`);
  out.push(`<text x="8" y="18" font-weight="bold" font-size="13" fill="${xml(meta.foreground)}">${xml(meta.title)}</text>`);
  out.push(`<text x="8" y="34" fill="${xml(meta.foreground)}" opacity="0.75">${xml(meta.subtitle)}</text>`);
  out.push(`<defs><clipPath id="plot"><rect x="${num(plot.left)}" y="${num(plot.top)}" width="${num(plot.width)}" height="${num(plot.height)}"/></clipPath></defs>`);
  out.push(`<rect x="${num(plot.left)}" y="${num(plot.top)}" width="${num(plot.width)}" height="${num(plot.height)}" fill="none" stroke="${xml(meta.foreground)}" stroke-opacity="0.25"/>`);

  // Axes: the ticks uPlot computed for the canvas.
  const [xAxis, yAxis] = u.axes as (uPlot.Axis & AxisInternals)[];
  (xAxis._splits ?? []).forEach((v, i) => {
    const label = xAxis._values?.[i];
    const x = plot.left + u.valToPos(v, 'x');
    if (!label || x < plot.left - 1 || x > plot.left + plot.width + 1) return;
    out.push(`<text x="${num(x)}" y="${num(plot.top + plot.height + 14)}" text-anchor="middle" fill="${xml(meta.foreground)}">${xml(String(label))}</text>`);
  });
  (yAxis._splits ?? []).forEach((v, i) => {
    const label = yAxis._values?.[i];
    const y = plot.top + u.valToPos(v, 'y');
    if (!label || y < plot.top - 1 || y > plot.top + plot.height + 1) return;
    out.push(`<line x1="${num(plot.left)}" x2="${num(plot.left + plot.width)}" y1="${num(y)}" y2="${num(y)}" stroke="${xml(meta.foreground)}" stroke-opacity="0.12"/>`);
    out.push(`<text x="${num(plot.left - 6)}" y="${num(y + 4)}" text-anchor="end" fill="${xml(meta.foreground)}">${xml(String(label))}</text>`);
  });

  // Lines: every shown series, split at gaps (null), drawn across alignment holes (undefined).
  const xs = u.data[0];
  const xMin = u.scales.x.min ?? -Infinity;
  const xMax = u.scales.x.max ?? Infinity;
  out.push('<g clip-path="url(#plot)" fill="none" stroke-linejoin="round">');
  u.series.forEach((s, i) => {
    if (i === 0 || !s.show) return;
    const ys = u.data[i];
    const stroke = typeof s.stroke === 'function' ? s.stroke(u, i) : s.stroke;
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1) out.push(`<polyline stroke="${xml(String(stroke))}" stroke-width="${s.width ?? 1}" points="${segment.join(' ')}"/>`);
      segment = [];
    };
    for (let j = 0; j < xs.length; j++) {
      const y = ys[j];
      if (y === null) {
        flush();
        continue;
      }
      if (y === undefined) continue;
      // One point beyond each side of the visible range, so lines reach the edges.
      if (xs[j] < xMin && !(j + 1 < xs.length && xs[j + 1] >= xMin)) continue;
      if (xs[j] > xMax && !(j > 0 && xs[j - 1] <= xMax)) continue;
      segment.push(`${num(plot.left + u.valToPos(xs[j], 'x'))},${num(plot.top + u.valToPos(y, 'y'))}`);
    }
    flush();
  });
  out.push('</g>');

  meta.runs.forEach((r, i) => {
    const colWidth = width / 3;
    const x = 8 + (i % 3) * colWidth;
    const y = HEADER + u.height + 8 + Math.floor(i / 3) * LEGEND_ROW;
    out.push(`<rect x="${num(x)}" y="${num(y + 3)}" width="14" height="4" fill="${xml(r.color)}"/>`);
    out.push(`<text x="${num(x + 20)}" y="${num(y + 10)}" fill="${xml(meta.foreground)}">${xml(r.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
