/**
 * The bot-audio tee. On a bidirectional stream (<Connect><Stream>) the provider streams only
 * the caller; what the caller hears is what the application sends back, and the provider
 * plays it the way a queue does: audio sent while earlier audio still plays goes after it,
 * audio sent while the queue is empty starts at once, and `clear` throws away whatever has
 * not been played yet. The tee keeps that queue on the call's clock (the caller's audio
 * position) and hands audio to the outbound track only once the call has reached it, so a
 * `clear` removes exactly the part the caller never heard.
 */

export interface BotAudioTeeOptions {
  /** Largest amount of audio the application may queue ahead of the call. */
  readonly maxQueuedSamples: number;
  /** Puts `count` samples of wire audio from src (starting at its first sample) on the outbound track. */
  readonly play: (startSample: number, src: Uint8Array, count: number) => void;
}

interface QueuedAudio {
  /** Call-clock sample at which this audio starts playing. */
  readonly start: number;
  readonly bytes: Uint8Array;
  readonly count: number;
  /** Samples already handed to the track. */
  played: number;
}

export class BotAudioTee {
  private readonly opts: BotAudioTeeOptions;
  private readonly queued: QueuedAudio[] = [];
  /** End of the last queued audio on the call clock. */
  private end = 0;
  /** Samples dropped by clear (or left unplayed at the end). */
  clearedSamples = 0;

  constructor(opts: BotAudioTeeOptions) {
    this.opts = opts;
  }

  /** Where audio queued now would start: after what is queued, or now if nothing is. */
  queueEnd(now: number): number {
    return Math.max(this.end, now);
  }

  /** The application sent `count` samples at call time `now`; false if the queue is full. */
  queue(now: number, bytes: Uint8Array, count: number): boolean {
    const start = this.queueEnd(now);
    if (start + count - now > this.opts.maxQueuedSamples) return false;
    this.queued.push({ start, bytes, count, played: 0 });
    this.end = start + count;
    return true;
  }

  /** The call reached `now`: plays everything due by then. */
  release(now: number): void {
    const bytesPerSample = (audio: QueuedAudio) => audio.bytes.length / audio.count;
    while (this.queued.length > 0) {
      const audio = this.queued[0]!;
      const due = Math.min(audio.count, now - audio.start);
      if (due <= audio.played) return;
      const width = bytesPerSample(audio);
      this.opts.play(audio.start + audio.played, audio.bytes.subarray(audio.played * width, due * width), due - audio.played);
      audio.played = due;
      if (due < audio.count) return;
      this.queued.shift();
    }
  }

  /** `clear` at call time `now`: drops everything not yet played; returns the samples dropped. */
  clear(now: number): number {
    this.release(now);
    let dropped = 0;
    for (const audio of this.queued) dropped += audio.count - audio.played;
    this.queued.length = 0;
    this.end = now;
    this.clearedSamples += dropped;
    return dropped;
  }
}
