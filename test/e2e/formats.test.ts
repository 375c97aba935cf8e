/**
 * File formats and per-track switches: mu-law files byte-identical to the wire, SignalWire
 * L16 at 16 kHz in either byte order, and the inbound/outbound/stereo switches.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_16K, SPEECH_IN_ULAW, SPEECH_OUT_16K, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { callFiles, findRecordingDir, firstDifference, interleaveStereo, padPcm, readMeta } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter, type TwilioCall } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function uuidCall(): TwilioCall {
  const u = () => crypto.randomUUID();
  return { callSid: u(), streamSid: u(), accountSid: u() };
}

function swapBytes(le: Buffer): Buffer {
  return Buffer.from(le).swap16();
}

describe('mulaw format', () => {
  it('writes the payload bytes unchanged after a WAVE_FORMAT_MULAW header', async () => {
    server = await startTestServer({ format: 'mulaw' });
    const call = newTwilioCall();
    const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
    const done = server.finished(1);
    await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(frames));
    const [meta] = await done;
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    const samples = Math.max(SPEECH_IN_ULAW.length, SPEECH_OUT_ULAW.length);
    const inbound = fs.readFileSync(path.join(dir, 'inbound.wav'));
    expect(inbound.readUInt16LE(20)).toBe(7);
    expect(inbound.subarray(58).equals(Buffer.concat([SPEECH_IN_ULAW, Buffer.alloc(samples - SPEECH_IN_ULAW.length, 0xff)]))).toBe(true);
    const outbound = fs.readFileSync(path.join(dir, 'outbound.wav'));
    expect(outbound.subarray(58, 58 + SPEECH_OUT_ULAW.length).equals(SPEECH_OUT_ULAW)).toBe(true);
    expect(ffmpegDecode(path.join(dir, 'stereo.wav'))).toMatchObject({ codec: 'pcm_mulaw', channels: 2, sampleRate: 8000 });
    expect(meta!.fileFormat).toEqual({ format: 'mulaw', sampleRate: 8000 });
  });
});

describe('SignalWire L16 at 16 kHz', () => {
  for (const order of ['le', 'be'] as const) {
    it(`detects ${order === 'le' ? 'little' : 'big'}-endian audio and writes it sample-exact at 16 kHz`, async () => {
      server = await startTestServer();
      const call = uuidCall();
      const wire = (pcm: Buffer) => (order === 'le' ? pcm : swapBytes(pcm));
      const frames = interleave(
        mediaFrames('inbound', wire(SPEECH_IN_16K), { bytesPerMs: 32 }),
        mediaFrames('outbound', wire(SPEECH_OUT_16K), { bytesPerMs: 32 }),
      );
      const writer = new TwilioFrameWriter(call);
      const done = server.finished(1);
      await streamSession(server.wsUrl('signalwire'), [
        JSON.stringify({ event: 'connected', protocol: 'Call', version: '0.2.0' }),
        writer.start({ mediaFormat: { encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 } }),
        ...frames.map((f) => writer.media(f)),
        JSON.stringify({ event: 'stop', sequenceNumber: '99999' }),
      ]);
      const [meta] = await done;
      expect(meta).toMatchObject({ provider: 'signalwire', endReason: 'stop', mediaFormat: { encoding: 'l16', sampleRate: 16000, byteOrder: order } });
      const dir = findRecordingDir(server.dataDir, call.streamSid);
      const samples = Math.max(SPEECH_IN_16K.length, SPEECH_OUT_16K.length) / 2;
      const stereo = ffmpegDecode(path.join(dir, 'stereo.wav'));
      expect(stereo).toMatchObject({ codec: 'pcm_s16le', sampleRate: 16000, channels: 2 });
      expect(firstDifference(stereo.pcm, interleaveStereo(padPcm(SPEECH_IN_16K, samples), padPcm(SPEECH_OUT_16K, samples)))).toBe(-1);
    });
  }
});

describe('track switches', () => {
  it('writes only what is switched on: here stereo only', async () => {
    server = await startTestServer({ recordInbound: false, recordOutbound: false });
    const call = newTwilioCall();
    const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
    const done = server.finished(1);
    await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(frames));
    await done;
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    expect(callFiles(dir)).toEqual(['meta.json', 'stereo.wav']);
    expect(readMeta(dir).inbound).not.toHaveProperty('file');
  });

  it('writes no stereo file for a one-track stream', async () => {
    server = await startTestServer({ recordStereo: true });
    const call = newTwilioCall();
    const done = server.finished(1);
    await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW), { tracks: ['inbound'] }));
    await done;
    expect(callFiles(findRecordingDir(server.dataDir, call.streamSid))).toEqual(['inbound.wav', 'meta.json']);
  });
});
