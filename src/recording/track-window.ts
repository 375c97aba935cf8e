/**
 * One track's part of the timeline window: its samples, which of them hold audio, where its
 * audio ends, and the placement rule for timestamped frames (how jitter and clock drift are
 * absorbed without cutting audio; README "Timestamps, jitter and drift").
 */
import { MULAW_SILENCE } from '../codec/g711.js';
import { CoverageBits } from './coverage.js';
import { GapSpans } from './gap-spans.js';
import type { AudioSink } from './timeline.js';

export interface TrackSinks {
  /** The track's own file, or undefined when only the stereo file wants the track. */
  readonly mono: AudioSink | undefined;
}

/** What the timeline knows about one track, for meta.json. */
export interface TrackStats {
  placedSamples: number;
  lateSamples: number;
  duplicateSamples: number;
  /**
   * Where the track's contiguous audio ends minus where its last frame's timestamp put it
   * (samples): the timestamp drift absorbed so far. Positive: the audio runs ahead of the
   * timestamps (a slow provider clock).
   */
  driftSamples: number;
  /** The largest |driftSamples| seen. */
  maxDriftSamples: number;
  /** Frames moved to the other track's drift because this track's drifted apart from it. */
  realignedFrames: number;
  /** Where the files got silence for want of this track's audio. */
  readonly gaps: GapSpans;
}

/** Weight of each frame in a track's running drift (see noteDrift). */
const DRIFT_WEIGHT = 1 / 8;

export class TrackWindow {
  readonly bytes: Buffer;
  readonly samples: Int16Array | Uint8Array;
  /** Set where the sample in the window holds received audio. */
  readonly covered: CoverageBits;
  /** Absolute sample index just past the furthest audio placed on this track. */
  head = 0;
  /** Whether a timestamped frame has set `drift` yet. */
  anchored = false;
  /** Where this track's audio goes minus where its timestamps put it, averaged (samples). */
  drift = 0;
  /** Timestamp of the last frame that extended the track. */
  lastStart = Number.NEGATIVE_INFINITY;
  readonly stats: TrackStats = { placedSamples: 0, lateSamples: 0, duplicateSamples: 0, driftSamples: 0, maxDriftSamples: 0, realignedFrames: 0, gaps: new GapSpans() };

  constructor(
    readonly sinks: TrackSinks,
    capacity: number,
    holdsCodes: boolean,
  ) {
    if (holdsCodes) {
      this.bytes = Buffer.alloc(capacity, MULAW_SILENCE);
      this.samples = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, capacity);
    } else {
      this.bytes = Buffer.alloc(capacity * 2);
      this.samples = new Int16Array(this.bytes.buffer, this.bytes.byteOffset, capacity);
    }
    this.covered = new CoverageBits(capacity);
  }

  /**
   * Where a frame stamped `start` goes. Providers' timestamps jitter by a few ms around a
   * steady clock (whole ms, so rounding adds up to half a ms), and that clock may run a
   * little fast or slow against the audio it stamps; placing every frame exactly at its
   * timestamp cut or padded contiguous audio, a click each time. So the timestamp is first
   * corrected by the drift the track has shown so far (where its audio went minus where its
   * timestamps put it, averaged), and a frame that then lands within the continuation window (Timeline's `continueSamples`) of
   * the track's end continues the track, whatever its exact stamp. Jitter of up to J on this
   * frame and the average moves that difference by at most 2J, rounding by 1 ms more, hence
   * a window of 2J + 2 ms (12 ms by default). Beyond the window it is a real gap (silence up
   * to the frame) or a real overlap (only samples not yet placed are kept: duplicates and
   * reordered frames; a stamp that is not past the track's last is never a continuation).
   * This needs J under half a frame (20 ms frames: J < 10 ms). A track's first
   * frame takes the other track's drift, and a track's drift is held within one window of the other's (noteDrift), so two tracks on different
   * clocks are brought back together instead of parting.
   */
  positionOf(start: number, other: TrackWindow | undefined, window: number): number {
    const otherDrift = other?.anchored ? other.drift : undefined;
    if (!this.anchored) this.drift = otherDrift ?? 0;
    const expected = start + this.drift;
    // A stamp not past the last one that extended the track is that frame again or an older
    // one, never the next: a duplicate of a short frame must not continue the track.
    if (start > this.lastStart && expected - this.head <= window && this.head - expected <= window) return this.head;
    // A track held at the edge of the other's drift (see noteDrift) comes back here.
    if (otherDrift !== undefined && Math.abs(this.drift - otherDrift) >= window) this.stats.realignedFrames++;
    return Math.round(expected);
  }

  /** Everything placed moves `count` samples later (the timeline's origin moved earlier). */
  moveLater(count: number): void {
    // A track with nothing placed yet keeps its end at the origin: silence is not its audio.
    if (this.head > 0) this.head += count;
    if (this.lastStart !== Number.NEGATIVE_INFINITY) this.lastStart += count;
  }

  /**
   * Learns from a frame that extends its track, placed `drift` samples from its timestamp.
   * The track's drift is an average over recent frames (weight 1/8 each), not the last
   * frame's: one frame's jitter then moves it by an eighth, and a gap is placed where the
   * clock says rather than where one jittered stamp does. A steady clock error of e per
   * frame is followed with a lag of 7e, well inside the window at 0.5%.
   */
  noteDrift(start: number, drift: number, other: TrackWindow | undefined, window: number): void {
    this.lastStart = start;
    if (this.anchored) {
      this.drift += (drift - this.drift) * DRIFT_WEIGHT;
      // Kept within one window of the other track, so the two cannot part by more.
      if (other?.anchored) {
        if (this.drift > other.drift + window) this.drift = other.drift + window;
        else if (this.drift < other.drift - window) this.drift = other.drift - window;
      }
    } else {
      this.anchored = true;
      this.drift = drift;
    }
    const rounded = Math.round(this.drift);
    this.stats.driftSamples = rounded;
    const size = rounded < 0 ? -rounded : rounded;
    if (size > this.stats.maxDriftSamples) this.stats.maxDriftSamples = size;
  }
}
