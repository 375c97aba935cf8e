import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  it('reuses a released buffer for the next batch of its size class', () => {
    const pool = new BufferPool();
    const first = pool.take(16_000);
    expect(first.length).toBe(16_000);
    pool.release(first.subarray(100)); // a view of it gives the whole buffer back
    expect(pool.idleBytes).toBe(16_384);
    const second = pool.take(15_000);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.idleBytes).toBe(0);
  });

  it('ignores buffers it did not lend and a second release of the same one', () => {
    const pool = new BufferPool();
    pool.release(Buffer.alloc(8192));
    const chunk = pool.take(5000);
    pool.release(chunk);
    pool.release(chunk);
    expect(pool.idleBytes).toBe(8192);
    expect(pool.take(5000).buffer).toBe(chunk.buffer);
    expect(pool.take(5000).buffer).not.toBe(chunk.buffer);
  });

  it('keeps no more than its limit for reuse', () => {
    const pool = new BufferPool(10_000);
    const a = pool.take(4096);
    const b = pool.take(4096);
    const c = pool.take(4096);
    for (const chunk of [a, b, c]) pool.release(chunk);
    expect(pool.idleBytes).toBe(8192);
  });
});
