import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from './attempt-limiter.js';

describe('AttemptLimiter', () => {
  it('refuses a client after its failures fill the window, until the window ends', () => {
    let now = 0;
    const limiter = new AttemptLimiter({ maxFailures: 3, windowMs: 60_000, maxTracked: 100 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.waitMs('a')).toBe(0);
      limiter.fail('a');
    }
    now = 10_000;
    expect(limiter.waitMs('a')).toBe(50_000);
    expect(limiter.waitMs('b')).toBe(0);
    now = 60_000;
    expect(limiter.waitMs('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.waitMs('a')).toBe(0);
  });

  it('remembers a bounded number of clients, forgetting the oldest', () => {
    const limiter = new AttemptLimiter({ maxFailures: 1, windowMs: 60_000, maxTracked: 3 }, () => 0);
    for (const client of ['a', 'b', 'c', 'd']) limiter.fail(client);
    expect(limiter.tracked).toBe(3);
    expect(limiter.waitMs('a')).toBe(0);
    expect(limiter.waitMs('d')).toBe(60_000);
  });
});
