// Which of a track's files the page plays and offers: every format it is kept in (WAV,
// FLAC, Ogg Opus, MP3), with sizes; the player takes the smallest this browser can play, so
// an hour-long call starts from a few MB of Opus rather than 115 MB of WAV.
import { html } from 'htm/preact';
import type { TrackFile } from './api.js';
import { bytes } from './format.js';

type AudioFile = TrackFile['files'][number];

/** What the server sends each format as (src/archive/formats.ts), for canPlayType. */
const CONTENT_TYPES: Record<AudioFile['format'], string> = { wav: 'audio/wav', flac: 'audio/flac', opus: 'audio/ogg; codecs=opus', mp3: 'audio/mpeg' };
const LABELS: Record<AudioFile['format'], string> = { wav: 'WAV', flac: 'FLAC', opus: 'Opus', mp3: 'MP3' };

const browserPlays = (type: string) => document.createElement('audio').canPlayType(type) !== '';

/** The smallest of the track's files the browser plays (undefined: none of them). */
export function smallestPlayable(track: TrackFile, plays: (type: string) => boolean = browserPlays): AudioFile | undefined {
  return [...track.files].sort((a, b) => a.bytes - b.bytes).find((file) => plays(CONTENT_TYPES[file.format]));
}

/** One row per track: a download for each format, with its size (and its SHA-256 on hover). */
export function TrackDownloads({ track, callSid }: { track: TrackFile; callSid: string }) {
  return html`<li class="track-files">
    <span class="track-name">${track.name}</span>
    ${track.files.map(
      (file) =>
        html`<a class="button secondary" href=${file.url} download=${`${callSid}-${track.name}.${file.format}`} title=${file.sha256 ? `SHA-256 ${file.sha256}` : undefined} aria-label=${`Download ${track.name}.${file.format}, ${bytes(file.bytes)}`}
          >${LABELS[file.format]} <span class="size">${bytes(file.bytes)}</span></a
        >`,
    )}
  </li>`;
}
