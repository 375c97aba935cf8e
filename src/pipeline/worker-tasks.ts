/**
 * What the pipeline's worker threads do: the CPU-heavy parts of post-call steps, so that
 * none of them runs on the event loop that reads live calls. Messages are plain data.
 */
import { writePeaks, type PeakSources } from '../recording/peaks.js';
import { readTrackSpan, trackLevels, type TrackLevels, type TrackSource } from '../transcribe/track-audio.js';

export type WorkerTask =
  | { readonly kind: 'peaks'; readonly dir: string; readonly sources: PeakSources }
  | { readonly kind: 'levels'; readonly source: TrackSource }
  | { readonly kind: 'span'; readonly source: TrackSource; readonly startMs: number; readonly endMs: number };

export interface WorkerResults {
  peaks: null;
  levels: TrackLevels;
  /** A WAV file's bytes (moved to the caller, not copied). */
  span: Uint8Array;
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
  }
}
