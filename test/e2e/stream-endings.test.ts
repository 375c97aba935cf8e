/**
 * Every way a stream ends leaves finished files and a meta.json saying how: stop, a socket
 * that closes without stop, a frame over the size limit, and SIGTERM to a real process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalogDb } from '../../src/catalog/db.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { openLiveCalls } from '../helpers/live-calls.js';
import { spawnCalltape } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, padPcm, readMeta, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';
import { ffmpegDecodeG711 } from '../helpers/ffmpeg.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ maxPayloadBytes: 4096 });
});
afterAll(async () => {
  await server.stop();
});

describe('a stream that ends without stop', () => {
  it('is finalized on socket close, with meta.json saying closed', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, 150);
    const ws = await openSocket(server.wsUrl());
    const done = server.finished(1);
    await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...frames.map((f) => writer.media(f))]);
    ws.terminate(); // no stop, no close handshake: the provider's connection just drops
    const [meta] = await done;
    expect(meta).toMatchObject({ status: 'complete', endReason: 'closed', closeCode: 1006, durationMs: 3000 });
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, SPEECH_IN_PCM.subarray(0, 150 * 320))).toBe(-1);
    expect(readMeta(dir).endReason).toBe('closed');
  });

  it('closes with 1009 on a frame over maxPayload and keeps the audio received before it', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, 50);
    const ws = await openSocket(server.wsUrl());
    const closed = whenClosed(ws);
    const done = server.finished(1);
    await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...frames.map((f) => writer.media(f))]);
    ws.send(writer.media({ track: 'inbound', timestampMs: 1000, payload: Buffer.alloc(8000, 0x7f) }));
    expect((await closed).code).toBe(1009);
    const [meta] = await done;
    expect(meta).toMatchObject({ endReason: 'closed', closeCode: 1009, closeReason: 'CALLTAPE_ERR_FRAME_TOO_BIG', rejections: { CALLTAPE_ERR_FRAME_TOO_BIG: 1 } });
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, SPEECH_IN_PCM.subarray(0, 50 * 320))).toBe(-1);
  });

  it('holds media that arrives before start and records it once start comes', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = mediaFrames('inbound', SPEECH_IN_ULAW);
    const media = frames.map((f) => writer.media(f));
    const done = server.finished(1);
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.connected(), ...media.slice(0, 5), writer.start({ tracks: ['inbound'] }), ...media.slice(5), writer.stop()]);
    const [meta] = await done;
    ws.close();
    expect(meta!.rejections).toEqual({});
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, SPEECH_IN_PCM)).toBe(-1);
  });

  it('records nothing and says why when a start names an unusable stream id', async () => {
    const ws = await openSocket(server.wsUrl());
    const before = server.recorder.stats().rejections.CALLTAPE_ERR_INVALID_ID ?? 0;
    const closed = whenClosed(ws);
    await sendAll(ws, [JSON.stringify({ event: 'start', start: { streamSid: '../../etc/passwd', callSid: 'CA1', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } })]);
    expect(await closed).toEqual({ code: 1008, reason: 'CALLTAPE_ERR_INVALID_ID' });
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_INVALID_ID).toBe(before + 1);
    expect(fs.readdirSync(path.join(server.dataDir, 'recordings'), { recursive: true }).some((p) => String(p).includes('passwd'))).toBe(false);
  });
});

describe('a shutdown between two reads of a socket', () => {
  it('reads what waits in the kernel before it finishes the recording: audio that reached the machine is kept', async () => {
    // Reads 300 ms apart: the frames sent after a read wait in the kernel until the next.
    const batched = await startTestServer({ readIntervalMs: 300 });
    try {
      const call = newTwilioCall();
      const writer = new TwilioFrameWriter(call);
      const frames = mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, 60);
      const ws = await openSocket(batched.wsUrl());
      await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...frames.slice(0, 10).map((f) => writer.media(f))]);
      // Past the first interval (a new socket is read as data comes), then a read that makes it wait.
      await new Promise((r) => setTimeout(r, 350));
      await sendAll(ws, [writer.media(frames[10]!)]);
      await waitFor(() => batched.recorder.stats().framesReceived === 13, 2000, 'the 11th media frame read');
      await sendAll(ws, frames.slice(11).map((f) => writer.media(f)));
      await new Promise((r) => setTimeout(r, 50));
      const done = batched.finished(1);
      await batched.stop();
      const [meta] = await done;
      expect(meta).toMatchObject({ status: 'complete', endReason: 'shutdown', durationMs: 1200 });
      const dir = findRecordingDir(batched.dataDir, call.streamSid);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, SPEECH_IN_PCM.subarray(0, 60 * 320))).toBe(-1);
    } finally {
      // Stopped already when the test got that far; a failure before must not leave it running.
      await batched.stop();
    }
  });
});

describe('SIGTERM', () => {
  it('finishes all 10 live calls of a real calltape process, sends or keeps their webhooks, and exits 0', async () => {
    const dataDir = tempDataDir();
    // Half the webhooks fail: those must stay pending in the outbox, the rest get delivered.
    const receiver = await startReceiver({ answers: [503, 503, 503, 503, 503] });
    const server = spawnCalltape(dataDir, { CALLTAPE_WEBHOOK_URL: receiver.url, CALLTAPE_WEBHOOK_RETRY_BASE_MS: '60000' });
    const url = await server.url;
    const logs = server.logs;
    expect(logs.find((l) => l.url === url)!.msg).toMatch(/^calltape listening on http:\/\/127\.0\.0\.1:\d+ .*recordings go to /);

    // Two seconds of each track, and the calls still going when the signal comes.
    const calls = await openLiveCalls(`${url.replace('http', 'ws')}/streams/twilio`, 10, 2000);
    await new Promise((r) => setTimeout(r, 300)); // let the server take in what was sent
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    for (const c of calls) {
      expect((await c.closed).code).toBe(1001);
      const dir = findRecordingDir(dataDir, c.call.streamSid);
      const meta = readMeta(dir);
      expect(meta).toMatchObject({ status: 'complete', endReason: 'shutdown', durationMs: 2000 });
      const expected = padPcm(ffmpegDecodeG711(c.outbound.subarray(0, 16000), 'mulaw'), 16000);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, expected)).toBe(-1);
      expect(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm.length).toBe(16000 * 4);
    }
    expect(logs.some((l) => l.msg === 'shutdown complete')).toBe(true);
    // Outbox drained or persisted: every recording's webhook was delivered or is still pending.
    const catalog = await openCatalogDb({ dataDir });
    const rows = await catalog.db.selectFrom('webhook_deliveries').select(['status', 'body']).execute();
    await catalog.close();
    await receiver.close();
    expect(rows).toHaveLength(10);
    const delivered = receiver.received.filter((r) => r.answeredWith === 200).length;
    expect(rows.filter((r) => r.status === 'delivered')).toHaveLength(delivered);
    expect(rows.filter((r) => r.status === 'pending')).toHaveLength(10 - delivered);
    expect(delivered).toBe(5);
  });
});
