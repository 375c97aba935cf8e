/**
 * End to end over a real socket: exact Twilio frames carrying real speech in, files out,
 * checked sample for sample against ffmpeg's decode of the same mu-law bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { rotated, SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, interleaveStereo, padPcm, readMeta } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter, type MediaFrame } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';
import { ffmpegDecodeG711 } from '../helpers/ffmpeg.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.stop();
});

function expectPcm(file: string, expected: Buffer, channels = 1): void {
  const decoded = ffmpegDecode(file);
  expect(decoded.codec).toBe('pcm_s16le');
  expect(decoded.sampleRate).toBe(8000);
  expect(decoded.channels).toBe(channels);
  expect(decoded.pcm.length).toBe(expected.length);
  expect(firstDifference(decoded.pcm, expected)).toBe(-1);
}

describe('a two-track Twilio call', () => {
  it('writes inbound, outbound and stereo files that decode sample-exact, and meta.json', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
    const messages = [
      writer.connected(),
      writer.start({ customParameters: { FirstName: 'Jane', campaign: 'q4 <renewals> & "more"' } }),
      ...frames.slice(0, 100).map((f) => writer.media(f)),
      writer.dtmf('7'),
      ...frames.slice(100).map((f) => writer.media(f)),
      writer.stop(),
    ];
    const done = server.finished(1);
    const closed = await streamSession(server.wsUrl(), messages);
    expect(closed.code).toBe(1000);
    const [meta] = await done;

    const dir = findRecordingDir(server.dataDir, call.streamSid);
    const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
    const inbound = padPcm(SPEECH_IN_PCM, samples);
    const outbound = padPcm(SPEECH_OUT_PCM, samples);
    expectPcm(path.join(dir, 'inbound.wav'), inbound);
    expectPcm(path.join(dir, 'outbound.wav'), outbound);
    expectPcm(path.join(dir, 'stereo.wav'), interleaveStereo(inbound, outbound), 2);

    const onDisk = readMeta(dir);
    expect(onDisk).toEqual(meta);
    expect(onDisk).toMatchObject({
      provider: 'twilio',
      callSid: call.callSid,
      streamSid: call.streamSid,
      accountSid: call.accountSid,
      status: 'complete',
      endReason: 'stop',
      tracks: ['inbound', 'outbound'],
      mediaFormat: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
      fileFormat: { format: 'pcm16', sampleRate: 8000 },
      customParameters: { FirstName: 'Jane', campaign: 'q4 <renewals> & "more"' },
      durationMs: Math.round(samples / 8),
    });
    // toMatchObject takes {} for any object: emptiness is checked on its own.
    expect(onDisk.rejections).toEqual({});
    const inboundFrames = Math.ceil(SPEECH_IN_ULAW.length / 160);
    expect(onDisk.inbound).toMatchObject({ file: 'inbound.wav', bytes: samples * 2, framesReceived: inboundFrames, framesPlaced: inboundFrames, framesDropped: 0 });
    expect(onDisk.stereo).toMatchObject({ file: 'stereo.wav', bytes: samples * 4 });
    // The outbound clip is shorter: the rest of its file is padding, counted as gap fill.
    expect(onDisk.outbound?.gapFilledMs).toBe(Math.round((samples - SPEECH_OUT_PCM.length / 2) / 8));
    expect(onDisk.dtmf).toHaveLength(1);
    expect(onDisk.dtmf[0]).toMatchObject({ digit: '7', track: 'inbound_track' });
    // dtmf arrived after 100 interleaved frames = 50 per track = 1 s of call time.
    expect(onDisk.dtmf[0]!.atMs).toBe(1000);
    expect(Date.parse(onDisk.endedAt)).toBeGreaterThanOrEqual(Date.parse(onDisk.startedAt));
  });

  it('keeps 50 concurrent calls apart: each file holds exactly its own call', async () => {
    const calls = Array.from({ length: 50 }, (_, i) => {
      const call = newTwilioCall();
      const inboundUlaw = rotated(SPEECH_IN_ULAW, i * 997);
      const outboundUlaw = rotated(SPEECH_OUT_ULAW, i * 1499);
      const writer = new TwilioFrameWriter(call);
      const messages = writer.session(interleave(mediaFrames('inbound', inboundUlaw), mediaFrames('outbound', outboundUlaw)));
      return { call, inboundUlaw, outboundUlaw, messages };
    });
    const done = server.finished(50);
    await Promise.all(calls.map((c) => streamSession(server.wsUrl(), c.messages)));
    const metas = await done;
    expect(new Set(metas.map((m) => m.streamSid)).size).toBe(50);

    for (const c of calls) {
      const dir = findRecordingDir(server.dataDir, c.call.streamSid);
      const samples = Math.max(c.inboundUlaw.length, c.outboundUlaw.length);
      // Expected audio from ffmpeg's decode of this call's own bytes.
      const inbound = padPcm(ffmpegDecodeG711(c.inboundUlaw, 'mulaw'), samples);
      const outbound = padPcm(ffmpegDecodeG711(c.outboundUlaw, 'mulaw'), samples);
      const stereo = ffmpegDecode(path.join(dir, 'stereo.wav'));
      expect(firstDifference(stereo.pcm, interleaveStereo(inbound, outbound))).toBe(-1);
      expect(stereo.pcm.length).toBe(samples * 4);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, inbound)).toBe(-1);
      expect(readMeta(dir).callSid).toBe(c.call.callSid);
    }
  });
});

describe('timeline', () => {
  it('fills a 2 s hole in the outbound track with silence and keeps the tracks aligned', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const outboundFrames = mediaFrames('outbound', SPEECH_OUT_ULAW);
    // Frames covering 1000..3000 ms never arrive (Twilio 31930: congestion drops audio).
    const holey = outboundFrames.filter((f) => f.timestampMs < 1000 || f.timestampMs >= 3000);
    const done = server.finished(1);
    await streamSession(server.wsUrl(), writer.session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), holey)));
    const [meta] = await done;

    const dir = findRecordingDir(server.dataDir, call.streamSid);
    const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
    const outbound = Buffer.from(padPcm(SPEECH_OUT_PCM, samples));
    outbound.fill(0, 1000 * 8 * 2, 3000 * 8 * 2);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, outbound)).toBe(-1);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, padPcm(SPEECH_IN_PCM, samples))).toBe(-1);
    expect(meta!.outbound!.framesReceived).toBe(holey.length);
    expect(meta!.outbound!.gapFilledMs).toBe(2000 + Math.round((samples - SPEECH_OUT_PCM.length / 2) / 8));
  });

  it('drops duplicates and places reordered frames where their timestamps say', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames: MediaFrame[] = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
    // Duplicate every 10th frame right after itself, and swap neighbours every 7 frames.
    const network: MediaFrame[] = [];
    frames.forEach((f, i) => {
      network.push(f);
      if (i % 10 === 0) network.push(f);
    });
    for (let i = 0; i + 2 < network.length; i += 7) [network[i], network[i + 2]] = [network[i + 2]!, network[i]!];
    const done = server.finished(1);
    await streamSession(server.wsUrl(), writer.session(network));
    const [meta] = await done;

    const dir = findRecordingDir(server.dataDir, call.streamSid);
    const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
    const inbound = padPcm(SPEECH_IN_PCM, samples);
    const outbound = padPcm(SPEECH_OUT_PCM, samples);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(inbound, outbound))).toBe(-1);
    const duplicates = Math.ceil(frames.length / 10);
    expect((meta!.inbound!.framesDropped) + (meta!.outbound!.framesDropped)).toBe(duplicates);
    expect(meta!.rejections.CALLTAPE_ERR_DUPLICATE_AUDIO).toBe(duplicates);
  });

  it('turns an unusable media frame into 20 ms of silence and goes on', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = mediaFrames('inbound', SPEECH_IN_ULAW);
    const messages = [writer.connected(), writer.start({ tracks: ['inbound'] })];
    frames.forEach((f, i) => {
      const text = writer.media(f);
      if (i === 10) messages.push(text.replace(/"payload":"[^"]*"/, '"payload":"!!not base64!!"'));
      else if (i === 20) messages.push(text.slice(0, 40));
      else if (i === 30) messages.push(JSON.stringify({ ...JSON.parse(text), media: { track: 'inbound', timestamp: String(f.timestampMs) } }));
      else messages.push(text);
    });
    messages.push(writer.stop());
    const done = server.finished(1);
    await streamSession(server.wsUrl(), messages);
    const [meta] = await done;

    const dir = findRecordingDir(server.dataDir, call.streamSid);
    const expected = Buffer.from(SPEECH_IN_PCM);
    for (const lost of [10, 20, 30]) expected.fill(0, lost * 320, (lost + 1) * 320);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, expected)).toBe(-1);
    expect(fs.existsSync(path.join(dir, 'stereo.wav'))).toBe(false);
    expect(meta!.rejections).toEqual({ CALLTAPE_ERR_BAD_BASE64: 1, CALLTAPE_ERR_INVALID_JSON: 1, CALLTAPE_ERR_BAD_SHAPE: 1 });
    expect(meta!.inbound!.gapFilledMs).toBe(60);
  });
});
