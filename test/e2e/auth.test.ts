/**
 * Only the provider gets in: X-Twilio-Signature on the upgrade and on /twiml, the per-call
 * stream token, SignalWire's bearer token, Exotel's Basic credentials (also through
 * /streams/auto), and API tokens. Refusals happen before the
 * socket opens (401 missing, 403 wrong) and leave no recording behind.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import twilio from 'twilio';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createRecorder } from '../../src/recording/recorder.js';
import { simulate } from '../../src/simulate/simulate.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, readMeta, tempDataDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const TOKEN = 'twilio-auth-token-123';
const ANSWER_KEY = 'an-answer-key-of-some-length';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function session(params: Record<string, string> = {}) {
  const call = newTwilioCall();
  return { call, frames: new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 3200)), { tracks: ['inbound'], customParameters: params }) };
}

async function record(url: string, frames: string[], headers: Record<string, string> = {}) {
  const ws = await openSocket(url, { headers });
  const closed = whenClosed(ws);
  await sendAll(ws, frames);
  ws.close();
  return closed;
}

function recordingsOnDisk(dataDir: string): string[] {
  const root = path.join(dataDir, 'recordings');
  return fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => p.endsWith('meta.json')) : [];
}

describe('Twilio signature on the stream upgrade', () => {
  it('accepts a correctly signed upgrade, refuses unsigned (401) and wrongly signed (403) ones', async () => {
    server = await startTestServer({ twilioAuthToken: TOKEN });
    const url = server.wsUrl();
    const signedUrl = url.replace('ws://', 'wss://');
    await expect(openSocket(url)).rejects.toThrow('HTTP 401');
    await expect(openSocket(url, { headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature('wrong', signedUrl, {}) } })).rejects.toThrow('HTTP 403');
    expect(recordingsOnDisk(server.dataDir)).toEqual([]);
    expect((await server.catalog.repo.list({ limit: 10 })).items).toEqual([]);
    expect(server.recorder.stats().rejections).toMatchObject({ CALLTAPE_ERR_UNAUTHENTICATED: 1, CALLTAPE_ERR_FORBIDDEN: 1 });

    const { call, frames } = session();
    const done = server.finished(1);
    await record(url, frames, { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, signedUrl, {}) });
    expect((await done)[0]).toMatchObject({ callSid: call.callSid, status: 'complete' });
  });

  it('checks the signature over the public URL behind a proxy, with or without :443', async () => {
    server = await startTestServer({ twilioAuthToken: TOKEN });
    for (const signed of ['wss://rec.example.com/streams/twilio', 'wss://rec.example.com:443/streams/twilio']) {
      const ws = await openSocket(server.wsUrl(), { headers: { 'X-Forwarded-Host': 'rec.example.com', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, signed, {}) } });
      ws.close();
    }
    await expect(
      openSocket(server.wsUrl(), { headers: { 'X-Forwarded-Host': 'evil.example.com', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, 'wss://rec.example.com/streams/twilio', {}) } }),
    ).rejects.toThrow('HTTP 403');
  });
});

describe('Twilio signature on /twiml', () => {
  it('accepts signed form posts (also behind a TLS proxy) and refuses unsigned or wrong ones', async () => {
    server = await startTestServer({ twilioAuthToken: TOKEN });
    const params = { CallSid: newTwilioCall().callSid, From: '+14158675309', To: '+18005551212' };
    const body = new URLSearchParams(params).toString();
    const post = (headers: Record<string, string>) =>
      fetch(`${server!.url}/twiml`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'X-Twilio-Signature': twilio.getExpectedTwilioSignature('nope', `${server.url}/twiml`, params) })).status).toBe(403);
    expect((await post({ 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, `${server.url}/twiml`, params) })).status).toBe(200);
    const proxied = await post({
      'X-Forwarded-Host': 'rec.example.com',
      'X-Forwarded-Proto': 'https',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, 'https://rec.example.com/twiml', params),
    });
    expect(proxied.status).toBe(200);
  });

  it('accepts the JSON-body variant (bodySHA256) and refuses a changed body', async () => {
    server = await startTestServer({ twilioAuthToken: TOKEN });
    const json = '{"CallSid":"CA0000","note":"hello"}';
    const hash = (await import('node:crypto')).createHash('sha256').update(json).digest('hex');
    const url = `${server.url}/twiml?bodySHA256=${hash}`;
    const signature = twilio.getExpectedTwilioSignature(TOKEN, url, {});
    const send = (b: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Twilio-Signature': signature }, body: b });
    expect((await send(json)).status).toBe(200);
    expect((await send(json.replace('hello', 'hullo'))).status).toBe(403);
  });
});

describe('per-call stream token', () => {
  it('issues a token in /twiml and records only starts that carry it (never storing it)', async () => {
    server = await startTestServer({ streamTokenSecret: 'a-long-enough-stream-secret', answerKey: ANSWER_KEY });
    const call = newTwilioCall();
    const res = await fetch(`${server.url}/twiml?key=${ANSWER_KEY}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `CallSid=${call.callSid}` });
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'Parameter' }).parse(await res.text());
    const token = doc.Response.Start.Stream.Parameter.find((p: { name: string }) => p.name === 'token').value as string;

    const writer = new TwilioFrameWriter(call);
    const done = server.finished(1);
    await record(server.wsUrl(), writer.session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 3200)), { tracks: ['inbound'], customParameters: { token, agent: 'ada' } }));
    const [meta] = await done;
    expect(meta!.customParameters).toEqual({ agent: 'ada' });
    expect(JSON.stringify(readMeta(findRecordingDir(server.dataDir, call.streamSid)))).not.toContain(token);

    for (const bad of [{}, { token: 'forged' }, { token }] as Array<Record<string, string>>) {
      const other = session(bad); // a different CallSid: the real token does not fit it either
      const closed = await record(server.wsUrl(), other.frames);
      expect(closed).toEqual({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
    }
    expect(recordingsOnDisk(server.dataDir)).toHaveLength(1);
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_BAD_STREAM_TOKEN).toBe(3);
  });
});

describe('SignalWire bearer token', () => {
  it('needs Authorization: Bearer <authBearerToken> on the upgrade', async () => {
    server = await startTestServer({ signalwireBearerToken: 'sw-secret' });
    await expect(openSocket(server.wsUrl('signalwire'))).rejects.toThrow('HTTP 401');
    await expect(openSocket(server.wsUrl('signalwire'), { headers: { Authorization: 'Bearer nope' } })).rejects.toThrow('HTTP 403');
    const ws = await openSocket(server.wsUrl('signalwire'), { headers: { Authorization: 'Bearer sw-secret' } });
    ws.close();
  });

  it('/twiml?provider=signalwire names the token as authBearerToken (SignalWire sends it only then), and only to a keyed request', async () => {
    const sw = (server = await startTestServer({ signalwireBearerToken: 'sw-secret', answerKey: ANSWER_KEY }));
    const callSid = crypto.randomUUID();
    const answer = (query: string) => fetch(`${sw.url}/twiml?provider=signalwire${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `CallSid=${callSid}` });
    // Unsigned and unkeyed, the markup would hand the secret to anyone who asks.
    const anonymous = await answer('');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain('sw-secret');
    expect((await answer('&key=wrong-key-of-some-length')).status).toBe(403);
    const keyed = await answer(`&key=${ANSWER_KEY}`);
    expect(keyed.status).toBe(200);
    const stream = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await keyed.text()).Response.Start.Stream;
    expect(stream).toMatchObject({ url: expect.stringMatching(/\/streams\/signalwire$/), authBearerToken: 'sw-secret' });

    // The upgrade SignalWire then makes, with the token from the markup: recorded.
    const streamSid = crypto.randomUUID();
    const frames = [
      JSON.stringify({ event: 'start', start: { streamSid, callSid, accountSid: crypto.randomUUID(), tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} }, streamSid }),
      ...mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 8000)).map((f) => JSON.stringify({ event: 'media', media: { track: 'inbound', timestamp: String(f.timestampMs), payload: f.payload.toString('base64') }, streamSid })),
      JSON.stringify({ event: 'stop' }),
    ];
    const done = sw.finished(1);
    const ws = await openSocket(stream.url.replace('wss://', 'ws://'), { headers: { Authorization: `Bearer ${stream.authBearerToken}` } });
    const closed = whenClosed(ws);
    await sendAll(ws, frames);
    await closed;
    const [meta] = await done;
    expect(meta).toMatchObject({ provider: 'signalwire', callSid, streamSid, status: 'complete', durationMs: 1000 });
  });
});

describe('Exotel Basic credentials', () => {
  it('needs the key:token of the stream URL (wss://key:token@host/...) on the upgrade', async () => {
    server = await startTestServer({ exotelBasicAuth: 'ex-key:ex-token' });
    const url = server.wsUrl('exotel');
    await expect(openSocket(url)).rejects.toThrow('HTTP 401');
    await expect(openSocket(url.replace('ws://', 'ws://ex-key:wrong@'))).rejects.toThrow('HTTP 403');
    await expect(openSocket(url, { headers: { Authorization: 'Bearer ex-key:ex-token' } })).rejects.toThrow('HTTP 401');
    expect(server.recorder.stats().rejections).toMatchObject({ CALLTAPE_ERR_UNAUTHENTICATED: 2, CALLTAPE_ERR_FORBIDDEN: 1 });
    const finished = server.finished(1);
    const summary = await simulate({ provider: 'exotel', url: url.replace('ws://', 'ws://ex-key:ex-token@'), calls: 1, durationMs: 400, inbound: SPEECH_IN_ULAW, realtime: false });
    expect(summary).toMatchObject({ ok: 1 });
    expect((await finished)[0]).toMatchObject({ provider: 'exotel', status: 'complete', durationMs: 400 });
  });
});

describe('/streams/auto and provider credentials', () => {
  it("refuses a provider's frames on an upgrade that failed that provider's check, and takes the rest", async () => {
    server = await startTestServer({ twilioAuthToken: TOKEN, exotelBasicAuth: 'ex-key:ex-token' });
    const url = server.wsUrl('auto');
    // Twilio frames without X-Twilio-Signature: no way around /streams/twilio's check.
    const unsigned = session();
    expect(await record(url, unsigned.frames)).toEqual({ code: 1008, reason: 'CALLTAPE_ERR_UNVERIFIED_PROVIDER' });
    // Exotel frames without the Basic credentials: the same.
    const exotel = await simulate({ provider: 'exotel', url, calls: 1, durationMs: 400, inbound: SPEECH_IN_ULAW, realtime: false });
    expect(exotel.results[0]).toMatchObject({ ok: false, closeCode: 1008 });
    expect(recordingsOnDisk(server.dataDir)).toEqual([]);
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_UNVERIFIED_PROVIDER).toBeGreaterThanOrEqual(2);

    // Signed for auto's own URL: recorded. Telnyx has no upgrade credentials: recorded.
    const signed = session();
    const done = server.finished(2);
    await record(url, signed.frames, { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, url.replace('ws://', 'wss://'), {}) });
    const telnyx = await simulate({ provider: 'telnyx', url, calls: 1, durationMs: 400, inbound: SPEECH_IN_ULAW, realtime: false });
    expect(telnyx).toMatchObject({ ok: 1 });
    const metas = await done;
    expect(metas.map((m) => m.provider).sort()).toEqual(['telnyx', 'twilio']);
    expect(metas.find((m) => m.provider === 'twilio')).toMatchObject({ callSid: signed.call.callSid, status: 'complete' });
  });
});

describe('API access', () => {
  it('requires a configured bearer token', async () => {
    server = await startTestServer({ apiToken: 'tok-one, tok-two' });
    expect((await fetch(`${server.url}/api/recordings`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/recordings`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(403);
    expect((await fetch(`${server.url}/api/recordings`, { headers: { Authorization: 'Bearer tok-two' } })).status).toBe(200);
  });

  it('answers only loopback clients when no token is configured', async () => {
    const config = loadConfig({ logLevel: 'silent', dataDir: tempDataDir() });
    const recorder = createRecorder({ logLevel: 'silent', dataDir: config.dataDir });
    const { Catalog } = await import('../../src/catalog/catalog.js');
    const { openCatalogDb } = await import('../../src/catalog/db.js');
    const db = await openCatalogDb(config);
    const app = await buildApp(config, { recorder, catalog: new Catalog(db, config.dataDir, recorder.logger) });
    try {
      const remote = await app.inject({ method: 'GET', url: '/api/recordings', remoteAddress: '203.0.113.5' });
      expect([remote.statusCode, remote.json().error.code]).toEqual([403, 'CALLTAPE_ERR_API_LOOPBACK_ONLY']);
      expect((await app.inject({ method: 'GET', url: '/api/recordings', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/twiml', remoteAddress: '203.0.113.5', headers: { host: 'x.example' } })).statusCode).toBe(200);
    } finally {
      await app.close();
      await recorder.shutdown();
      await db.close();
    }
  });
});
