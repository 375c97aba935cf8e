import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import { ffmpegDecodeG711 } from '../../test/helpers/ffmpeg.js';
import { ALAW_TO_LINEAR, decodeG711, encodeMulaw, MULAW_SILENCE, MULAW_TO_LINEAR } from './g711.js';

const ALL_CODES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('G.711 tables', () => {
  it('mu-law equals ffmpeg pcm_mulaw on all 256 codes', () => {
    const reference = ffmpegDecodeG711(ALL_CODES, 'mulaw');
    for (let code = 0; code < 256; code++) expect([code, MULAW_TO_LINEAR[code]]).toEqual([code, reference.readInt16LE(code * 2)]);
  });

  it('A-law equals ffmpeg pcm_alaw on all 256 codes', () => {
    const reference = ffmpegDecodeG711(ALL_CODES, 'alaw');
    for (let code = 0; code < 256; code++) expect([code, ALAW_TO_LINEAR[code]]).toEqual([code, reference.readInt16LE(code * 2)]);
  });

  it('agrees with the alawmulaw package', () => {
    expect(Array.from(MULAW_TO_LINEAR)).toEqual(Array.from(alawmulaw.mulaw.decode(new Uint8Array(ALL_CODES))));
    expect(Array.from(ALAW_TO_LINEAR)).toEqual(Array.from(alawmulaw.alaw.decode(new Uint8Array(ALL_CODES))));
  });

  it('pads mu-law files with a code that decodes to 0', () => {
    expect(MULAW_TO_LINEAR[MULAW_SILENCE]).toBe(0);
  });

  it('decodes a slice into a slice without touching the rest', () => {
    const dst = new Int16Array(6).fill(99);
    decodeG711(MULAW_TO_LINEAR, Uint8Array.from([1, 2, 3, 0x00, 0x80, 9]), 3, 2, dst, 2);
    expect(Array.from(dst)).toEqual([99, 99, MULAW_TO_LINEAR[0], MULAW_TO_LINEAR[0x80], 99, 99]);
  });

  it('encodes every 16-bit sample to the same mu-law code as alawmulaw', () => {
    for (let sample = -32768; sample <= 32767; sample++) {
      const theirs = alawmulaw.mulaw.encodeSample(sample) & 0xff;
      if (encodeMulaw(sample) !== theirs) expect([sample, encodeMulaw(sample)]).toEqual([sample, theirs]);
    }
    // Round trip: decoding a code and encoding the result gives the code back (0x7F is -0, i.e. 0xFF).
    for (let code = 0; code < 256; code++) if (code !== 0x7f) expect(encodeMulaw(MULAW_TO_LINEAR[code]!)).toBe(code);
  });
});
