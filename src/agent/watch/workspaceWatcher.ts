// Watches workspace folders with chokidar (native events; polling only when
// asked, e.g. for network drives) and hands debounced batches of changed
// paths to the ingest engine. Owns its watcher: dispose() closes it.
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { ALWAYS_SKIPPED_DIRS } from '../../core/ingest/walk';
import { ChangeBatcher } from './changeBatcher';

export interface WorkspaceWatcherOptions {
  roots: string[];
  /** Glob-like patterns (`**\/dir/**`, `*.tmp`) from files.watcherExclude and user settings. */
  ignore: string[];
  usePolling: boolean;
  debounceMs: number;
  onBatch: (paths: string[]) => Promise<void>;
  onError: (error: unknown) => void;
}

/** A small glob matcher for exclude patterns: `**`, `*`, `?`; matched against '/'-paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`(^|/)${re}$`);
}

export class WorkspaceWatcher {
  private readonly watcher: FSWatcher;
  private readonly batcher: ChangeBatcher;
  private paused = false;
  private readonly ignorePatterns: RegExp[];
  private readonly readyPromise: Promise<void>;

  constructor(private readonly options: WorkspaceWatcherOptions) {
    this.ignorePatterns = options.ignore.map(globToRegExp);
    this.batcher = new ChangeBatcher({
      debounceMs: options.debounceMs,
      maxWaitMs: Math.max(options.debounceMs * 5, 1000),
      process: options.onBatch,
      onError: options.onError,
    });
    this.watcher = watch(options.roots, {
      ignoreInitial: true,
      usePolling: options.usePolling,
      interval: 1000,
      followSymlinks: false,
      ignored: (p: string) => this.isIgnored(p),
      // Wait for writes to settle only a little: appenders never settle while training.
      awaitWriteFinish: false,
    });
    const onPath = (p: string) => {
      if (!this.paused) this.batcher.add(p.split(path.sep).join('/'));
    };
    this.watcher.on('add', onPath).on('change', onPath).on('unlink', onPath).on('addDir', onPath).on('unlinkDir', onPath);
    this.watcher.on('error', (e) => options.onError(e));
    this.readyPromise = new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  private isIgnored(p: string): boolean {
    const normalized = p.split(path.sep).join('/');
    for (const part of normalized.split('/')) if (ALWAYS_SKIPPED_DIRS.has(part)) return true;
    return this.ignorePatterns.some((re) => re.test(normalized));
  }

  /** Resolves once the initial scan is done and events are being delivered. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  watchedPathCount(): number {
    let n = 0;
    for (const entries of Object.values(this.watcher.getWatched())) n += entries.length;
    return n;
  }

  idle(): Promise<void> {
    return this.batcher.idle();
  }

  async dispose(): Promise<void> {
    this.batcher.dispose();
    await this.watcher.close();
  }
}
