// Coalesces bursts of file events into batches: a batch is flushed once the
// files have been quiet for `debounceMs`, or after `maxWaitMs` at the latest so
// a file written every few milliseconds still shows up live. One batch is
// processed at a time; events that arrive meanwhile form the next batch.

export interface ChangeBatcherOptions {
  debounceMs: number;
  maxWaitMs: number;
  process: (paths: string[]) => Promise<void>;
  onError: (error: unknown) => void;
}

export class ChangeBatcher {
  private pending = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private disposed = false;

  constructor(private readonly options: ChangeBatcherOptions) {}

  add(path: string): void {
    if (this.disposed) return;
    this.pending.add(path);
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(), this.options.debounceMs);
    this.maxTimer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resolves when nothing is pending or running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.pending.size || this.quietTimer) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private flush(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.quietTimer = undefined;
    this.maxTimer = undefined;
    if (this.running || this.pending.size === 0 || this.disposed) {
      // A flush while a batch runs is retried when it ends (see below).
      return;
    }
    const batch = [...this.pending];
    this.pending = new Set();
    this.running = this.options
      .process(batch)
      .catch((e) => this.options.onError(e))
      .finally(() => {
        this.running = undefined;
        if (this.pending.size && !this.quietTimer) this.flush();
      });
  }

  dispose(): void {
    this.disposed = true;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.pending.clear();
  }
}
