/**
 * Transcripts end to end: real calls streamed to a real calltape, transcribed by a real local
 * OpenAI-compatible server (test/helpers/stt-server.ts), served in every format, announced
 * by signed webhooks, searchable, and a failing server retried and reported without
 * touching recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/webhooks/sign.js';
import { findRecordingDir, waitFor } from '../helpers/recordings.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { REFUND_CALL, streamToneCall } from '../helpers/tone-call.js';

const SECRET = 'whsec-transcripts';
let stt: SttServer;
let hooks: Receiver;
let server: TestServer;

async function api<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T; text: string; type: string | null }> {
  const response = await fetch(`${server.url}${url}`, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T, text, type: response.headers.get('content-type') };
}

async function recordCall(script = REFUND_CALL, target: TestServer = server): Promise<string> {
  return target.finishedId((await streamToneCall(target.wsUrl(), script)).streamSid);
}

beforeAll(async () => {
  stt = await startSttServer('whispercpp');
  hooks = await startReceiver();
  server = await startTestServer({
    transcribeUrl: stt.url,
    transcribeApiKey: 'sk-do-not-log-me',
    webhookUrl: hooks.url,
    webhookSecret: SECRET,
    pipelineRetryBaseMs: 200,
  });
});

afterAll(async () => {
  await server.stop();
  await stt.close();
  await hooks.close();
});

describe('a transcribed call', () => {
  let id: string;
  beforeAll(async () => {
    id = await recordCall();
    expect((await server.jobSettled(id, 'notify')).state).toBe('done');
  });

  it("shows its jobs in the recording's JSON, done in order", async () => {
    const { body } = await api<{ jobs: Array<{ kind: string; state: string; attempts: number; error: null }>; transcript: { state: string; url: string } }>(`/api/recordings/${id}`);
    expect(body.jobs.map((j) => [j.kind, j.state, j.attempts, j.error])).toEqual([
      ['peaks', 'done', 1, null],
      ['transcript', 'done', 1, null],
      ['analytics', 'done', 1, null],
      ['notify', 'done', 1, null],
    ]);
    expect(body.transcript).toEqual({ state: 'done', url: `/api/recordings/${id}/transcript`, error: null });
  });

  it('serves the transcript as JSON, a two-speaker dialogue on the call clock, and as WebVTT, SRT and text', async () => {
    const json = await api<{ segments: Array<{ speaker: string; track: string; startMs: number; endMs: number; text: string; words: Array<{ text: string; startMs: number }> }>; model: string; engine: string }>(
      `/api/recordings/${id}/transcript`,
    );
    expect(json.status).toBe(200);
    expect(json.body.engine).toBe('openai-compatible');
    expect(json.body.segments.map((s) => [s.speaker, s.track, s.text])).toEqual([
      ['caller', 'inbound', 'hello refund card charge'],
      ['agent', 'outbound', 'thank you cancel payment today'],
    ]);
    const words = json.body.segments.flatMap((s) => s.words);
    const placed = [...REFUND_CALL.caller, ...REFUND_CALL.agent];
    words.forEach((w, i) => expect(Math.abs(w.startMs - placed[i]!.startMs), w.text).toBeLessThanOrEqual(20));

    const vtt = await api(`/api/recordings/${id}/transcript?format=vtt`);
    expect(vtt.type).toBe('text/vtt; charset=utf-8');
    expect(vtt.text).toMatch(/^WEBVTT\n\n00:00:00\.5\d\d --> 00:00:02\.3\d\d\n<v caller>hello refund card charge<\/v>\n\n00:00:03\.5\d\d --> 00:00:05\.8\d\d\n<v agent>thank you cancel payment today<\/v>\n$/);
    const srt = await api(`/api/recordings/${id}/transcript?format=srt`);
    expect(srt.text).toMatch(/^1\n00:00:00,5\d\d --> 00:00:02,3\d\d\ncaller: hello refund card charge\n\n2\n/);
    const txt = await api(`/api/recordings/${id}/transcript?format=txt`);
    expect(txt.text).toBe('[00:00:00] caller: hello refund card charge\n[00:00:03] agent: thank you cancel payment today\n');
    expect((await api(`/api/recordings/${id}/transcript?format=pdf`)).status).toBe(400);
    expect((await api(`/api/recordings/${id}/transcript?format=json&x=1`)).status).toBe(400);
    // Beside the files too.
    const dir = findRecordingDir(server.dataDir, (await server.catalog.repo.get(id))!.streamSid);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'transcript.json'), 'utf8')).segments).toHaveLength(2);
  });

  it('announces recording.transcribed, then recording.complete with the transcript, both signed', async () => {
    await waitFor(() => hooks.received.filter((r) => r.body.includes(id)).length >= 2, 10_000, 'two webhooks');
    const mine = hooks.received.filter((r) => r.body.includes(id));
    const events = mine.map((r) => JSON.parse(r.body) as { event: string; recording: { transcript: { state: string }; jobs: Array<{ kind: string; state: string }> }; transcript?: { segments: number; speakers: unknown } });
    expect(events.map((e) => e.event)).toEqual(['recording.transcribed', 'recording.complete']);
    expect(events[0]!.transcript).toMatchObject({ segments: 2, speakers: [{ track: 'inbound', speaker: 'caller' }, { track: 'outbound', speaker: 'agent' }] });
    expect(events[1]!.recording.transcript.state).toBe('done');
    // The completion webhook is the notify step's own work, recorded in the transaction that settles it.
    expect(events[1]!.recording.jobs.map((j) => j.state)).toEqual(['done', 'done', 'done', 'done']);
    for (const hook of mine) {
      expect(verifyWebhook(SECRET, String(hook.headers['x-calltape-timestamp']), hook.body, String(hook.headers['x-calltape-signature']))).toBe(true);
    }
  });

  it('sent each track once, with the API key as a Bearer token', () => {
    const mine = stt.requests.filter((r) => r.durationMs > 0);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(new Set(mine.map((r) => r.authorization))).toEqual(new Set(['Bearer sk-do-not-log-me']));
  });
});

describe('a speech-to-text server that fails', () => {
  it('429 with Retry-After: the attempt and its reason show in the JSON, then the retry succeeds', async () => {
    stt.faults.push({ kind: 'status', status: 429, retryAfter: '1' });
    const id = await recordCall();
    let seen: { state: string; attempts: number; error: string | null } | undefined;
    for (let i = 0; i < 200 && !seen; i++) {
      const job = (await api<{ jobs: Array<{ kind: string; state: string; attempts: number; error: string | null }> }>(`/api/recordings/${id}`)).body.jobs.find((j) => j.kind === 'transcript')!;
      if (job.state === 'pending' && job.attempts === 1) seen = job;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen?.error).toMatch(/answered 429/);
    // While it waits, the transcript route says so.
    const waiting = await api<{ error: { code: string; message: string }; job: { state: string } }>(`/api/recordings/${id}/transcript`);
    expect(waiting.status).toBe(404);
    expect(waiting.body.error.code).toBe('CALLTAPE_ERR_NO_TRANSCRIPT');
    expect(waiting.body.error.message).toMatch(/transcription is (pending|running) \(attempt 1; last: .*answered 429/);
    const settled = await server.jobSettled(id, 'transcript', 15_000);
    expect(settled).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('a retry sends only the pieces the failed attempt did not get answered', async () => {
    // The first request is answered, the second (the other track) fails once.
    stt.requests.length = 0;
    stt.faults.push({ kind: 'pass' }, { kind: 'status', status: 503 });
    const id = await recordCall();
    expect(await server.jobSettled(id, 'transcript', 15_000)).toMatchObject({ state: 'done', attempts: 2 });
    const sent = stt.requests.map((r) => [r.fileName.split('-')[0], r.answeredWith]);
    expect(sent).toHaveLength(3);
    const failedTrack = sent.find(([, status]) => status === 503)![0];
    expect(sent.filter(([track]) => track === failedTrack).map(([, status]) => status)).toEqual([503, 200]);
    expect(sent.filter(([track]) => track !== failedTrack)).toEqual([[sent.find(([track]) => track !== failedTrack)![0], 200]]);
    const dir = findRecordingDir(server.dataDir, (await server.catalog.repo.get(id))!.streamSid);
    expect(fs.existsSync(path.join(dir, 'transcript.pieces.json'))).toBe(false);
    expect(((await api<{ segments: unknown[] }>(`/api/recordings/${id}/transcript`)).body.segments)).toHaveLength(2);
  });

  it('a refusal no retry can mend (401): failed at once with the reason; the recording and its webhook go on', async () => {
    stt.faults.push({ kind: 'status', status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided' } }) });
    const id = await recordCall();
    const job = await server.jobSettled(id, 'transcript');
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.error).toMatch(/answered 401: Incorrect API key provided/);
    const { body } = await api<{ status: string; transcript: { state: string; error: string } }>(`/api/recordings/${id}`);
    expect(body.status).toBe('complete');
    expect(body.transcript.state).toBe('failed');
    const missing = await api<{ error: { message: string } }>(`/api/recordings/${id}/transcript`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/transcription failed: .*401/);
    await waitFor(() => hooks.received.some((r) => r.body.includes(id) && r.body.includes('"recording.complete"')), 10_000, 'the completion webhook');
    const complete = JSON.parse(hooks.received.find((r) => r.body.includes(id) && r.body.includes('"recording.complete"'))!.body) as { recording: { transcript: { state: string } } };
    expect(complete.recording.transcript.state).toBe('failed');
  });

  it('a server that stays down past the maximum age: given up, with how many attempts', async () => {
    const stubborn = await startTestServer({ transcribeUrl: stt.url, pipelineRetryBaseMs: 100, transcribeMaxAgeMs: 1500 });
    try {
      for (let i = 0; i < 40; i++) stt.faults.push({ kind: 'status', status: 503 });
      const id = await recordCall(REFUND_CALL, stubborn);
      const job = await stubborn.jobSettled(id, 'transcript', 15_000);
      expect(job.state).toBe('failed');
      expect(job.error).toMatch(/answered 503.*given up after \d+ attempts/);
      expect(job.attempts).toBeGreaterThanOrEqual(2);
    } finally {
      stt.faults.length = 0;
      await stubborn.stop();
    }
  });
});

describe('search across every call', () => {
  let refund: string;
  let other: string;
  beforeAll(async () => {
    refund = await recordCall(REFUND_CALL);
    other = await recordCall({
      durationMs: 6000,
      caller: [
        { text: 'balance', startMs: 500, endMs: 800 },
        { text: 'transfer', startMs: 1000, endMs: 1300 },
      ],
      agent: [
        { text: 'card', startMs: 3000, endMs: 3300 },
        { text: 'help', startMs: 3500, endMs: 3800 },
      ],
      customParameters: { team: 'billing' },
    });
    await server.jobSettled(refund, 'transcript');
    await server.jobSettled(other, 'transcript');
  });

  const search = async (q: string, extra = '') =>
    api<{ items: Array<{ id: string; matches: Array<{ track: string; speaker: string; startMs: number; snippet: string }> }>; error?: { code: string } }>(
      `/api/recordings?q=${encodeURIComponent(q)}${extra}`,
    );

  it('finds stemmed words ("charges" finds "charge") with the hit marked and its time', async () => {
    const { body } = await search('charges');
    const hit = body.items.find((item) => item.id === refund)!;
    expect(hit).toBeDefined();
    expect(body.items.some((item) => item.id === other)).toBe(false);
    expect(hit.matches[0]).toMatchObject({ track: 'inbound', speaker: 'caller' });
    expect(hit.matches[0]!.snippet).toMatch(/<mark>charge<\/mark>/);
    expect(Math.abs(hit.matches[0]!.startMs - 500)).toBeLessThanOrEqual(20);
  });

  it('phrases keep their order; several words must all be in the call, across speakers', async () => {
    expect((await search('"card charge"')).body.items.map((i) => i.id)).toContain(refund);
    expect((await search('"charge card"')).body.items.map((i) => i.id)).not.toContain(refund);
    expect((await search('refund payment')).body.items.map((i) => i.id)).toContain(refund);
    expect((await search('refund transfer')).body.items.map((i) => i.id)).not.toContain(refund);
    const both = (await search('card')).body.items.map((i) => i.id);
    expect(both).toEqual(expect.arrayContaining([refund, other]));
  });

  it('combines with the other filters and paging', async () => {
    expect((await search('card', '&param.team=billing')).body.items.map((i) => i.id)).toEqual([other]);
    expect((await search('card', '&status=failed')).body.items).toEqual([]);
    const first = await api<{ items: Array<{ id: string }>; nextCursor: string }>(`/api/recordings?q=card&limit=1`);
    expect(first.body.items).toHaveLength(1);
    const second = await api<{ items: Array<{ id: string }> }>(`/api/recordings?q=card&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0]!.id).not.toBe(first.body.items[0]!.id);
  });

  it('a query with SQL or FTS syntax is only words', async () => {
    for (const q of [`" OR 1=1 --`, `card'; drop table recordings; --`, 'NEAR(card charge)', 'card*', 'card OR transfer', '^card', 'text:card', '"unclosed card', '(((']) {
      const { status, body } = await search(q);
      expect([200, 400], q).toContain(status);
      if (status === 400) expect(body.error!.code, q).toBe('CALLTAPE_ERR_BAD_REQUEST');
    }
    expect((await search('card OR transfer')).body.items.map((i) => i.id)).not.toContain(refund);
    expect((await search('*')).status).toBe(400);
    expect((await search('')).status).toBe(400);
    expect((await search('a'.repeat(201))).status).toBe(400);
    expect((await api('/api/recordings?limit=500')).status).toBe(200);
  });

  it('deleting a recording removes its words from the index', async () => {
    expect((await api(`/api/recordings/${other}`, { method: 'DELETE' })).status).toBe(204);
    expect((await search('transfer')).body.items).toEqual([]);
    expect(await server.catalog.db.db.selectFrom('transcript_segments').selectAll().where('recording_id', '=', other).execute()).toEqual([]);
  });
});
