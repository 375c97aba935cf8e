/**
 * Conversation metrics from each speaker's speech intervals, named as contact-centre buyers
 * know them (Amazon Connect Contact Lens: talk time, non-talk time, interruptions, talk
 * speed). One speaker per track makes them exact where a mixed channel would need guessing.
 * Pure functions of intervals; all times in ms on the files' clock.
 */
import type { Interval } from './speech.js';

export const SPEAKERS = ['caller', 'agent'] as const;
export type Speaker = (typeof SPEAKERS)[number];
export type PerSpeaker<T> = Record<Speaker, T>;

/** An interruption: speech starting while the other has spoken this long already… */
export const INTERRUPT_AFTER_MS = 500;
/** …and lasting at least this long (a "mm-hm" is not an interruption). */
export const INTERRUPT_MIN_MS = 300;
/** A monologue bridges its speaker's own pauses up to this long… */
export const MONOLOGUE_PAUSE_MS = 2000;
/** …and is ended by the other speaking this long (shorter is a backchannel: "right", "mm-hm"). */
export const MONOLOGUE_BREAK_MS = 1000;

export interface InterruptionMark extends Interval {
  /** Who cut in. */
  speaker: Speaker;
}

export interface ConversationMetrics {
  /** The files' length. */
  durationMs: number;
  /** What the metrics cover: the length less the paused spans that are silence in the files. */
  analyzedMs: number;
  talkMs: PerSpeaker<number>;
  /** Share of analyzedMs, one decimal. */
  talkPercent: PerSpeaker<number>;
  /** Non-talk time: neither speaking. */
  silenceMs: number;
  silencePercent: number;
  /** Both speaking. */
  overlapMs: number;
  /** By the speaker who cut in. */
  interruptions: PerSpeaker<number>;
  /** Time both spoke after each cut-in, by the speaker who cut in. */
  interruptionMs: PerSpeaker<number>;
  longestMonologueMs: PerSpeaker<number>;
  /** Own talk time over the other's; null when the other never spoke. */
  talkToListen: PerSpeaker<number | null>;
  speech: PerSpeaker<Interval[]>;
  overlaps: Interval[];
  interruptionMarks: InterruptionMark[];
}

const sum = (intervals: readonly Interval[]) => intervals.reduce((n, i) => n + (i.endMs - i.startMs), 0);
const round1 = (n: number) => Math.round(n * 10) / 10;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** `intervals` less every span of `cut` (both sorted, each without overlaps of its own). */
export function subtract(intervals: readonly Interval[], cut: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const interval of intervals) {
    let start = interval.startMs;
    for (const span of cut) {
      if (span.endMs <= start || span.startMs >= interval.endMs) continue;
      if (span.startMs > start) out.push({ startMs: start, endMs: span.startMs });
      start = Math.max(start, span.endMs);
    }
    if (start < interval.endMs) out.push({ startMs: start, endMs: interval.endMs });
  }
  return out;
}

/** Where both lists have an interval. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const startMs = Math.max(a[i]!.startMs, b[j]!.startMs);
    const endMs = Math.min(a[i]!.endMs, b[j]!.endMs);
    if (endMs > startMs) out.push({ startMs, endMs });
    if (a[i]!.endMs < b[j]!.endMs) i++;
    else j++;
  }
  return out;
}

/**
 * Cut-ins by `who`: each of its intervals that starts inside the other's speech,
 * INTERRUPT_AFTER_MS into it, lasting INTERRUPT_MIN_MS. Both lists are sorted and without
 * overlaps of their own, so one pass over each does (a 4-hour call has thousands).
 */
function interruptionsBy(who: Speaker, own: readonly Interval[], other: readonly Interval[]): InterruptionMark[] {
  const marks: InterruptionMark[] = [];
  let j = 0;
  for (const interval of own) {
    // The other's first interval not over by this start: the one holding the floor, if any.
    while (j < other.length && other[j]!.endMs <= interval.startMs) j++;
    const held = other[j];
    if (interval.endMs - interval.startMs < INTERRUPT_MIN_MS || !held) continue;
    if (held.startMs <= interval.startMs - INTERRUPT_AFTER_MS) marks.push({ speaker: who, startMs: interval.startMs, endMs: Math.min(interval.endMs, held.endMs) });
  }
  return marks;
}

/** The longest stretch `own` holds the floor: its pauses up to MONOLOGUE_PAUSE_MS bridged, ended by the other's speech of MONOLOGUE_BREAK_MS. */
function longestMonologue(own: readonly Interval[], other: readonly Interval[]): number {
  const breaks = other.filter((o) => o.endMs - o.startMs >= MONOLOGUE_BREAK_MS);
  let longest = 0;
  let run: Interval | undefined;
  let k = 0;
  for (const interval of own) {
    let broken = false;
    if (run) {
      // The other's first long turn still going after the run's end: it breaks the run if it began before this interval.
      while (k < breaks.length && breaks[k]!.endMs <= run.endMs) k++;
      broken = interval.startMs - run.endMs > MONOLOGUE_PAUSE_MS || (k < breaks.length && breaks[k]!.startMs < interval.startMs);
    }
    if (!run || broken) run = { ...interval };
    else run.endMs = interval.endMs;
    longest = Math.max(longest, run.endMs - run.startMs);
  }
  return longest;
}

/**
 * The metrics of a conversation. `excluded`: paused spans that are silence in the files,
 * left out of every figure (a skipped span is not in the files at all).
 */
export function conversationMetrics(speechIn: PerSpeaker<readonly Interval[]>, durationMs: number, excluded: readonly Interval[]): ConversationMetrics {
  const cut = [...excluded].sort((a, b) => a.startMs - b.startMs);
  const speech: PerSpeaker<Interval[]> = { caller: subtract(speechIn.caller, cut), agent: subtract(speechIn.agent, cut) };
  const analyzedMs = Math.max(0, durationMs - sum(intersect([{ startMs: 0, endMs: durationMs }], cut)));
  const talkMs = { caller: sum(speech.caller), agent: sum(speech.agent) };
  const overlaps = intersect(speech.caller, speech.agent);
  const overlapMs = sum(overlaps);
  const silenceMs = Math.max(0, analyzedMs - (talkMs.caller + talkMs.agent - overlapMs));
  const interruptionMarks = [...interruptionsBy('caller', speech.caller, speech.agent), ...interruptionsBy('agent', speech.agent, speech.caller)].sort((a, b) => a.startMs - b.startMs);
  const percent = (ms: number) => (analyzedMs > 0 ? round1((ms / analyzedMs) * 100) : 0);
  const marksOf = (who: Speaker) => interruptionMarks.filter((m) => m.speaker === who);
  return {
    durationMs,
    analyzedMs,
    talkMs,
    talkPercent: { caller: percent(talkMs.caller), agent: percent(talkMs.agent) },
    silenceMs,
    silencePercent: percent(silenceMs),
    overlapMs,
    interruptions: { caller: marksOf('caller').length, agent: marksOf('agent').length },
    interruptionMs: { caller: sum(marksOf('caller')), agent: sum(marksOf('agent')) },
    longestMonologueMs: { caller: longestMonologue(speech.caller, speech.agent), agent: longestMonologue(speech.agent, speech.caller) },
    talkToListen: { caller: ratio(talkMs.caller, talkMs.agent), agent: ratio(talkMs.agent, talkMs.caller) },
    speech,
    overlaps,
    interruptionMarks,
  };
}

/** Words per minute of talk, per speaker, from the transcript's word counts. */
export function wordsPerMinute(words: PerSpeaker<number>, talkMs: PerSpeaker<number>): PerSpeaker<number | null> {
  const wpm = (n: number, ms: number) => (ms > 0 ? Math.round((n / ms) * 60000) : null);
  return { caller: wpm(words.caller, talkMs.caller), agent: wpm(words.agent, talkMs.agent) };
}
