/**
 * The placement rule under real providers' timestamps: jitter of a few ms that does not
 * accumulate (Twilio captures show a first chunk at 155 ms and chunks 2 ms off their 20 ms
 * step), and provider clocks up to 0.5% fast or slow against the audio they stamp. Audio
 * that arrives contiguous must be written contiguous; only a real gap becomes silence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Timeline, type AudioSink, type SampleDecoder } from './timeline.js';

const RATE_PER_MS = 8;
/** CALLTAPE_TIMESTAMP_TOLERANCE_MS's default: 5 ms of jitter. */
const JITTER = 5 * RATE_PER_MS;

class MemorySink implements AudioSink {
  readonly chunks: Buffer[] = [];
  append(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
  }
  samples(): Int16Array {
    const all = Buffer.concat(this.chunks);
    return new Int16Array(all.buffer, all.byteOffset, all.length / 2);
  }
}

/** Sample-exact equality, compared as bytes (element-wise deep equality is slow at this size). */
function expectSame(actual: Int16Array, expected: Int16Array): void {
  const bytes = (a: Int16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  expect(actual.length).toBe(expected.length);
  if (!bytes(actual).equals(bytes(expected))) {
    const at = actual.findIndex((v, i) => v !== expected[i]);
    expect.fail(`first difference at sample ${at}: ${actual[at]} instead of ${expected[at]}`);
  }
}

const copyPcm: SampleDecoder = (src, offset, count, dst, index) => {
  const from = new Int16Array(src.buffer, src.byteOffset + offset, count);
  (dst as Int16Array).set(from, index);
};

function newTimeline(jitterSamples = JITTER) {
  const inbound = new MemorySink();
  const outbound = new MemorySink();
  const stereo = new MemorySink();
  // The session's shape at 8 kHz: 200 ms batches, 200 ms reorder window.
  const timeline = new Timeline({
    format: 'pcm16',
    capacitySamples: 1600 + 1600 + 800,
    flushSamples: 1600,
    reorderSamples: 1600,
    jitterSamples,
    samplesPerMs: RATE_PER_MS,
    maxGapSamples: 60_000 * RATE_PER_MS,
    decode: copyPcm,
    wireBytesPerSample: 2,
    tracks: [{ mono: inbound }, { mono: outbound }],
    stereo,
  });
  return { timeline, inbound, outbound, stereo };
}

/** Distinct, never-zero audio per track, so any cut, duplicate or inserted silence shows. */
function audio(track: 0 | 1, samples: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = (track === 0 ? 1 : -1) * (1 + ((i * 7 + 3) % 30_000));
  return out;
}

interface Frame {
  track: 0 | 1;
  /** Timestamp in samples, as the session converts the provider's ms. */
  start: number;
  /** Index of the frame's first sample in its track's audio. */
  from: number;
  count: number;
}

/**
 * Frames of `frameSamples` for both tracks, stamped by a clock running at `clock` times the
 * audio's rate, each stamp off by its own jitter (ms, rounded to whole ms as providers send),
 * merged in stamp order (inbound first on ties), as Twilio interleaves them.
 */
function stampedFrames(frameCount: number, frameSamples: number, clock: number, jitterMs: (track: 0 | 1, i: number) => number): Frame[] {
  const perTrack = ([0, 1] as const).map((track) =>
    Array.from({ length: frameCount }, (_, i): Frame => {
      const ms = Math.max(0, Math.round((i * frameSamples * clock) / RATE_PER_MS + jitterMs(track, i)));
      return { track, start: ms * RATE_PER_MS, from: i * frameSamples, count: frameSamples };
    }),
  );
  return mergeInOrder(perTrack[0]!, perTrack[1]!);
}

/**
 * Two tracks' frames merged by stamp, each track's own frames kept in the order they were
 * sent (jitter moves a stamp, not the frame's place in its track's stream).
 */
function mergeInOrder(a: readonly Frame[], b: readonly Frame[]): Frame[] {
  const merged: Frame[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.start <= b[j]!.start)) merged.push(a[i++]!);
    else merged.push(b[j++]!);
  }
  return merged;
}

function play(timeline: Timeline, frames: readonly Frame[], tracks: readonly [Int16Array, Int16Array]): void {
  for (const f of frames) {
    const src = tracks[f.track].subarray(f.from, f.from + f.count);
    timeline.place(f.track, f.start, new Uint8Array(src.buffer, src.byteOffset, src.byteLength), 0, f.count);
  }
  timeline.finish();
}

const arbitraryRun = fc.record({
  frameCount: fc.integer({ min: 20, max: 300 }),
  // 10, 20, 40 and 100 ms frames (Twilio 20, Exotel about 100).
  frameSamples: fc.constantFrom(80, 160, 320, 800),
  // Clocks up to 0.5% fast or slow, both tracks on the provider's one clock.
  clock: fc.double({ min: 0.995, max: 1.005, noNaN: true }),
  seed: fc.integer(),
  jitterMs: fc.integer({ min: 0, max: 5 }),
});
// The tolerance must stay under half a frame (a frame's stamps must keep their order):
// 10 ms frames are tried with up to 4 ms.
const jitterFor = (frameSamples: number, jitterMs: number) => Math.min(jitterMs, frameSamples / RATE_PER_MS / 2 - 1);

/** Deterministic pseudo-random jitter in [-max, max] whole ms per (track, frame). */
function jitterOf(seed: number, max: number): (track: 0 | 1, i: number) => number {
  return (track, i) => {
    const x = Math.sin(seed * 12.9898 + i * 78.233 + track * 37.719) * 43_758.5453;
    return Math.round((x - Math.floor(x)) * 2 * max - max);
  };
}

describe('placing jittered timestamps', () => {
  it('writes contiguous audio contiguous: jitter up to the tolerance and clocks within 0.5% trim nothing and insert no silence', () => {
    fc.assert(
      fc.property(arbitraryRun, ({ frameCount, frameSamples, clock, seed, jitterMs }) => {
        const total = frameCount * frameSamples;
        const tracks = [audio(0, total), audio(1, total)] as const;
        const { timeline, inbound, outbound, stereo } = newTimeline();
        play(timeline, stampedFrames(frameCount, frameSamples, clock, jitterOf(seed, jitterFor(frameSamples, jitterMs))), tracks);
        expectSame(inbound.samples(), tracks[0]);
        expectSame(outbound.samples(), tracks[1]);
        expect(stereo.samples().length).toBe(total * 2);
        for (const track of [0, 1] as const) {
          const stats = timeline.trackStats(track)!;
          expect(stats).toMatchObject({ placedSamples: total, duplicateSamples: 0, lateSamples: 0, realignedFrames: 0 });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('holds the worst case: every stamp at +J or -J, alternating in runs', () => {
    for (const run of [1, 2, 5, 50]) {
      const frameCount = 400;
      const tracks = [audio(0, frameCount * 160), audio(1, frameCount * 160)] as const;
      const { timeline, inbound, outbound } = newTimeline();
      const jitter = (_track: 0 | 1, i: number) => (Math.floor(i / run) % 2 === 0 ? 5 : -5);
      play(timeline, stampedFrames(frameCount, 160, 1.005, jitter), tracks);
      expectSame(inbound.samples(), tracks[0]);
      expectSame(outbound.samples(), tracks[1]);
    }
  });

  it('absorbs drift and says how much: a clock 0.5% slow over 60 s leaves the audio 300 ms ahead of its stamps', () => {
    const frameCount = 3000; // 60 s of 20 ms frames
    const tracks = [audio(0, frameCount * 160), audio(1, frameCount * 160)] as const;
    const { timeline, inbound } = newTimeline();
    play(timeline, stampedFrames(frameCount, 160, 0.995, () => 0), tracks);
    expectSame(inbound.samples(), tracks[0]);
    const stats = timeline.trackStats(0)!;
    // The last frame is stamped 0.5% early: 59.98 s * 0.005 = 300 ms, to the ms it was rounded to.
    expect(Math.abs(stats.driftSamples - 300 * RATE_PER_MS)).toBeLessThanOrEqual(RATE_PER_MS);
    expect(stats.maxDriftSamples).toBeGreaterThanOrEqual(stats.driftSamples);
  });

  it('fills a real gap with exactly the gap: lost frames become silence of their length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 200 }),
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(0 as const, 1 as const),
        (lostAt, lostCount, lostTrack) => {
          const frameCount = 260;
          const tracks = [audio(0, frameCount * 160), audio(1, frameCount * 160)] as const;
          const { timeline, inbound, outbound } = newTimeline();
          const frames = stampedFrames(frameCount, 160, 1, () => 0).filter(
            (f) => !(f.track === lostTrack && f.from >= lostAt * 160 && f.from < (lostAt + lostCount) * 160),
          );
          play(timeline, frames, tracks);
          const expected = Int16Array.from(tracks[lostTrack]);
          expected.fill(0, lostAt * 160, (lostAt + lostCount) * 160);
          expectSame((lostTrack === 0 ? inbound : outbound).samples(), expected);
          expectSame((lostTrack === 0 ? outbound : inbound).samples(), tracks[lostTrack === 0 ? 1 : 0]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('fills a real gap under jitter with the gap to within the jitter, and the audio after it intact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.integer(), (lostAt, lostCount, seed) => {
        const frameCount = 260;
        const tracks = [audio(0, frameCount * 160), audio(1, frameCount * 160)] as const;
        const { timeline, inbound } = newTimeline();
        const frames = stampedFrames(frameCount, 160, 1, jitterOf(seed, 5)).filter(
          (f) => !(f.track === 0 && f.from >= lostAt * 160 && f.from < (lostAt + lostCount) * 160),
        );
        play(timeline, frames, tracks);
        const written = inbound.samples();
        // The audio is never 0, so the silence is the run of zeros where the frames were lost.
        let silence = 0;
        while (written[lostAt * 160 + silence] === 0) silence++;
        expect(Math.abs(silence - lostCount * 160)).toBeLessThanOrEqual(2 * JITTER);
        // Before the gap and after it, the audio is exactly what was sent, in one piece each;
        // after it only padding up to the other track's end.
        const resume = lostAt * 160 + silence;
        const rest = tracks[0].subarray((lostAt + lostCount) * 160);
        expectSame(written.subarray(0, lostAt * 160), tracks[0].subarray(0, lostAt * 160));
        expectSame(written.subarray(resume, resume + rest.length), rest);
        expect(written.subarray(resume + rest.length).every((s) => s === 0)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps duplicates and reordered frames working", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.nat(199), { minLength: 1, maxLength: 20 }), (seed, swaps) => {
        const frameCount = 200;
        const tracks = [audio(0, frameCount * 160), audio(1, frameCount * 160)] as const;
        const { timeline, inbound, outbound } = newTimeline();
        // Exact stamps: a frame that overtook its neighbour is placed by its own stamp, so
        // under jitter it would land a few samples off (as before this rule).
        const frames = stampedFrames(frameCount, 160, 1, jitterOf(seed, 0));
        for (const at of swaps) {
          const i = Math.min(at * 2, frames.length - 3);
          [frames[i], frames[i + 2]] = [frames[i + 2]!, frames[i]!];
          frames.splice(i + 1, 0, { ...frames[i + 1]! });
        }
        play(timeline, frames, tracks);
        expectSame(inbound.samples(), tracks[0]);
        expectSame(outbound.samples(), tracks[1]);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps the tracks within one window of each other when their clocks part: the drifting track is realigned', () => {
    const frameCount = 1000;
    const tracks = [audio(0, frameCount * 160), audio(1, frameCount * 160)] as const;
    const { timeline } = newTimeline();
    const inbound = stampedFrames(frameCount, 160, 1, () => 0).filter((f) => f.track === 0);
    const outbound = stampedFrames(frameCount, 160, 1.01, () => 0).filter((f) => f.track === 1);
    play(timeline, mergeInOrder(inbound, outbound), tracks);
    const window = 2 * JITTER + 2 * RATE_PER_MS;
    const [a, b] = [timeline.trackStats(0)!, timeline.trackStats(1)!];
    expect(b.realignedFrames).toBeGreaterThan(0);
    expect(Math.abs(a.driftSamples - b.driftSamples)).toBeLessThanOrEqual(window);
  });
});
