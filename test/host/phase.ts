// What every phase of the host run gets: the tools, a temp root, the
// workspace, the browser, a progress logger, and a way to start code-server
// that the runner tracks (so every server is stopped, even on failure).
import type { Browser, Workbench } from './browser';
import type { CodeServer, CodeServerOptions } from './codeServer';
import type { HostTools } from './hostTools';

export interface PhaseContext {
  tools: HostTools;
  /** A temp folder for this phase, removed by the runner. */
  dir: string;
  workspace: string;
  browser: Browser;
  log(line: string): void;
  /** Starts a code-server for this phase (stopped by the runner; diagnostics printed if the phase fails). */
  startServer(options: Omit<CodeServerOptions, 'tools' | 'dir'>): Promise<CodeServer>;
  /** Registers a page whose console is printed if the phase fails. */
  watch(workbench: Workbench): void;
}

export function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
