/**
 * What the application sends back on a bidirectional stream, read for the bot-audio tee
 * (tee.ts): its media queued to play on the outbound track as the caller hears it, its marks
 * kept at the point they play, `clear` dropping what the caller never heard.
 */
import { isRejected } from '../errors.js';
import type { AppFrameReader } from '../providers/app-frames.js';
import type { StreamLog } from './stream-log.js';
import { BotAudioTee } from './tee.js';

export interface TeePosition {
  /** Where the call is on the provider's clock (input samples). */
  clockHead(): number;
  /** Samples left out by skip-pauses so far (marks are placed on the files' timeline). */
  skipOffset(): number;
}

export class TeeInput {
  /** The queue the application's audio waits in until the call reaches it. */
  readonly tee: BotAudioTee;

  /** `play` puts audio that fell due on the outbound track. */
  constructor(
    private readonly position: TeePosition,
    private readonly log: StreamLog,
    private readonly format: { readonly wireBytesPerSample: number; readonly samplesPerMs: number; readonly maxQueuedMs: number },
    play: (startSample: number, src: Uint8Array, count: number) => void,
    /** The provider's reader of application frames (its adapter's). */
    private readonly readAppFrame: AppFrameReader,
  ) {
    this.tee = new BotAudioTee({ maxQueuedSamples: Math.round(format.maxQueuedMs * format.samplesPerMs), play });
  }

  /** One frame the application sent (text, or a Buffer of text). */
  sent(data: Buffer | string): void {
    const frame = this.readAppFrame(typeof data === 'string' ? data : data.toString('utf8'));
    if (isRejected(frame)) {
      this.log.reject(frame);
      return;
    }
    const now = this.position.clockHead();
    switch (frame.type) {
      case 'media': {
        const bytes = Buffer.from(frame.payload, 'base64');
        const width = this.format.wireBytesPerSample;
        if (bytes.length === 0 || bytes.length % width !== 0) {
          this.log.reject({ code: 'CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', detail: `sent media of ${bytes.length} bytes` });
          return;
        }
        if (!this.tee.queue(now, bytes, bytes.length / width)) {
          this.log.reject({ code: 'CALLTAPE_ERR_TEE_QUEUE_FULL', detail: `more than ${this.format.maxQueuedMs} ms queued` });
        }
        return;
      }
      case 'mark':
        this.log.keep(this.log.marks, {
          name: frame.name,
          source: 'app',
          atMs: Math.round((this.tee.queueEnd(now) - this.position.skipOffset()) / this.format.samplesPerMs),
          receivedAt: new Date().toISOString(),
        });
        return;
      case 'clear': {
        const dropped = this.tee.clear(now);
        this.log.log.debug({ droppedMs: Math.round(dropped / this.format.samplesPerMs) }, 'bot audio cleared');
        return;
      }
    }
  }
}
