/**
 * The stateful codecs against independent decoders: G.722 sample-exact against ffmpeg's g722
 * decoder; Opus against the opus-decoder package (libopus in its own WebAssembly build).
 */
import { OpusDecoder } from 'opus-decoder';
import { describe, expect, it } from 'vitest';
import { G722Decoder } from '../../src/codec/g722.js';
import { OpusFrameDecoder } from '../../src/codec/opus.js';
import { ffmpegDecodeG722, ffmpegEncodeG722, ffmpegEncodeOpusPackets } from '../helpers/ffmpeg.js';
import { SPEECH_IN_16K, SPEECH_OUT_16K } from '../helpers/fixtures.js';
import { firstDifference } from '../helpers/recordings.js';

function int16(buffer: Buffer): Int16Array {
  const copy = Buffer.from(buffer);
  return new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2);
}

describe('G.722 decoder', () => {
  const speech = SPEECH_IN_16K;
  const codes = ffmpegEncodeG722(speech);
  const reference = ffmpegDecodeG722(codes);

  it('equals ffmpeg sample for sample on real speech, frame by frame', () => {
    const decoder = new G722Decoder();
    const out = new Int16Array(codes.length * 2);
    let samples = 0;
    for (let offset = 0; offset < codes.length; offset += 160) {
      samples += decoder.decode(codes, offset, Math.min(160, codes.length - offset), out, samples);
    }
    const ours = Buffer.from(out.buffer, 0, samples * 2);
    expect(samples).toBe(codes.length * 2);
    expect(firstDifference(ours, reference)).toBe(-1);
  });

  it('equals ffmpeg on every byte value in every state it reaches', () => {
    // Random codes drive the predictors and scale factors through their whole ranges.
    const random = Buffer.alloc(64_000);
    let seed = 12345;
    for (let i = 0; i < random.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      random[i] = seed >>> 24;
    }
    const decoder = new G722Decoder();
    const out = new Int16Array(random.length * 2);
    decoder.decode(random, 0, random.length, out, 0);
    expect(firstDifference(Buffer.from(out.buffer), ffmpegDecodeG722(random))).toBe(-1);
  });
});

describe('Opus decoder', () => {
  for (const rate of [8000, 16000] as const) {
    it(`decodes speech at ${rate} Hz as libopus does (opus-decoder package)`, async () => {
      const pcm16k = SPEECH_OUT_16K;
      const pcm = rate === 16000 ? pcm16k : int16ToBuffer(int16(pcm16k).filter((_, i) => i % 2 === 0));
      const packets = ffmpegEncodeOpusPackets(pcm, rate);
      expect(packets.length).toBeGreaterThan(100);
      const reference = new OpusDecoder({ sampleRate: rate, channels: 1 });
      await reference.ready;
      const ours = new OpusFrameDecoder(rate);
      const out = new Int16Array((rate / 1000) * 120);
      let compared = 0;
      let maxDifference = 0;
      for (const packet of packets) {
        const count = ours.decode(packet, 0, packet.length, out, 0);
        const expected = reference.decodeFrame(packet);
        expect(count).toBe(expected.samplesDecoded);
        const channel = expected.channelData[0]!;
        for (let i = 0; i < count; i++) {
          const want = Math.max(-32768, Math.min(32767, Math.round(channel[i]! * 32768)));
          maxDifference = Math.max(maxDifference, Math.abs(out[i]! - want));
        }
        compared += count;
      }
      ours.close();
      reference.free();
      expect(compared).toBe(packets.length * (rate / 50));
      // Two builds of libopus (1.4 here, the package's own there), float output rounded to 16
      // bits: a few steps of 32768 at most; a wrong rate, order or state would be thousands.
      expect(maxDifference).toBeLessThanOrEqual(4);
    });
  }

  it('returns -1 for bytes that are not an Opus packet', () => {
    const ours = new OpusFrameDecoder(16000);
    expect(ours.decode(Buffer.alloc(0), 0, 0, new Int16Array(2000), 0)).toBe(-1);
    ours.close();
  });
});

function int16ToBuffer(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}
