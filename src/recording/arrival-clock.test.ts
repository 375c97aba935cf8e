import { describe, expect, it } from 'vitest';
import { ArrivalClock } from './arrival-clock.js';

const RATE = 8000;
const FRAME = 160; // 20 ms

/** Feeds frames (track, arrival ms) and returns where each was placed, in ms. */
function run(arrivals: Array<[0 | 1, number]>, opts: { windowMs?: number; minGapMs?: number } = {}): number[][] {
  const placed: number[][] = [[], []];
  const clock = new ArrivalClock<number>({
    sampleRate: RATE,
    windowMs: opts.windowMs ?? 200,
    minGapMs: opts.minGapMs ?? 60,
    place: (track, start) => placed[track]!.push((start * 1000) / RATE),
  });
  for (const [track, at] of arrivals) clock.push(track, at, FRAME, 0);
  clock.flush();
  return placed;
}

const steady = (from: number, count: number, track: 0 | 1 = 0, latency = 35): Array<[0 | 1, number]> =>
  Array.from({ length: count }, (_, i) => [track, latency + from + (i + 1) * 20]);

const backToBack = (count: number, fromMs = 0) => Array.from({ length: count }, (_, i) => fromMs + i * 20);

describe('ArrivalClock', () => {
  it('places frames sent in real time back to back', () => {
    expect(run(steady(0, 50))[0]).toEqual(backToBack(50));
  });

  it('inserts no silence when a stall delivers the waiting frames in a burst', () => {
    // 50 frames in real time, then this process stalls for 700 ms: the next 35 frames were
    // sent on time but are read at once when the stall ends, then real time resumes.
    const arrivals = steady(0, 50);
    for (let i = 0; i < 35; i++) arrivals.push([0, 35 + 1000 + 700 + i * 0.01]);
    arrivals.push(...steady(1700, 50));
    expect(run(arrivals)[0]).toEqual(backToBack(135));
  });

  it('inserts no silence for jitter', () => {
    const jitter = [0, 45, 10, 55, 5, 30, 50, 0, 25, 40];
    const arrivals = steady(0, 200).map(([track, at], i): [0 | 1, number] => [track, at + jitter[i % jitter.length]!]);
    arrivals.sort((a, b) => a[1] - b[1]);
    expect(run(arrivals)[0]).toEqual(backToBack(200));
  });

  it('fills a gap the provider really left with silence of its length', () => {
    // 1 s of audio, nothing for 2 s, then audio again.
    const placed = run([...steady(0, 50), ...steady(3000, 50)])[0]!;
    expect(placed.slice(0, 50)).toEqual(backToBack(50));
    expect(placed.slice(50)).toEqual(backToBack(50, 3000));
  });

  it('fills a real gap even with jitter after it', () => {
    const after = steady(2000, 50).map(([track, at], i): [0 | 1, number] => [track, at + (i % 3) * 15]);
    const placed = run([...steady(0, 50), ...after])[0]!;
    expect(placed[50]).toBe(2000);
  });

  it('starts a track that begins later at its time on the shared clock', () => {
    const arrivals = [...steady(0, 150, 0), ...steady(2000, 50, 1)].sort((a, b) => a[1] - b[1]);
    const placed = run(arrivals);
    expect(placed[0]).toEqual(backToBack(150));
    expect(placed[1]).toEqual(backToBack(50, 2000));
  });

  it('does not turn a slow provider clock into chops', () => {
    // The provider sends 20 ms of audio every 20.02 ms (0.1% slow) for 60 s.
    const arrivals: Array<[0 | 1, number]> = Array.from({ length: 3000 }, (_, i) => [0, 35 + (i + 1) * 20.02]);
    const placed = run(arrivals, { minGapMs: 100 })[0]!;
    expect(placed).toEqual(backToBack(3000));
  });
});
