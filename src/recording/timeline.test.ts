import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeG711, MULAW_TO_LINEAR } from '../codec/g711.js';
import { BufferPool } from './buffer-pool.js';
import { PlaceOutcome, Timeline, type AudioSink, type SampleDecoder } from './timeline.js';

/** Collects what a file would receive (and gives pooled batches back, as the file writer does). */
class MemorySink implements AudioSink {
  chunks: Buffer[] = [];
  constructor(private readonly pool?: BufferPool) {}
  append(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.pool?.release(chunk);
  }
  samples(): number[] {
    const all = Buffer.concat(this.chunks);
    return Array.from({ length: all.length / 2 }, (_, i) => all.readInt16LE(i * 2));
  }
}

/** Wire bytes are the sample values themselves (1 byte each), so positions are visible. */
const identity: SampleDecoder = (src, offset, count, dst, index) => {
  for (let i = 0; i < count; i++) dst[index + i] = src[offset + i]!;
};

function setup(overrides: Partial<{ reorder: number; maxGap: number; snap: number; capacity: number; flush: number }> = {}) {
  const inbound = new MemorySink();
  const outbound = new MemorySink();
  const stereo = new MemorySink();
  const timeline = new Timeline({
    format: 'pcm16',
    capacitySamples: overrides.capacity ?? 64,
    flushSamples: overrides.flush ?? 16,
    reorderSamples: overrides.reorder ?? 8,
    jitterSamples: overrides.snap ?? 0,
    maxGapSamples: overrides.maxGap ?? 1000,
    decode: identity,
    wireBytesPerSample: 1,
    tracks: [{ mono: inbound }, { mono: outbound }],
    stereo,
  });
  const place = (track: 0 | 1, start: number | undefined, values: number[]) =>
    timeline.place(track, start, Uint8Array.from(values), 0, values.length);
  return { timeline, inbound, outbound, stereo, place };
}

const run = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('Timeline', () => {
  it("moves its origin earlier while nothing is written, keeping what it holds where it was on the call's clock", () => {
    const { timeline, inbound, outbound, place } = setup();
    place(0, 0, [1, 2, 3, 4]);
    // The other track's first frame is stamped 4 samples before the first one's.
    expect(timeline.moveOriginEarlier(4)).toBe(true);
    place(1, 0, [5, 6, 7, 8]);
    place(0, 8, [9]);
    timeline.finish();
    expect(inbound.samples()).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 9]);
    expect(outbound.samples()).toEqual([5, 6, 7, 8, 0, 0, 0, 0, 0]);
  });

  it('refuses to move its origin once audio is in the files, or past what the window holds', () => {
    const { timeline, place } = setup({ capacity: 64, flush: 16, reorder: 8 });
    place(0, 0, run(1, 20));
    expect(timeline.moveOriginEarlier(45)).toBe(false);
    place(0, 20, run(21, 30));
    expect(timeline.writtenSamples).toBeGreaterThan(0);
    expect(timeline.moveOriginEarlier(1)).toBe(false);
  });

  it('writes contiguous audio unchanged and pads the shorter track at the end', () => {
    const { timeline, inbound, outbound, stereo, place } = setup();
    place(1, 0, [9, 9]);
    for (let t = 0; t < 100; t += 4) place(0, t, run(t + 1, 4).map((v) => v % 256));
    timeline.finish();
    expect(inbound.samples()).toEqual(run(1, 100).map((v) => v % 256));
    expect(outbound.samples()).toEqual([9, 9, ...new Array(98).fill(0)]);
    expect(stereo.samples().length).toBe(200);
    expect(stereo.samples().slice(0, 6)).toEqual([1, 9, 2, 9, 3, 0]);
  });

  it('fills gaps with silence, including gaps longer than the window', () => {
    const { timeline, inbound, place } = setup();
    place(0, 0, [1, 2]);
    place(0, 10, [3]);
    place(0, 500, [4]);
    timeline.finish();
    const expected = new Array(501).fill(0);
    expected[0] = 1;
    expected[1] = 2;
    expected[10] = 3;
    expected[500] = 4;
    expect(inbound.samples()).toEqual(expected);
    expect(timeline.trackStats(0)?.placedSamples).toBe(4);
    // Where the silence is: between the placed samples, the long gap as one span.
    expect(timeline.trackStats(0)?.gaps.spans).toEqual([
      [2, 10],
      [11, 500],
    ]);
  });

  it("lists each track's gaps exactly: a late start, lost frames, a reorder filled in time, the padding at the end", () => {
    const { timeline, place } = setup({ reorder: 8 });
    place(0, 0, [1, 1, 1, 1]);
    place(1, 6, [2, 2]); // the other track starts late
    place(0, 8, [1, 1, 1, 1]); // inbound lost 4..8 for good
    place(0, 16, [1, 1]);
    place(0, 12, [1, 1, 1, 1]); // out of order, in time: no gap
    place(0, 200, [1]); // a gap longer than the window
    timeline.finish();
    expect(timeline.trackStats(0)?.gaps.spans).toEqual([
      [4, 8],
      [18, 200],
    ]);
    expect(timeline.trackStats(1)?.gaps.spans).toEqual([
      [0, 6],
      [8, 201],
    ]);
  });

  it('gaps are where the files hold unplaced silence, sample for sample (random frames)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ start: fc.integer({ min: 0, max: 400 }), length: fc.integer({ min: 1, max: 12 }) }), { maxLength: 60 }), (frames) => {
        const { timeline, inbound, place } = setup({ reorder: 8, capacity: 64, flush: 16 });
        for (const { start, length } of frames) place(0, start, new Array(length).fill(7));
        timeline.finish();
        const written = inbound.samples();
        const fromSpans = new Array(written.length).fill(7);
        for (const [from, to] of timeline.trackStats(0)?.gaps.spans ?? []) for (let i = from; i < to; i++) fromSpans[i] = 0;
        expect(fromSpans).toEqual(written);
      }),
      { numRuns: 200 },
    );
  });

  it('drops exact duplicates and keeps only the new part of an overlap', () => {
    const { timeline, inbound, place } = setup();
    expect(place(0, 0, [1, 2, 3, 4])).toBe(PlaceOutcome.Placed);
    expect(place(0, 0, [7, 7, 7, 7])).toBe(PlaceOutcome.Duplicate);
    expect(place(0, 2, [8, 8, 5, 6])).toBe(PlaceOutcome.Trimmed);
    timeline.finish();
    expect(inbound.samples()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(timeline.trackStats(0)).toMatchObject({ placedSamples: 6, lateSamples: 0, duplicateSamples: 6, driftSamples: 0, maxDriftSamples: 0, realignedFrames: 0 });
    expect(timeline.trackStats(0)?.gaps.spans).toEqual([]);
  });

  it('places a frame that arrives out of order inside the reorder window', () => {
    const { timeline, inbound, place } = setup({ reorder: 8 });
    place(0, 0, [1, 1]);
    place(0, 4, [3, 3]);
    expect(place(0, 2, [2, 2])).toBe(PlaceOutcome.Placed);
    timeline.finish();
    expect(inbound.samples()).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('drops a frame whose stretch was already written, and says so', () => {
    const { timeline, inbound, place } = setup({ reorder: 4, flush: 8 });
    for (let t = 0; t < 40; t += 4) place(0, t, [5, 5, 5, 5]);
    expect(timeline.writtenSamples).toBeGreaterThan(4);
    expect(place(0, 0, [1, 1, 1, 1])).toBe(PlaceOutcome.Late);
    timeline.finish();
    expect(inbound.samples()).toEqual(new Array(40).fill(5));
    expect(timeline.trackStats(0)?.lateSamples).toBe(4);
  });

  it('rejects a timestamp further ahead than maxGap without writing any silence', () => {
    const { timeline, inbound, place } = setup({ maxGap: 100 });
    place(0, 0, [1]);
    expect(place(0, 102, [2])).toBe(PlaceOutcome.TooFarAhead);
    expect(place(0, 101, [3])).toBe(PlaceOutcome.Placed);
    timeline.finish();
    expect(inbound.samples().length).toBe(102);
  });

  it('snaps a frame within the tolerance onto its track end (timestamp jitter)', () => {
    const { timeline, inbound, place } = setup({ snap: 2 });
    const frame = (v: number) => Array<number>(8).fill(v);
    place(0, 0, frame(1));
    place(0, 10, frame(2)); // 2 samples late by its timestamp: placed right after
    place(0, 14, frame(3)); // 2 samples early: also right after
    place(0, 14, frame(3)); // the same stamp again: a duplicate, not the next frame
    timeline.finish();
    expect(inbound.samples()).toEqual([...frame(1), ...frame(2), ...frame(3)]);
  });

  it('places silence where a frame would go: the span is kept, the audio is not', () => {
    const { timeline, inbound, place } = setup();
    place(0, 0, [1, 2]);
    expect(timeline.placeSilence(0, 2, 3)).toBe(PlaceOutcome.Placed);
    place(0, 5, [3]);
    timeline.finish();
    expect(inbound.samples()).toEqual([1, 2, 0, 0, 0, 3]);
    expect(timeline.trackStats(0)!.placedSamples).toBe(6);
  });

  it('places frames longer than the window in pieces', () => {
    const { timeline, inbound, place } = setup({ capacity: 32, flush: 8, reorder: 4 });
    const long = run(0, 200).map((v) => v % 256);
    place(0, 0, long);
    timeline.finish();
    expect(inbound.samples()).toEqual(long);
  });

  it('keeps memory to the window: batches are flushed as the stream advances', () => {
    const { timeline, inbound, place } = setup({ capacity: 64, flush: 16, reorder: 8 });
    for (let t = 0; t < 10_000; t += 4) place(0, t, [1, 2, 3, 4]);
    expect(10_000 - timeline.writtenSamples).toBeLessThanOrEqual(64);
    expect(inbound.chunks.every((c) => c.length <= 64 * 2)).toBe(true);
  });

  it('appends frames without timestamps after the track end', () => {
    const { timeline, inbound, place } = setup();
    place(0, undefined, [1, 2]);
    place(0, undefined, [3]);
    timeline.finish();
    expect(inbound.samples()).toEqual([1, 2, 3]);
  });

  it('holding mu-law codes and expanding them as it writes gives the same files as decoding on arrival', () => {
    const copyCodes: SampleDecoder = (src, offset, count, dst, index) => {
      for (let i = 0; i < count; i++) dst[index + i] = src[offset + i]!;
    };
    const decodeMulaw: SampleDecoder = (src, offset, count, dst, index) =>
      decodeG711(MULAW_TO_LINEAR, src, offset, count, dst as Int16Array, index);
    const frame = fc.record({
      track: fc.constantFrom(0 as const, 1 as const),
      start: fc.option(fc.nat(600), { nil: undefined }),
      codes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 60 }), (frames) => {
        const pool = new BufferPool();
        const build = (expandCodes: Int16Array | undefined, decode: SampleDecoder, withMono = true) => {
          const sinks = { inbound: new MemorySink(pool), outbound: new MemorySink(pool), stereo: new MemorySink(pool) };
          const timeline = new Timeline({
            format: 'pcm16',
            expandCodes,
            chunks: pool,
            capacitySamples: 64,
            flushSamples: 16,
            reorderSamples: 8,
            jitterSamples: 1,
            maxGapSamples: 200,
            decode,
            wireBytesPerSample: 1,
            tracks: withMono ? [{ mono: sinks.inbound }, { mono: sinks.outbound }] : [{ mono: undefined }, { mono: undefined }],
            stereo: sinks.stereo,
          });
          return { timeline, sinks };
        };
        const held = build(MULAW_TO_LINEAR, copyCodes);
        const decoded = build(undefined, decodeMulaw);
        // Only the stereo file kept: the codes are expanded for it alone.
        const stereoOnly = build(MULAW_TO_LINEAR, copyCodes, false);
        for (const f of frames) {
          const a = held.timeline.place(f.track, f.start, f.codes, 0, f.codes.length);
          const b = decoded.timeline.place(f.track, f.start, f.codes, 0, f.codes.length);
          expect(a).toBe(b);
          stereoOnly.timeline.place(f.track, f.start, f.codes, 0, f.codes.length);
        }
        held.timeline.finish();
        decoded.timeline.finish();
        stereoOnly.timeline.finish();
        expect(Buffer.concat(stereoOnly.sinks.stereo.chunks).equals(Buffer.concat(decoded.sinks.stereo.chunks))).toBe(true);
        for (const name of ['inbound', 'outbound', 'stereo'] as const) {
          expect(Buffer.concat(held.sinks[name].chunks).equals(Buffer.concat(decoded.sinks[name].chunks))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
