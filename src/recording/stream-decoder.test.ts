import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, MULAW_TO_LINEAR } from '../codec/g711.js';
import { NOT_DECODED, NOT_WHOLE_SAMPLES, StreamDecoder } from './stream-decoder.js';

const PCM16 = { format: 'pcm16', l16ByteOrder: 'auto' } as const;

/** A 300 Hz tone at 8 kHz, as 16-bit samples in the given byte order. */
function tone(samples: number, order: 'be' | 'le'): Buffer {
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
    if (order === 'be') out.writeInt16BE(v, i * 2);
    else out.writeInt16LE(v, i * 2);
  }
  return out;
}

describe('StreamDecoder', () => {
  it('mu-law to 16-bit files: the timeline keeps codes and expands them with the G.711 table', () => {
    const decoder = new StreamDecoder({ encoding: 'mulaw', sampleRate: 8000, channels: 1 }, ['inbound'], PCM16);
    expect(decoder).toMatchObject({ fileFormat: 'pcm16', sampleRate: 8000, wireBytesPerSample: 1, expandCodes: MULAW_TO_LINEAR });
    const codes = Uint8Array.from([0, 127, 255]);
    expect(decoder.toSamples(0, codes, 3, new Int16Array(8))).toBe(3);
    const dst = new Uint8Array(3);
    decoder.decode(decoder.samples, 0, 3, dst, 0);
    expect([...dst]).toEqual([0, 127, 255]);
  });

  it('mu-law kept as mu-law files when configured; A-law decoded to 16-bit', () => {
    expect(new StreamDecoder({ encoding: 'mulaw', sampleRate: 8000, channels: 1 }, ['inbound'], { ...PCM16, format: 'mulaw' })).toMatchObject({ fileFormat: 'mulaw', expandCodes: undefined });
    const alaw = new StreamDecoder({ encoding: 'alaw', sampleRate: 8000, channels: 1 }, ['inbound'], { ...PCM16, format: 'mulaw' });
    expect(alaw.fileFormat).toBe('pcm16');
    const dst = new Int16Array(2);
    alaw.decode(Uint8Array.from([0x55, 0xd5]), 0, 2, dst, 0);
    expect([...dst]).toEqual([ALAW_TO_LINEAR[0x55], ALAW_TO_LINEAR[0xd5]]);
  });

  it('L16 of undeclared byte order: detected from the audio, said once', () => {
    const seen: string[] = [];
    const decoder = new StreamDecoder({ encoding: 'l16', sampleRate: 8000, channels: 1 }, ['inbound'], PCM16, (order) => seen.push(order));
    const frame = tone(160, 'be');
    expect(decoder.toSamples(0, frame, frame.length, new Int16Array(8))).toBe(160);
    decoder.toSamples(0, frame, frame.length, new Int16Array(8));
    expect(seen).toEqual(['be']);
    const dst = new Int16Array(160);
    decoder.decode(frame, 0, 160, dst, 0);
    expect(dst[20]).toBe(frame.readInt16BE(40));
    expect(new StreamDecoder({ encoding: 'l16le', sampleRate: 16000, channels: 1 }, ['inbound'], PCM16).l16Order).toBe('le');
  });

  it('refuses a frame that is not whole samples, and one a stateful codec cannot decode', () => {
    const l16 = new StreamDecoder({ encoding: 'l16le', sampleRate: 8000, channels: 1 }, ['inbound'], PCM16);
    expect(l16.toSamples(0, Buffer.alloc(3), 3, new Int16Array(8))).toBe(NOT_WHOLE_SAMPLES);
    expect(l16.toSamples(0, Buffer.alloc(0), 0, new Int16Array(8))).toBe(NOT_WHOLE_SAMPLES);
    const g722 = new StreamDecoder({ encoding: 'g722', sampleRate: 8000, channels: 1 }, ['inbound', 'outbound'], PCM16);
    expect(g722).toMatchObject({ sampleRate: 16000, wireBytesPerSample: 2, stateful: true });
    expect(g722.toSamples(0, Buffer.alloc(0), 0, new Int16Array(640))).toBe(NOT_DECODED);
    expect(g722.toSamples(1, Buffer.alloc(160, 0xaa), 160, new Int16Array(640))).toBe(320);
    g722.close();
  });
});
