/**
 * Listening to a live call over a real socket: the listener hears both tracks as 16-bit PCM,
 * sample for sample what the recording keeps (checked against ffmpeg's decode of the mu-law
 * sent), from the moment it joined until the call ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('listening to a live call', () => {
  it('hears both tracks as they are recorded, and is let go when the call ends', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.connected(), writer.start(), ...frames.slice(0, 20).map((f) => writer.media(f))]);
    await waitFor(() => server.recorder.liveStreams().some((live) => live.streamSid === call.streamSid), 5000, 'the call to be live');

    const listener = new WebSocket(`${server.url.replace('http', 'ws')}/api/streams/${call.streamSid}/listen`);
    const heard: Buffer[] = [];
    listener.on('message', (data: Buffer) => heard.push(Buffer.from(data)));
    const listenerClosed = new Promise<{ code: number; reason: string }>((resolve) => listener.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve, reject) => listener.once('open', resolve).once('error', reject));

    const done = server.finishedStream(call.streamSid);
    await sendAll(ws, [...frames.slice(20).map((f) => writer.media(f)), writer.stop()]);
    await whenClosed(ws);
    await done;
    expect(await listenerClosed).toEqual({ code: 1000, reason: 'recording finished' });

    // Inbound as heard, placed by position: exactly the reference decode from where it joined.
    const inbound = heard.filter((m) => m[0] === 0);
    const outbound = heard.filter((m) => m[0] === 1);
    expect(inbound.length).toBeGreaterThan(100);
    expect(outbound.length).toBeGreaterThan(100);
    const first = inbound[0]!.readUInt32LE(1);
    const pcm = Buffer.concat(inbound.map((m) => m.subarray(5)));
    expect(first % 160).toBe(0);
    expect(pcm.equals(SPEECH_IN_PCM.subarray(first * 2, first * 2 + pcm.length))).toBe(true);
    expect(first * 2 + pcm.length).toBe(SPEECH_IN_PCM.length);
  });

  it('is refused for a call that is not live, before any socket opens', async () => {
    await expect(openSocket(`${server.url.replace('http', 'ws')}/api/streams/MZ0123/listen`)).rejects.toThrow('HTTP 404');
  });
});
