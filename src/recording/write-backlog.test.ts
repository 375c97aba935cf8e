import { describe, expect, it } from 'vitest';
import { WriteBacklog } from './write-backlog.js';

describe('WriteBacklog', () => {
  it('is over past its limit, and calls each waiter once when it is back to half', () => {
    const backlog = new WriteBacklog(1000);
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    backlog.change(1001);
    expect(backlog.isOver).toBe(true);
    expect(backlog.hasRoom).toBe(false);
    backlog.whenRoom(a);
    backlog.whenRoom(a);
    backlog.whenRoom(b);
    backlog.change(-300);
    expect(backlog.isOver).toBe(false);
    expect(calls).toEqual([]); // 701: under the limit, not yet down to half
    backlog.change(-201);
    expect(backlog.bytes).toBe(500);
    expect(calls).toEqual(['a', 'b']);
    backlog.change(600);
    backlog.change(-600);
    expect(calls).toEqual(['a', 'b']);
  });

  it('forgets a cancelled waiter', () => {
    const backlog = new WriteBacklog(100);
    let called = 0;
    const resume = () => called++;
    backlog.change(200);
    backlog.whenRoom(resume);
    backlog.cancel(resume);
    backlog.change(-200);
    expect(called).toBe(0);
  });
});
