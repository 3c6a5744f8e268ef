// Accessibility checks run inside a webview's document (a harness page in
// headless Chromium, or the real webview frame inside VS Code's workbench):
//   - text contrast computed here for every element that draws text, in the
//     light DOM and in the components' shadow roots: its colour (with its
//     own alpha and every ancestor's opacity) over the background it sits
//     on, against WCAG AA (4.5:1, 3:1 for large text);
//   - axe-core's WCAG 2 A/AA rules, which also look at names, roles, labels.
// Both report what failed by element, colours and ratio, so a failure says
// which pair of theme colours to fix.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';

/** A page or a frame: anything that evaluates a script in the document. */
export interface Evaluator {
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  evaluate<R>(fn: string): Promise<R>;
}

export interface ContrastFailure {
  element: string;
  text: string;
  color: string;
  background: string;
  ratio: number;
  required: number;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Every text-drawing element whose contrast is below WCAG AA, and how many were checked. */
export async function contrastFailures(doc: Evaluator): Promise<{ checked: number; failures: ContrastFailure[] }> {
  return doc.evaluate(() => {
    type Rgba = [number, number, number, number];
    const ctx = document.createElement('canvas').getContext('2d')!;
    // Any CSS colour to RGBA, through the canvas (it resolves names, hex, rgb(), color-mix results).
    const parse = (css: string): Rgba => {
      const m = /rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)/.exec(css);
      if (m) return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : m[4].endsWith('%') ? Number(m[4].slice(0, -1)) / 100 : Number(m[4])];
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const a = top[3] + bottom[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const mix = (i: number) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const luminance = ([r, g, b]: Rgba) => {
      const channel = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    // The flattened tree: slotted content sits under its slot, a shadow root under its host.
    const parentOf = (el: Element): Element | null => el.assignedSlot ?? el.parentElement ?? ((el.getRootNode() as ShadowRoot).host ?? null);
    const ancestors = (el: Element): Element[] => {
      const out: Element[] = [];
      for (let at: Element | null = el; at; at = parentOf(at)) out.push(at);
      return out;
    };
    const backgroundOf = (el: Element): Rgba => {
      // Backgrounds from the page down to the element, each over the ones below it.
      let bg: Rgba = [255, 255, 255, 1];
      for (const a of ancestors(el).reverse()) {
        const color = parse(getComputedStyle(a).backgroundColor);
        if (color[3] > 0) bg = over(color, bg);
      }
      return bg;
    };
    const describe = (el: Element): string => {
      const classes = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      const host = (el.getRootNode() as ShadowRoot).host;
      return `${host ? `${host.tagName.toLowerCase()}::shadow ` : ''}${el.tagName.toLowerCase()}${classes}`;
    };
    const failures: ContrastFailure[] = [];
    let checked = 0;
    const visit = (root: Document | ShadowRoot) => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el.shadowRoot) visit(el.shadowRoot as unknown as ShadowRoot);
        const text = Array.from(el.childNodes)
          .filter((n) => n.nodeType === Node.TEXT_NODE)
          .map((n) => n.textContent ?? '')
          .join('')
          .trim();
        if (!text) continue;
        const style = getComputedStyle(el);
        const rect = el.getBoundingClientRect();
        if (style.visibility === 'hidden' || style.display === 'none' || rect.width === 0 || rect.height === 0) continue;
        // Disabled controls are exempt (WCAG 1.4.3: inactive user interface components).
        if (ancestors(el).some((a) => a.hasAttribute('disabled') || a.getAttribute('aria-disabled') === 'true')) continue;
        let opacity = 1;
        for (const a of ancestors(el)) opacity *= Number(getComputedStyle(a).opacity);
        const fg = parse(style.color);
        const bg = backgroundOf(el);
        const shown = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
        const [l1, l2] = [luminance(shown), luminance(bg)].sort((x, y) => y - x);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const px = parseFloat(style.fontSize);
        const large = px >= 24 || (px >= 18.66 && Number(style.fontWeight) >= 700);
        const required = large ? 3 : 4.5;
        checked++;
        if (ratio + 1e-9 < required) {
          const hex = (c: Rgba) => `#${c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
          failures.push({ element: describe(el), text: text.slice(0, 40), color: hex(shown), background: hex(bg), ratio: Math.round(ratio * 100) / 100, required });
        }
      }
    };
    visit(document);
    return { checked, failures };
  }, undefined);
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2 A and AA rules over the whole document (shadow roots included). */
export async function axeViolations(doc: Evaluator): Promise<AxeViolation[]> {
  // Evaluated through the debugging protocol, which a webview's CSP does not govern.
  await doc.evaluate<unknown>(`${AXE_SOURCE};void 0`);
  return doc.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  }, undefined);
}

export function describeContrast(failures: readonly ContrastFailure[]): string {
  return failures.map((f) => `${f.element} "${f.text}": ${f.color} on ${f.background} = ${f.ratio}:1 (needs ${f.required}:1)`).join('\n');
}

export function describeAxe(violations: readonly AxeViolation[]): string {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.slice(0, 5).join(', ')}`).join('\n');
}

/**
 * In each of VS Code's three themes (switched by the harness shim's __setTheme), asserts that every text
 * meets WCAG AA and axe-core finds no violation; `fewestTexts` guards against a page that drew nothing.
 */
export async function assertAccessibleInEveryTheme(page: Evaluator, fewestTexts: number): Promise<void> {
  for (const theme of ['light', 'high-contrast', 'dark'] as const) {
    await page.evaluate((k) => (window as unknown as { __setTheme: (k: string) => void }).__setTheme(k), theme);
    // Charts redraw in the theme's colours a frame later.
    await new Promise((r) => setTimeout(r, 300));
    const contrast = await contrastFailures(page);
    assert.ok(contrast.checked >= fewestTexts, `${theme}: ${contrast.checked} texts checked`);
    assert.deepEqual(contrast.failures, [], `${theme}:\n${describeContrast(contrast.failures)}`);
    const axe = await axeViolations(page);
    assert.deepEqual(axe, [], `${theme}:\n${describeAxe(axe)}`);
  }
}
