/**
 * Genesys Cloud AudioHook over a real socket, beyond the contract session: the upgrade's
 * X-API-KEY and HTTP message signature refused and accepted; the server's replies read as a
 * Genesys client reads them (`opened`, `pong`, `closed`, in sequence); a pause whose
 * discarded stretch lands as silence where it was, the files sample-exact; the connection
 * probe answered without a recording; and a refused open told why with `disconnect`.
 * (purecloudlabs/audiohook-reference-implementation: protocol/message.ts,
 * server/serversessionimpl.ts, src/authenticator.ts.)
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interleaveStereo8, MU, MU_REF } from '../contract/speech.js';
import { AudioHookClient, audioHookHeaders, audioHookIds, signAudioHook, STEREO_OFFER } from '../helpers/audiohook.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { findRecordingDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const API_KEY = 'genesys-audiohook-api-key-7Qx2';
const SECRET = crypto.randomBytes(32).toString('base64');
let signedServer: TestServer;
let open: TestServer;
beforeAll(async () => {
  signedServer = await startTestServer({ genesysApiKey: API_KEY, genesysClientSecret: SECRET });
  // The shortest idle limit there is: a pause outlasting it must not end the call.
  open = await startTestServer({ idleTimeoutMs: 1000 });
});
afterAll(async () => {
  await signedServer?.stop();
  await open?.stop();
});

/** The server's messages, in order, and a way to wait for the next of a type. */
function replies(ws: WebSocket) {
  const seen: Array<Record<string, unknown>> = [];
  const waiting: Array<{ type: string; resolve: (m: Record<string, unknown>) => void; reject: (err: Error) => void }> = [];
  let closedWith: string | undefined;
  // A wait the server's close makes hopeless fails at once, naming the close.
  ws.on('close', (code, reason) => {
    closedWith = `the server closed the socket (${code} ${String(reason)})`;
    for (const w of waiting.splice(0)) w.reject(new Error(`${closedWith} before ${w.type}`));
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    seen.push(message);
    const index = waiting.findIndex((w) => w.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
  });
  return {
    seen,
    next: (type: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const already = seen.find((m) => m.type === type && !(m as { taken?: true }).taken);
        if (already) {
          (already as { taken?: true }).taken = true;
          resolve(already);
        } else if (closedWith) reject(new Error(`${closedWith} before ${type}`));
        else waiting.push({ type, resolve, reject });
      }),
  };
}

const signedUrl = (server: TestServer) => `${server.url}/streams/genesys`;

describe('Genesys AudioHook', () => {
  it('refuses an upgrade without the API key (401), with a wrong one (403), unsigned (401) or signed with another secret (403)', async () => {
    const ids = audioHookIds();
    const url = signedServer.wsUrl('genesys');
    await expect(openSocket(url, { headers: audioHookHeaders(ids) })).rejects.toThrow('HTTP 401');
    await expect(openSocket(url, { headers: audioHookHeaders(ids, 'not-the-key') })).rejects.toThrow('HTTP 403');
    await expect(openSocket(url, { headers: audioHookHeaders(ids, API_KEY) })).rejects.toThrow('HTTP 401');
    const forged = await signAudioHook(signedUrl(signedServer), audioHookHeaders(ids, API_KEY), { apiKey: API_KEY, secret: crypto.randomBytes(32).toString('base64') });
    await expect(openSocket(url, { headers: forged })).rejects.toThrow('HTTP 403');
    // Signed for another path: the request target is covered.
    const elsewhere = await signAudioHook(`${signedServer.url}/streams/auto`, audioHookHeaders(ids, API_KEY), { apiKey: API_KEY, secret: SECRET });
    await expect(openSocket(url, { headers: elsewhere })).rejects.toThrow('HTTP 403');
  });

  it('records a signed session: opened, pong and closed in sequence, a pause kept as silence where it was, the files sample-exact', async () => {
    const ids = audioHookIds();
    const client = new AudioHookClient(ids);
    const headers = await signAudioHook(signedUrl(signedServer), audioHookHeaders(ids, API_KEY), { apiKey: API_KEY, secret: SECRET });
    const finished = signedServer.finishedStream(ids.sessionId);
    const ws = await openSocket(signedServer.wsUrl('genesys'), { headers });
    const closed = whenClosed(ws);
    const server = replies(ws);

    ws.send(client.open([STEREO_OFFER], { customConfig: { queue: 'billing', routing: { skill: 'es' } } }));
    expect(await server.next('opened')).toEqual({ version: '2', id: ids.sessionId, type: 'opened', seq: 1, clientseq: 1, parameters: { media: [STEREO_OFFER], startPaused: false } });
    client.serverseq = 1;
    const audio = interleaveStereo8(MU.inbound, MU.outbound);
    const frame = (i: number) => audio.subarray(i * 320, (i + 1) * 320);
    for (let i = 0; i < 50; i++) ws.send(frame(i));
    ws.send(client.message('ping', 'PT1S', { rtt: 'PT0.01S' }));
    expect(await server.next('pong')).toEqual({ version: '2', id: ids.sessionId, type: 'pong', seq: 2, clientseq: 2, parameters: {} });
    client.serverseq = 2;
    // Half a second discarded while paused: the position counts it, no audio carries it.
    ws.send(client.message('paused', 'PT1S', {}));
    ws.send(client.message('resumed', 'PT1.5S', { start: 'PT1S', discarded: 'PT0.5S' }));
    for (let i = 50; i < audio.length / 320; i++) ws.send(frame(i));
    ws.send(client.message('close', 'PT2.5S', { reason: 'end' }));
    expect(await server.next('closed')).toEqual({ version: '2', id: ids.sessionId, type: 'closed', seq: 3, clientseq: 5, parameters: {} });
    expect(await closed).toMatchObject({ code: 1000 });
    // Nothing else was said: no disconnect after closed.
    expect(server.seen.map((m) => m.type)).toEqual(['opened', 'pong', 'closed']);

    const meta = await finished;
    expect(meta).toMatchObject({ provider: 'genesys', status: 'complete', callSid: ids.conversationId, streamSid: ids.sessionId, tracks: ['inbound', 'outbound'] });
    // toMatchObject takes {} for any object: emptiness is checked on its own.
    expect(meta.rejections).toEqual({});
    expect(meta.customParameters).toMatchObject({ organizationId: ids.organizationId, correlationId: ids.correlationId, ani: '+13175551234', dnis: '+13175550000', queue: 'billing', routing: '{"skill":"es"}' });
    expect(meta.pauses).toEqual([expect.objectContaining({ atMs: 1000, endMs: 1500, behavior: 'silence' })]);
    const dir = findRecordingDir(signedServer.dataDir, ids.sessionId);
    for (const track of ['inbound', 'outbound'] as const) {
      const expected = Buffer.concat([MU_REF[track].subarray(0, 16000), Buffer.alloc(8000), MU_REF[track].subarray(16000)]);
      const decoded = ffmpegDecode(path.join(dir, `${track}.wav`));
      expect(decoded.sampleRate).toBe(8000);
      expect(decoded.pcm.equals(expected), `${track}.wav`).toBe(true);
    }
  });

  it('keeps a call paused longer than the idle limit alive by its pings, and is recognised on /streams/auto by its headers', async () => {
    const ids = audioHookIds();
    const client = new AudioHookClient(ids);
    const finished = open.finishedStream(ids.sessionId);
    const ws = await openSocket(open.wsUrl('auto'), { headers: audioHookHeaders(ids) });
    const closed = whenClosed(ws);
    const server = replies(ws);
    ws.send(client.open([STEREO_OFFER]));
    await server.next('opened');
    client.serverseq = 1;
    const audio = interleaveStereo8(MU.inbound, MU.outbound);
    for (let i = 0; i < 25; i++) ws.send(audio.subarray(i * 320, (i + 1) * 320));
    ws.send(client.message('paused', 'PT0.5S', {}));
    // 3.6 s paused (the idle limit is 1 s, checked on the recorder's tick), a ping every 400 ms.
    for (let ms = 400; ms <= 3600; ms += 400) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      ws.send(client.message('ping', `PT${0.5 + ms / 1000}S`, {}));
      await server.next('pong');
      client.serverseq++;
    }
    ws.send(client.message('resumed', 'PT4.1S', { start: 'PT0.5S', discarded: 'PT3.6S' }));
    for (let i = 25; i < 50; i++) ws.send(audio.subarray(i * 320, (i + 1) * 320));
    ws.send(client.message('close', 'PT4.6S', { reason: 'end' }));
    await server.next('closed');
    await closed;
    const meta = await finished;
    expect(meta).toMatchObject({ provider: 'genesys', status: 'complete', endReason: 'stop', durationMs: 4600 });
    expect(meta.pauses).toEqual([expect.objectContaining({ atMs: 500, endMs: 4100, behavior: 'silence' })]);
  });

  it('answers a connection probe (null conversation id) and records nothing', async () => {
    const ids = { ...audioHookIds(), conversationId: '00000000-0000-0000-0000-000000000000' };
    const client = new AudioHookClient(ids);
    const before = open.recorder.stats();
    const ws = await openSocket(open.wsUrl('genesys'), { headers: audioHookHeaders(ids) });
    const closed = whenClosed(ws);
    const server = replies(ws);
    ws.send(client.open([STEREO_OFFER]));
    expect(await server.next('opened')).toMatchObject({ seq: 1, clientseq: 1, parameters: { media: [STEREO_OFFER] } });
    client.serverseq = 1;
    ws.send(client.message('close', 'PT0S', { reason: 'end' }));
    expect(await server.next('closed')).toMatchObject({ seq: 2, clientseq: 2 });
    ws.close(1000, 'probe done');
    await closed;
    expect(open.recorder.stats().streamsStarted).toBe(before.streamsStarted);
  });

  it('tells a client whose open names another organization than its upgrade why, then closes (1008)', async () => {
    const ids = audioHookIds();
    const client = new AudioHookClient({ ...ids, organizationId: crypto.randomUUID() });
    const ws = await openSocket(open.wsUrl('genesys'), { headers: audioHookHeaders(ids) });
    const closed = whenClosed(ws);
    const server = replies(ws);
    ws.send(client.open([STEREO_OFFER]));
    expect(await server.next('disconnect')).toMatchObject({ seq: 1, parameters: { reason: 'unauthorized', info: expect.stringContaining('CALLTAPE_ERR_ORGANIZATION_MISMATCH') } });
    expect(await closed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_ORGANIZATION_MISMATCH' });
    expect(server.seen.map((m) => m.type)).toEqual(['disconnect']);
  });

  describe('with CALLTAPE_STREAM_TOKEN_SECRET', () => {
    const TOKEN_SECRET = 'a-stream-token-secret-for-tests';
    /** A token secret needs a way to tell who may be issued tokens (here: the answer key). */
    const TOKENS = { streamTokenSecret: TOKEN_SECRET, answerKey: 'an-answer-key-for-tests-0' };
    /** Opens a session with the API key and no stream token; resolves with what the server said and how it closed. */
    async function openWithoutToken(target: TestServer, ids = audioHookIds()) {
      const client = new AudioHookClient(ids);
      const ws = await openSocket(target.wsUrl('genesys'), { headers: audioHookHeaders(ids, API_KEY) });
      const closed = whenClosed(ws);
      const server = replies(ws);
      ws.send(client.open([STEREO_OFFER]));
      const first = await Promise.race([server.next('opened'), server.next('disconnect')]);
      if (first.type === 'opened') {
        client.serverseq = 1;
        ws.send(client.message('close', 'PT0S', { reason: 'end' }));
        await server.next('closed');
        ws.close(1000, 'done');
      }
      return { ids, first, closed: await closed };
    }

    it('refuses a Genesys stream without a token, unless CALLTAPE_STREAM_TOKEN_EXEMPT names genesys, whose key then proves it', async () => {
      const strict = await startTestServer({ genesysApiKey: API_KEY, ...TOKENS });
      const exempt = await startTestServer({ genesysApiKey: API_KEY, ...TOKENS, streamTokenExempt: ['genesys'] });
      try {
        const refused = await openWithoutToken(strict);
        expect(refused.first).toMatchObject({ type: 'disconnect', parameters: { reason: 'unauthorized', info: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' } });
        expect(refused.closed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
        // Waited for from before the session opens: it may finish before the socket has closed.
        const ids = audioHookIds();
        const finished = exempt.finishedStream(ids.sessionId);
        const accepted = await openWithoutToken(exempt, ids);
        expect(accepted.first).toMatchObject({ type: 'opened' });
        expect(await finished).toMatchObject({ provider: 'genesys', status: 'complete' });
        // The exemption is Genesys's own: its key on the upgrade does not let a Twilio stream in without a token.
        const call = newTwilioCall();
        const writer = new TwilioFrameWriter(call);
        const ws = await openSocket(exempt.wsUrl('auto'), { headers: { 'x-api-key': API_KEY } });
        const closed = whenClosed(ws);
        await sendAll(ws, [writer.connected(), writer.start(), ...mediaFrames('inbound', MU.inbound).slice(0, 5).map((f) => writer.media(f))]);
        expect(await closed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
      } finally {
        await strict.stop();
        await exempt.stop();
      }
    });

    it('refuses to start with an exemption that would let streams in unproven', async () => {
      await expect(startTestServer({ ...TOKENS, streamTokenExempt: ['acs'] })).rejects.toThrow('CALLTAPE_STREAM_TOKEN_EXEMPT: acs has no upgrade credential configured');
      await expect(startTestServer({ ...TOKENS, streamTokenExempt: ['auto'] })).rejects.toThrow('is not a provider');
      await expect(startTestServer({ genesysApiKey: API_KEY, streamTokenExempt: ['genesys'] })).rejects.toThrow('needs CALLTAPE_STREAM_TOKEN_SECRET');
    });
  });
});
