/**
 * The per-stream timeline: places each track's audio at the sample its timestamp names,
 * fills gaps with silence, drops what is already there, and hands the files fixed-size
 * batches in order.
 *
 * All tracks share one window [windowStart, windowStart + capacity) of the stream's clock.
 * Audio lands in the window; once the furthest audio of any track is `flush + reorder`
 * samples past windowStart, everything up to `reorder` samples behind it goes to the files
 * (every track and the stereo mix cut at the same sample, so they cannot drift apart), and
 * the window slides. The `reorder` tail that is held back lets a frame that arrives late, or
 * a track that runs a little behind the other, still fill its place instead of being lost.
 * Memory is the window and nothing else, however long the call. For mu-law streams the
 * window holds the 8-bit codes and expands them to 16-bit samples only as a batch is written,
 * which halves it; which samples hold audio is one bit each (CoverageBits).
 */
import { MULAW_SILENCE } from '../codec/g711.js';
import { TrackWindow, type TrackSinks, type TrackStats } from './track-window.js';
import type { WavFormat } from './wav-header.js';

export type { TrackSinks, TrackStats } from './track-window.js';

/** Where a timeline's batches go; WavFileWriter is one. Chunks are never modified afterwards. */
export interface AudioSink {
  append(chunk: Buffer): void;
}

/** Where batch buffers come from (a BufferPool, whose buffers the file writer gives back). */
export interface ChunkSource {
  take(bytes: number): Buffer;
}

/**
 * Decodes `count` samples of wire audio into the track's sample array (Int16Array for
 * pcm16 output, Uint8Array of codes for mu-law output). Chosen once per stream.
 */
export type SampleDecoder = (
  src: Uint8Array,
  srcOffset: number,
  count: number,
  dst: Int16Array | Uint8Array,
  dstIndex: number,
) => void;

/** What became of a frame; ordered by severity, so the worst of a frame's pieces wins. */
export const PlaceOutcome = {
  Placed: 0,
  /** Part of the frame overlapped audio already placed; only the new part was kept. */
  Trimmed: 1,
  /** Everything in the frame was already placed (a duplicate). */
  Duplicate: 2,
  /** The frame's stretch of the timeline was already written to the files. */
  Late: 3,
  /** The timestamp is further ahead of the stream than maxGap allows; dropped. */
  TooFarAhead: 4,
} as const;
export type PlaceOutcome = (typeof PlaceOutcome)[keyof typeof PlaceOutcome];

export interface TimelineOptions {
  readonly format: WavFormat;
  /**
   * With format pcm16: the window holds mu-law codes (decoders copy them in) and this table
   * expands them as batches are written. Omitted: the window holds 16-bit samples.
   */
  readonly expandCodes?: Int16Array | undefined;
  /** Turns wire bytes into the window's samples (chosen once per stream: stream-decoder.ts). */
  readonly decode: SampleDecoder;
  /** Bytes per sample of what `decode` reads. */
  readonly wireBytesPerSample: number;
  /** Batch buffers; omitted, each batch is newly allocated. */
  readonly chunks?: ChunkSource | undefined;
  /** Window length; a frame longer than this is placed in pieces. */
  readonly capacitySamples: number;
  /** Batch size: how much settled audio accumulates before a write. */
  readonly flushSamples: number;
  /** How far behind the newest audio a frame may still arrive and be placed. */
  readonly reorderSamples: number;
  /**
   * Timestamp jitter tolerated (J): a frame whose drift-corrected timestamp is within
   * 2J + 2 ms (`continueSamples`) of its track's end continues the track. See track-window.ts.
   */
  readonly jitterSamples: number;
  /** Samples per millisecond, for the 2 ms margin of the continuation window. */
  readonly samplesPerMs?: number;
  /** Largest silence a timestamp jump may create. */
  readonly maxGapSamples: number;
  /** One entry per track (index 0 inbound, 1 outbound); undefined = track not kept. */
  readonly tracks: readonly [TrackSinks | undefined, TrackSinks | undefined];
  /** Stereo file, left = track 0, right = track 1; needs both tracks kept. */
  readonly stereo: AudioSink | undefined;
}

const SILENCE_CHUNK_SAMPLES = 32_768;
const NO_BYTES = new Uint8Array(0);
// Shared read-only silence: long gaps are written as references to these, never copied.
const SILENCE_PCM16 = Buffer.alloc(SILENCE_CHUNK_SAMPLES * 2);
const SILENCE_MULAW = Buffer.alloc(SILENCE_CHUNK_SAMPLES, MULAW_SILENCE);

export class Timeline {
  private readonly opts: TimelineOptions;
  /** Bytes per sample in the files. */
  private readonly bytesPerSample: number;
  /** Bytes per sample in the window (1 when it holds mu-law codes). */
  private readonly windowBytesPerSample: number;
  private readonly silenceByte: number;
  private readonly silence: Buffer;
  private readonly windows: readonly [TrackWindow | undefined, TrackWindow | undefined];
  /**
   * Decoded copy of a frame for the overlap path, where only part of it is kept. Made on
   * first use: most streams never send overlapping audio.
   */
  private overlapScratch: Int16Array | Uint8Array | undefined;
  private readonly pieceSamples: number;
  /** Expanded samples for the stereo file when a track has no mono file to expand into. */
  private readonly stereoScratch: [Int16Array | undefined, Int16Array | undefined] = [undefined, undefined];
  /** Absolute sample index of the window's first sample = samples already handed to files. */
  private windowStart = 0;
  /** Absolute sample index just past the furthest audio of any track. */
  private streamHead = 0;
  /**
   * Held-back tail actually used: at least the longest frame seen, because with interleaved
   * tracks the other track's frame for the same instant arrives after this one.
   */
  private reorder: number;
  /** How far a drift-corrected timestamp may be from its track's end and still continue it. */
  private readonly continueSamples: number;

  constructor(opts: TimelineOptions) {
    if (opts.flushSamples + opts.reorderSamples > opts.capacitySamples) {
      throw new RangeError('timeline capacity must hold a batch plus the reorder window');
    }
    if (opts.expandCodes && opts.format !== 'pcm16') throw new RangeError('expandCodes needs pcm16 files');
    this.opts = opts;
    const holdsCodes = opts.format === 'mulaw' || opts.expandCodes !== undefined;
    this.bytesPerSample = opts.format === 'pcm16' ? 2 : 1;
    this.windowBytesPerSample = holdsCodes ? 1 : 2;
    this.silenceByte = holdsCodes ? MULAW_SILENCE : 0;
    this.silence = opts.format === 'pcm16' ? SILENCE_PCM16 : SILENCE_MULAW;
    const [first, second] = opts.tracks;
    this.windows = [
      first && new TrackWindow(first, opts.capacitySamples, holdsCodes),
      second && new TrackWindow(second, opts.capacitySamples, holdsCodes),
    ];
    this.reorder = opts.reorderSamples;
    this.pieceSamples = Math.max(1, opts.capacitySamples - opts.flushSamples);
    this.continueSamples = opts.jitterSamples > 0 ? 2 * opts.jitterSamples + Math.ceil(2 * (opts.samplesPerMs ?? 0)) : 0;
  }

  /** Whether the timeline keeps this track (otherwise its audio is not needed). */
  keeps(track: 0 | 1): boolean {
    return this.windows[track] !== undefined;
  }

  /** Samples from the stream's start to the end of its furthest audio. */
  get lengthSamples(): number {
    return this.streamHead;
  }

  /** Samples handed to the files so far. */
  get writtenSamples(): number {
    return this.windowStart;
  }

  trackStats(track: 0 | 1): TrackStats | undefined {
    return this.windows[track]?.stats;
  }

  /**
   * Places `count` samples of wire audio for `track` starting at absolute sample `start`
   * (undefined: right after the track's last audio). The stream's decoder turns wire bytes
   * into samples; it is called with the window or scratch arrays, never allocating.
   */
  place(track: 0 | 1, start: number | undefined, src: Uint8Array, srcOffset: number, count: number): PlaceOutcome {
    return this.placeWith(track, start, src, srcOffset, count, this.opts.wireBytesPerSample, this.opts.decode);
  }

  /**
   * Places `count` samples of silence where audio stamped `start` would go: a silence-pause
   * keeps the span of what was said, not the audio (the placement rule still applies).
   */
  placeSilence(track: 0 | 1, start: number | undefined, count: number): PlaceOutcome {
    return this.placeWith(track, start, NO_BYTES, 0, count, 0, this.writeSilence);
  }

  private readonly writeSilence: SampleDecoder = (_src, _offset, count, dst, index) => {
    dst.fill(this.silenceByte, index, index + count);
  };

  private placeWith(
    track: 0 | 1,
    start: number | undefined,
    src: Uint8Array,
    srcOffset: number,
    count: number,
    bytesPerWireSample: number,
    decode: SampleDecoder,
  ): PlaceOutcome {
    const win = this.windows[track];
    if (!win || count <= 0) return PlaceOutcome.Placed;
    let at = start === undefined ? win.head : win.positionOf(start, this.windows[track ^ 1], this.continueSamples);
    if (this.isTooFarAhead(at)) return PlaceOutcome.TooFarAhead;
    if (start !== undefined && at + count > win.head) win.noteDrift(start, at - start, this.windows[track ^ 1], this.continueSamples);

    if (count > this.reorder) this.reorder = Math.min(count, this.opts.capacitySamples - this.opts.flushSamples);
    let outcome: PlaceOutcome = PlaceOutcome.Placed;
    let offset = srcOffset;
    let remaining = count;
    while (remaining > 0) {
      const n = remaining < this.pieceSamples ? remaining : this.pieceSamples;
      const pieceOutcome = this.placePiece(win, at, src, offset, n, bytesPerWireSample, decode);
      if (pieceOutcome > outcome) outcome = pieceOutcome;
      at += n;
      offset += n * bytesPerWireSample;
      remaining -= n;
    }
    return outcome;
  }

  /**
   * Moves the stream's origin `count` samples earlier: everything placed so far moves that much
   * later, so audio stamped up to `count` samples before the old origin has a place. Only
   * while nothing has been written (the first batch waits for the reorder window) and what is
   * held still fits the window; returns whether it moved. Callers add `count` to every
   * position they give from then on.
   */
  moveOriginEarlier(count: number): boolean {
    if (count <= 0) return count === 0;
    if (this.windowStart !== 0 || this.streamHead + count > this.opts.capacitySamples) return false;
    const bps = this.windowBytesPerSample;
    for (const win of this.windows) {
      if (!win) continue;
      win.bytes.copyWithin(count * bps, 0, (this.opts.capacitySamples - count) * bps);
      win.bytes.fill(this.silenceByte, 0, count * bps);
      win.covered.shiftUp(count);
      win.moveLater(count);
    }
    this.streamHead += count;
    return true;
  }

  /** Whether audio starting at `start` would jump further past the stream's end than maxGap allows. */
  isTooFarAhead(start: number): boolean {
    return start > this.streamHead + this.opts.maxGapSamples;
  }

  /** Writes audio that is older than the reorder window (the periodic tick calls this). */
  flushSettled(): void {
    this.flushTo(this.streamHead - this.reorder);
  }

  /**
   * Writes everything, padding every track with silence up to the end of the furthest one,
   * so all files of a stream have the same length. Idempotent.
   */
  finish(): void {
    this.flushTo(this.streamHead);
  }

  private placePiece(
    win: TrackWindow,
    start: number,
    src: Uint8Array,
    srcOffset: number,
    count: number,
    bytesPerWireSample: number,
    decode: SampleDecoder,
  ): PlaceOutcome {
    let at = start;
    let n = count;
    let offset = srcOffset;
    const capacity = this.opts.capacitySamples;
    if (at + n > this.windowStart + capacity) this.flushTo(at + n - capacity);
    if (at < this.windowStart) {
      const lateCount = Math.min(n, this.windowStart - at);
      win.stats.lateSamples += lateCount;
      if (lateCount === n) return PlaceOutcome.Late;
      offset += lateCount * bytesPerWireSample;
      at += lateCount;
      n -= lateCount;
    }
    const index = at - this.windowStart;
    let outcome: PlaceOutcome = PlaceOutcome.Placed;
    if (at >= win.head) {
      // The common case: audio at or past the track's end, where nothing is placed yet.
      decode(src, offset, n, win.samples, index);
      win.covered.addRange(index, index + n);
      win.stats.placedSamples += n;
      win.head = at + n;
    } else {
      outcome = this.placeOverlapping(win, index, src, offset, n, decode);
      if (at + n > win.head) win.head = at + n;
    }
    if (win.head > this.streamHead) {
      this.streamHead = win.head;
      if (this.streamHead - this.windowStart >= this.opts.flushSamples + this.reorder) this.flushSettled();
    }
    return outcome;
  }

  private placeOverlapping(
    win: TrackWindow,
    index: number,
    src: Uint8Array,
    offset: number,
    n: number,
    decode: SampleDecoder,
  ): PlaceOutcome {
    const scratch = (this.overlapScratch ??=
      this.windowBytesPerSample === 1 ? new Uint8Array(this.pieceSamples) : new Int16Array(this.pieceSamples));
    decode(src, offset, n, scratch, 0);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (!win.covered.has(index + i)) {
        win.samples[index + i] = scratch[i]!;
        win.covered.add(index + i);
        kept++;
      }
    }
    win.stats.placedSamples += kept;
    win.stats.duplicateSamples += n - kept;
    if (kept === 0) return PlaceOutcome.Duplicate;
    return kept === n ? PlaceOutcome.Placed : PlaceOutcome.Trimmed;
  }

  /** Hands samples [windowStart, target) to the files and slides the window to `target`. */
  private flushTo(target: number): void {
    const total = target - this.windowStart;
    if (total <= 0) return;
    const capacity = this.opts.capacitySamples;
    const fromWindow = total < capacity ? total : capacity;
    // Where each track had no audio, for meta.json: read from the window before it slides.
    for (const win of this.windows) {
      if (!win) continue;
      win.covered.reportGaps(0, fromWindow, this.windowStart, win.stats.gaps);
      if (total > fromWindow) win.stats.gaps.add(this.windowStart + fromWindow, target);
    }
    this.emitWindow(fromWindow);
    if (total > fromWindow) this.emitSilence(total - fromWindow);
    this.slide(fromWindow);
    this.windowStart = target;
  }

  private takeChunk(bytes: number): Buffer {
    return this.opts.chunks ? this.opts.chunks.take(bytes) : Buffer.allocUnsafe(bytes);
  }

  private emitWindow(count: number): void {
    const bps = this.bytesPerSample;
    const expand = this.opts.expandCodes;
    const [left, right] = this.windows;
    // Mono batches are appended last: the stereo batch is woven from them, and a sink may
    // hand a chunk back for reuse as soon as it has it.
    const expanded: [Int16Array | undefined, Int16Array | undefined] = [undefined, undefined];
    const monoChunks: Array<[AudioSink, Buffer]> = [];
    this.windows.forEach((win, track) => {
      if (!win?.sinks.mono) return;
      const chunk = this.takeChunk(count * bps);
      if (expand) expanded[track] = expandCodes(expand, win.samples, new Int16Array(chunk.buffer, chunk.byteOffset, count), count);
      else win.bytes.copy(chunk, 0, 0, count * bps);
      monoChunks.push([win.sinks.mono, chunk]);
    });
    const stereo = this.opts.stereo;
    if (stereo && left && right) {
      const chunk = this.takeChunk(count * bps * 2);
      if (bps === 1) {
        // mu-law files: the codes interleaved as they are.
        for (let i = 0, j = 0; i < count; i++, j += 2) {
          chunk[j] = left.samples[i]!;
          chunk[j + 1] = right.samples[i]!;
        }
      } else {
        const l = this.pcmOf(left, 0, expanded[0], count);
        const r = this.pcmOf(right, 1, expanded[1], count);
        // One 32-bit store per frame, left in the low half: the files are little-endian, as
        // this machine's Int16Array is.
        const out = new Uint32Array(chunk.buffer, chunk.byteOffset, count);
        for (let i = 0; i < count; i++) out[i] = (l[i]! & 0xffff) | (r[i]! << 16);
      }
      stereo.append(chunk);
    }
    for (const [sink, chunk] of monoChunks) sink.append(chunk);
  }

  /** A window's first `count` samples as 16-bit PCM, expanding codes if no mono batch did. */
  private pcmOf(win: TrackWindow, track: 0 | 1, expanded: Int16Array | undefined, count: number): Int16Array {
    const expand = this.opts.expandCodes;
    if (!expand) return win.samples as Int16Array;
    if (expanded) return expanded;
    this.stereoScratch[track] ??= new Int16Array(this.opts.capacitySamples);
    return expandCodes(expand, win.samples, this.stereoScratch[track], count);
  }

  private emitSilence(count: number): void {
    const sinks: AudioSink[] = [];
    for (const win of this.windows) if (win?.sinks.mono) sinks.push(win.sinks.mono);
    const stereoCount = this.opts.stereo && this.windows[0] && this.windows[1] ? count * 2 : 0;
    for (const sink of sinks) this.appendSilence(sink, count);
    if (stereoCount > 0) this.appendSilence(this.opts.stereo!, stereoCount);
  }

  private appendSilence(sink: AudioSink, samples: number): void {
    let left = samples;
    while (left > 0) {
      const n = left < SILENCE_CHUNK_SAMPLES ? left : SILENCE_CHUNK_SAMPLES;
      sink.append(this.silence.subarray(0, n * this.bytesPerSample));
      left -= n;
    }
  }

  private slide(count: number): void {
    const capacity = this.opts.capacitySamples;
    const bps = this.windowBytesPerSample;
    for (const win of this.windows) {
      if (!win) continue;
      if (count >= capacity) {
        win.bytes.fill(this.silenceByte);
      } else {
        win.bytes.copyWithin(0, count * bps, capacity * bps);
        win.bytes.fill(this.silenceByte, (capacity - count) * bps);
      }
      win.covered.shiftDown(count);
    }
  }
}

/** codes[0..count) through `table` into out; returns out. */
function expandCodes(table: Int16Array, codes: Int16Array | Uint8Array, out: Int16Array, count: number): Int16Array {
  for (let i = 0; i < count; i++) out[i] = table[codes[i]!]!;
  return out;
}
