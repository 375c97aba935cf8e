/**
 * A finished recording's conversation analytics (analytics.json beside its files): voice
 * activity per track (vad.ts), the echo guard and smoothing (speech.ts), the metrics
 * (metrics.ts), and talk speed where a transcript exists. Runs in a pipeline worker thread
 * (step `analytics`) and in `calltape analyze <dir>`.
 */
import type { PauseMeta } from '../recording/meta.js';
import { pausedSpans } from '../transcribe/transcribe-recording.js';
import type { TrackSource } from '../transcribe/track-audio.js';
import type { Transcript, TrackName } from '../transcribe/transcript.js';
import { conversationMetrics, wordsPerMinute, type ConversationMetrics, type PerSpeaker, type Speaker } from './metrics.js';
import { DEFAULT_SPEECH_OPTIONS, ownVoiceFrames, smoothIntervals, type SpeechOptions } from './speech.js';
import { detectVoice, type VoiceFrames } from './vad.js';

export const ANALYTICS_FILE = 'analytics.json';

/** Caller is the inbound track, agent the outbound one (as Twilio names them). */
export const SPEAKER_TRACKS: Record<Speaker, TrackName> = { caller: 'inbound', agent: 'outbound' };

/** libfvad's most aggressive mode: the fewest frames of line noise taken for voice. */
export const DEFAULT_VAD_MODE = 3;

export interface Analytics extends ConversationMetrics {
  readonly version: 1;
  readonly streamSid: string;
  /** The track each speaker's figures come from; null when the recording has no such track. */
  readonly tracks: PerSpeaker<TrackName | null>;
  /** Paused spans (card numbers read out…): left out of every figure, and how long they were. */
  readonly paused: { count: number; ms: number };
  /** Words per minute of talk; null without a transcript (or without talk). */
  readonly wordsPerMinute: PerSpeaker<number | null> | null;
  readonly detector: { engine: 'webrtc-vad'; mode: number } & SpeechOptions;
  readonly createdAt: string;
}

export interface AnalyzeInput {
  readonly streamSid: string;
  readonly sources: Partial<Record<TrackName, TrackSource>>;
  readonly pauses: ReadonlyArray<Pick<PauseMeta, 'atMs' | 'endMs' | 'behavior'>>;
  /** Word counts per speaker from the transcript, when there is one. */
  readonly words: PerSpeaker<number> | null;
  readonly mode?: number;
  readonly speech?: Partial<SpeechOptions>;
}

/** Words said per speaker in a transcript (its word timings, else its text's words). */
export function transcriptWordCounts(transcript: Transcript): PerSpeaker<number> {
  const counts = { caller: 0, agent: 0 };
  for (const segment of transcript.segments) {
    const n = segment.words.length > 0 ? segment.words.length : segment.text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    if (segment.track === 'inbound') counts.caller += n;
    else counts.agent += n;
  }
  return counts;
}

export async function analyzeRecording(input: AnalyzeInput): Promise<Analytics> {
  const mode = input.mode ?? DEFAULT_VAD_MODE;
  const opts: SpeechOptions = { ...DEFAULT_SPEECH_OPTIONS, ...input.speech };
  const frames: Partial<Record<Speaker, VoiceFrames>> = {};
  for (const speaker of ['caller', 'agent'] as const) {
    const source = input.sources[SPEAKER_TRACKS[speaker]];
    if (source) frames[speaker] = await detectVoice(source, mode);
  }
  const intervals = (who: Speaker, other: Speaker) => {
    const own = frames[who];
    return own ? smoothIntervals(ownVoiceFrames(own, frames[other], opts), own.frameMs, opts) : [];
  };
  const durationMs = Math.max(frames.caller?.durationMs ?? 0, frames.agent?.durationMs ?? 0);
  const skipped = input.pauses.filter((p) => p.behavior === 'skip');
  const metrics = conversationMetrics({ caller: intervals('caller', 'agent'), agent: intervals('agent', 'caller') }, durationMs, pausedSpans(input.pauses));
  return {
    version: 1,
    streamSid: input.streamSid,
    ...metrics,
    tracks: { caller: frames.caller ? 'inbound' : null, agent: frames.agent ? 'outbound' : null },
    paused: { count: input.pauses.length, ms: metrics.durationMs - metrics.analyzedMs + skipped.reduce((n, p) => n + Math.max(0, p.endMs - p.atMs), 0) },
    wordsPerMinute: input.words ? wordsPerMinute(input.words, metrics.talkMs) : null,
    detector: { engine: 'webrtc-vad', mode, ...opts },
    createdAt: new Date().toISOString(),
  };
}

/** The figures of an analysis without its intervals: what a recording's JSON and webhooks carry. */
export type AnalyticsFigures = Omit<Analytics, 'speech' | 'overlaps' | 'interruptionMarks' | 'detector' | 'streamSid' | 'version'>;

export function analyticsFigures(analytics: Analytics): AnalyticsFigures {
  const { speech: _speech, overlaps: _overlaps, interruptionMarks: _marks, detector: _detector, streamSid: _sid, version: _version, ...figures } = analytics;
  return figures;
}
