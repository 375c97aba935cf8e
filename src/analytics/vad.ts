/// <reference path="./fvad-wasm.d.ts" />
/**
 * Voice activity per 20 ms frame of one track, from WebRTC's voice-activity detector (libfvad
 * compiled to WASM: @echogarden/fvad-wasm), with each frame's level beside it for the echo
 * guard (speech.ts). Streams through the file; runs in the pipeline's worker threads.
 */
import loadFvad, { type FvadModule } from '@echogarden/fvad-wasm';
import { readTrackSamples, type TrackSource } from '../transcribe/track-audio.js';

/** The detector's frame: 10, 20 or 30 ms are what libfvad takes; 20 ms is a media frame. */
export const VAD_FRAME_MS = 20;
/** The rates libfvad runs at; other multiples of 8 kHz are averaged down to 8 kHz first. */
const VAD_RATES = [8000, 16000, 32000, 48000];
/** Below this a frame's level is written as this (digital silence has no logarithm). */
export const LEVEL_FLOOR_DB = -100;

export interface VoiceFrames {
  readonly frameMs: number;
  /** The track's length, ms. */
  readonly durationMs: number;
  /** 1 where the detector heard voice in frame i. */
  readonly voiced: Uint8Array;
  /** Frame i's level, dB relative to full scale (RMS). */
  readonly levelDb: Float32Array;
}

let fvad: Promise<FvadModule> | undefined;

/** The WASM module, compiled once per thread (about 20 KB; a few ms). */
function module(): Promise<FvadModule> {
  fvad ??= loadFvad();
  return fvad;
}

/** Typed arrays that double when full: a track's frame count is known only once it is read. */
class Growing<T extends Uint8Array | Float32Array> {
  length = 0;
  constructor(private data: T) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/**
 * Runs the detector over one track. `mode` is libfvad's aggressiveness, 0 to 3 (3 flags the
 * fewest noise frames as voice, which line noise needs).
 */
export async function detectVoice(source: TrackSource, mode: number): Promise<VoiceFrames> {
  const vad = await module();
  const handle = vad._fvad_new();
  if (handle === 0) throw new Error('the voice-activity detector could not be created (out of WASM memory)');
  let pointer = 0;
  try {
    if (vad._fvad_set_mode(handle, mode) !== 0) throw new Error(`voice-activity mode must be 0 to 3, not ${mode}`);
    const voiced = new Growing(new Uint8Array(4096));
    const levels = new Growing(new Float32Array(4096));
    let frame: Int16Array | undefined;
    let filled = 0;
    let step = 1;
    let group = 0;
    let groupSum = 0;
    const endFrame = () => {
      let sum = 0;
      for (let i = 0; i < frame!.length; i++) sum += frame![i]! * frame![i]!;
      const meanSquare = sum / frame!.length / (32768 * 32768);
      levels.push(meanSquare > 0 ? Math.max(LEVEL_FLOOR_DB, 10 * Math.log10(meanSquare)) : LEVEL_FLOOR_DB);
      // HEAP16 is read each time: the module's memory (and so the view) may have grown.
      vad.HEAP16.set(frame!, pointer >> 1);
      const answer = vad._fvad_process(handle, pointer, frame!.length);
      if (answer < 0) throw new Error('the voice-activity detector refused a frame');
      voiced.push(answer);
      filled = 0;
    };
    const { header, samples } = await readTrackSamples(source, (block, { sampleRate: rate }) => {
      if (!frame) {
        step = VAD_RATES.includes(rate) ? 1 : rate / 8000;
        const vadRate = rate / step;
        if (!Number.isInteger(step) || vad._fvad_set_sample_rate(handle, vadRate) !== 0) {
          throw new Error(`voice activity cannot be detected at ${rate} Hz (8, 16, 32, 48 kHz or a multiple of 8 kHz)`);
        }
        frame = new Int16Array((vadRate * VAD_FRAME_MS) / 1000);
        pointer = vad._malloc(frame.length * 2);
      }
      for (let i = 0; i < block.length; i++) {
        if (step === 1) {
          frame[filled++] = block[i]!;
        } else {
          groupSum += block[i]!;
          if (++group < step) continue;
          frame[filled++] = Math.round(groupSum / step);
          group = 0;
          groupSum = 0;
        }
        if (filled === frame.length) endFrame();
      }
    });
    // A last partial frame is padded with silence: its voice still counts.
    if (frame && filled > 0) {
      frame.fill(0, filled);
      endFrame();
    }
    return { frameMs: VAD_FRAME_MS, durationMs: Math.round((samples * 1000) / header.sampleRate), voiced: voiced.done(), levelDb: levels.done() };
  } finally {
    if (pointer) vad._free(pointer);
    vad._fvad_free(handle);
  }
}
