/**
 * Transcribes a finished recording: per track (one speaker each), find the speech, cut it
 * into pieces (pieces.ts), send each piece to the speech-to-text server, and put the answers
 * back on the call's clock (the piece's offset added, times clamped to the piece's own length
 * from our file). Used by the pipeline's transcript step and by `calltape transcribe <dir>`.
 */
import path from 'node:path';
import { STT_PIECE_MAX_BYTES, STT_PIECE_MAX_MS } from '../limits.js';
import type { PauseMeta } from '../recording/meta.js';
import { normalizeAnswer, type PieceSegment } from './normalize.js';
import { pieceKey, type PieceCache } from './piece-cache.js';
import { requestTranscription, type SttServer } from './openai-client.js';
import { planPieces, type Span } from './pieces.js';
import { readTrackSpan, type TrackLevels, type TrackSource } from './track-audio.js';
import { mergeSegments, type TrackName, type Transcript, type TranscriptSegment, type TranscriptTrack } from './transcript.js';

export interface TranscribeProgress {
  readonly track: TrackName;
  /** Pieces of this track sent so far, of `pieces`. */
  readonly done: number;
  readonly pieces: number;
}

export interface TranscribeInput {
  readonly dir: string;
  readonly streamSid: string;
  /** The recording's files by name (inbound, outbound, stereo). */
  readonly files: ReadonlyArray<{ readonly name: string; readonly file: string }>;
  readonly pauses: ReadonlyArray<Pick<PauseMeta, 'atMs' | 'endMs' | 'behavior'>>;
  readonly speakers: Readonly<Record<TrackName, string>>;
  readonly server: SttServer;
  /** Loudness of a track (the pipeline runs it in a worker thread). */
  readonly levels: (source: TrackSource) => Promise<TrackLevels>;
  /**
   * Reads, sends and reads the answer of one piece (the pipeline does it in a worker thread);
   * by default here. Returns the piece's segments, relative to it.
   */
  readonly transcribePiece?: (source: TrackSource, piece: Span, name: string) => Promise<PieceSegment[]>;
  /** Bounds requests to the server across recordings. */
  readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  readonly signal?: AbortSignal;
  /** What the server said about pieces sent by an earlier attempt: those are not sent again. */
  readonly cache?: PieceCache;
  readonly onProgress?: (progress: TranscribeProgress) => void;
}

/** Each track's own file, else its side of the stereo file. */
export function trackSources(dir: string, files: TranscribeInput['files']): Partial<Record<TrackName, TrackSource>> {
  const file = (name: string) => files.find((f) => f.name === name)?.file;
  const stereo = file('stereo');
  const source = (name: TrackName, channel: number): TrackSource | undefined => {
    const own = file(name);
    if (own) return { file: path.join(dir, own), channel: 0 };
    return stereo ? { file: path.join(dir, stereo), channel } : undefined;
  };
  const out: Partial<Record<TrackName, TrackSource>> = {};
  const inbound = source('inbound', 0);
  const outbound = source('outbound', 1);
  if (inbound) out.inbound = inbound;
  if (outbound) out.outbound = outbound;
  return out;
}

/**
 * Paused spans on the files' clock: a `silence` pause is silence in the files (left out
 * here); a `skip` pause is not in the files at all, so what follows it comes earlier.
 */
export function pausedSpans(pauses: TranscribeInput['pauses']): Span[] {
  const spans: Span[] = [];
  let skipped = 0;
  for (const pause of [...pauses].sort((a, b) => a.atMs - b.atMs)) {
    if (pause.behavior === 'skip') skipped += Math.max(0, pause.endMs - pause.atMs);
    else spans.push({ startMs: pause.atMs - skipped, endMs: pause.endMs - skipped });
  }
  return spans;
}

/** One piece read, sent and its answer normalised, in this thread. */
async function transcribeHere(input: TranscribeInput, source: TrackSource, piece: Span, name: string): Promise<PieceSegment[]> {
  const wav = await readTrackSpan(source, piece.startMs, piece.endMs);
  return normalizeAnswer(await requestTranscription(input.server, wav, name, input.signal), piece.endMs - piece.startMs);
}

export async function transcribeRecording(input: TranscribeInput): Promise<Transcript> {
  const sources = trackSources(input.dir, input.files);
  const excluded = pausedSpans(input.pauses);
  const tracks: TranscriptTrack[] = [];
  const perTrack = await Promise.all(
    (Object.entries(sources) as Array<[TrackName, TrackSource]>).map(async ([track, source]) => {
      const levels = await input.levels(source);
      // 16-bit mono WAV: the byte limit is a duration limit at this rate.
      const maxPieceMs = Math.min(STT_PIECE_MAX_MS, Math.floor(((STT_PIECE_MAX_BYTES - 44) / (2 * levels.sampleRate)) * 1000));
      const pieces = planPieces(levels.frames, levels.durationMs, { maxPieceMs, excluded });
      tracks.push({ track, speaker: input.speakers[track], durationMs: levels.durationMs, pieces });
      const segments: TranscriptSegment[] = [];
      let done = 0;
      input.onProgress?.({ track, done, pieces: pieces.length });
      for (const piece of pieces) {
        input.signal?.throwIfAborted();
        const name = `${track}-${piece.startMs}.wav`;
        const key = pieceKey(track, piece.startMs, piece.endMs, input.server.model);
        let said = input.cache?.get(key);
        if (!said) {
          said = await input.limit(() => (input.transcribePiece ? input.transcribePiece(source, piece, name) : transcribeHere(input, source, piece, name)));
          await input.cache?.set(key, said);
        }
        for (const s of said) {
          segments.push({
            speaker: input.speakers[track],
            track,
            startMs: piece.startMs + s.startMs,
            endMs: piece.startMs + s.endMs,
            text: s.text,
            words: s.words.map((w) => ({ text: w.text, startMs: piece.startMs + w.startMs, endMs: piece.startMs + w.endMs })),
          });
        }
        input.onProgress?.({ track, done: ++done, pieces: pieces.length });
      }
      return segments;
    }),
  );
  tracks.sort((a, b) => (a.track < b.track ? -1 : 1));
  return {
    version: 1,
    streamSid: input.streamSid,
    engine: 'openai-compatible',
    model: input.server.model,
    server: new URL(input.server.url).host,
    language: input.server.language ?? null,
    createdAt: new Date().toISOString(),
    tracks,
    segments: mergeSegments(perTrack),
  };
}
