/**
 * A two-party call made of real speech at known offsets, for conversation analytics: the
 * committed speech fixtures (espeak-ng, decoded by ffmpeg: test/fixtures/make-fixtures.sh)
 * placed on each party's track, with overlap, an interruption and long silences; then line
 * noise on both tracks and each party's voice leaking into the other's at -25 dB (echo), as
 * a real line does. The oracle is an energy detector on the clean tracks, before noise and
 * echo: what a listener would call each party's speech.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMulaw } from '../../src/codec/g711.js';
import { buildWavHeader } from '../../src/recording/wav-header.js';
import { DEFAULT_SPEECH_OPTIONS, smoothIntervals, type Interval } from '../../src/analytics/speech.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

/** A fixture's 8 kHz speech (ffmpeg's decode of the mu-law asset). */
export function speechClip(party: 'in' | 'out'): Int16Array {
  const bytes = fs.readFileSync(path.join(fixtures, `speech-${party}.ulaw.expected.s16le`));
  return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2).slice();
}

export interface ConversationScript {
  readonly durationMs: number;
  /** Where each party's clip starts (clips run to their end, about 6.5 s and 6.1 s). */
  readonly caller: readonly number[];
  readonly agent: readonly number[];
  /** Line noise, RMS in 16-bit units (100 is -50 dBFS). */
  readonly noiseRms: number;
  /** Each voice in the other track, this many dB down, this late. */
  readonly echoDb: number;
  readonly echoDelayMs: number;
}

/**
 * The caller speaks 1.0–7.5 s and 16.0–22.5 s; the agent cuts in at 5.0 s (4 s into the
 * caller's speech) and speaks to 11.1 s: 2.5 s of overlap, one interruption by the agent,
 * a 5 s silence, and the tail of the call silent.
 */
export const CONVERSATION: ConversationScript = { durationMs: 25_000, caller: [1000, 16_000], agent: [5000], noiseRms: 100, echoDb: -25, echoDelayMs: 40 };

export interface Conversation {
  readonly clean: { caller: Int16Array; agent: Int16Array };
  readonly line: { caller: Int16Array; agent: Int16Array };
}

export function buildConversation(script: ConversationScript = CONVERSATION): Conversation {
  const n = script.durationMs * 8;
  const place = (offsets: readonly number[], clip: Int16Array) => {
    const track = new Int16Array(n);
    for (const ms of offsets) track.set(clip.subarray(0, Math.max(0, Math.min(clip.length, n - ms * 8))), ms * 8);
    return track;
  };
  const clean = { caller: place(script.caller, speechClip('in')), agent: place(script.agent, speechClip('out')) };
  // A fixed generator: the same noise every run.
  let seed = 12345;
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed + 1) / 0x80000000;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const gain = 10 ** (script.echoDb / 20);
  const delay = script.echoDelayMs * 8;
  const onLine = (own: Int16Array, other: Int16Array) => {
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const echo = i >= delay ? other[i - delay]! * gain : 0;
      out[i] = Math.max(-32768, Math.min(32767, Math.round(own[i]! + echo + gauss() * script.noiseRms)));
    }
    return out;
  };
  return { clean, line: { caller: onLine(clean.caller, clean.agent), agent: onLine(clean.agent, clean.caller) } };
}

/** The oracle: 20 ms frames louder than -45 dBFS, smoothed as calltape smooths the detector's frames. */
export function energySpeech(samples: Int16Array, sampleRate = 8000): Interval[] {
  const frame = (sampleRate * 20) / 1000;
  const flags = new Uint8Array(Math.ceil(samples.length / frame));
  for (let f = 0; f < flags.length; f++) {
    let sum = 0;
    const end = Math.min(samples.length, (f + 1) * frame);
    for (let i = f * frame; i < end; i++) sum += samples[i]! * samples[i]!;
    flags[f] = 10 * Math.log10(sum / frame / 32768 ** 2 + 1e-12) > -45 ? 1 : 0;
  }
  return smoothIntervals(flags, 20, DEFAULT_SPEECH_OPTIONS);
}

export function pcmWav(samples: Int16Array, sampleRate = 8000): Buffer {
  return Buffer.concat([buildWavHeader({ format: 'pcm16', channels: 1, sampleRate }, samples.length * 2), Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]);
}

export function ulaw(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encodeMulaw(samples[i]!);
  return out;
}

export const totalMs = (intervals: readonly Interval[]) => intervals.reduce((n, i) => n + i.endMs - i.startMs, 0);
