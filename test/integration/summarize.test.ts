/**
 * Summaries against a real local chat server (test/helpers/chat-server.ts): long transcripts
 * stay within the request budget and the request bound whatever the model answers, and the
 * answer check reads what real models send around their JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUMMARY_MAX_REQUESTS } from '../../src/limits.js';
import { summarizeTranscript } from '../../src/summarize/summarize-transcript.js';
import { parseSummary } from '../../src/summarize/summary.js';
import type { Transcript } from '../../src/transcribe/transcript.js';
import { startChatServer, type ChatServer } from '../helpers/chat-server.js';

let chat: ChatServer;
beforeAll(async () => {
  chat = await startChatServer('openai');
});
afterAll(() => chat.close());

function transcript(segments: number): Transcript {
  return {
    version: 1,
    streamSid: 'MZlong',
    engine: 'openai-compatible',
    model: 'whisper-1',
    server: 'stt',
    language: 'en',
    createdAt: new Date(0).toISOString(),
    tracks: [],
    segments: Array.from({ length: segments }, (_, i) => ({
      speaker: i % 2 ? 'agent' : 'caller',
      track: i % 2 ? ('outbound' as const) : ('inbound' as const),
      startMs: i * 4000,
      endMs: i * 4000 + 3000,
      text: `utterance ${i} about the refund of the card charge and the order that did not arrive`,
      words: [],
    })),
  };
}

describe('a transcript longer than the budget', () => {
  it('is summarised in parts within the budget and the request bound, even when part summaries do not shrink', async () => {
    const budget = 256;
    for (const segments of [40, 600]) {
      chat.requests.length = 0;
      const summary = await summarizeTranscript({ transcript: transcript(segments), server: { url: chat.url, model: 'm', timeoutMs: 5000 }, maxInputTokens: budget });
      expect(summary.state).toBe('ok');
      expect(chat.requests.length).toBeLessThanOrEqual(SUMMARY_MAX_REQUESTS);
      expect(summary.requests).toBe(chat.requests.length);
      for (const r of chat.requests) expect(r.user.length).toBeLessThanOrEqual(budget * 4 + 300);
      // The last request combines. This model's part summaries are as long as the parts, so
      // they never fit one request: cut to their shares, and the summary says it saw less.
      expect(chat.requests.at(-1)!.user).toMatch(/^Summaries of the consecutive parts of one call/);
      expect(summary.truncated).toBe(true);
    }
  });
});

describe('the answer check', () => {
  const fields = { summary: 's', reason: 'r', outcome: 'o', actionItems: ['a'], sentiment: { caller: 'neutral', agent: 'mixed' } };
  it('reads the JSON past a reasoning block and inside a code fence', () => {
    expect(parseSummary(`<think>\nhmm\n</think>\n${JSON.stringify(fields)}`)).toEqual({ fields });
    expect(parseSummary(`\`\`\`json\n${JSON.stringify(fields)}\n\`\`\``)).toEqual({ fields });
  });
  it('says what is wrong with an answer off the schema', () => {
    expect(parseSummary('Sure, here it is')).toEqual({ problem: 'the answer is not JSON' });
    expect(parseSummary('[1]')).toEqual({ problem: 'the answer is not a JSON object' });
    expect(parseSummary(JSON.stringify({ ...fields, actionItems: 'call back' }))).toEqual({ problem: 'actionItems is not a list of strings' });
    expect(parseSummary(JSON.stringify({ ...fields, sentiment: { caller: 'happy', agent: 'neutral' } }))).toEqual({ problem: 'sentiment.caller is not one of positive, neutral, negative, mixed' });
    expect(parseSummary(JSON.stringify({ ...fields, score: 5 }))).toEqual({ problem: '"score" is not a field of the schema' });
  });
});
