/**
 * A recording's transcript (transcript.json beside its files) and the formats the API
 * renders it in. One speaker per track, so every segment is already labelled: `caller` for
 * the inbound track, `agent` for the outbound one (configurable), on the call's own clock.
 */
import type { Span } from './pieces.js';
import type { Word } from './normalize.js';

export const TRANSCRIPT_FILE = 'transcript.json';

export type TrackName = 'inbound' | 'outbound';

export interface TranscriptSegment {
  readonly speaker: string;
  readonly track: TrackName;
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  readonly words: readonly Word[];
}

export interface TranscriptTrack {
  readonly track: TrackName;
  readonly speaker: string;
  readonly durationMs: number;
  /** The spans sent to the server (the rest was silence, or paused). */
  readonly pieces: readonly Span[];
}

export interface Transcript {
  readonly version: 1;
  readonly streamSid: string;
  readonly engine: 'openai-compatible';
  readonly model: string;
  /** The server's host (never its credentials or path). */
  readonly server: string;
  readonly language: string | null;
  readonly createdAt: string;
  readonly tracks: readonly TranscriptTrack[];
  readonly segments: readonly TranscriptSegment[];
}

export const TRANSCRIPT_FORMATS = ['json', 'vtt', 'srt', 'txt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

export const TRANSCRIPT_CONTENT_TYPES: Record<TranscriptFormat, string> = {
  json: 'application/json; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/** Both tracks' segments in one list, by time (the caller first when they start together). */
export function mergeSegments(perTrack: ReadonlyArray<readonly TranscriptSegment[]>): TranscriptSegment[] {
  return perTrack.flat().sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || (a.track < b.track ? -1 : a.track > b.track ? 1 : 0));
}

function clock(ms: number, separator: '.' | ','): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/** WebVTT cue text: &, < and > escaped (a transcript is untrusted text). */
function vttText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderTranscript(transcript: Transcript, format: Exclude<TranscriptFormat, 'json'>): string {
  const segments = transcript.segments;
  switch (format) {
    case 'vtt':
      return `WEBVTT\n\n${segments.map((s) => `${clock(s.startMs, '.')} --> ${clock(Math.max(s.endMs, s.startMs + 1), '.')}\n<v ${s.speaker}>${vttText(s.text)}</v>\n`).join('\n')}`;
    case 'srt':
      return segments.map((s, i) => `${i + 1}\n${clock(s.startMs, ',')} --> ${clock(Math.max(s.endMs, s.startMs + 1), ',')}\n${s.speaker}: ${s.text}\n`).join('\n');
    case 'txt': {
      // A readable dialogue: consecutive segments of one speaker share a line.
      const lines: string[] = [];
      let last: string | undefined;
      for (const s of segments) {
        if (s.speaker === last) lines[lines.length - 1] += ` ${s.text}`;
        else lines.push(`[${clock(s.startMs, '.').slice(0, 8)}] ${s.speaker}: ${s.text}`);
        last = s.speaker;
      }
      return lines.length > 0 ? `${lines.join('\n')}\n` : '';
    }
  }
}
