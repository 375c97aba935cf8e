/** The committed speech fixtures (made by test/fixtures/make-fixtures.sh). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

function read(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES_DIR, name));
}

/** 8 kHz mu-law speech, as Twilio sends it: caller (inbound) and agent (outbound). */
/** (Shipped in assets/: `calltape simulate` plays them when given no audio of one's own.) */
export const ASSETS_DIR = path.resolve(FIXTURES_DIR, '../../assets');
export const SPEECH_IN_ULAW = fs.readFileSync(path.join(ASSETS_DIR, 'speech-in.ulaw'));
export const SPEECH_OUT_ULAW = fs.readFileSync(path.join(ASSETS_DIR, 'speech-out.ulaw'));
/** ffmpeg's pcm_mulaw decode of the above, s16le: the reference, not calltape's decoder. */
export const SPEECH_IN_PCM = read('speech-in.ulaw.expected.s16le');
export const SPEECH_OUT_PCM = read('speech-out.ulaw.expected.s16le');
/** 16 kHz linear PCM, little-endian. */
export const SPEECH_IN_16K = read('speech-in.16k.s16le');
export const SPEECH_OUT_16K = read('speech-out.16k.s16le');

/** A distinct clip per index: the fixture rotated, so concurrent calls never share audio. */
export function rotated(source: Buffer, by: number, sampleBytes = 1): Buffer {
  const shift = ((by * sampleBytes) % source.length + source.length) % source.length;
  return Buffer.concat([source.subarray(shift), source.subarray(0, shift)]);
}

/** `source` repeated and cut to exactly `bytes` (e.g. a clip looped to a call's length). */
export function looped(source: Buffer, bytes: number): Buffer {
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / source.length) }, () => source)).subarray(0, bytes);
}
