/**
 * Timestamps as real providers send them, over a real socket: a few ms of jitter that does
 * not accumulate, and a clock 0.5% slow or fast. The files must be the audio sent, sample
 * for sample, with nothing trimmed and no silence inserted, and meta.json says how much
 * drift was absorbed. A real gap still becomes silence of its length.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, interleaveStereo, padPcm } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newTwilioCall, TwilioFrameWriter, type MediaFrame } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

/** A seeded generator, so a failure names the run that made it. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Both voices in 20 ms frames stamped by a clock running `clock` times the audio's rate, each
 * stamp off by up to ±`jitterMs` whole ms, interleaved by stamp with each track in order.
 */
function stamped(clock: number, jitterMs: number, seed: number): MediaFrame[] {
  const next = random(seed);
  const tracks = (['inbound', 'outbound'] as const).map((track) => {
    const audio = track === 'inbound' ? SPEECH_IN_ULAW : SPEECH_OUT_ULAW;
    return Array.from({ length: Math.ceil(audio.length / 160) }, (_, i): MediaFrame => ({
      track,
      timestampMs: Math.max(0, Math.round(i * 20 * clock + (next() * 2 - 1) * jitterMs)),
      payload: audio.subarray(i * 160, (i + 1) * 160),
    }));
  });
  const merged: MediaFrame[] = [];
  let [a, b] = [0, 0];
  const [ins, outs] = tracks as [MediaFrame[], MediaFrame[]];
  while (a < ins.length || b < outs.length) {
    if (b >= outs.length || (a < ins.length && ins[a]!.timestampMs <= outs[b]!.timestampMs)) merged.push(ins[a++]!);
    else merged.push(outs[b++]!);
  }
  return merged;
}

async function record(frames: MediaFrame[]) {
  const call = newTwilioCall();
  const done = server.finishedStream(call.streamSid);
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(frames));
  const meta = await done;
  return { meta, dir: findRecordingDir(server.dataDir, call.streamSid) };
}

describe('timestamp jitter and drift over a real socket', () => {
  const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
  const inbound = padPcm(SPEECH_IN_PCM, samples);
  const outbound = padPcm(SPEECH_OUT_PCM, samples);

  for (const [label, clock, jitterMs, seed] of [
    ['±3 ms jitter', 1, 3, 11],
    ['±5 ms jitter', 1, 5, 12],
    ['a clock 0.5% slow with ±5 ms jitter', 0.995, 5, 13],
    ['a clock 0.5% fast with ±5 ms jitter', 1.005, 5, 14],
    ['19.97 ms per chunk', 19.97 / 20, 0, 15],
  ] as const) {
    it(`${label}: every file sample-exact, nothing trimmed, no silence inserted`, async () => {
      const { meta, dir } = await record(stamped(clock, jitterMs, seed));
      expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, inbound)).toBe(-1);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, outbound)).toBe(-1);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(inbound, outbound))).toBe(-1);
      expect(meta.rejections).toEqual({});
      for (const track of [meta.inbound!, meta.outbound!]) {
        expect(track).toMatchObject({ framesDropped: 0, framesTrimmed: 0 });
        // The inbound clip is the longer one: no silence at all; the outbound's is its end padding.
        expect(track.framesPlaced).toBe(track.framesReceived);
      }
      expect(meta.inbound!.gapFilledMs).toBe(0);
      expect(meta.outbound!.gapFilledMs).toBe(Math.round((SPEECH_IN_PCM.length - SPEECH_OUT_PCM.length) / 16));
      // Jitter leaves no gaps; the outbound's one gap is its padding after its clip ended.
      expect(meta.inbound!.gaps).toBeUndefined();
      expect(meta.outbound!.gaps).toEqual([{ atMs: Math.round(SPEECH_OUT_PCM.length / 16), endMs: Math.round(SPEECH_IN_PCM.length / 16) }]);
      if (jitterMs > 0 || clock !== 1) expect(meta.inbound!.maxTimestampDriftMs).toBeGreaterThan(0);
      if (clock !== 1) {
        // What the clock lost or gained over the call is where the drift ended.
        const lastStampMs = Math.round((SPEECH_IN_ULAW.length / 160 - 1) * 20 * clock);
        const expectedDrift = (SPEECH_IN_ULAW.length / 160 - 1) * 20 - lastStampMs;
        expect(Math.abs(meta.inbound!.timestampDriftMs! - expectedDrift)).toBeLessThanOrEqual(jitterMs + 2);
      }
    });
  }

  it('a real gap of lost frames still becomes silence of exactly its length', async () => {
    const frames = stamped(1, 0, 1).filter((f) => !(f.track === 'inbound' && f.timestampMs >= 1000 && f.timestampMs < 1300));
    const { meta, dir } = await record(frames);
    const expected = Buffer.from(inbound);
    expected.fill(0, 1000 * 16, 1300 * 16);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, expected)).toBe(-1);
    expect(meta.inbound!.gapFilledMs).toBe(300);
    expect(meta.inbound!.gaps).toEqual([{ atMs: 1000, endMs: 1300 }]);
  });
});
