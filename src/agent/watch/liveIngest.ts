// Live tracking: a workspace watcher whose batches of changed paths are
// ingested, source by source, into the store. Used by the agent server (for
// the extension) and by `runlens watch` alike.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scopesForChanges } from '../../core/ingest/changeScope';
import { ingestPaths, type IngestSummary } from '../../core/ingest/engine';
import type { FormatReader } from '../../core/ingest/types';
import type { RunStore } from '../../core/store/types';
import { WorkspaceWatcher } from './workspaceWatcher';
import { isInside } from '../../core/util/paths';

export interface LiveIngestOptions {
  roots: string[];
  /** Runs one ingest; the agent passes its serializer so live and requested ingests never overlap. */
  serialize?: <T>(work: () => Promise<T>) => Promise<T>;
  ignore: string[];
  usePolling: boolean;
  debounceMs: number;
  onIngested: (summary: IngestSummary) => void;
  onError: (error: unknown) => void;
}


export class LiveIngest {
  private readonly watcher: WorkspaceWatcher;
  readonly roots: string[];

  constructor(
    private readonly store: RunStore,
    private readonly readers: readonly FormatReader[],
    private readonly options: LiveIngestOptions,
  ) {
    this.roots = options.roots.map((r) => path.resolve(r));
    this.watcher = new WorkspaceWatcher({
      roots: this.roots,
      ignore: options.ignore,
      usePolling: options.usePolling,
      debounceMs: options.debounceMs,
      onBatch: (paths) => this.ingestBatch(paths),
      onError: options.onError,
    });
  }

  private async ingestBatch(paths: string[]): Promise<void> {
    const known = this.store.listSources().map((s) => s.root);
    const scopes = scopesForChanges(paths, known, this.roots).map((scope) => {
      if (fs.existsSync(scope)) return scope;
      // The whole source went away: re-scan its workspace folder so it is removed quietly.
      return this.roots.find((root) => isInside(scope, root)) ?? scope;
    });
    if (scopes.length === 0) return;
    const ingest = () => ingestPaths(this.store, this.readers, [...new Set(scopes)]);
    const summary = await (this.options.serialize ? this.options.serialize(ingest) : ingest());
    this.options.onIngested(summary);
  }

  ready(): Promise<void> {
    return this.watcher.ready();
  }

  setPaused(paused: boolean): void {
    this.watcher.setPaused(paused);
  }

  get paused(): boolean {
    return this.watcher.isPaused;
  }

  watchedPathCount(): number {
    return this.watcher.watchedPathCount();
  }

  idle(): Promise<void> {
    return this.watcher.idle();
  }

  dispose(): Promise<void> {
    return this.watcher.dispose();
  }
}
