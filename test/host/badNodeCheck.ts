// Phase "bad-node": with runlens.agent.nodePath pointing at no file, the
// extension cannot start its agent, and the user must be told so in a
// notification that names the setting (activation failures are shown, not
// swallowed).
import * as path from 'node:path';
import { openWorkbench } from './browser';
import { elapsed, type PhaseContext } from './phase';
import { runLensSettings } from './settings';
import { toastTexts } from './workbenchDom';
import { repoRoot } from '../support/fixtures';

export async function runBadNodeCheck(ctx: PhaseContext): Promise<void> {
  const missingNode = path.join(ctx.dir, 'no-such-dir', 'node');
  const { settings } = runLensSettings(ctx.dir, missingNode);
  const server = await ctx.startServer({ name: 'bad-node', workspace: ctx.workspace, settings, extensions: [repoRoot] });
  const started = Date.now();
  const workbench = await openWorkbench(ctx.browser, server);
  ctx.watch(workbench);
  const { page } = workbench;

  const deadline = Date.now() + 30_000;
  let toasts: string[] = [];
  let toast: string | undefined;
  while (!toast) {
    toasts = await toastTexts(page);
    toast = toasts.find((t) => t.includes('runlens.agent.nodePath'));
    if (toast) break;
    if (Date.now() > deadline) throw new Error(`no notification naming runlens.agent.nodePath within 30 s; toasts on screen: ${JSON.stringify(toasts)}`);
    await page.waitForTimeout(200);
  }
  ctx.log(`error notification after ${elapsed(started)}: "${toast}"`);
  if (!toast.includes('RunLens could not start')) throw new Error(`the notification does not say RunLens could not start: "${toast}"`);
  if (!toast.includes(missingNode)) throw new Error(`the notification does not name the configured path ${missingNode}: "${toast}"`);
  if (!/Open Settings/.test(toast)) throw new Error(`the notification offers no "Open Settings" action: "${toast}"`);

  // Its "Open Settings" action takes the user to the setting.
  await page.locator('.notification-toast').filter({ hasText: 'runlens.agent.nodePath' }).getByRole('button', { name: 'Open Settings' }).click();
  const setting = page.locator('.settings-editor .setting-item-contents').filter({ hasText: 'Node Path' }).first();
  await setting.waitFor({ state: 'visible', timeout: 15_000 });
  ctx.log(`"Open Settings" shows the setting: "${(await setting.innerText()).replace(/\s+/g, ' ').slice(0, 120)}"`);
}
