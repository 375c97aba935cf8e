import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadAnswerError, normalizeAnswer } from './normalize.js';

const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(new URL(`../../test/fixtures/stt/${name}.json`, import.meta.url), 'utf8'));

/** The one segment every fixture holds, on a piece of 8,470 ms. */
const SEGMENT = { startMs: 500, endMs: 2780, text: "I'd like a refund of the card charge." };
const WORDS = [
  { text: "I'd", startMs: 500, endMs: 740 },
  { text: 'like', startMs: 740, endMs: 980 },
  { text: 'a', startMs: 980, endMs: 1060 },
  { text: 'refund', startMs: 1060, endMs: 1620 },
  { text: 'of', startMs: 1620, endMs: 1740 },
  { text: 'the', startMs: 1740, endMs: 1860 },
  { text: 'card', startMs: 1860, endMs: 2200 },
];

describe('normalizeAnswer: every dialect to one shape', () => {
  it('OpenAI: top-level words are given to the segment they fall in', () => {
    expect(normalizeAnswer(fixture('openai'), 8470)).toEqual([{ ...SEGMENT, words: [...WORDS, { text: 'charge', startMs: 2200, endMs: 2780 }] }]);
  });

  it("whisper.cpp: segment words are tokens; pieces of a word are joined, special tokens dropped", () => {
    expect(normalizeAnswer(fixture('whispercpp'), 8470)).toEqual([{ ...SEGMENT, words: [...WORDS, { text: 'charge.', startMs: 2200, endMs: 2780 }] }]);
  });

  it('vLLM: duration as a string is ignored; words at the top level', () => {
    expect(normalizeAnswer(fixture('vllm'), 8470)).toEqual([{ ...SEGMENT, words: [...WORDS, { text: 'charge', startMs: 2200, endMs: 2780 }] }]);
  });

  it('LocalAI: integer nanoseconds become milliseconds; no words', () => {
    expect(normalizeAnswer(fixture('localai'), 8470)).toEqual([{ ...SEGMENT, words: [] }]);
  });

  it('speaches: null words and words without times are left out, the segment kept', () => {
    expect(normalizeAnswer(fixture('speaches'), 8470)).toEqual([{ ...SEGMENT, words: [] }]);
  });

  it("times are clamped to the piece's own length, never the server's duration", () => {
    const answer = { duration: 999, text: 'x', segments: [{ start: 1.5, end: 12.0, text: 'too long' }] };
    expect(normalizeAnswer(answer, 3000)).toEqual([{ startMs: 1500, endMs: 3000, text: 'too long', words: [] }]);
  });

  it('text alone is one segment over the piece; empty segments are dropped', () => {
    expect(normalizeAnswer({ text: ' hello ' }, 2000)).toEqual([{ startMs: 0, endMs: 2000, text: 'hello', words: [] }]);
    expect(normalizeAnswer({ text: '', segments: [{ start: 0, end: 1, text: '  ' }] }, 2000)).toEqual([]);
  });

  it('refuses what is not a transcription', () => {
    for (const garbage of [null, [], 'text', 42, { segments: 'no' }, { error: { message: 'x' } }]) {
      expect(() => normalizeAnswer(garbage, 1000), JSON.stringify(garbage)).toThrow(BadAnswerError);
    }
  });
});
