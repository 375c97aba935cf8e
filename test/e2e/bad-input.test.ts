/**
 * Every kind of bad input over a real socket, each beside a healthy call in progress: the bad
 * stream gets its rejection (code counted, close code or HTTP status where it ends), the
 * healthy call's files stay sample-exact, and a finished recording is never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { fileHashes, findRecordingDir, firstDifference, interleaveStereo, padPcm, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, streamSession, whenClosed, type Closed } from '../helpers/ws-client.js';

let server: TestServer;
let healthy: { ws: WebSocket; writer: TwilioFrameWriter; streamSid: string; frames: string[]; sent: number };
let finishedDir: string;
let finishedStreamSid: string;
let finishedHashes: Record<string, string>;

/** Sends the next stretch of the healthy call, so it is live while each bad stream runs. */
async function advanceHealthy(count = 20): Promise<void> {
  const next = healthy.frames.slice(healthy.sent, healthy.sent + count);
  healthy.sent += next.length;
  await sendAll(healthy.ws, next);
}

const rejections = (code: ErrorCode) => server.recorder.stats().rejections[code] ?? 0;

/** Opens a stream, sends `frames`, and reports the rejection count change and how it closed. */
async function badStream(frames: Array<string | Buffer>, code: ErrorCode, opts: { expectClose?: number } = {}): Promise<Closed | undefined> {
  const before = rejections(code);
  const ws = await openSocket(server.wsUrl());
  const closed = whenClosed(ws);
  await sendAll(ws, frames).catch(() => undefined); // the server may close mid-way
  await advanceHealthy();
  await waitFor(() => rejections(code) > before, 5000, code);
  let result: Closed | undefined;
  if (opts.expectClose !== undefined) result = await closed;
  else {
    expect(ws.readyState).toBe(1); // still open: a bad frame does not end the stream
    ws.close();
    await closed;
  }
  return result;
}

beforeAll(async () => {
  server = await startTestServer({ maxPayloadBytes: 16_384, preStartFrames: 5 });
  // A finished recording that nothing below may touch.
  const done = newTwilioCall();
  const firstFinished = server.finished(1);
  await streamSession(server.wsUrl(), new TwilioFrameWriter(done).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 4000)), { tracks: ['inbound'] }));
  await firstFinished;
  // Its post-call steps (peaks.bin) done: from here on nothing may change it.
  await server.pipelineSettled();
  finishedDir = findRecordingDir(server.dataDir, done.streamSid);
  finishedHashes = fileHashes(finishedDir);

  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const ws = await openSocket(server.wsUrl());
  const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW)).map((f) => writer.media(f));
  await sendAll(ws, [writer.connected(), writer.start()]);
  healthy = { ws, writer, streamSid: call.streamSid, frames, sent: 0 };
  await advanceHealthy();
  finishedStreamSid = done.streamSid;
});

afterAll(async () => {
  await server.stop();
});

function started(): { writer: TwilioFrameWriter; start: string } {
  const writer = new TwilioFrameWriter(newTwilioCall());
  return { writer, start: writer.start({ tracks: ['inbound'] }) };
}

const media = (writer: TwilioFrameWriter, ts = 0, bytes = 160) => writer.media({ track: 'inbound', timestampMs: ts, payload: SPEECH_IN_ULAW.subarray(0, bytes) });

describe('bad input beside a healthy call', () => {
  it('invalid JSON', async () => {
    const { writer, start } = started();
    await badStream([start, '{"event":"media","media":{', media(writer)], 'CALLTAPE_ERR_INVALID_JSON');
  });

  it('valid JSON of the wrong shape', async () => {
    const { start } = started();
    await badStream([start, JSON.stringify({ event: 'media', media: { track: 'inbound', payload: 42 } })], 'CALLTAPE_ERR_BAD_SHAPE');
  });

  it('bad base64', async () => {
    const { writer, start } = started();
    await badStream([start, media(writer).replace(/"payload":"[^"]*"/, '"payload":"****"')], 'CALLTAPE_ERR_BAD_BASE64');
  });

  it('payload length that does not fit the format (odd bytes of L16)', async () => {
    const before = rejections('CALLTAPE_ERR_BAD_PAYLOAD_LENGTH');
    const ws = await openSocket(server.wsUrl('signalwire'));
    const id = crypto.randomUUID();
    await sendAll(ws, [
      JSON.stringify({ event: 'start', start: { streamSid: id, callSid: id, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 } } }),
      JSON.stringify({ event: 'media', media: { track: 'inbound', timestamp: '0', payload: Buffer.alloc(321).toString('base64') } }),
    ]);
    await advanceHealthy();
    await waitFor(() => rejections('CALLTAPE_ERR_BAD_PAYLOAD_LENGTH') > before, 5000, 'bad length');
    ws.close();
  });

  it('unknown event', async () => {
    const { start } = started();
    await badStream([start, JSON.stringify({ event: 'transcription', text: 'hi' })], 'CALLTAPE_ERR_UNKNOWN_EVENT');
  });

  it('media before start, past the pre-start buffer', async () => {
    const { writer } = started();
    await badStream(Array.from({ length: 7 }, (_, i) => media(writer, i * 20)), 'CALLTAPE_ERR_MEDIA_BEFORE_START');
  });

  it('a second start', async () => {
    const { writer, start } = started();
    await badStream([start, media(writer), writer.start({ tracks: ['inbound'] })], 'CALLTAPE_ERR_DUPLICATE_START');
  });

  for (const [label, edit] of [
    ['another id of the same length', (frame: string, sid: string) => frame.replace(sid, newTwilioCall().streamSid)],
    ['a prefix of its id', (frame: string, sid: string) => frame.replace(sid, sid.slice(0, -1))],
    ['another id, in a layout only the ordinary parser reads', (frame: string, sid: string) => frame.replace(sid, newTwilioCall().streamSid).replace('{"event":"media"', '{"x":1,"event":"media"')],
  ] as const) {
    it(`media naming a different stream (${label})`, async () => {
      const { writer, start } = started();
      const frame = media(writer);
      await badStream([start, edit(frame, (JSON.parse(frame) as { streamSid: string }).streamSid)], 'CALLTAPE_ERR_STREAM_MISMATCH');
    });
  }

  it('unknown track name', async () => {
    const { writer, start } = started();
    await badStream([start, media(writer).replace('"track":"inbound"', '"track":"sideways"')], 'CALLTAPE_ERR_UNKNOWN_TRACK');
  });

  for (const [label, streamSid] of [
    ['a path', '../../etc/passwd'],
    ['a NUL byte', `MZ${'0'.repeat(31)}\u0000`],
    ['10 KB', `MZ${'a'.repeat(10_240)}`],
  ] as const) {
    it(`an id that is not a SID (${label}) is refused with 1008 and never touches a path`, async () => {
      const start = JSON.stringify({ event: 'start', start: { streamSid, callSid: newTwilioCall().callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } });
      const closed = await badStream([start], 'CALLTAPE_ERR_INVALID_ID', { expectClose: 1008 });
      expect(closed?.code).toBe(1008);
      expect((fs.readdirSync(path.join(server.dataDir, 'recordings'), { recursive: true }) as string[]).some((p) => p.includes('passwd') || p.includes('aaaaaaaaaa'))).toBe(false);
    });
  }

  it('a frame over maxPayload closes with 1009', async () => {
    const { writer, start } = started();
    const closed = await badStream([start, writer.media({ track: 'inbound', timestampMs: 0, payload: Buffer.alloc(20_000, 0x7f) })], 'CALLTAPE_ERR_FRAME_TOO_BIG', { expectClose: 1009 });
    expect(closed?.code).toBe(1009);
  });

  it('a binary frame on the text protocol', async () => {
    const { start } = started();
    await badStream([start, Buffer.from([1, 2, 3, 4])], 'CALLTAPE_ERR_BINARY_FRAME');
  });

  it('a timestamp an hour ahead does not make an hour of silence', async () => {
    const { writer, start } = started();
    await badStream([start, media(writer, 0), media(writer, 3_600_000)], 'CALLTAPE_ERR_TIMESTAMP_JUMP');
  });

  it('a start for a stream that already has a finished recording leaves it untouched', async () => {
    const writer = new TwilioFrameWriter({ ...newTwilioCall(), streamSid: finishedStreamSid });
    const closed = await badStream([writer.start({ tracks: ['inbound'] }), media(writer)], 'CALLTAPE_ERR_STREAM_EXISTS', { expectClose: 1008 });
    expect(closed?.code).toBe(1008);
  });

  it('after all that: the healthy call is sample-exact and the finished one unchanged', async () => {
    // Its own recording: a bad stream closed just before may still be finishing.
    const finished = server.finishedStream(healthy.streamSid);
    await sendAll(healthy.ws, [...healthy.frames.slice(healthy.sent), healthy.writer.stop()]);
    const meta = await finished;
    expect(meta).toMatchObject({ streamSid: healthy.streamSid, status: 'complete' });
    // toMatchObject takes {} for any object: emptiness is checked on its own.
    expect(meta.rejections).toEqual({});
    const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
    const dir = findRecordingDir(server.dataDir, healthy.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(padPcm(SPEECH_IN_PCM, samples), padPcm(SPEECH_OUT_PCM, samples)))).toBe(-1);
    expect(fileHashes(finishedDir)).toEqual(finishedHashes);
    healthy.ws.close();
  });
});
