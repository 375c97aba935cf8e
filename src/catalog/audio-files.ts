/**
 * The audio files a recording's track is kept in: its WAV (unless its archives replaced it)
 * and its archives, in the order a client without a preference gets them (the WAV, then the
 * lossless FLAC, then the lossy ones).
 */
import { ARCHIVE_FORMATS, type AudioExtension } from '../archive/formats.js';
import type { RecordingFile } from './recordings.js';

export interface TrackAudio {
  readonly format: AudioExtension;
  readonly file: string;
  /** The file's size (a WAV's header included). */
  readonly bytes: number;
  readonly sha256?: string | undefined;
  readonly location?: string | undefined;
}

export function audioFilesOf(track: RecordingFile): TrackAudio[] {
  const files: TrackAudio[] = track.wavRemoved ? [] : [{ format: 'wav', file: track.file, bytes: track.fileBytes ?? track.bytes, sha256: track.sha256, location: track.location }];
  for (const format of ARCHIVE_FORMATS) {
    const archive = track.archives?.find((a) => a.format === format);
    if (archive) files.push({ format, file: archive.file, bytes: archive.bytes, sha256: archive.sha256, location: archive.location });
  }
  return files;
}
