/**
 * The audio every fixture session carries: two seconds of each voice in every form the
 * providers send, and the helpers that cut it into frames.
 */
import crypto from 'node:crypto';
import type { TrackName } from '../../src/events.js';
import { SPEECH_IN_16K, SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_16K, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';

const SECONDS = 2;
export const b64 = (bytes: Buffer) => bytes.toString('base64');
export const uuid = () => crypto.randomUUID();
export const chunks = (bytes: Buffer, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
export const swap16 = (pcm: Buffer) => Buffer.from(pcm).swap16();

export const MU = { inbound: SPEECH_IN_ULAW.subarray(0, 8000 * SECONDS), outbound: SPEECH_OUT_ULAW.subarray(0, 8000 * SECONDS) };
export const MU_REF = { inbound: SPEECH_IN_PCM.subarray(0, 16000 * SECONDS), outbound: SPEECH_OUT_PCM.subarray(0, 16000 * SECONDS) };
export const PCM16K = { inbound: SPEECH_IN_16K.subarray(0, 32000 * SECONDS), outbound: SPEECH_OUT_16K.subarray(0, 32000 * SECONDS) };
/** 8 kHz linear PCM: the mu-law reference decode (any real 8 kHz speech will do). */
export const PCM8K = MU_REF;

/** Frames of every track interleaved in time, 20 ms each: [track, index, bytes]. */
export function timed(tracks: Partial<Record<TrackName, Buffer>>, frameBytes: number): Array<[TrackName, number, Buffer]> {
  const out: Array<[TrackName, number, Buffer]> = [];
  const lists = Object.entries(tracks).map(([track, bytes]) => [track as TrackName, chunks(bytes!, frameBytes)] as const);
  const longest = Math.max(...lists.map(([, list]) => list.length));
  for (let i = 0; i < longest; i++) for (const [track, list] of lists) if (list[i]) out.push([track, i, list[i]!]);
  return out;
}

/** 16-bit stereo frames: left = inbound, right = outbound. */
/** Two 8-bit channels (G.711) interleaved sample by sample, left first. */
export function interleaveStereo8(left: Buffer, right: Buffer): Buffer {
  const out = Buffer.alloc(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    out[i * 2] = left[i]!;
    out[i * 2 + 1] = right[i]!;
  }
  return out;
}

export function interleaveStereo16(left: Buffer, right: Buffer): Buffer {
  const out = Buffer.alloc(left.length * 2);
  for (let i = 0; i < left.length / 2; i++) {
    left.copy(out, i * 4, i * 2, i * 2 + 2);
    right.copy(out, i * 4 + 2, i * 2, i * 2 + 2);
  }
  return out;
}
