import { describe, expect, it } from 'vitest';
import { TrackWindow } from './track-window.js';

const WINDOW = 96; // 2 x 5 ms + 2 ms at 8 kHz
const track = () => new TrackWindow({ mono: undefined }, 64, true);

describe('TrackWindow placement rule', () => {
  it('continues the track for a stamp within the window of its end, whatever the jitter', () => {
    const win = track();
    win.head = 1600;
    win.noteDrift(1440, 0, undefined, WINDOW); // the frame before, placed at its stamp
    expect(win.positionOf(1600 + 40, undefined, WINDOW)).toBe(1600); // 5 ms late by its stamp
    expect(win.positionOf(1600 - 40, undefined, WINDOW)).toBe(1600); // 5 ms early
  });

  it('puts a frame beyond the window where its drift-corrected stamp says: a gap, or an overlap', () => {
    const win = track();
    win.head = 1600;
    win.noteDrift(1440, 0, undefined, WINDOW);
    expect(win.positionOf(1600 + 160, undefined, WINDOW)).toBe(1760);
    expect(win.positionOf(1600 - 160, undefined, WINDOW)).toBe(1440);
  });

  it('never takes the same stamp again for the next frame: a duplicate of a short frame is an overlap', () => {
    const win = track();
    win.noteDrift(1000, 0, undefined, WINDOW);
    win.head = 1075; // a 75-sample frame at 1000
    expect(win.positionOf(1000, undefined, WINDOW)).toBe(1000);
  });

  it('averages drift over frames, reports it, and starts a new track on the other track\'s drift', () => {
    const a = track();
    a.noteDrift(0, 0, undefined, WINDOW);
    for (let i = 1; i <= 40; i++) a.noteDrift(i * 160, 8, undefined, WINDOW); // each frame 1 ms behind its audio
    expect(a.stats.driftSamples).toBe(8);
    expect(a.stats.maxDriftSamples).toBe(8);
    const b = track();
    expect(b.positionOf(0, a, WINDOW)).toBe(0); // 0 + 8 is within the window of b's empty end
    b.head = 160;
    expect(b.positionOf(2000, a, WINDOW)).toBe(2008);
  });

  it('holds a drift within one window of the other track\'s, and counts the frames it realigns', () => {
    const a = track();
    a.noteDrift(0, 0, undefined, WINDOW);
    const b = track();
    b.noteDrift(0, 0, a, WINDOW);
    for (let i = 0; i < 200; i++) b.noteDrift(i * 160, 400, a, WINDOW);
    expect(b.stats.driftSamples).toBe(WINDOW);
    b.head = 10_000;
    b.positionOf(50_000, a, WINDOW);
    expect(b.stats.realignedFrames).toBe(1);
  });
});
