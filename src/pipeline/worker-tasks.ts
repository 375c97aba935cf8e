/**
 * What the pipeline's worker threads do: the CPU-heavy parts of post-call steps, so that
 * none of them runs on the event loop that reads live calls. Messages are plain data.
 */
import { writePeaks, type PeakSources } from '../recording/peaks.js';
import { readTrackSpan, trackLevels, type TrackLevels, type TrackSource } from '../transcribe/track-audio.js';
import { normalizeAnswer, type PieceSegment } from '../transcribe/normalize.js';
import { requestTranscription, type SttServer } from '../transcribe/openai-client.js';
import type { Span } from '../transcribe/pieces.js';
import { analyzeRecording, type Analytics, type AnalyzeInput } from '../analytics/analyze-recording.js';
import { archiveWav, type ArchivedWav } from '../archive/archive-file.js';
import type { ArchiveFormat } from '../archive/formats.js';
import { encryptRecording, type EncryptionRecord } from '../custody/encrypt-recording.js';

export type WorkerTask =
  | { readonly kind: 'peaks'; readonly dir: string; readonly sources: PeakSources }
  | { readonly kind: 'levels'; readonly source: TrackSource }
  | { readonly kind: 'span'; readonly source: TrackSource; readonly startMs: number; readonly endMs: number }
  | { readonly kind: 'transcribe'; readonly source: TrackSource; readonly piece: Span; readonly server: SttServer; readonly name: string }
  | { readonly kind: 'analyze'; readonly input: AnalyzeInput }
  | { readonly kind: 'archive'; readonly wav: string; readonly formats: readonly ArchiveFormat[] }
  | { readonly kind: 'encrypt'; readonly dir: string; readonly recipients: readonly string[]; readonly removed: readonly string[] };

export interface WorkerResults {
  peaks: null;
  levels: TrackLevels;
  /** A WAV file's bytes (moved to the caller, not copied). */
  span: Uint8Array;
  /** A piece's segments, relative to the piece. */
  transcribe: PieceSegment[];
  analyze: Analytics;
  archive: ArchivedWav;
  encrypt: EncryptionRecord;
}

export async function runTask(task: WorkerTask): Promise<WorkerResults[WorkerTask['kind']]> {
  switch (task.kind) {
    case 'peaks':
      await writePeaks(task.dir, task.sources);
      return null;
    case 'levels':
      return trackLevels(task.source);
    case 'span':
      return readTrackSpan(task.source, task.startMs, task.endMs);
    case 'transcribe': {
      // The piece read, sent and its answer read here: the audio and the answer never reach
      // the thread that reads live calls (their buffers would be its garbage to collect).
      const wav = await readTrackSpan(task.source, task.piece.startMs, task.piece.endMs);
      const answer = await requestTranscription(task.server, wav, task.name);
      return normalizeAnswer(answer, task.piece.endMs - task.piece.startMs);
    }
    case 'analyze':
      return analyzeRecording(task.input);
    case 'archive':
      return archiveWav(task.wav, task.formats);
    case 'encrypt':
      return encryptRecording(task.dir, task.recipients, { removed: task.removed });
  }
}
