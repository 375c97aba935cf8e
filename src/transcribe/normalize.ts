/**
 * One shape from the many answers OpenAI-compatible speech-to-text servers give to
 * `response_format=verbose_json`. They disagree (fixtures in test/fixtures/stt, each citing
 * its source):
 *   - OpenAI: `words` at the top level, segments without words;
 *   - whisper.cpp's server: `segments[].words`, one entry per token (sub-word pieces follow a
 *     word without a leading space);
 *   - vLLM: `duration` a string;
 *   - LocalAI: segment times in integer nanoseconds (Go's time.Duration), no words;
 *   - speaches (faster-whisper-server): `words` null unless asked for, word times possibly null.
 * Times are checked against the piece's own length (from our file), never the server's
 * `duration`, and clamped into it.
 */

export interface Word {
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface PieceSegment {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  readonly words: Word[];
}

/** An answer that is not a transcription (a proxy's error page, a truncated body, another API). */
export class BadAnswerError extends Error {}

interface RawWord {
  text: string;
  start: number | undefined;
  end: number | undefined;
  /** Starts a new word (whisper.cpp's tokens: a leading space, or the segment's first). */
  joins: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function number(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function rawWords(list: unknown, tokens: boolean): RawWord[] {
  if (!Array.isArray(list)) return [];
  const out: RawWord[] = [];
  for (const item of list) {
    if (!isObject(item)) continue;
    const text = typeof item.word === 'string' ? item.word : typeof item.text === 'string' ? item.text : undefined;
    if (text === undefined) continue;
    // whisper.cpp lists special tokens ([_BEG_], [_TT_50]…) among the words.
    if (/^\s*\[_[A-Z0-9_]+\]\s*$/.test(text)) continue;
    out.push({ text, start: number(item.start), end: number(item.end), joins: tokens && out.length > 0 && !/^\s/.test(text) });
  }
  return out;
}

/**
 * The unit the server's times are in, judged against the piece's length: seconds (the API),
 * or integer nanoseconds (LocalAI), or milliseconds.
 */
function timeScale(values: number[], pieceMs: number): number {
  const largest = Math.max(0, ...values);
  const pieceS = Math.max(1, pieceMs / 1000);
  if (largest <= pieceS * 10) return 1000;
  if (largest > pieceS * 1e6 && values.every(Number.isInteger)) return 1e-6;
  return 1;
}

/** A piece's segments, relative to the piece, from a server's verbose_json answer. */
export function normalizeAnswer(answer: unknown, pieceMs: number): PieceSegment[] {
  if (!isObject(answer)) throw new BadAnswerError('the answer is not a JSON object');
  const segmentsIn = answer.segments;
  if (segmentsIn !== undefined && segmentsIn !== null && !Array.isArray(segmentsIn)) throw new BadAnswerError('segments is not a list');
  const text = typeof answer.text === 'string' ? answer.text : undefined;
  if (!Array.isArray(segmentsIn) && text === undefined) throw new BadAnswerError('the answer has neither text nor segments');
  const topWords = rawWords(answer.words, false);
  const raw = (Array.isArray(segmentsIn) ? segmentsIn : []).filter(isObject).map((segment) => ({
    text: typeof segment.text === 'string' ? segment.text : '',
    start: number(segment.start),
    end: number(segment.end),
    words: rawWords(segment.words, true),
  }));
  const times: number[] = [];
  for (const s of raw) {
    if (s.start !== undefined) times.push(s.start);
    if (s.end !== undefined) times.push(s.end);
    for (const w of s.words) if (w.end !== undefined) times.push(w.end);
  }
  for (const w of topWords) if (w.end !== undefined) times.push(w.end);
  const scale = timeScale(times, pieceMs);
  const ms = (value: number | undefined, fallback: number) => Math.max(0, Math.min(pieceMs, Math.round((value ?? fallback / scale) * scale)));

  if (raw.length === 0) {
    // Only text (some servers ignore verbose_json): one segment over the piece.
    const only = (text ?? '').trim();
    return only ? [{ startMs: 0, endMs: pieceMs, text: only, words: words(topWords, ms) }] : [];
  }
  const segments: PieceSegment[] = [];
  for (const s of raw) {
    const segmentText = s.text.trim();
    if (!segmentText) continue;
    const startMs = ms(s.start, 0);
    const endMs = Math.max(startMs, ms(s.end, pieceMs));
    // Top-level words (OpenAI) belong to the segment their start falls in.
    const own = s.words.length > 0 ? s.words : topWords.filter((w) => w.start !== undefined && ms(w.start, 0) >= startMs && ms(w.start, 0) < Math.max(endMs, startMs + 1));
    segments.push({ startMs, endMs, text: segmentText, words: words(own, ms) });
  }
  return segments.sort((a, b) => a.startMs - b.startMs);
}

/** Words with times (sub-word tokens joined to their word); words the server gave no times for are left out. */
function words(list: RawWord[], ms: (value: number | undefined, fallback: number) => number): Word[] {
  const out: Array<{ text: string; startMs: number; endMs: number }> = [];
  let lastKept = false;
  for (const w of list) {
    const previous = out[out.length - 1];
    if (w.joins) {
      // A piece of the word before: joined to it, or left out with it.
      if (lastKept && previous) {
        previous.text += w.text;
        if (w.end !== undefined) previous.endMs = Math.max(previous.endMs, ms(w.end, 0));
      }
      continue;
    }
    lastKept = w.start !== undefined && w.end !== undefined;
    if (w.start === undefined || w.end === undefined) continue;
    const startMs = ms(w.start, 0);
    out.push({ text: w.text, startMs, endMs: Math.max(startMs, ms(w.end, 0)) });
  }
  return out.map((w) => ({ ...w, text: w.text.trim() })).filter((w) => w.text !== '');
}
