/**
 * Builds the exact frames Twilio sends (PROTOCOLS.md section 1.1): connected, start, media
 * interleaved by timestamp across tracks with one sequenceNumber counter for the socket,
 * stop. Tests edit the list (drop, duplicate, reorder) to model the network.
 */
import crypto from 'node:crypto';

export interface TwilioCall {
  callSid: string;
  streamSid: string;
  accountSid: string;
}

export function newTwilioCall(): TwilioCall {
  const hex = () => crypto.randomBytes(16).toString('hex');
  return { callSid: `CA${hex()}`, streamSid: `MZ${hex()}`, accountSid: `AC${hex()}` };
}

export interface MediaFrame {
  track: 'inbound' | 'outbound';
  timestampMs: number;
  payload: Buffer;
}

/** Splits audio into frames of `frameMs` starting at `startMs`. */
export function mediaFrames(track: 'inbound' | 'outbound', audio: Buffer, opts: { bytesPerMs?: number; frameMs?: number; startMs?: number } = {}): MediaFrame[] {
  const bytesPerMs = opts.bytesPerMs ?? 8;
  const frameMs = opts.frameMs ?? 20;
  const frameBytes = bytesPerMs * frameMs;
  const frames: MediaFrame[] = [];
  for (let offset = 0, ts = opts.startMs ?? 0; offset < audio.length; offset += frameBytes, ts += frameMs) {
    frames.push({ track, timestampMs: ts, payload: audio.subarray(offset, offset + frameBytes) });
  }
  return frames;
}

/** Merges tracks in timestamp order, inbound first on ties (as Twilio interleaves them). */
export function interleave(...tracks: MediaFrame[][]): MediaFrame[] {
  return tracks.flat().sort((a, b) => a.timestampMs - b.timestampMs || (a.track === b.track ? 0 : a.track === 'inbound' ? -1 : 1));
}

export interface StartOptions {
  tracks?: string[];
  customParameters?: Record<string, string>;
  mediaFormat?: { encoding: string; sampleRate: number; channels: number };
}

export class TwilioFrameWriter {
  private sequence = 0;
  private readonly chunks = new Map<string, number>();
  constructor(readonly call: TwilioCall) {}

  connected(): string {
    return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  }

  start(opts: StartOptions = {}): string {
    return JSON.stringify({
      event: 'start',
      sequenceNumber: String(++this.sequence),
      start: {
        accountSid: this.call.accountSid,
        streamSid: this.call.streamSid,
        callSid: this.call.callSid,
        tracks: opts.tracks ?? ['inbound', 'outbound'],
        mediaFormat: opts.mediaFormat ?? { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: opts.customParameters ?? {},
      },
      streamSid: this.call.streamSid,
    });
  }

  media(frame: MediaFrame): string {
    const chunk = (this.chunks.get(frame.track) ?? 0) + 1;
    this.chunks.set(frame.track, chunk);
    return JSON.stringify({
      event: 'media',
      sequenceNumber: String(++this.sequence),
      media: { track: frame.track, chunk: String(chunk), timestamp: String(frame.timestampMs), payload: frame.payload.toString('base64') },
      streamSid: this.call.streamSid,
    });
  }

  dtmf(digit: string): string {
    return JSON.stringify({ event: 'dtmf', streamSid: this.call.streamSid, sequenceNumber: String(++this.sequence), dtmf: { track: 'inbound_track', digit } });
  }

  mark(name: string): string {
    return JSON.stringify({ event: 'mark', sequenceNumber: String(++this.sequence), streamSid: this.call.streamSid, mark: { name } });
  }

  stop(): string {
    return JSON.stringify({
      event: 'stop',
      sequenceNumber: String(++this.sequence),
      stop: { accountSid: this.call.accountSid, callSid: this.call.callSid },
      streamSid: this.call.streamSid,
    });
  }

  /** connected, start, every media frame, stop. */
  session(frames: MediaFrame[], opts: StartOptions = {}): string[] {
    return [this.connected(), this.start(opts), ...frames.map((f) => this.media(f)), this.stop()];
  }
}
