import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';

describe('systemClock', () => {
  it('is monotonic and ticks until cancelled', async () => {
    const start = systemClock.now();
    let ticks = 0;
    const cancel = systemClock.every(5, () => ticks++);
    await new Promise((resolve) => setTimeout(resolve, 60));
    cancel();
    const seen = ticks;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toBeGreaterThan(0);
    expect(ticks).toBe(seen);
    expect(systemClock.now()).toBeGreaterThan(start);
  });
});
