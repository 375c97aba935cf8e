/**
 * A stream's wire format in, the files' format out: what the files hold (PCM16, or mu-law
 * kept as it came), at what rate, and how a frame's bytes become the samples the timeline
 * places. Table codecs (G.711, L16) decode straight into the timeline; stateful ones (G.722,
 * Opus) decode each track's frames whole, in order, into PCM first. L16 of undocumented byte
 * order is detected from the audio.
 */
import { ALAW_TO_LINEAR, decodeG711, MULAW_TO_LINEAR } from '../codec/g711.js';
import { createFrameDecoder, decodedSampleRate, type FrameDecoder } from '../codec/frame-decoder.js';
import { decodeL16, detectL16ByteOrder, type ByteOrder } from '../codec/l16.js';
import type { MediaFormat, TrackName } from '../events.js';
import type { SampleDecoder } from './timeline.js';
import type { WavFormat } from './wav-header.js';

export interface DecoderSettings {
  /** CALLTAPE_FORMAT: mu-law streams may be kept as mu-law files. */
  readonly format: WavFormat;
  /** CALLTAPE_L16_BYTE_ORDER. */
  readonly l16ByteOrder: 'auto' | ByteOrder;
}

/** What became of a frame's bytes: its sample count, or why it has none. */
export const NOT_DECODED = -1;
export const NOT_WHOLE_SAMPLES = -2;

export class StreamDecoder {
  readonly fileFormat: WavFormat;
  /** Rate of the decoded audio, which is the rate of the files. */
  readonly sampleRate: number;
  readonly samplesPerMs: number;
  /** Bytes per sample of what `decode` reads (2 after a stateful codec's PCM). */
  readonly wireBytesPerSample: number;
  /** Writes `count` samples of what toSamples() produced into the timeline's arrays. */
  readonly decode: SampleDecoder;
  /** mu-law to 16-bit files: the timeline holds the codes and expands them with this as it writes. */
  readonly expandCodes: Int16Array | undefined;
  /** L16 byte order: as declared or configured, else detected from the first audio that tells. */
  l16Order: ByteOrder | undefined;
  private readonly frameDecoders: [FrameDecoder | undefined, FrameDecoder | undefined] = [undefined, undefined];
  /** Samples of the last toSamples(): the frame's own bytes, or PCM in the scratch array. */
  samples: Uint8Array = new Uint8Array(0);

  constructor(
    readonly wire: MediaFormat,
    tracks: readonly TrackName[],
    settings: DecoderSettings,
    private readonly onByteOrder: (order: ByteOrder) => void = () => undefined,
  ) {
    const { encoding } = wire;
    this.sampleRate = decodedSampleRate(wire);
    this.samplesPerMs = this.sampleRate / 1000;
    this.fileFormat = encoding === 'mulaw' && settings.format === 'mulaw' ? 'mulaw' : 'pcm16';
    this.expandCodes = encoding === 'mulaw' && this.fileFormat === 'pcm16' ? MULAW_TO_LINEAR : undefined;
    switch (encoding) {
      case 'mulaw':
        this.wireBytesPerSample = 1;
        this.decode = codeCopier();
        break;
      case 'alaw':
        this.wireBytesPerSample = 1;
        this.decode = decodeAlaw;
        break;
      case 'g722':
      case 'opus':
        // Only for the declared tracks: an Opus decoder holds WebAssembly memory.
        this.frameDecoders = [
          tracks.includes('inbound') ? createFrameDecoder(wire) : undefined,
          tracks.includes('outbound') ? createFrameDecoder(wire) : undefined,
        ];
        this.wireBytesPerSample = 2;
        this.decode = copyPcm;
        break;
      default: {
        this.wireBytesPerSample = 2;
        const forced = settings.l16ByteOrder;
        this.l16Order = encoding === 'l16be' ? 'be' : encoding === 'l16le' ? 'le' : forced === 'auto' ? undefined : forced;
        // Until the order is known (auto, and only silence so far), frames read either way alike.
        this.decode = (src, offset, count, dst, index) => decodeL16(this.l16Order ?? 'be', src, offset, count, dst as Int16Array, index);
      }
    }
  }

  /** Whether this codec carries state between frames (so no tee: bot audio cannot be interleaved). */
  get stateful(): boolean {
    return this.frameDecoders.some(Boolean);
  }

  /**
   * Makes one frame's bytes ready for the timeline: the sample count (samples in `samples`),
   * NOT_DECODED when a stateful codec cannot decode it, NOT_WHOLE_SAMPLES when its length is
   * not whole samples. `pcm` is where stateful codecs decode (shared scratch).
   */
  toSamples(track: 0 | 1, payload: Uint8Array, byteLength: number, pcm: Int16Array): number {
    const frameDecoder = this.frameDecoders[track];
    if (frameDecoder) {
      const count = byteLength === 0 ? -1 : frameDecoder.decode(payload, 0, byteLength, pcm, 0);
      if (count <= 0) return NOT_DECODED;
      // The scratch's bytes, viewed once: callers read `count` samples from the start.
      if (this.samples.buffer !== pcm.buffer) this.samples = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      return count;
    }
    if (byteLength === 0 || byteLength % this.wireBytesPerSample !== 0) return NOT_WHOLE_SAMPLES;
    if (this.wireBytesPerSample === 2 && this.l16Order === undefined) {
      this.l16Order = detectL16ByteOrder(payload, 0, byteLength);
      if (this.l16Order) this.onByteOrder(this.l16Order);
    }
    this.samples = payload;
    return byteLength / this.wireBytesPerSample;
  }

  close(): void {
    for (const decoder of this.frameDecoders) decoder?.close();
  }
}

const decodeAlaw: SampleDecoder = (src, offset, count, dst, index) => decodeG711(ALAW_TO_LINEAR, src, offset, count, dst as Int16Array, index);

/** Already 16-bit PCM in this machine's byte order (a stateful codec decoded it). */
const copyPcm: SampleDecoder = (src, offset, count, dst, index) => {
  const pcm = new Int16Array(src.buffer, src.byteOffset + offset, count);
  (dst as Int16Array).set(pcm, index);
};

/**
 * mu-law codes kept as they are: for mu-law files, or expanded by the timeline as it writes.
 * A memcpy through a view of the codes (measured ~3x faster per frame than a byte loop).
 * One copier per stream keeps its view for the next frame, which comes in the same scratch
 * buffer at the same place and length (160 codes from Twilio): a new view per frame was a
 * sixth of what the event loop allocated.
 */
function codeCopier(): SampleDecoder {
  let viewed: Uint8Array | undefined;
  let viewedAt = -1;
  let view: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  return (src, offset, count, dst, index) => {
    if (src !== viewed || offset !== viewedAt || count !== view.length) {
      viewed = src;
      viewedAt = offset;
      view = src.subarray(offset, offset + count);
    }
    (dst as Uint8Array).set(view, index);
  };
}
