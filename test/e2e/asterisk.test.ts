/**
 * Asterisk's WebSocket channel beyond the contract sessions: its credentials (websocket_client.conf's
 * username/password as HTTP Basic, or a token the dial string's v() puts in the URL) refused
 * when missing or wrong and accepted when right, the token never in the log; and the
 * plain-text MEDIA_START recognised on /streams/auto without the subprotocol.
 * (asterisk/documentation, docs/Configuration/Channel-Drivers/WebSocket.md.)
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MU, MU_REF } from '../contract/speech.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { callFiles, findRecordingDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const TOKEN = 'asterisk-url-token-9f2c41d07b';
let server: TestServer;
let open: TestServer;
beforeAll(async () => {
  server = await startTestServer({ asteriskBasicAuth: 'asterisk:s3cret-pass-1234', asteriskUrlToken: TOKEN });
  open = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  await open?.stop();
});

const mediaStart = (connectionId: string) => `MEDIA_START connection_id:${connectionId} channel:WebSocket/c1-00000001 channel_id:pbx1-1.1 format:ulaw optimal_frame_size:160 ptime:20`;
const frames = (connectionId: string) => [mediaStart(connectionId), ...Array.from({ length: 25 }, (_, i) => SPEECH_IN_ULAW.subarray(i * 160, (i + 1) * 160))];
const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });

describe('Asterisk WebSocket channel', () => {
  it('refuses an upgrade without a credential (401) or with a wrong one (403), before any socket opens', async () => {
    await expect(openSocket(server.wsUrl('asterisk'), { protocols: ['media'] })).rejects.toThrow('HTTP 401');
    await expect(openSocket(server.wsUrl('asterisk'), { protocols: ['media'], headers: basic('asterisk:wrong') })).rejects.toThrow('HTTP 403');
    await expect(openSocket(`${server.wsUrl('asterisk')}?token=not-the-token-000000`, { protocols: ['media'] })).rejects.toThrow('HTTP 403');
  });

  it('records with the right Basic credentials or the right URL token', async () => {
    for (const [url, headers] of [
      [server.wsUrl('asterisk'), basic('asterisk:s3cret-pass-1234')],
      [`${server.wsUrl('asterisk')}?token=${TOKEN}`, {}],
    ] as const) {
      const connectionId = crypto.randomUUID();
      const finished = server.finished(1);
      const ws = await openSocket(url, { protocols: ['media'], headers });
      const closed = whenClosed(ws);
      await sendAll(ws, frames(connectionId));
      ws.close(1000, 'hangup');
      await closed;
      const [meta] = await finished;
      expect(meta).toMatchObject({ provider: 'asterisk', streamSid: connectionId, callSid: 'pbx1-1.1', tracks: ['inbound'] });
    }
  });

  it('is recognised on /streams/auto by its plain-text MEDIA_START, without the subprotocol', async () => {
    const connectionId = crypto.randomUUID();
    const finished = open.finished(1);
    const ws = await openSocket(open.wsUrl('auto'));
    const closed = whenClosed(ws);
    await sendAll(ws, frames(connectionId));
    ws.close(1000, 'hangup');
    await closed;
    const [meta] = await finished;
    expect(meta).toMatchObject({ provider: 'asterisk', streamSid: connectionId, fileFormat: { sampleRate: 8000 } });
    expect(meta!.durationMs).toBe(500);
  });
});

describe('Asterisk: both directions of a call, one recording', () => {
  // Two snoop channels (spy in, spy out), each its own WebSocket channel, the dialplan setting
  // CALLTAPE_CALL_ID and CALLTAPE_TRACK on each (channel_variables of the JSON MEDIA_START).
  const start = (connectionId: string, callId: string, track: string) =>
    JSON.stringify({ event: 'MEDIA_START', connection_id: connectionId, channel: `WebSocket/snoop-${track}`, channel_id: `pbx1-${track}.7`, format: 'ulaw', optimal_frame_size: 160, ptime: 20, channel_variables: { CALLTAPE_CALL_ID: callId, CALLTAPE_TRACK: track } });
  const chunksOf = (audio: Buffer) => Array.from({ length: audio.length / 160 }, (_, i) => audio.subarray(i * 160, (i + 1) * 160));

  /** The track's samples equal `expected` after some silence (its stream joined a little later); returns that offset. */
  function placedAfterSilence(pcm: Buffer, expected: Buffer): number {
    for (let offset = 0; offset <= 800 * 2; offset += 2) {
      if (pcm.subarray(offset, offset + expected.length).equals(expected) && pcm.subarray(0, offset).every((b) => b === 0)) return offset / 2;
    }
    throw new Error('the audio is not in the file as sent (after at most 100 ms of silence)');
  }

  it('joins the inbound and outbound snoops of one call id into one two-track recording, each sample-exact', async () => {
    const callId = `call-${crypto.randomUUID()}`;
    const [inboundId, outboundId] = [crypto.randomUUID(), crypto.randomUUID()];
    const finished = open.finishedStream(inboundId);
    const caller = await openSocket(open.wsUrl('asterisk'), { protocols: ['media'] });
    const heard = await openSocket(open.wsUrl('asterisk'), { protocols: ['media'] });
    const closed = [whenClosed(caller), whenClosed(heard)];
    await sendAll(caller, [start(inboundId, callId, 'inbound')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sendAll(heard, [start(outboundId, callId, 'outbound')]);
    const inboundFrames = chunksOf(MU.inbound);
    const outboundFrames = chunksOf(MU.outbound);
    // In real time, as Asterisk sends: the server places these streams' audio by arrival.
    // The snoop recording the call hangs up first; the other's last 200 ms come after that.
    const began = performance.now();
    for (let i = 0; i < inboundFrames.length; i++) {
      if (i < inboundFrames.length - 10) caller.send(inboundFrames[i]!);
      else if (i === inboundFrames.length - 10) {
        for (const frame of inboundFrames.slice(i)) caller.send(frame);
        caller.close(1000, 'hangup');
      }
      heard.send(outboundFrames[i]!);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, began + (i + 1) * 20 - performance.now())));
    }
    heard.close(1000, 'hangup');
    await Promise.all(closed);
    const meta = await finished;
    expect(meta).toMatchObject({ provider: 'asterisk', callSid: callId, status: 'complete', tracks: ['inbound', 'outbound'] });
    expect(meta.rejections).toEqual({});
    expect(meta.notices).toEqual([expect.objectContaining({ message: expect.stringContaining(`the outbound direction joined from connection ${outboundId} (pbx1-outbound.7)`) })]);
    const dir = findRecordingDir(open.dataDir, inboundId);
    expect(callFiles(dir)).toEqual(['inbound.wav', 'meta.json', 'outbound.wav', 'stereo.wav']);
    expect(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm.subarray(0, MU_REF.inbound.length).equals(MU_REF.inbound)).toBe(true);
    placedAfterSilence(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, MU_REF.outbound);
    // No second recording of the call: the outbound stream made none of its own.
    expect(() => findRecordingDir(open.dataDir, outboundId)).toThrow(/no recording directory/);
  });

  it('records a direction whose other half never comes alone, and a second stream of the same direction apart', async () => {
    const callId = `call-${crypto.randomUUID()}`;
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    const finished = open.finished(2);
    for (const connectionId of [first, second]) {
      const ws = await openSocket(open.wsUrl('asterisk'), { protocols: ['media'] });
      const closed = whenClosed(ws);
      await sendAll(ws, [start(connectionId, callId, 'inbound'), ...chunksOf(MU.inbound).slice(0, 25)]);
      ws.close(1000, 'hangup');
      await closed;
    }
    const metas = await finished;
    expect(metas.map((m) => [m.streamSid, m.tracks, m.durationMs])).toEqual([
      [first, ['inbound'], 500],
      [second, ['inbound'], 500],
    ]);
  });
});
