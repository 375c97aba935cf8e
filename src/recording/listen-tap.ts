/**
 * Live listening: a tap on a recording that hands each track's audio, as 16-bit PCM, to the
 * listeners of the call as it is placed, and measures the tracks' levels while a live view
 * shows them. With no listener and no view the media path pays one check per frame. A listener that does not keep up (more than maxBufferedBytes unread) is dropped:
 * it never slows the recording.
 *
 * Each message is binary: byte 0 the track (0 inbound, 1 outbound), bytes 1-4 the first
 * sample's position on the call's clock (uint32 LE), then the samples (int16 LE) at the
 * recording's rate.
 */
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { LEVEL_MIN_WINDOW_MS, LEVEL_WATCH_MS, LISTEN_MAX_PER_CALL } from '../limits.js';
import type { SampleDecoder } from './timeline.js';

export interface Listener {
  /** Bytes sent to it and not yet taken by its socket (ws's bufferedAmount). */
  readonly bufferedAmount: number;
  send(message: Buffer): void;
  /** Dropped for being slow (or the recording ended): close its socket. */
  drop(reason: 'slow' | 'ended'): void;
}

export const LISTEN_HEADER_BYTES = 5;

export class ListenTap {
  private readonly listeners = new Set<Listener>();
  /** Where one frame is decoded into window samples (mu-law codes) before expansion. */
  private codes = new Uint8Array(0);
  /** One frame as 16-bit PCM, reused from frame to frame. */
  private pcm = new Int16Array(0);
  /** A live view is showing this call's levels: measure them until meterUntilMs. */
  private metering = false;
  private meterUntilMs = 0;
  /** Largest absolute sample per track since the levels were last read. */
  private readonly peaks = [0, 0];
  private lastLevels: { inbound: number; outbound: number } | undefined;
  private lastReadMs = 0;

  constructor(
    private readonly decode: SampleDecoder,
    /** The decoder writes mu-law codes (expanded here with the G.711 table), or 16-bit samples. */
    private readonly writesCodes: boolean,
    private readonly maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.listeners.size;
  }

  /** Whether placed frames are wanted at all: one check per frame when they are not. */
  get active(): boolean {
    return this.listeners.size !== 0 || this.metering;
  }

  /** False when the call has LISTEN_MAX_PER_CALL listeners already. */
  add(listener: Listener): boolean {
    if (this.listeners.size >= LISTEN_MAX_PER_CALL) return false;
    this.listeners.add(listener);
    return true;
  }

  remove(listener: Listener): void {
    this.listeners.delete(listener);
  }

  /** A live view wants this call's levels: they are measured for LEVEL_WATCH_MS from now. */
  watchLevels(nowMs: number): void {
    this.metering = true;
    this.meterUntilMs = nowMs + LEVEL_WATCH_MS;
  }

  /** The recording's tick: stops measuring levels nobody has asked for lately. */
  tick(nowMs: number): void {
    if (this.metering && nowMs >= this.meterUntilMs) this.metering = false;
  }

  /**
   * Each track's peak since the last read, 0..1 of full scale (0 when not measured). Reads
   * closer together than LEVEL_MIN_WINDOW_MS (several views polling at once) share one
   * window, so none of them sees the meter drop to nothing between frames.
   */
  readLevels(nowMs: number): { inbound: number; outbound: number } {
    if (this.lastLevels && nowMs - this.lastReadMs < LEVEL_MIN_WINDOW_MS) return this.lastLevels;
    const scale = (peak: number) => Math.round((peak / 32768) * 1000) / 1000;
    this.lastLevels = { inbound: scale(this.peaks[0]!), outbound: scale(this.peaks[1]!) };
    this.lastReadMs = nowMs;
    this.peaks[0] = this.peaks[1] = 0;
    return this.lastLevels;
  }

  /** A frame's audio, as placed: `count` samples of `src` from call-clock sample `startSample`. */
  push(track: 0 | 1, startSample: number, src: Uint8Array, count: number): void {
    if (!this.active) return;
    if (this.pcm.length < count) this.pcm = new Int16Array(count);
    const pcm = this.pcm;
    if (this.writesCodes) {
      if (this.codes.length < count) this.codes = new Uint8Array(count);
      const codes = this.codes;
      this.decode(src, 0, count, codes, 0);
      for (let i = 0; i < count; i++) pcm[i] = MULAW_TO_LINEAR[codes[i]!]!;
    } else {
      this.decode(src, 0, count, pcm, 0);
    }
    if (this.metering) {
      let peak = this.peaks[track]!;
      for (let i = 0; i < count; i++) {
        const magnitude = pcm[i]! < 0 ? -pcm[i]! : pcm[i]!;
        if (magnitude > peak) peak = magnitude;
      }
      this.peaks[track] = peak;
    }
    if (this.listeners.size === 0) return;
    // One message for every listener: ws keeps it until each socket has written it.
    const message = Buffer.allocUnsafe(LISTEN_HEADER_BYTES + count * 2);
    message[0] = track;
    message.writeUInt32LE(startSample >>> 0, 1);
    for (let i = 0; i < count; i++) message.writeInt16LE(pcm[i]!, LISTEN_HEADER_BYTES + i * 2);
    for (const listener of this.listeners) {
      if (listener.bufferedAmount > this.maxBufferedBytes) {
        this.listeners.delete(listener);
        listener.drop('slow');
        continue;
      }
      listener.send(message);
    }
  }

  /** The recording ended: every listener is told and let go. */
  end(): void {
    for (const listener of this.listeners) listener.drop('ended');
    this.listeners.clear();
  }
}
