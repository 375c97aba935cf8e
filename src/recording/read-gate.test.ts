import { describe, expect, it } from 'vitest';
import { ReadGate } from './read-gate.js';
import { WriteBacklog } from './write-backlog.js';

function setup(recorderLimit = 1000, streamLimit = 100) {
  const backlog = new WriteBacklog(recorderLimit);
  const calls: string[] = [];
  const gate = new ReadGate(backlog, { pause: () => calls.push('pause'), resume: () => calls.push('resume') }, undefined, streamLimit);
  return { backlog, gate, calls };
}

describe('ReadGate', () => {
  it("stops reading past the stream's own limit and reads again at half of it", () => {
    const { gate, calls, backlog } = setup();
    gate.fileBacklog.change(100);
    expect(gate.paused).toBe(false);
    gate.fileBacklog.change(1);
    expect(calls).toEqual(['pause']);
    gate.fileBacklog.change(-40); // 61 left: above half
    expect(calls).toEqual(['pause']);
    gate.fileBacklog.change(-11); // 50: half
    expect(calls).toEqual(['pause', 'resume']);
    expect(backlog.bytes).toBe(50);
  });

  it("stops for the recorder's backlog after a frame, and reads again when the backlog has room", () => {
    const { gate, calls, backlog } = setup(100, 1000);
    backlog.change(150); // other streams' audio
    gate.afterFrame();
    expect(calls).toEqual(['pause']);
    backlog.change(-60); // 90: over half of the recorder's limit
    expect(calls).toEqual(['pause']);
    backlog.change(-40); // 50: room
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('waits for both: its own files down to half and the recorder with room', () => {
    const { gate, calls, backlog } = setup(100, 100);
    gate.fileBacklog.change(101); // over both
    expect(calls).toEqual(['pause']);
    gate.fileBacklog.change(-51); // own 50: half, but the recorder holds 50 of 100: room too
    expect(calls).toEqual(['pause', 'resume']);
    backlog.change(0);
  });

  it('forgets its room callback when cancelled', () => {
    const { gate, calls, backlog } = setup(100, 1000);
    backlog.change(150);
    gate.afterFrame();
    gate.cancel();
    backlog.change(-150);
    expect(calls).toEqual(['pause']);
  });
});
