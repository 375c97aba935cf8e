/**
 * Conversation analytics on real speech: voice activity from WebRTC's detector on a noisy
 * line with echo, against an energy detector on the clean tracks; and the metrics' rules
 * (interruptions, monologues, paused spans) on intervals built by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRecording, type Analytics } from '../../src/analytics/analyze-recording.js';
import { conversationMetrics, intersect, subtract } from '../../src/analytics/metrics.js';
import { DEFAULT_SPEECH_OPTIONS, ownVoiceFrames, smoothIntervals } from '../../src/analytics/speech.js';
import { detectVoice } from '../../src/analytics/vad.js';
import { buildConversation, CONVERSATION, energySpeech, pcmWav, totalMs, ulaw } from '../helpers/speech-call.js';
import { buildWavHeader } from '../../src/recording/wav-header.js';

let dir: string;
const conversation = buildConversation();
const oracle = { caller: energySpeech(conversation.clean.caller), agent: energySpeech(conversation.clean.agent) };
const expected = conversationMetrics(oracle, CONVERSATION.durationMs, []);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-analytics-'));
  fs.writeFileSync(path.join(dir, 'inbound.wav'), pcmWav(conversation.line.caller));
  fs.writeFileSync(path.join(dir, 'outbound.wav'), pcmWav(conversation.line.agent));
  // The same line as calltape stores Twilio's audio: mu-law.
  fs.writeFileSync(path.join(dir, 'inbound.ulaw.wav'), Buffer.concat([buildWavHeader({ format: 'mulaw', channels: 1, sampleRate: 8000 }, conversation.line.caller.length), ulaw(conversation.line.caller)]));
  fs.writeFileSync(path.join(dir, 'outbound.ulaw.wav'), Buffer.concat([buildWavHeader({ format: 'mulaw', channels: 1, sampleRate: 8000 }, conversation.line.agent.length), ulaw(conversation.line.agent)]));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const analyze = (inbound = 'inbound.wav', outbound = 'outbound.wav', pauses: Analytics extends never ? never : Parameters<typeof analyzeRecording>[0]['pauses'] = []) =>
  analyzeRecording({ streamSid: 'MZtest', sources: { inbound: { file: path.join(dir, inbound), channel: 0 }, outbound: { file: path.join(dir, outbound), channel: 0 } }, pauses, words: null });

describe('the oracle', () => {
  it('sees the script: the caller twice, the agent cutting in once, with overlap and a long silence', () => {
    expect(oracle.caller).toHaveLength(2);
    expect(oracle.agent).toHaveLength(1);
    expect(expected.interruptions).toEqual({ caller: 0, agent: 1 });
    expect(expected.overlapMs).toBeGreaterThan(1500);
    expect(expected.silenceMs).toBeGreaterThan(5000);
  });
});

describe('voice activity on a noisy line with echo', () => {
  for (const [name, inbound, outbound] of [
    ['16-bit PCM', 'inbound.wav', 'outbound.wav'],
    ['mu-law', 'inbound.ulaw.wav', 'outbound.ulaw.wav'],
  ] as const) {
    it(`matches the clean tracks' speech (${name}): talk time within 2%, overlap within 100 ms, interruptions exact`, async () => {
      const got = await analyze(inbound, outbound);
      expect(Math.abs(got.talkMs.caller - expected.talkMs.caller)).toBeLessThanOrEqual(expected.talkMs.caller * 0.02);
      expect(Math.abs(got.talkMs.agent - expected.talkMs.agent)).toBeLessThanOrEqual(expected.talkMs.agent * 0.02);
      expect(Math.abs(got.overlapMs - expected.overlapMs)).toBeLessThanOrEqual(100);
      expect(got.interruptions).toEqual({ caller: 0, agent: 1 });
      expect(got.interruptionMarks).toHaveLength(1);
      expect(Math.abs(got.interruptionMarks[0]!.startMs - 5000)).toBeLessThanOrEqual(120);
      expect(Math.abs(got.silenceMs - expected.silenceMs)).toBeLessThanOrEqual(expected.silenceMs * 0.03);
      expect(got.durationMs).toBe(CONVERSATION.durationMs);
      expect(got.talkPercent.caller).toBeCloseTo((got.talkMs.caller / got.analyzedMs) * 100, 1);
    });
  }

  it("does not count the agent's echo in the caller's track as the caller's speech", async () => {
    const got = await analyze();
    // 7.5–11 s: only the agent speaks; the caller's track carries its echo at -25 dB.
    expect(intersect(got.speech.caller, [{ startMs: 7600, endMs: 10_800 }])).toEqual([]);
    // Without the echo guard, the detector alone takes that echo for speech.
    const caller = await detectVoice({ file: path.join(dir, 'inbound.wav'), channel: 0 }, 3);
    const unguarded = smoothIntervals(ownVoiceFrames(caller, undefined, DEFAULT_SPEECH_OPTIONS), 20, DEFAULT_SPEECH_OPTIONS);
    expect(totalMs(intersect(unguarded, [{ startMs: 7600, endMs: 10_800 }]))).toBeGreaterThan(500);
  });

  it('leaves paused spans out of every figure and reports them', async () => {
    // A pause (silence in the files) over the first half of the caller's second turn.
    const got = await analyze('inbound.wav', 'outbound.wav', [{ atMs: 16_000, endMs: 19_000, behavior: 'silence' }]);
    const full = await analyze();
    expect(got.paused).toEqual({ count: 1, ms: 3000 });
    expect(got.analyzedMs).toBe(CONVERSATION.durationMs - 3000);
    expect(intersect(got.speech.caller, [{ startMs: 16_000, endMs: 19_000 }])).toEqual([]);
    expect(full.talkMs.caller - got.talkMs.caller).toBeGreaterThan(2500);
  });

  it('analyses one track alone (a one-way stream)', async () => {
    const got = await analyzeRecording({ streamSid: 'MZone', sources: { inbound: { file: path.join(dir, 'inbound.wav'), channel: 0 } }, pauses: [], words: null });
    expect(got.tracks).toEqual({ caller: 'inbound', agent: null });
    expect(got.talkMs.agent).toBe(0);
    expect(got.talkToListen).toEqual({ caller: null, agent: 0 });
  });
});

describe('the metrics', () => {
  const iv = (startMs: number, endMs: number) => ({ startMs, endMs });

  it('counts an interruption only after the other spoke 500 ms, and only if it lasts 300 ms', () => {
    const agent = [iv(0, 3000)];
    const cases: Array<[number, number, number]> = [
      [400, 1400, 0], // the agent had spoken 400 ms: a turn taken together, not a cut-in
      [500, 1500, 1], // 500 ms in: a cut-in
      [1000, 1299, 0], // 299 ms: a backchannel
      [1000, 1300, 1],
      [3000, 4000, 0], // after the agent stopped: a turn
    ];
    for (const [start, end, count] of cases) {
      const m = conversationMetrics({ caller: [iv(start, end)], agent }, 5000, []);
      expect([start, end, m.interruptions.caller]).toEqual([start, end, count]);
      expect(m.interruptions.agent).toBe(0);
    }
    const m = conversationMetrics({ caller: [iv(1000, 4000)], agent }, 5000, []);
    // Time both spoke after the cut-in: until the agent stopped.
    expect(m.interruptionMs).toEqual({ caller: 2000, agent: 0 });
    expect(m.overlapMs).toBe(2000);
  });

  it('adds up: talk, overlap and silence cover the call; ratios and percentages follow', () => {
    const m = conversationMetrics({ caller: [iv(0, 4000)], agent: [iv(3000, 5000)] }, 10_000, []);
    expect(m.talkMs).toEqual({ caller: 4000, agent: 2000 });
    expect(m.overlapMs).toBe(1000);
    expect(m.silenceMs).toBe(5000);
    expect(m.talkPercent).toEqual({ caller: 40, agent: 20 });
    expect(m.silencePercent).toBe(50);
    expect(m.talkToListen).toEqual({ caller: 2, agent: 0.5 });
  });

  it("finds the longest monologue: the speaker's short pauses bridged, a backchannel not a break, a real turn a break", () => {
    const caller = [iv(0, 5000), iv(6000, 9000), iv(20_000, 21_000)];
    expect(conversationMetrics({ caller, agent: [iv(7000, 7400)] }, 30_000, []).longestMonologueMs.caller).toBe(9000);
    expect(conversationMetrics({ caller, agent: [iv(5200, 5900)] }, 30_000, []).longestMonologueMs.caller).toBe(9000);
    expect(conversationMetrics({ caller, agent: [iv(5000, 6000)] }, 30_000, []).longestMonologueMs.caller).toBe(5000);
    // A pause longer than 2 s ends it.
    expect(conversationMetrics({ caller: [iv(0, 2000), iv(4500, 6000)], agent: [] }, 30_000, []).longestMonologueMs.caller).toBe(2000);
  });

  it('counts cut-ins as the definition says on a thousand random conversations (the one-pass scan against a brute force)', () => {
    let seed = 99;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const track = () => {
      const out: Array<{ startMs: number; endMs: number }> = [];
      for (let at = rnd(2000); at < 60_000; at += rnd(3000) + 100) {
        const end = at + rnd(4000) + 50;
        out.push(iv(at, end));
        at = end;
      }
      return out;
    };
    for (let n = 0; n < 1000; n++) {
      const caller = track();
      const agent = track();
      const m = conversationMetrics({ caller, agent }, 70_000, []);
      const brute = (own: typeof caller, other: typeof caller) =>
        own.filter((o) => o.endMs - o.startMs >= 300 && other.some((h) => h.startMs <= o.startMs - 500 && h.endMs > o.startMs)).length;
      expect(m.interruptions).toEqual({ caller: brute(caller, agent), agent: brute(agent, caller) });
    }
  });

  it('subtracts and intersects interval lists', () => {
    expect(subtract([iv(0, 10)], [iv(2, 3), iv(5, 7)])).toEqual([iv(0, 2), iv(3, 5), iv(7, 10)]);
    expect(subtract([iv(0, 10)], [iv(0, 10)])).toEqual([]);
    expect(intersect([iv(0, 5), iv(8, 12)], [iv(4, 9)])).toEqual([iv(4, 5), iv(8, 9)]);
  });
});
