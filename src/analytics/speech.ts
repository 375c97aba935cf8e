/**
 * From the detector's frames (vad.ts) to the intervals a person would call speech: frames
 * that are only the other party's voice leaking in (echo, side-tone) are dropped, pauses
 * shorter than the hangover inside an utterance are bridged, and clicks too short to be a
 * word are dropped. Pure functions: the tests feed them frames they built.
 */
import type { VoiceFrames } from './vad.js';

export interface Interval {
  startMs: number;
  endMs: number;
}

export interface SpeechOptions {
  /** Pauses shorter than this inside speech are bridged (the detector's hangover). */
  readonly hangoverMs: number;
  /** Speech shorter than this (a click, a breath) is not counted. */
  readonly minSpeechMs: number;
  /**
   * Echo guard: a frame counts as speech on a track only if the track's loudest level near it
   * is within this many dB of the other track's loudest level near it. Echo and side-tone sit
   * 20 to 30 dB under the voice they copy; two people talking at once are within a few dB.
   */
  readonly echoMarginDb: number;
  /** "Near": this many ms either side (covers an echo's delay and a syllable's swing). */
  readonly echoWindowMs: number;
  /** Frames quieter than this (dBFS) are never speech. */
  readonly floorDb: number;
  /**
   * Nor are frames less than this many dB above the track's own noise floor (its 10th
   * percentile level): libfvad holds "voice" for a few frames after speech ends (its own
   * hangover), which would otherwise lengthen every utterance and bridge real pauses.
   */
  readonly noiseMarginDb: number;
}

export const DEFAULT_SPEECH_OPTIONS: SpeechOptions = { hangoverMs: 400, minSpeechMs: 100, echoMarginDb: 15, echoWindowMs: 200, floorDb: -55, noiseMarginDb: 9 };

/** The loudest of `levels` within `reach` frames either side of each frame. */
export function nearbyMax(levels: Float32Array, reach: number): Float32Array {
  const out = new Float32Array(levels.length);
  for (let i = 0; i < levels.length; i++) {
    let max = -Infinity;
    for (let j = Math.max(0, i - reach), end = Math.min(levels.length - 1, i + reach); j <= end; j++) if (levels[j]! > max) max = levels[j]!;
    out[i] = max;
  }
  return out;
}

/** A track's noise floor: the level its quietest tenth of frames stay under. */
export function noiseFloorDb(levels: Float32Array): number {
  if (levels.length === 0) return -Infinity;
  const sorted = Float32Array.from(levels).sort();
  return sorted[Math.floor(sorted.length * 0.1)]!;
}

/**
 * Which frames of `own` are its speaker's voice: voiced, above the floor and the track's own
 * noise, and (when the other track is given) not an echo of it.
 */
export function ownVoiceFrames(own: VoiceFrames, other: VoiceFrames | undefined, opts: SpeechOptions): Uint8Array {
  const out = new Uint8Array(own.voiced.length);
  const reach = Math.max(1, Math.round(opts.echoWindowMs / own.frameMs));
  const threshold = Math.max(opts.floorDb, noiseFloorDb(own.levelDb) + opts.noiseMarginDb);
  const ownNear = other ? nearbyMax(own.levelDb, reach) : undefined;
  const otherNear = other ? nearbyMax(other.levelDb, reach) : undefined;
  for (let i = 0; i < own.voiced.length; i++) {
    const echo = ownNear !== undefined && otherNear !== undefined && i < otherNear.length && ownNear[i]! < otherNear[i]! - opts.echoMarginDb;
    out[i] = own.voiced[i] === 1 && own.levelDb[i]! >= threshold && !echo ? 1 : 0;
  }
  return out;
}

/** The speech intervals of a run of per-frame flags, smoothed (hangover, shortest speech). */
export function smoothIntervals(flags: Uint8Array, frameMs: number, opts: SpeechOptions): Interval[] {
  const intervals: Interval[] = [];
  const bridge = Math.round(opts.hangoverMs / frameMs);
  let start = -1;
  let lastVoiced = -1;
  const close = () => {
    const startMs = start * frameMs;
    const endMs = (lastVoiced + 1) * frameMs;
    if (endMs - startMs >= opts.minSpeechMs) intervals.push({ startMs, endMs });
  };
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] !== 1) continue;
    if (start >= 0 && i - lastVoiced - 1 > bridge) {
      close();
      start = -1;
    }
    if (start < 0) start = i;
    lastVoiced = i;
  }
  if (start >= 0) close();
  return intervals;
}
