// Colours. Canvas cannot read CSS variables, so chart colours are resolved
// from VS Code's theme variables when a chart is built, and charts are
// rebuilt when the theme changes (VS Code swaps the body class and the
// variables on <html>). Run colours are fixed per position in the panel:
// the same run keeps its colour across charts, reloads and themes.
const PALETTE = ['#3794ff', '#f28b25', '#2fb344', '#e5484d', '#a970ff', '#12b5b0', '#e6b800', '#e85aad', '#8fbf26', '#6b8cff'];

export function runColor(index: number): string {
  if (index < PALETTE.length) return PALETTE[index];
  // Beyond the palette: golden-angle hues, far apart from their neighbours.
  const hue = (index * 137.508) % 360;
  return hslToHex(hue, 70, 55);
}

function hslToHex(h: number, s: number, l: number): string {
  const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l / 100 - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export interface ChartTheme {
  foreground: string;
  background: string;
  grid: string;
  font: string;
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export function themeKind(): ChartTheme['kind'] {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

export function chartTheme(): ChartTheme {
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const foreground = cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', light ? '#333333' : '#cccccc'));
  const background = cssVar('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e');
  const family = cssVar('--vscode-font-family', 'sans-serif');
  const size = cssVar('--vscode-font-size', '12px');
  const grid = kind.startsWith('high-contrast') ? withAlphaCss(foreground, 0.35) : withAlphaCss(foreground, 0.12);
  return { foreground, background, grid, font: `${size} ${family}`, kind };
}

/** A CSS colour with an alpha, when it is a hex colour (the usual form of VS Code's variables). */
function withAlphaCss(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color);
  return m ? withAlpha(`#${m[1]}`, alpha) : color;
}

/** Calls `onChange` when VS Code switches theme. */
export function watchTheme(onChange: () => void): void {
  let last = `${document.body.className}|${document.documentElement.getAttribute('style') ?? ''}`;
  const check = () => {
    const now = `${document.body.className}|${document.documentElement.getAttribute('style') ?? ''}`;
    if (now !== last) {
      last = now;
      onChange();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
