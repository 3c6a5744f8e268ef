// A workspace ingest on a fresh database (or after a big change) can take
// minutes; the editor should show what is stored as it is stored, not when the
// last source is done. Each written slice marks its source changed; the first
// is announced at once (the tree fills on first open), later ones at most
// every INTERVAL_MS, so a thousand small sources cost a handful of redraws.
// The ingest's own notification at the end still carries every change.

const INTERVAL_MS = 500;

export class ShownWhileIngesting {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private stopped = false;

  constructor(private readonly announce: (roots: string[]) => void) {}

  written(root: string): void {
    if (this.stopped) return;
    this.pending.add(root);
    if (this.timer) return;
    const wait = Math.max(0, this.last + INTERVAL_MS - Date.now());
    if (this.last === 0 || wait === 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** The ingest ended: its own notification says the rest. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    if (this.stopped || this.pending.size === 0) return;
    this.last = Date.now();
    const roots = [...this.pending];
    this.pending.clear();
    this.announce(roots);
  }
}
