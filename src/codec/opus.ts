/**
 * Opus packets (RFC 6716) to 16-bit PCM via opusscript, libopus compiled to WebAssembly:
 * synchronous, so a packet decodes in the same step as any other frame. One decoder per
 * track (Opus is stateful); close() frees its WebAssembly memory.
 */
import OpusScript from 'opusscript';

export const OPUS_RATES = [8000, 12000, 16000, 24000, 48000] as const;
export type OpusRate = (typeof OPUS_RATES)[number];

export function isOpusRate(rate: number): rate is OpusRate {
  return (OPUS_RATES as readonly number[]).includes(rate);
}

/** Longest Opus packet: 120 ms. */
export const OPUS_MAX_SAMPLES_PER_PACKET = 0.12;

export class OpusFrameDecoder {
  private codec: OpusScript | undefined;

  constructor(readonly sampleRate: OpusRate) {
    this.codec = new OpusScript(sampleRate, 1, OpusScript.Application.VOIP);
  }

  /** Decodes one packet into dst[dstIndex..]; returns the sample count, or -1 if not Opus. */
  decode(src: Uint8Array, srcOffset: number, byteLength: number, dst: Int16Array, dstIndex: number): number {
    if (!this.codec) return -1;
    let pcm: Buffer;
    try {
      pcm = this.codec.decode(Buffer.from(src.buffer, src.byteOffset + srcOffset, byteLength));
    } catch {
      return -1;
    }
    const count = pcm.length >> 1;
    if (dstIndex + count > dst.length) return -1;
    for (let i = 0; i < count; i++) dst[dstIndex + i] = pcm.readInt16LE(i * 2);
    return count;
  }

  close(): void {
    this.codec?.delete();
    this.codec = undefined;
  }
}
