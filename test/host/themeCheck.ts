// Part of the "ui" phase: the comparison panel's webview in VS Code's own
// Light Modern, Dark Modern and Dark High Contrast themes. For each theme the
// theme is picked the way a person does (Preferences: Color Theme), and in
// the real webview frame every text is checked for WCAG AA contrast and
// axe-core's WCAG rules must find nothing. The theme variables VS Code gave
// the webview are saved (test-results/vscode-themes.json); with
// RUNLENS_UPDATE_THEMES=1 they also replace test/webview/vscode-themes.json,
// which the headless-Chromium webview tests use as their themes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { runPaletteCommand } from './palette';
import { axeViolations, contrastFailures, describeAxe, describeContrast } from '../webview/a11y';
import type { PhaseContext } from './phase';
import { repoRoot } from '../support/fixtures';

export const THEME_LABELS = { light: 'Light Modern', dark: 'Dark Modern', 'high-contrast': 'Dark High Contrast' } as const;
export type ThemeKind = keyof typeof THEME_LABELS;

const CAPTURED = path.join(repoRoot, 'test-results', 'vscode-themes.json');
const COMMITTED = path.join(repoRoot, 'test', 'webview', 'vscode-themes.json');
const PICKER_INPUT = '.quick-input-widget .quick-input-box input';

async function pickTheme(page: Page, label: string): Promise<void> {
  // The palette's input becomes the theme picker's: wait for the picker's placeholder, not for the input to go.
  const input = page.locator(PICKER_INPUT);
  await runPaletteCommand(page, 'Preferences: Color Theme', 20_000, true);
  await page.locator(`${PICKER_INPUT}[placeholder^="Select Color Theme"]`).waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(label);
  await page.waitForTimeout(400);
  await input.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The --vscode-* variables on the webview's root element, once its body carries the theme's class. */
async function themeVariables(frame: Frame, kind: ThemeKind, timeoutMs: number): Promise<Record<string, string>> {
  await frame.waitForFunction((k) => document.body.classList.contains(`vscode-${k}`), kind, { timeout: timeoutMs });
  return frame.evaluate(() => {
    const style = document.documentElement.style;
    const out: Record<string, string> = {};
    for (let i = 0; i < style.length; i++) if (style[i].startsWith('--vscode-')) out[style[i]] = style.getPropertyValue(style[i]).trim();
    return out;
  });
}

export async function checkThemes(ctx: PhaseContext, page: Page, frame: Frame): Promise<void> {
  const captured: Partial<Record<ThemeKind, Record<string, string>>> = {};
  const problems: string[] = [];
  for (const kind of ['light', 'high-contrast', 'dark'] as const) {
    await pickTheme(page, THEME_LABELS[kind]);
    captured[kind] = await themeVariables(frame, kind, 15_000);
    // Charts redraw with the theme's colours a frame later.
    await page.waitForTimeout(500);
    const contrast = await contrastFailures(frame);
    const axe = await axeViolations(frame);
    ctx.log(`${THEME_LABELS[kind]}: ${Object.keys(captured[kind]!).length} theme variables; ${contrast.checked} texts checked, ${contrast.failures.length} below WCAG AA; axe: ${axe.length} violations`);
    if (contrast.failures.length) problems.push(`${THEME_LABELS[kind]}, contrast:\n${describeContrast(contrast.failures)}`);
    if (axe.length) problems.push(`${THEME_LABELS[kind]}, axe:\n${describeAxe(axe)}`);
  }
  fs.mkdirSync(path.dirname(CAPTURED), { recursive: true });
  fs.writeFileSync(CAPTURED, JSON.stringify(captured, null, 2) + '\n');
  if (process.env.RUNLENS_UPDATE_THEMES === '1') {
    fs.copyFileSync(CAPTURED, COMMITTED);
    ctx.log(`RUNLENS_UPDATE_THEMES=1: theme variables copied to ${path.relative(repoRoot, COMMITTED)}`);
  }
  if (problems.length) throw new Error(`the comparison panel fails accessibility checks in VS Code's themes:\n${problems.join('\n')}`);
}
