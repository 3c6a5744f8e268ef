// When to restart a crashed agent. Free of `vscode`; unit-tested.

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up after this many crashes within `windowMs`. */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 1000, maxDelayMs: 30_000, maxCrashes: 5, windowMs: 3 * 60_000 };

export class RestartBackoff {
  private crashes: number[] = [];

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Records a crash; returns the delay before the next start, or undefined to give up. */
  nextDelay(now: number = Date.now()): number | undefined {
    this.crashes = this.crashes.filter((t) => now - t < this.policy.windowMs);
    this.crashes.push(now);
    if (this.crashes.length > this.policy.maxCrashes) return undefined;
    return Math.min(this.policy.initialDelayMs * 2 ** (this.crashes.length - 1), this.policy.maxDelayMs);
  }

  reset(): void {
    this.crashes = [];
  }
}
