/**
 * Live listening: a tap on a recording that hands each track's audio, as 16-bit PCM, to the
 * listeners of the call as it is placed. With no listener the media path pays one size check
 * per frame. A listener that does not keep up (more than maxBufferedBytes unread) is dropped:
 * it never slows the recording.
 *
 * Each message is binary: byte 0 the track (0 inbound, 1 outbound), bytes 1-4 the first
 * sample's position on the call's clock (uint32 LE), then the samples (int16 LE) at the
 * recording's rate.
 */
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { LISTEN_MAX_PER_CALL } from '../limits.js';
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
  /** Where one frame is decoded into window samples before the PCM copy. */
  private scratch: Int16Array | Uint8Array | undefined;

  constructor(
    private readonly decode: SampleDecoder,
    /** The decoder writes mu-law codes (expanded here with the G.711 table), or 16-bit samples. */
    private readonly writesCodes: boolean,
    private readonly maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.listeners.size;
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

  /** A frame's audio, as placed: `count` samples of `src` from call-clock sample `startSample`. */
  push(track: 0 | 1, startSample: number, src: Uint8Array, count: number): void {
    if (this.listeners.size === 0) return;
    const message = Buffer.allocUnsafe(LISTEN_HEADER_BYTES + count * 2);
    message[0] = track;
    message.writeUInt32LE(startSample >>> 0, 1);
    const pcm = new Int16Array(count);
    if (this.writesCodes) {
      const codes = (this.scratch = this.scratch instanceof Uint8Array && this.scratch.length >= count ? this.scratch : new Uint8Array(count));
      this.decode(src, 0, count, codes, 0);
      for (let i = 0; i < count; i++) pcm[i] = MULAW_TO_LINEAR[codes[i]!]!;
    } else {
      this.decode(src, 0, count, pcm, 0);
    }
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
