/**
 * Analytics and summaries end to end: a call of real speech on a noisy, echoing line streamed
 * to a real calltape over a real socket, analysed; a tone-word call transcribed by a local
 * speech-to-text server and summarised by a local OpenAI-compatible chat server (Ollama's
 * dialect, then llama.cpp's with a reasoning block), served, filtered, searched, announced;
 * a chat server that fails, stalls or answers off-schema retried or reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analytics } from '../../src/analytics/analyze-recording.js';
import { conversationMetrics } from '../../src/analytics/metrics.js';
import { verifyWebhook } from '../../src/webhooks/sign.js';
import { startChatServer, type ChatServer } from '../helpers/chat-server.js';
import { spawnCalltape, runCalltape } from '../helpers/process.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildConversation, CONVERSATION, energySpeech, ulaw } from '../helpers/speech-call.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { REFUND_CALL, streamToneCall } from '../helpers/tone-call.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const SECRET = 'whsec-insights';
const cli = runCalltape;
let stt: SttServer;
let chat: ChatServer;
let hooks: Receiver;
let server: TestServer;

async function api<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${url}`, init);
  return { status: response.status, body: (await response.json()) as T };
}

const conversation = buildConversation();
const oracle = conversationMetrics({ caller: energySpeech(conversation.clean.caller), agent: energySpeech(conversation.clean.agent) }, CONVERSATION.durationMs, []);

async function streamConversation(target: TestServer): Promise<string> {
  const call = newTwilioCall();
  const frames = interleave(mediaFrames('inbound', ulaw(conversation.line.caller)), mediaFrames('outbound', ulaw(conversation.line.agent)));
  await streamSession(target.wsUrl(), new TwilioFrameWriter(call).session(frames, { customParameters: { campaign: 'analytics' } }));
  return target.finishedId(call.streamSid);
}

beforeAll(async () => {
  stt = await startSttServer('openai');
  chat = await startChatServer('ollama');
  hooks = await startReceiver();
  server = await startTestServer({
    transcribeUrl: stt.url,
    summaryUrl: chat.url,
    summaryModel: 'llama3.2',
    summaryApiKey: 'sk-summary-secret',
    webhookUrl: hooks.url,
    webhookSecret: SECRET,
    pipelineRetryBaseMs: 100,
    // The calls are sent faster than real time.
    realtimeAllowanceMs: 120_000,
  });
});

afterAll(async () => {
  await server.stop();
  await stt.close();
  await chat.close();
  await hooks.close();
});

describe('analytics of a call over a real socket', () => {
  let id: string;
  beforeAll(async () => {
    id = await streamConversation(server);
    expect((await server.jobSettled(id, 'notify', 30_000)).state).toBe('done');
  });

  it('serves talk time, silence, overlap and the interruption as the clean tracks have them', async () => {
    const { status, body } = await api<Analytics>(`/api/recordings/${id}/analytics`);
    expect(status).toBe(200);
    expect(Math.abs(body.talkMs.caller - oracle.talkMs.caller)).toBeLessThanOrEqual(oracle.talkMs.caller * 0.02);
    expect(Math.abs(body.talkMs.agent - oracle.talkMs.agent)).toBeLessThanOrEqual(oracle.talkMs.agent * 0.02);
    expect(Math.abs(body.overlapMs - oracle.overlapMs)).toBeLessThanOrEqual(100);
    expect(body.interruptions).toEqual({ caller: 0, agent: 1 });
    expect(body.speech.caller).toHaveLength(2);
    expect(body.speech.agent).toHaveLength(1);
    expect(body.longestMonologueMs.caller).toBeGreaterThan(3000);
    expect(body.talkPercent.caller + body.talkPercent.agent + body.silencePercent).toBeGreaterThan(100); // overlap counted for both
    expect(body.detector).toMatchObject({ engine: 'webrtc-vad', mode: 3 });
  });

  it("puts the figures in the recording's JSON and in the completion webhook, which follows them", async () => {
    const { body } = await api<{ analytics: { state: string; url: string; talkMs: unknown; speech?: unknown } }>(`/api/recordings/${id}`);
    expect(body.analytics).toMatchObject({ state: 'done', url: `/api/recordings/${id}/analytics` });
    expect(body.analytics.talkMs).toEqual((await api<Analytics>(`/api/recordings/${id}/analytics`)).body.talkMs);
    expect(body.analytics.speech).toBeUndefined();
    await waitFor(() => hooks.received.some((r) => r.body.includes(id) && r.body.includes('"recording.complete"')), 10_000, 'the completion webhook');
    const mine = hooks.received.filter((r) => r.body.includes(id)).map((r) => JSON.parse(r.body) as { event: string; recording: { analytics: { talkMs: unknown } } });
    // One delivery with the news: no separate recording.analyzed in the call's own run.
    expect(mine.map((e) => e.event).filter((e) => e === 'recording.analyzed')).toEqual([]);
    expect(mine.find((e) => e.event === 'recording.complete')!.recording.analytics.talkMs).toEqual(body.analytics.talkMs);
  });

  it('filters the list by the figures', async () => {
    const ids = async (query: string) => (await api<{ items: Array<{ id: string }> }>(`/api/recordings?${query}`)).body.items.map((r) => r.id);
    expect(await ids('minInterruptions=1')).toContain(id);
    expect(await ids('minInterruptions=2')).not.toContain(id);
    expect(await ids('minSilenceMs=5000&maxSilenceMs=20000')).toContain(id);
    expect(await ids('maxSilenceMs=1000')).not.toContain(id);
    expect(await ids('minOverlapMs=1500')).toContain(id);
    // The agent talked about half as long as the caller.
    expect(await ids('maxTalkRatio=0.6')).toContain(id);
    expect(await ids('minTalkRatio=1')).not.toContain(id);
    expect((await api(`/api/recordings?minTalkRatio=-1`)).status).toBe(400);
    expect((await api(`/api/recordings?minInterruptions=1.5`)).status).toBe(400);
  });

  it('analyses again on request and announces it, signed', async () => {
    const { status } = await api(`/api/recordings/${id}/analytics`, { method: 'POST' });
    expect(status).toBe(202);
    await waitFor(() => hooks.received.some((r) => r.body.includes(id) && r.body.includes('"recording.analyzed"')), 15_000, 'recording.analyzed');
    const hook = hooks.received.find((r) => r.body.includes(id) && r.body.includes('"recording.analyzed"'))!;
    expect(verifyWebhook(SECRET, String(hook.headers['x-calltape-timestamp']), hook.body, String(hook.headers['x-calltape-signature']))).toBe(true);
    const body = JSON.parse(hook.body) as { analytics: { url: string; interruptions: unknown } };
    expect(body.analytics.interruptions).toEqual({ caller: 0, agent: 1 });
    expect(body.analytics.url).toBe(`/api/recordings/${id}/analytics`);
    // Analysing again summarises again: settled before the summary tests count the chat server's requests.
    expect((await server.jobSettled(id, 'summary', 20_000)).state).toBe('done');
  });
});

describe('calltape analyze and summarize', () => {
  it('analyse a recording directory here, and a catalogued one through the server', async () => {
    const id = await streamConversation(server);
    expect((await server.jobSettled(id, 'notify', 30_000)).state).toBe('done');
    const dir = server.catalog.recordingDir((await server.catalog.repo.get(id))!);
    fs.rmSync(path.join(dir, 'analytics.json'));
    const here = await cli(['analyze', dir]);
    expect(here.stderr).toBe('');
    expect(here.status).toBe(0);
    expect(here.stdout).toMatch(/^ +caller +agent\ntalk +\d+\.\d s \(\d+\.\d%\) +\d+\.\d s/);
    expect(here.stdout).toMatch(/interruptions +0 \(0\.0 s\) +1 \(/);
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'analytics.json'), 'utf8')) as Analytics;
    expect(written.interruptions).toEqual({ caller: 0, agent: 1 });
    const byId = await cli(['analyze', id, '--url', server.url]);
    expect(byId.status).toBe(0);
    expect(byId.stdout).toBe(`analytics: ${server.url}/api/recordings/${id}/analytics\n`);
    const missing = await cli(['analyze', 'no-such-recording', '--url', server.url]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/CALLTAPE_ERR_NOT_FOUND/);
    await server.pipelineSettled(30_000);
  });

  it('summarise a transcribed directory against the chat server, printing the summary', async () => {
    const id = await server.finishedId((await streamToneCall(server.wsUrl(), REFUND_CALL)).streamSid);
    expect((await server.jobSettled(id, 'notify', 30_000)).state).toBe('done');
    const dir = server.catalog.recordingDir((await server.catalog.repo.get(id))!);
    const out = await cli(['summarize', dir, '--summary-url', chat.url], { CALLTAPE_SUMMARY_API_KEY: 'sk-summary-secret' });
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('outcome: payment cancelled\n- send the refund confirmation\nsentiment: caller neutral, agent positive\n');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'))).toMatchObject({ state: 'ok', model: 'llama3.2' });
    const noServer = await cli(['summarize', dir]);
    expect(noServer.status).toBe(1);
    expect(noServer.stderr).toMatch(/--summary-url \(or CALLTAPE_SUMMARY_URL\) is needed/);
  });
});

describe('summaries from a local LLM', () => {
  let id: string;
  beforeAll(async () => {
    id = (await streamToneCall(server.wsUrl(), REFUND_CALL)).streamSid;
    id = await server.finishedId(id);
    expect((await server.jobSettled(id, 'summary', 30_000)).state).toBe('done');
  });

  it('asks for the schema with the speaker-labelled transcript and the key, and serves the checked answer', async () => {
    const request = chat.requests.find((r) => r.user.includes('hello refund card charge'))!;
    expect(request.model).toBe('llama3.2');
    expect(request.authorization).toBe('Bearer sk-summary-secret');
    expect(request.temperature).toBe(0);
    expect(request.stream).toBe(false);
    expect(request.responseFormat?.type).toBe('json_schema');
    expect(request.responseFormat?.json_schema?.schema?.required).toEqual(['summary', 'reason', 'outcome', 'actionItems', 'sentiment']);
    expect(request.user).toMatch(/\[0:00\] caller: hello refund card charge\n\[0:03\] agent: thank you cancel payment today/);
    expect(request.user).toMatch(/Talk figures: caller talked \d/);
    const { status, body } = await api<Record<string, unknown>>(`/api/recordings/${id}/summary`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      state: 'ok',
      reason: 'hello refund card charge',
      outcome: 'payment cancelled',
      actionItems: ['send the refund confirmation'],
      sentiment: { caller: 'neutral', agent: 'positive' },
      model: 'llama3.2',
    });
    expect(body.summary).toBe('Call of 2 utterances: caller: hello refund card charge / agent: thank you cancel payment today');
  });

  it('announces recording.summarized and finds the call by what its summary says', async () => {
    await waitFor(() => hooks.received.some((r) => r.body.includes(id) && r.body.includes('"recording.summarized"')), 10_000, 'recording.summarized');
    const hook = JSON.parse(hooks.received.find((r) => r.body.includes(id) && r.body.includes('"recording.summarized"'))!.body) as { summary: { state: string; outcome: string } };
    expect(hook.summary).toMatchObject({ state: 'ok', outcome: 'payment cancelled' });
    // "cancelled" is only in the summary (the transcript says "cancel"; the stemmer joins them, so look for "utterances").
    const found = await api<{ items: Array<{ id: string; matches: Array<{ speaker: string; snippet: string }> }> }>(`/api/recordings?q=utterances`);
    const item = found.body.items.find((r) => r.id === id)!;
    expect(item.matches[0]).toMatchObject({ speaker: 'summary' });
    expect(item.matches[0]!.snippet).toContain('<mark>utterances</mark>');
  });

  it('keeps an answer off the schema as raw text with its state, reads a reasoning block, retries 429 and 5xx', async () => {
    chat.faults.push({ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'status', status: 503 }, { kind: 'nonconforming', content: 'Sure! The caller wanted a refund.' });
    await api(`/api/recordings/${id}/summary`, { method: 'POST' });
    const job = await server.jobSettled(id, 'summary', 20_000);
    expect(job).toMatchObject({ state: 'done', attempts: 3 });
    const { body } = await api<Record<string, unknown>>(`/api/recordings/${id}/summary`);
    expect(body).toMatchObject({ state: 'nonconforming', raw: 'Sure! The caller wanted a refund.', problem: 'the answer is not JSON' });
    chat.dialect = 'llamacpp-think';
    await api(`/api/recordings/${id}/summary`, { method: 'POST' });
    expect((await server.jobSettled(id, 'summary', 15_000)).state).toBe('done');
    // The JSON after the reasoning block is the answer.
    expect((await api<{ state: string }>(`/api/recordings/${id}/summary`)).body.state).toBe('ok');
    chat.dialect = 'ollama';
  });

  it('fails a summary at once on 401, with the server’s words, and says so in the 404', async () => {
    chat.requiredKey = 'sk-another-key';
    try {
      await api(`/api/recordings/${id}/summary`, { method: 'POST' });
      const job = await server.jobSettled(id, 'summary', 10_000);
      expect(job).toMatchObject({ state: 'failed', attempts: 1 });
      expect(job.error).toMatch(/answered 401: invalid api key/);
    } finally {
      chat.requiredKey = undefined;
    }
    const { status, body } = await api<{ error: { code: string; message: string }; job: { state: string } }>(`/api/recordings/${id}/summary`);
    expect(status).toBe(404);
    expect(body.error.code).toBe('CALLTAPE_ERR_NO_SUMMARY');
    expect(body.error.message).toMatch(/summarisation failed: .*401/);
    expect(body.job.state).toBe('failed');
  });
});

describe('a long transcript and a slow model', () => {
  it('cuts the transcript to the budget, summarises the parts and combines them; a stalled request times out and is retried', async () => {
    const local = await startChatServer('openai');
    const budget = 256;
    const small = await startTestServer({ transcribeUrl: stt.url, summaryUrl: local.url, summaryMaxInputTokens: budget, summaryTimeoutMs: 1000, pipelineRetryBaseMs: 100, realtimeAllowanceMs: 120_000 });
    try {
      // Forty words each side: about 80 utterance lines, several parts at a budget of 256 tokens.
      const words = ['refund', 'card', 'charge', 'account', 'balance', 'hello', 'please', 'cancel'] as const;
      const caller = Array.from({ length: 40 }, (_, i) => ({ text: words[i % words.length]!, startMs: 500 + i * 1500, endMs: 800 + i * 1500 }));
      const agent = Array.from({ length: 40 }, (_, i) => ({ text: words[(i + 3) % words.length]!, startMs: 1200 + i * 1500, endMs: 1500 + i * 1500 }));
      local.faults.push({ kind: 'slow', ms: 2500 });
      const call = await streamToneCall(small.wsUrl(), { durationMs: 61_000, caller, agent });
      const id = await small.finishedId(call.streamSid);
      const job = await small.jobSettled(id, 'summary', 60_000);
      expect(job.state).toBe('done');
      const summary = (await (await fetch(`${small.url}/api/recordings/${id}/summary`)).json()) as { state: string; summary: string; requests: number };
      expect(summary.state).toBe('ok');
      expect(summary.summary).toMatch(/^Combined \d+ parts: /);
      const parts = local.requests.filter((r) => r.user.startsWith('Part '));
      expect(parts.length).toBeGreaterThanOrEqual(3);
      // No request carried more transcript than the budget (4 characters a token).
      for (const r of local.requests) expect(r.user.length).toBeLessThanOrEqual(budget * 4 + 400);
      // The stalled first request timed out and was asked again.
      expect(job.attempts).toBe(2);
    } finally {
      await small.stop();
      await local.close();
    }
  });
});

describe('a real calltape process', () => {
  it('refuses to start, in one line, with a prompt file it cannot use or a detector mode out of range', async () => {
    const empty = path.join(tempDataDir(), 'empty-prompt.txt');
    fs.mkdirSync(path.dirname(empty), { recursive: true });
    fs.writeFileSync(empty, '  \n');
    for (const [env, says] of [
      [{ CALLTAPE_SUMMARY_PROMPT_FILE: '/nonexistent/prompt.txt' }, /^calltape: CALLTAPE_SUMMARY_PROMPT_FILE \/nonexistent\/prompt\.txt cannot be read \(ENOENT\)\n$/],
      [{ CALLTAPE_SUMMARY_PROMPT_FILE: empty }, /^calltape: CALLTAPE_SUMMARY_PROMPT_FILE .* is empty\n$/],
      [{ CALLTAPE_ANALYTICS_VAD_MODE: '7' }, /^calltape: .*CALLTAPE_ANALYTICS_VAD_MODE.*\n$/],
    ] as const) {
      const result = await cli(['serve', '--data-dir', tempDataDir(), '--port', '0'], env);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(says);
    }
  });

  it('never logs the summary API key, not even when the chat server fails', async () => {
    const local = await startChatServer('ollama');
    local.faults.push({ kind: 'status', status: 500 });
    const proc = spawnCalltape(tempDataDir(), { CALLTAPE_TRANSCRIBE_URL: stt.url, CALLTAPE_SUMMARY_URL: local.url, CALLTAPE_SUMMARY_API_KEY: 'sk-never-in-a-log-7', CALLTAPE_PIPELINE_RETRY_BASE_MS: '100', CALLTAPE_PIPELINE_START_DELAY_MS: '0' });
    try {
      const url = await proc.url;
      await streamToneCall(`${url.replace('http', 'ws')}/streams/twilio`, REFUND_CALL);
      await waitFor(() => proc.logs.some((l) => l.msg === 'summary: written'), 30_000, 'the summary after a failed attempt');
      expect(local.requests.length).toBe(2);
      expect(local.requests[0]!.authorization).toBe('Bearer sk-never-in-a-log-7');
      expect(JSON.stringify(proc.logs)).not.toContain('sk-never-in-a-log-7');
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await local.close();
    }
  });
});
