import { describe, expect, it } from 'vitest';
import { planPieces } from './pieces.js';

/** Frames of 20 ms: `loud` spans (ms) at speech level over a quiet line. */
function frames(totalMs: number, loud: Array<[number, number]>): Float32Array {
  const out = new Float32Array(totalMs / 20).fill(0.0005);
  for (const [from, to] of loud) out.fill(0.1, from / 20, to / 20);
  return out;
}

describe('planPieces', () => {
  it('speech throughout, under the limit: one piece from 0 to the end', () => {
    const speech: Array<[number, number]> = [];
    for (let t = 0; t < 60_000; t += 1000) speech.push([t, t + 700]);
    expect(planPieces(frames(60_000, speech), 60_000, { maxPieceMs: 600_000 })).toEqual([{ startMs: 0, endMs: 60_000 }]);
  });

  it('leaves out silences of 2 s or more, keeps shorter ones (the 1 s before the first word too), pads speech by 300 ms', () => {
    const pieces = planPieces(frames(30_000, [[1000, 3000], [4500, 6000], [20_000, 22_000]]), 30_000, { maxPieceMs: 600_000 });
    expect(pieces).toEqual([
      { startMs: 0, endMs: 6300 },
      { startMs: 19_700, endMs: 22_300 },
    ]);
  });

  it('never sends a paused span, even where it is loud', () => {
    const pieces = planPieces(frames(20_000, [[0, 20_000]]), 20_000, { maxPieceMs: 600_000, excluded: [{ startMs: 5010, endMs: 9990 }] });
    expect(pieces).toEqual([
      { startMs: 0, endMs: 5000 },
      { startMs: 10_000, endMs: 20_000 },
    ]);
  });

  it('cuts a long stretch at its quietest moment before the limit', () => {
    const speech: Array<[number, number]> = [];
    for (let t = 0; t < 100_000; t += 1000) speech.push([t, t + 900]);
    const pieces = planPieces(frames(100_000, speech), 100_000, { maxPieceMs: 30_000 });
    for (const piece of pieces) expect(piece.endMs - piece.startMs).toBeLessThanOrEqual(30_000);
    // Every cut falls in a gap between words (900..1000 ms of each second).
    for (const piece of pieces.slice(1)) expect(piece.startMs % 1000).toBeGreaterThanOrEqual(900);
    expect(pieces[0]!.startMs).toBe(0);
    expect(pieces[pieces.length - 1]!.endMs).toBe(100_000);
    // Contiguous: nothing lost between pieces.
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.startMs).toBe(pieces[i - 1]!.endMs);
  });

  it('a silent track has no pieces', () => {
    expect(planPieces(frames(10_000, []), 10_000, { maxPieceMs: 600_000 })).toEqual([]);
  });
});
