/**
 * Hostile stream peers over real sockets: sockets that never start, start late, stop first
 * or linger after stop cannot hold slots; routes without credentials cannot take the slots
 * of authenticated calls; timestamps that jump and senders faster than real time cannot
 * fill the disk; tokens and ids cannot be carried across providers.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { spawnCalltape } from '../helpers/process.js';
import { findRecordingDir, firstDifference, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function bytesOnDisk(dataDir: string): number {
  const root = path.join(dataDir, 'recordings');
  if (!fs.existsSync(root)) return 0;
  let total = 0;
  for (const rel of fs.readdirSync(root, { recursive: true }) as string[]) {
    const stat = fs.statSync(path.join(root, rel));
    if (stat.isFile()) total += stat.size;
  }
  return total;
}

describe('stream slots', () => {
  it('closes a socket that sends no start within startTimeoutMs, however busy it keeps the line', async () => {
    server = await startTestServer({ startTimeoutMs: 1000 });
    const ws = await openSocket(server.wsUrl());
    const closed = whenClosed(ws);
    const writer = new TwilioFrameWriter(newTwilioCall());
    const keepAlive = setInterval(() => ws.readyState === ws.OPEN && ws.send(writer.connected()), 200);
    const openedAt = performance.now();
    expect(await closed).toEqual({ code: 1008, reason: 'CALLTAPE_ERR_START_TIMEOUT' });
    clearInterval(keepAlive);
    // The deadline is checked each second: well under 5 s even on a busy machine.
    expect(performance.now() - openedAt).toBeLessThan(5000);
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_START_TIMEOUT).toBe(1);
    await waitFor(() => server!.recorder.activeCount === 0, 3000, 'the slot to be given back');
  });

  it('closes and uncounts a socket that sends stop first, and closes every call after its stop', async () => {
    server = await startTestServer();
    const writer = new TwilioFrameWriter(newTwilioCall());
    const first = await openSocket(server.wsUrl());
    const firstClosed = whenClosed(first);
    await sendAll(first, [writer.stop()]);
    expect(await firstClosed).toMatchObject({ code: 1000 });

    const call = newTwilioCall();
    const done = server.finished(1);
    const ws = await openSocket(server.wsUrl());
    const closed = whenClosed(ws);
    // The client never closes: the server does, once the recording is complete.
    await sendAll(ws, new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), { tracks: ['inbound'] }));
    expect(await closed).toMatchObject({ code: 1000 });
    expect((await done)[0]).toMatchObject({ status: 'complete', endReason: 'stop' });
    await waitFor(() => server!.recorder.activeCount === 0, 3000, 'both slots to be given back');
  });

  it('counts every open socket against maxStreams, and sockets without credentials against their own bound', async () => {
    const token = 'twilio-token-for-slots';
    server = await startTestServer({ maxStreams: 4, maxUnauthenticatedStreams: 2, twilioAuthToken: token });
    const squatters = [await openSocket(server.wsUrl('telnyx')), await openSocket(server.wsUrl('telnyx'))];
    await expect(openSocket(server.wsUrl('telnyx'))).rejects.toThrow('HTTP 503');
    await expect(openSocket(server.wsUrl('auto'))).rejects.toThrow('HTTP 503');
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_TOO_MANY_UNAUTHENTICATED_STREAMS).toBe(2);
    // Authenticated calls still get the slots the squatters cannot take.
    const signature = twilio.getExpectedTwilioSignature(token, server.wsUrl().replace('ws://', 'wss://'), {});
    const calls = [await openSocket(server.wsUrl(), { headers: { 'X-Twilio-Signature': signature } }), await openSocket(server.wsUrl(), { headers: { 'X-Twilio-Signature': signature } })];
    await expect(openSocket(server.wsUrl(), { headers: { 'X-Twilio-Signature': signature } })).rejects.toThrow('HTTP 503');
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_TOO_MANY_STREAMS).toBe(1);
    for (const ws of [...squatters, ...calls]) ws.close();
  });

  it('ends a recording at maxDurationMs of wall time from the upgrade, even when the start came late', async () => {
    server = await startTestServer({ maxDurationMs: 3000, idleTimeoutMs: 10_000 });
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(server.wsUrl());
    const closed = whenClosed(ws);
    const done = server.finished(1);
    await new Promise((r) => setTimeout(r, 1500)); // start arrives 1.5 s after the upgrade
    await sendAll(ws, [writer.start({ tracks: ['inbound'] })]);
    const frames = mediaFrames('inbound', SPEECH_IN_ULAW);
    let i = 0;
    const pace = setInterval(() => ws.readyState === ws.OPEN && i < frames.length && ws.send(writer.media(frames[i++]!)), 20);
    const [meta] = await done;
    clearInterval(pace);
    expect(meta).toMatchObject({ endReason: 'max-duration' });
    // About 1.5 s of the call fits before the socket's 3 s are up (the check runs each
    // second); counted from the start, the call would have reached the full 3 s.
    expect(meta!.durationMs).toBeLessThan(2800);
    expect(await closed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_MAX_DURATION' });
  });
});

describe('disk amplification', () => {
  it('timestamps jumping by just under maxGapMs per frame cannot outrun real time', async () => {
    server = await startTestServer();
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(server.wsUrl());
    const done = server.finished(1);
    const startedAt = performance.now();
    const payload = SPEECH_IN_ULAW.subarray(0, 160);
    const frames = Array.from({ length: 200 }, (_, i) => writer.media({ track: 'inbound', timestampMs: i * 299_980, payload }));
    await sendAll(ws, [writer.start({ tracks: ['inbound', 'outbound'] }), ...frames, writer.stop()]);
    const [meta] = await done;
    const elapsedMs = performance.now() - startedAt;
    // 200 frames of 20 ms would have made 16.6 hours; the recording holds at most the time
    // since the socket opened plus the 10 s allowance.
    expect(meta!.durationMs).toBeLessThanOrEqual(elapsedMs + 10_000);
    // Each frame after the first is refused: ahead of real time, or (once the jump from the
    // recording's end passes maxGapMs) as a timestamp jump.
    expect((meta!.rejections.CALLTAPE_ERR_AHEAD_OF_REAL_TIME ?? 0) + (meta!.rejections.CALLTAPE_ERR_TIMESTAMP_JUMP ?? 0)).toBe(199);
    expect(meta!.rejections.CALLTAPE_ERR_AHEAD_OF_REAL_TIME).toBeGreaterThan(0);
    expect(bytesOnDisk(server.dataDir)).toBeLessThan(((elapsedMs + 10_000) / 1000) * 8000 * 2 * 4 + 64 * 1024);
  });

  it('a sender faster than real time keeps exactly maxDurationMs, then the call ends', async () => {
    server = await startTestServer({ maxDurationMs: 2000, realtimeAllowanceMs: 60_000 });
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const done = server.finished(1);
    const ws = await openSocket(server.wsUrl());
    const closed = whenClosed(ws);
    // 6 s of audio at once, against a 2 s limit.
    await sendAll(ws, [writer.start({ tracks: ['inbound'] }), ...mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 48_000)).map((f) => writer.media(f))]);
    const [meta] = await done;
    expect(meta).toMatchObject({ endReason: 'max-duration', durationMs: 2000 });
    expect(await closed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_MAX_DURATION' });
    const pcm = ffmpegDecode(path.join(findRecordingDir(server.dataDir, call.streamSid), 'inbound.wav')).pcm;
    expect(pcm.length).toBe(2000 * 8 * 2);
    expect(firstDifference(pcm, SPEECH_IN_PCM.subarray(0, pcm.length))).toBe(-1);
  });

  it('without timestamps (arrival order) a fast sender is held to real time too', async () => {
    server = await startTestServer();
    const done = server.finished(1);
    const ws = await openSocket(server.wsUrl('freeswitch'), { protocols: ['audio.drachtio.org'] });
    const startedAt = performance.now();
    // 40 s of 8 kHz L16 in 20 ms frames, as fast as the socket takes them.
    await sendAll(ws, [JSON.stringify({ callSid: '6e8f4d4a-8f73-4d2e-9d0f-5b1d2a3c4e5f', sampleRate: 8000 }), ...Array.from({ length: 2000 }, () => Buffer.alloc(320, 1))]);
    ws.close();
    const [meta] = await done;
    expect(meta!.durationMs).toBeLessThanOrEqual(performance.now() - startedAt + 10_000 + 1000);
  });
});

describe('credentials across routes and providers', () => {
  it('refuses to start with a stream token secret and nothing to authenticate answer requests', async () => {
    await expect(startTestServer({ streamTokenSecret: 'a-long-enough-stream-secret' })).rejects.toThrow(/CALLTAPE_STREAM_TOKEN_SECRET is set without TWILIO_AUTH_TOKEN or CALLTAPE_ANSWER_KEY/);
  });

  it('/twiml issues tokens only to authenticated requests, bound to the provider', async () => {
    const key = 'an-answer-key-of-some-length';
    server = await startTestServer({ streamTokenSecret: 'a-long-enough-stream-secret', answerKey: key });
    const call = newTwilioCall();
    const post = (query: string) => fetch(`${server!.url}/twiml${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `CallSid=${call.callSid}` });
    expect((await post('')).status).toBe(401);
    expect((await post('?key=wrong-key-of-some-length')).status).toBe(403);
    const twiml = await (await post(`?key=${key}`)).text();
    const token = /name="token" value="([^"]+)"/.exec(twiml)![1]!;
    // The Twilio token, in a SignalWire-route start for the same call: refused.
    const ws = await openSocket(server.wsUrl('signalwire'));
    const closed = whenClosed(ws);
    await sendAll(ws, [new TwilioFrameWriter(call).start({ customParameters: { token } })]);
    expect(await closed).toEqual({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
  });

  it('with TWILIO_AUTH_TOKEN, an unsigned Twilio stream is refused on /streams/signalwire and /streams/auto too', async () => {
    server = await startTestServer({ twilioAuthToken: 'twilio-token-xyz' });
    for (const route of ['signalwire', 'auto']) {
      const call = newTwilioCall();
      const ws = await openSocket(server.wsUrl(route));
      const closed = whenClosed(ws);
      await sendAll(ws, new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), { tracks: ['inbound'] }));
      expect(await closed, route).toEqual({ code: 1008, reason: 'CALLTAPE_ERR_UNVERIFIED_PROVIDER' });
    }
    await server.catalog.settled();
    expect((await server.catalog.repo.list({ limit: 10 })).items).toEqual([]);
    expect(bytesOnDisk(server.dataDir)).toBe(0);
  });

  it('serves only CALLTAPE_STREAM_ROUTES, and warns at start-up about the routes anyone can stream to', async () => {
    server = await startTestServer({ streamRoutes: 'twilio,exotel' });
    await expect(openSocket(server.wsUrl('telnyx'))).rejects.toThrow('HTTP 404');
    (await openSocket(server.wsUrl('twilio'))).close();
    await server.stop();
    server = undefined;

    const proc = spawnCalltape(tempDataDir(), { TWILIO_AUTH_TOKEN: 'x-token', CALLTAPE_STREAM_ROUTES: 'twilio,telnyx,auto' });
    await proc.url;
    proc.child.kill('SIGTERM');
    await proc.exited;
    // Read once every line is in (the warning follows the listening line).
    const warning = proc.logs.find((l) => String(l.msg).startsWith('these stream routes accept streams from anyone'));
    expect(warning?.openStreamRoutes).toEqual(['/streams/telnyx', '/streams/auto']);
  });
});

describe('a peer that ignores the close', () => {
  it('is refused for its missing start once, not on every tick until the socket dies', async () => {
    server = await startTestServer({ startTimeoutMs: 500 });
    const { hostname, port } = new URL(server.url);
    // A WebSocket handshake by hand, then silence: no start, and no answer to the close.
    const socket = net.connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.write(
      `GET /streams/twilio HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    await waitFor(() => received.startsWith('HTTP/1.1 101'), 5000, 'the upgrade');
    // The close frame arrives; the peer says nothing back for three more ticks.
    await waitFor(() => server!.recorder.stats().rejections.CALLTAPE_ERR_START_TIMEOUT === 1, 5000, 'the start deadline');
    await new Promise((r) => setTimeout(r, 3500));
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_START_TIMEOUT).toBe(1);
    socket.destroy();
  });
});
