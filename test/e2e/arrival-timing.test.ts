/**
 * Audio without timestamps (Vonage-style binary L16) placed by arrival over a real socket,
 * paced in real time: a real pause in sending becomes silence of its length, and a burst of
 * frames that were held up (here: the whole process stalled, as under a GC pause or a busy
 * event loop) becomes no silence at all, because its audio is all there.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { createRecorder } from '../../src/recording/recorder.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_16K, SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, tempDataDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, whenClosed } from '../helpers/ws-client.js';

const FRAME = 640; // 20 ms at 16 kHz
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const frames = (from: number, count: number) => Array.from({ length: count }, (_, i) => SPEECH_IN_16K.subarray((from + i) * FRAME, (from + i + 1) * FRAME));

/** Sends `frames` paced at 20 ms on a schedule that catches up after any delay. */
async function paced(send: (frame: Buffer) => void, frames: Buffer[], stallAt?: { index: number; ms: number }): Promise<void> {
  const startedAt = performance.now();
  for (let i = 0; i < frames.length; i++) {
    if (stallAt && i === stallAt.index) {
      const until = performance.now() + stallAt.ms;
      while (performance.now() < until) {
        // The whole process (server included) is stuck, as under a long GC pause.
      }
    }
    const due = startedAt + i * 20 - performance.now();
    if (due > 0) await sleep(due);
    send(frames[i]!);
  }
}

describe('placing audio without timestamps by arrival', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function call(run: (send: (frame: Buffer) => void) => Promise<void>): Promise<{ meta: RecordingMeta; pcm: Buffer }> {
    const finished = server.finished(1);
    const ws = await openSocket(server.wsUrl('vonage'));
    const closed = whenClosed(ws);
    ws.send(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' }));
    await run((frame) => ws.send(frame));
    await sleep(100);
    ws.close(1000);
    await closed;
    const [meta] = await finished;
    const dir = findRecordingDir(server.dataDir, meta!.streamSid);
    return { meta: meta!, pcm: ffmpegDecode(path.join(dir, 'inbound.wav')).pcm };
  }


  it('fills a real 1.5 s pause in sending with silence of the pause\'s length', async () => {
    let lastBefore = 0;
    let firstAfter = 0;
    const { meta, pcm } = await call(async (send) => {
      await paced((frame) => {
        send(frame);
        lastBefore = performance.now();
      }, frames(0, 50));
      await sleep(1500);
      firstAfter = performance.now();
      await paced(send, frames(50, 50));
    });
    // The pause as it really happened (a timer may overshoot on a busy machine): the time
    // between the two sends less the 20 ms the last frame before it lasts.
    const pauseMs = firstAfter - lastBefore - 20;
    const silenceMs = meta.arrivalGapFilledMs!;
    expect(pauseMs).toBeGreaterThan(1400);
    expect(Math.abs(silenceMs - pauseMs)).toBeLessThan(60);
    // Both pieces are intact and in order, the silence between them.
    const gapBytes = (pcm.length - 100 * FRAME);
    expect(gapBytes / 32).toBeCloseTo(silenceMs, -1);
    expect(firstDifference(pcm.subarray(0, 50 * FRAME), SPEECH_IN_16K.subarray(0, 50 * FRAME))).toBe(-1);
    expect(pcm.subarray(50 * FRAME, 50 * FRAME + gapBytes).every((b) => b === 0)).toBe(true);
    expect(firstDifference(pcm.subarray(50 * FRAME + gapBytes), SPEECH_IN_16K.subarray(50 * FRAME, 100 * FRAME))).toBe(-1);
  });

  it('inserts no silence when a 700 ms stall delivers the waiting frames in a burst', async () => {
    const { meta, pcm } = await call((send) => paced(send, frames(0, 150), { index: 50, ms: 700 }));
    expect(meta.arrivalGapFilledMs).toBe(0);
    expect(firstDifference(pcm, SPEECH_IN_16K.subarray(0, 150 * FRAME))).toBe(-1);
  });
});

describe('reading in bunches (direct-reads.ts) only where arrival does not place audio', () => {
  it('lets a stream placed by timestamps wait between reads once a frame is placed by them; never one placed by arrival', async () => {
    const recorder = createRecorder({ dataDir: tempDataDir(), logLevel: 'silent' });
    try {
      const twilio = recorder.openStream('twilio');
      const writer = new TwilioFrameWriter(newTwilioCall());
      twilio.frame(Buffer.from(writer.connected()), false);
      twilio.frame(Buffer.from(writer.start()), false);
      expect(twilio.readsMayWait).toBe(false);
      for (const frame of mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, 3)) twilio.frame(Buffer.from(writer.media(frame)), false);
      expect(twilio.readsMayWait).toBe(true);

      const vonage = recorder.openStream('vonage');
      vonage.frame(Buffer.from(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' })), false);
      for (const frame of frames(0, 3)) vonage.frame(frame, true);
      expect(vonage.readsMayWait).toBe(false);
    } finally {
      await recorder.shutdown();
    }
  });
});
