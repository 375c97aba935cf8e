/**
 * Places audio that carries no timestamps (Vonage, jambonz, mod_audio_fork, Bandwidth) by
 * the order and time it arrives, inserting silence only for a gap the provider really left.
 *
 * Arrival time alone misleads: when this process stalls (GC, a busy event loop) or the
 * network hiccups, frames wait in the socket and then arrive in a burst. A recorder that
 * measures each frame's lateness and fills it with silence chops audio that was all there
 * (the failure reported against pipecat and eva). So a gap is judged by what persists: each
 * frame's "lag" is its arrival time minus the end of its audio on the track, and the gap
 * before a frame is the smallest lag of the frames that arrive within `windowMs` after it,
 * minus the smallest lag of the frames placed within `windowMs` before it. A stall is
 * followed by a burst that brings the lag straight back down, so it adds nothing; jitter
 * averages out in the minimum; a real gap raises the lag of every frame after it and is
 * filled. Below `minGapMs` nothing is inserted, so slow clock drift never becomes a chop.
 *
 * Deciding needs the frames after a frame, so frames wait here up to `windowMs` (memory:
 * one window of frames per stream) before they are placed.
 */

export interface ArrivalClockOptions<T> {
  readonly sampleRate: number;
  readonly windowMs: number;
  readonly minGapMs: number;
  /** Puts a decided frame on its track at `startSample`. */
  readonly place: (track: 0 | 1, startSample: number, item: T) => void;
}

interface Pending<T> {
  readonly track: 0 | 1;
  readonly arrivedMs: number;
  readonly samples: number;
  readonly item: T;
}

interface Placed {
  readonly arrivedMs: number;
  readonly lagMs: number;
}

export class ArrivalClock<T> {
  private readonly opts: ArrivalClockOptions<T>;
  private readonly pending: Pending<T>[] = [];
  /** Next free sample of each track. */
  private readonly position: [number, number] = [0, 0];
  /** Lags of recently placed frames, per track, oldest first. */
  private readonly recent: [Placed[], Placed[]] = [[], []];
  /** Arrival time of the stream's first frame: sample 0 of every track. */
  private originMs: number | undefined;
  /** Lag of the last frame placed on any track (used for a track's first frame). */
  private lastLagMs: number | undefined;
  private readonly lastPlacedLag: [number | undefined, number | undefined] = [undefined, undefined];
  /** Silence inserted so far, in samples, for meta.json and tests. */
  insertedSamples = 0;

  constructor(opts: ArrivalClockOptions<T>) {
    this.opts = opts;
  }

  /** A frame of `samples` samples arrived at `arrivedMs` (any monotonic ms clock). */
  push(track: 0 | 1, arrivedMs: number, samples: number, item: T): void {
    this.originMs ??= arrivedMs;
    this.pending.push({ track, arrivedMs, samples, item });
    this.settle(arrivedMs);
  }

  /** Places every frame whose window has passed by `nowMs`. */
  settle(nowMs: number): void {
    while (this.pending.length > 0 && this.pending[0]!.arrivedMs + this.opts.windowMs <= nowMs) this.decideFirst();
  }

  /** The stream ended: places everything still waiting, with what is known. */
  flush(): void {
    while (this.pending.length > 0) this.decideFirst();
  }

  private lagMs(arrivedMs: number, endSample: number): number {
    return arrivedMs - this.originMs! - (endSample * 1000) / this.opts.sampleRate;
  }

  private decideFirst(): void {
    const frame = this.pending[0]!;
    const { track } = frame;
    const { windowMs, minGapMs, sampleRate } = this.opts;
    // Smallest lag from this frame on, if it were placed right after the track's audio.
    let end = this.position[track] + frame.samples;
    let after = this.lagMs(frame.arrivedMs, end);
    for (let i = 1; i < this.pending.length; i++) {
      const next = this.pending[i]!;
      if (next.arrivedMs > frame.arrivedMs + windowMs) break;
      if (next.track !== track) continue;
      end += next.samples;
      after = Math.min(after, this.lagMs(next.arrivedMs, end));
    }
    const recent = this.recent[track];
    while (recent.length > 0 && recent[0]!.arrivedMs < frame.arrivedMs - windowMs) recent.shift();
    // Smallest lag of the track's frames placed within the window before this one; after a
    // longer silence, the track's last frame; for a track's first frame, the stream's latest.
    let before = recent.length > 0 ? Infinity : (this.lastPlacedLag[track] ?? this.lastLagMs);
    for (const placed of recent) before = Math.min(before!, placed.lagMs);
    // The stream's first frame defines time zero; no gap can precede it.
    const gapMs = before === undefined ? 0 : after - before;
    if (gapMs >= minGapMs) {
      const gapSamples = Math.round((gapMs * sampleRate) / 1000);
      this.position[track] += gapSamples;
      this.insertedSamples += gapSamples;
    }
    this.pending.shift();
    const start = this.position[track];
    this.position[track] = start + frame.samples;
    const lag = this.lagMs(frame.arrivedMs, this.position[track]);
    recent.push({ arrivedMs: frame.arrivedMs, lagMs: lag });
    this.lastPlacedLag[track] = lag;
    this.lastLagMs = lag;
    this.opts.place(track, start, frame.item);
  }
}
