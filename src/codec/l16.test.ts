import { describe, expect, it } from 'vitest';
import { SPEECH_IN_16K } from '../../test/helpers/fixtures.js';
import { decodeL16, detectL16ByteOrder } from './l16.js';

/** A 1 kHz sine at 16 kHz, 20 ms, encoded in the given byte order. */
function tone(order: 'be' | 'le', amplitude = 8000): Buffer {
  const samples = 320;
  const buf = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const value = Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    if (order === 'le') buf.writeInt16LE(value, i * 2);
    else buf.writeInt16BE(value, i * 2);
  }
  return buf;
}

/** Frequency of the strongest bin of a small DFT (1 kHz steps up to 8 kHz). */
function dominantFrequency(samples: Int16Array, rate: number): number {
  let best = 0;
  let bestPower = -1;
  for (let f = 500; f < rate / 2; f += 500) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < samples.length; i++) {
      re += samples[i]! * Math.cos((2 * Math.PI * f * i) / rate);
      im -= samples[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    }
    const power = re * re + im * im;
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  return best;
}

describe('L16', () => {
  for (const order of ['be', 'le'] as const) {
    it(`a 1 kHz tone sent ${order} is detected as ${order} and decodes to a 1 kHz tone`, () => {
      const wire = tone(order);
      expect(detectL16ByteOrder(wire, 0, wire.length)).toBe(order);
      const out = new Int16Array(320);
      decodeL16(order, wire, 0, 320, out, 0);
      expect(dominantFrequency(out, 16000)).toBe(1000);
      expect(Math.max(...out)).toBeGreaterThan(7900);
      // Read with the wrong order, the same bytes are broadband noise.
      decodeL16(order === 'be' ? 'le' : 'be', wire, 0, 320, out, 0);
      expect(dominantFrequency(out, 16000)).not.toBe(1000);
    });
  }

  it('detects quiet signals too (line noise a few LSBs wide)', () => {
    expect(detectL16ByteOrder(tone('le', 3), 0, 640)).toBe('le');
    expect(detectL16ByteOrder(tone('be', 3), 0, 640)).toBe('be');
  });

  it('detects little-endian speech on every non-silent 20 ms frame of the fixture', () => {
    let decided = 0;
    for (let offset = 0; offset + 640 <= SPEECH_IN_16K.length; offset += 640) {
      const order = detectL16ByteOrder(SPEECH_IN_16K, offset, 640);
      if (order !== undefined) {
        expect(order).toBe('le');
        decided++;
      }
    }
    expect(decided).toBeGreaterThan(100);
  });

  it('leaves digital silence undecided, since it reads the same either way', () => {
    expect(detectL16ByteOrder(Buffer.alloc(640), 0, 640)).toBeUndefined();
  });
});
