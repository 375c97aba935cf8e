/**
 * Codecs that carry state from frame to frame (G.722's adaptive predictors, Opus) decode a
 * whole frame at a time, in the order the provider sent it, into PCM; the timeline then
 * places that PCM like any other. Table codecs (G.711, L16) skip this step and decode
 * straight into the timeline (see recording/stream-decoder.ts).
 */
import type { MediaFormat } from '../events.js';
import { G722Decoder } from './g722.js';
import { isOpusRate, OpusFrameDecoder } from './opus.js';

export interface FrameDecoder {
  /** Decodes one frame into dst[dstIndex..]; returns the sample count, or -1 if it cannot. */
  decode(src: Uint8Array, srcOffset: number, byteLength: number, dst: Int16Array, dstIndex: number): number;
  close(): void;
}

/** G.722 always yields 16 kHz audio, whatever the provider declares (RTP calls it 8000). */
const G722_RATE = 16000;

/** The sample rate of the decoded audio, which is the rate of the files. */
export function decodedSampleRate(format: MediaFormat): number {
  if (format.encoding === 'g722') return G722_RATE;
  if (format.encoding === 'opus') return isOpusRate(format.sampleRate) ? format.sampleRate : 48000;
  return format.sampleRate;
}

/** A decoder for one track, or undefined for the table codecs. */
export function createFrameDecoder(format: MediaFormat): FrameDecoder | undefined {
  if (format.encoding === 'g722') {
    const decoder = new G722Decoder();
    return { decode: (...args) => decoder.decode(...args), close: () => undefined };
  }
  if (format.encoding === 'opus') {
    const rate = decodedSampleRate(format);
    return new OpusFrameDecoder(isOpusRate(rate) ? rate : 48000);
  }
  return undefined;
}
