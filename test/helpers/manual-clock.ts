/** A clock a test moves by hand (see src/recording/clock.ts): limits without real waiting. */
import type { Clock } from '../../src/recording/clock.js';

export class ManualClock implements Clock {
  private ms = 1_000_000;
  private readonly timers = new Set<{ intervalMs: number; due: number; fn: () => void }>();

  now(): number {
    return this.ms;
  }

  every(intervalMs: number, fn: () => void): () => void {
    const timer = { intervalMs, due: this.ms + intervalMs, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Moves time on by `ms`, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const until = this.ms + ms;
    for (;;) {
      let next: { intervalMs: number; due: number; fn: () => void } | undefined;
      for (const timer of this.timers) if (timer.due <= until && (!next || timer.due < next.due)) next = timer;
      if (!next) break;
      this.ms = next.due;
      next.due += next.intervalMs;
      next.fn();
    }
    this.ms = until;
  }
}
