/**
 * Where a track is cut before it is sent for transcription. Servers refuse long uploads
 * (vLLM more than 600 s by default, OpenAI more than 25 MB), and silence sent to Whisper costs
 * money and comes back as invented words. So: stretches of silence of 2 s or more are not
 * sent, spans that were paused (a card number read out) are never sent, and what is left is
 * cut into pieces no longer than the limit, each cut at the quietest moment near the limit.
 * A track with speech throughout and under the limit is one piece starting at 0.
 */
import { LEVEL_FRAME_MS } from './track-audio.js';

export interface Span {
  readonly startMs: number;
  readonly endMs: number;
}

export interface PieceOptions {
  /** Longest piece sent (the servers' limit on duration, or on bytes at this sample rate). */
  readonly maxPieceMs: number;
  /** Silence at least this long is left out (and so ends a piece). */
  readonly minSilenceMs?: number;
  /** Audio kept either side of speech, so a word's first and last sounds are not clipped. */
  readonly padMs?: number;
  /** Spans never sent (paused). */
  readonly excluded?: readonly Span[];
}

/** Quietest speech a frame may have and still count as speech (about -50 dBFS). */
const SPEECH_FLOOR_RMS = 0.003;
/** The speech threshold never rises above this (about -40 dBFS), however loud the track. */
const SPEECH_CEILING_RMS = 0.01;
/** Where a long stretch is cut: the quietest frame within this much before the limit. */
const CUT_SEARCH_MS = 30_000;

/** The threshold between silence and speech for this track: well above its noise floor. */
export function speechThreshold(frames: Float32Array): number {
  if (frames.length === 0) return SPEECH_FLOOR_RMS;
  const sorted = Float32Array.from(frames).sort();
  const floor = sorted[Math.floor(sorted.length * 0.1)]!;
  return Math.min(SPEECH_CEILING_RMS, Math.max(SPEECH_FLOOR_RMS, floor * 3));
}

/** The pieces of a track to send, in order, from its loudness per 20 ms frame. */
export function planPieces(frames: Float32Array, durationMs: number, options: PieceOptions): Span[] {
  const frameMs = LEVEL_FRAME_MS;
  const n = frames.length;
  const minSilence = Math.ceil((options.minSilenceMs ?? 2000) / frameMs);
  const pad = Math.round((options.padMs ?? 300) / frameMs);
  const maxFrames = Math.max(1, Math.floor(options.maxPieceMs / frameMs));

  // Frames that touch a paused span are never sent, not even in part.
  const excluded = new Uint8Array(n);
  for (const span of options.excluded ?? []) {
    const from = Math.max(0, Math.floor(span.startMs / frameMs));
    const to = Math.min(n, Math.ceil(span.endMs / frameMs));
    excluded.fill(1, from, to);
  }
  const threshold = speechThreshold(frames);
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) keep[i] = frames[i]! > threshold && !excluded[i] ? 1 : 0;

  // Silences shorter than minSilence are sent with the speech around them (and at the ends
  // of the track): only a long silence, or a paused span, splits the track.
  let i = 0;
  while (i < n) {
    if (keep[i] || excluded[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && !keep[j] && !excluded[j]) j++;
    const bounded = (i === 0 || keep[i - 1]) && (j === n || keep[j]);
    const hasSpeechNear = (i > 0 && keep[i - 1]) || (j < n && keep[j]);
    if (j - i < minSilence && bounded && hasSpeechNear) keep.fill(1, i, j);
    i = j;
  }
  // Padding either side of what is kept, never into a paused span.
  const padded = Uint8Array.from(keep);
  for (let k = 0; k < n; k++) {
    if (!keep[k]) continue;
    if (k === 0 || !keep[k - 1]) for (let p = k - 1; p >= Math.max(0, k - pad) && !excluded[p]; p--) padded[p] = 1;
    if (k === n - 1 || !keep[k + 1]) for (let p = k + 1; p <= Math.min(n - 1, k + pad) && !excluded[p]; p++) padded[p] = 1;
  }

  const pieces: Span[] = [];
  const toMs = (frame: number) => Math.min(durationMs, frame * frameMs);
  let k = 0;
  while (k < n) {
    if (!padded[k]) {
      k++;
      continue;
    }
    let end = k;
    while (end < n && padded[end]) end++;
    // A run longer than the limit is cut at its quietest frame shortly before the limit.
    let start = k;
    while (end - start > maxFrames) {
      const limit = start + maxFrames;
      const from = Math.max(start + Math.ceil(maxFrames / 2), limit - Math.floor(CUT_SEARCH_MS / frameMs));
      let cut = limit;
      let quietest = Infinity;
      for (let f = limit - 1; f >= from; f--) {
        if (frames[f]! < quietest) {
          quietest = frames[f]!;
          cut = f;
        }
      }
      pieces.push({ startMs: toMs(start), endMs: toMs(cut) });
      start = cut;
    }
    if (toMs(end) > toMs(start)) pieces.push({ startMs: toMs(start), endMs: toMs(end) });
    k = end;
  }
  return pieces;
}
