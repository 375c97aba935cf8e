/**
 * Transcribing a recording's tracks against a real local OpenAI-compatible server in every
 * dialect (test/helpers/stt-server.ts): the same transcript from each, pieces and offsets
 * right to ±20 ms on a 25-minute track, paused spans never sent, and every fault a server
 * can produce turned into an error that says whether and when to try again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWavHeader } from '../../src/recording/wav-header.js';
import { ServiceError } from '../../src/openai/http.js';
import { trackLevels } from '../../src/transcribe/track-audio.js';
import { transcribeRecording, type TranscribeInput } from '../../src/transcribe/transcribe-recording.js';
import type { Transcript } from '../../src/transcribe/transcript.js';
import { freePort } from '../helpers/free-port.js';
import { STT_DIALECTS, startSttServer, type SttServer } from '../helpers/stt-server.js';
import { placeWords, TONE_WORDS, type PlacedWord } from '../helpers/tone-words.js';

const RATE = 8000;
let stt: SttServer;
let dir: string;

function writeTrack(file: string, durationMs: number, words: readonly PlacedWord[]): void {
  const samples = new Int16Array((durationMs * RATE) / 1000);
  // A faint line hiss, as a real line has, so silence is not digital zero.
  for (let i = 0; i < samples.length; i++) samples[i] = ((i * 7919) % 11) - 5;
  placeWords(samples, RATE, words);
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  fs.writeFileSync(file, Buffer.concat([buildWavHeader({ format: 'pcm16', channels: 1, sampleRate: RATE }, data.length), data]));
}

/** Words every `everyMs` from `fromMs` to `toMs`, each `lengthMs` long, cycling through the tone words. */
function wordsBetween(fromMs: number, toMs: number, everyMs = 600, lengthMs = 300, seed = 0): PlacedWord[] {
  const words: PlacedWord[] = [];
  for (let t = fromMs, i = seed; t + lengthMs <= toMs; t += everyMs, i++) words.push({ text: TONE_WORDS[i % TONE_WORDS.length]!, startMs: t, endMs: t + lengthMs });
  return words;
}

function input(overrides: Partial<TranscribeInput> = {}): TranscribeInput {
  return {
    dir,
    streamSid: 'MZtest',
    files: [
      { name: 'inbound', file: 'inbound.wav' },
      { name: 'outbound', file: 'outbound.wav' },
    ],
    pauses: [],
    speakers: { inbound: 'caller', outbound: 'agent' },
    server: { url: stt.url, model: 'whisper-1', apiKey: 'sk-test-key', language: 'en', timeoutMs: 10_000 },
    levels: trackLevels,
    limit: (task) => task(),
    ...overrides,
  };
}

beforeAll(async () => {
  stt = await startSttServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-stt-'));
});

afterAll(async () => {
  await stt.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('one transcript whatever the server', () => {
  const callerWords = [...wordsBetween(1000, 4000, 600, 300, 0), ...wordsBetween(9000, 11_000, 600, 300, 3)];
  const agentWords = wordsBetween(4500, 8000, 600, 300, 7);

  it('every dialect gives the same segments, speaker-labelled, on the call clock', async () => {
    writeTrack(path.join(dir, 'inbound.wav'), 12_000, callerWords);
    writeTrack(path.join(dir, 'outbound.wav'), 12_000, agentWords);
    const results: Array<{ dialect: string; transcript: Transcript }> = [];
    for (const dialect of STT_DIALECTS) {
      stt.dialect = dialect;
      stt.requests.length = 0;
      const transcript = await transcribeRecording(input());
      results.push({ dialect, transcript });
      // One request per piece, each a 16-bit PCM WAV with the settings the servers need.
      for (const request of stt.requests) {
        expect(request.model).toBe('whisper-1');
        expect(request.responseFormat).toBe('verbose_json');
        expect(request.granularities).toEqual(['segment', 'word']);
        expect(request.language).toBe('en');
        expect(request.authorization).toBe('Bearer sk-test-key');
      }
    }
    const shape = (t: (typeof results)[number]['transcript']) => t.segments.map(({ speaker, track, startMs, endMs, text }) => ({ speaker, track, startMs, endMs, text }));
    for (const { dialect, transcript } of results) expect(shape(transcript), dialect).toEqual(shape(results[0]!.transcript));
    const segments = results[0]!.transcript.segments;
    expect(segments.map((s) => s.speaker)).toEqual(['caller', 'agent', 'caller']);
    expect(segments.map((s) => s.text)).toEqual([callerWords.slice(0, 5), agentWords, callerWords.slice(5)].map((list) => list.map((w) => w.text).join(' ')));
    // Word times where the server gave them (OpenAI, whisper.cpp, vLLM): each within 20 ms of where it was put.
    for (const { dialect, transcript } of results) {
      const words = transcript.segments.flatMap((s) => s.words);
      if (dialect === 'localai' || dialect === 'speaches') {
        expect(words, dialect).toEqual([]);
        continue;
      }
      const placed = [...callerWords, ...agentWords].sort((a, b) => a.startMs - b.startMs);
      expect(words.map((w) => w.text), dialect).toEqual(placed.map((w) => w.text));
      words.forEach((w, i) => {
        expect(Math.abs(w.startMs - placed[i]!.startMs), `${dialect} ${w.text} start`).toBeLessThanOrEqual(20);
        expect(Math.abs(w.endMs - placed[i]!.endMs), `${dialect} ${w.text} end`).toBeLessThanOrEqual(20);
      });
    }
  });

  it('a 25-minute track: pieces of at most 10 minutes cut between words, silences of 2 s or more not sent, every word within 20 ms', async () => {
    stt.dialect = 'openai';
    stt.requests.length = 0;
    // Speech throughout the first 12 minutes, 10 s of silence, speech again to 25 minutes.
    const words = [...wordsBetween(0, 720_000), ...wordsBetween(730_000, 1_500_000, 600, 300, 5)];
    writeTrack(path.join(dir, 'long.wav'), 1_500_000, words);
    const transcript = await transcribeRecording(input({ files: [{ name: 'inbound', file: 'long.wav' }] }));
    const pieces = transcript.tracks[0]!.pieces;
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    for (const piece of pieces) expect(piece.endMs - piece.startMs).toBeLessThanOrEqual(600_000);
    // The silence between 12:00 and 12:10 is not sent (300 ms of padding either side).
    for (const piece of pieces) expect(piece.endMs <= 720_300 + 20 || piece.startMs >= 729_700 - 20, JSON.stringify(piece)).toBe(true);
    // What was sent is exactly the pieces: the server got those samples and no others.
    expect(stt.requests.map((r) => r.durationMs)).toEqual(pieces.map((p) => p.endMs - p.startMs));
    const heard = transcript.segments.flatMap((s) => s.words);
    expect(heard.length).toBe(words.length);
    heard.forEach((w, i) => {
      expect(w.text).toBe(words[i]!.text);
      expect(Math.abs(w.startMs - words[i]!.startMs), `word ${i} at ${words[i]!.startMs}`).toBeLessThanOrEqual(20);
      expect(Math.abs(w.endMs - words[i]!.endMs), `word ${i} at ${words[i]!.startMs}`).toBeLessThanOrEqual(20);
    });
  }, 120_000);

  it('a paused span is never sent, even when the file holds sound there', async () => {
    stt.requests.length = 0;
    const words = wordsBetween(0, 20_000);
    writeTrack(path.join(dir, 'paused.wav'), 20_000, words);
    const transcript = await transcribeRecording(
      input({ files: [{ name: 'inbound', file: 'paused.wav' }], pauses: [{ atMs: 6000, endMs: 12_000, behavior: 'silence' }] }),
    );
    for (const piece of transcript.tracks[0]!.pieces) expect(piece.endMs <= 6000 || piece.startMs >= 12_000, JSON.stringify(piece)).toBe(true);
    const sentMs = stt.requests.reduce((n, r) => n + r.durationMs, 0);
    expect(sentMs).toBeLessThanOrEqual(14_000);
    const heard = transcript.segments.flatMap((s) => s.words);
    expect(heard.some((w) => w.startMs < 12_000 && w.endMs > 6000)).toBe(false);
    expect(heard.length).toBe(words.filter((w) => w.endMs <= 6000 || w.startMs >= 12_000).length);
  });
});

describe('a server that fails', () => {
  const one = () => input({ files: [{ name: 'inbound', file: 'inbound.wav' }] });
  const failure = async (): Promise<ServiceError> => {
    try {
      await transcribeRecording(one());
    } catch (err) {
      if (err instanceof ServiceError) return err;
      throw err;
    }
    throw new Error('it did not fail');
  };

  it('429 with Retry-After: retryable, after the time asked', async () => {
    stt.dialect = 'openai';
    stt.faults.push({ kind: 'status', status: 429, retryAfter: '7' });
    const err = await failure();
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(7000);
    expect(err.message).toMatch(/answered 429: fault 429/);
  });

  it('500 and a dropped connection are retryable; 401 is not', async () => {
    stt.faults.push({ kind: 'status', status: 500 });
    expect((await failure()).retryable).toBe(true);
    stt.faults.push({ kind: 'hangup' });
    expect((await failure()).message).toMatch(/could not be reached/);
    stt.faults.push({ kind: 'status', status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided' } }) });
    const refused = await failure();
    expect(refused.retryable).toBe(false);
    expect(refused.message).toMatch(/401: Incorrect API key provided/);
  });

  it('malformed JSON and a 50 MB answer are refused (retryable), the big one without reading it all', async () => {
    stt.faults.push({ kind: 'malformed' });
    expect((await failure()).message).toMatch(/not JSON/);
    const before = process.memoryUsage().rss;
    stt.faults.push({ kind: 'huge' });
    const big = await failure();
    expect(big.retryable).toBe(true);
    expect(big.message).toMatch(/larger than the 16777216 bytes accepted/);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('a slow server: the timeout ends the request', async () => {
    stt.faults.push({ kind: 'slow', ms: 3000 });
    const started = Date.now();
    let err: unknown;
    try {
      await transcribeRecording(input({ files: [{ name: 'inbound', file: 'inbound.wav' }], server: { url: stt.url, model: 'm', timeoutMs: 500 } }));
    } catch (caught) {
      err = caught;
    }
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).message).toMatch(/did not answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('a server that is down', async () => {
    const port = await freePort();
    let err: unknown;
    try {
      await transcribeRecording(input({ files: [{ name: 'inbound', file: 'inbound.wav' }], server: { url: `http://127.0.0.1:${port}/v1`, model: 'm', timeoutMs: 2000 } }));
    } catch (caught) {
      err = caught;
    }
    expect((err as ServiceError).retryable).toBe(true);
    expect((err as ServiceError).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/v1/audio/transcriptions could not be reached \\(ECONNREFUSED\\)`));
  });
});
