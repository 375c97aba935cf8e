/**
 * Failed sign-ins per client: after MAX failures within WINDOW_MS a client is refused until
 * its window ends, so the dashboard's sign-in cannot be used to guess the API token at the
 * speed of the network. Bounded in memory: at most MAX_TRACKED clients are remembered, the
 * oldest forgotten first (an attacker with that many addresses is limited by the token's
 * length, which is the real defence). Runs on the monotonic clock.
 */
import { performance } from 'node:perf_hooks';

export interface AttemptLimits {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxTracked: number;
}

export class AttemptLimiter {
  /** Per client: failures in its window and when the window started. Insertion-ordered. */
  private readonly clients = new Map<string, { failures: number; since: number }>();

  constructor(
    private readonly limits: AttemptLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Milliseconds until `client` may try again, or 0 when it may now. */
  waitMs(client: string): number {
    const entry = this.clients.get(client);
    if (!entry) return 0;
    const elapsed = this.now() - entry.since;
    if (elapsed >= this.limits.windowMs) {
      this.clients.delete(client);
      return 0;
    }
    return entry.failures >= this.limits.maxFailures ? Math.ceil(this.limits.windowMs - elapsed) : 0;
  }

  fail(client: string): void {
    const now = this.now();
    const entry = this.clients.get(client);
    if (entry && now - entry.since < this.limits.windowMs) {
      entry.failures++;
      return;
    }
    this.clients.delete(client);
    if (this.clients.size >= this.limits.maxTracked) this.clients.delete(this.clients.keys().next().value!);
    this.clients.set(client, { failures: 1, since: now });
  }

  get tracked(): number {
    return this.clients.size;
  }
}
