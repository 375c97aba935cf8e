/** Limits with documented defaults: idle timeout, max duration, max concurrent streams. */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** An inbound-only call that sends `frames` 20 ms frames and then neither stops nor closes. */
async function inboundCallLeftOpen(target: TestServer, frames: number) {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const ws = await openSocket(target.wsUrl());
  const closed = whenClosed(ws);
  const done = target.finished(1);
  await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, frames).map((f) => writer.media(f))]);
  return { call, closed, done };
}

describe('limits', () => {
  it('finishes and closes a stream that goes quiet for idleTimeoutMs', async () => {
    server = await startTestServer({ idleTimeoutMs: 1000, headerIntervalMs: 100 });
    const { call, closed, done } = await inboundCallLeftOpen(server, 50);
    const [meta] = await done;
    expect(meta).toMatchObject({ endReason: 'idle', closeReason: 'CALLTAPE_ERR_IDLE_TIMEOUT', durationMs: 1000 });
    expect(await closed).toEqual({ code: 1000, reason: 'CALLTAPE_ERR_IDLE_TIMEOUT' });
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, SPEECH_IN_PCM.subarray(0, 50 * 320))).toBe(-1);
  });

  it('finishes a recording at maxDurationMs of call time', async () => {
    server = await startTestServer({ maxDurationMs: 2000, headerIntervalMs: 100 });
    const { closed, done } = await inboundCallLeftOpen(server, 150);
    const [meta] = await done;
    expect(meta).toMatchObject({ endReason: 'max-duration', closeReason: 'CALLTAPE_ERR_MAX_DURATION' });
    expect(meta!.durationMs).toBeGreaterThanOrEqual(2000);
    expect((await closed).code).toBe(1008);
  });

  it('answers upgrades past maxStreams with 503, and takes them again once a stream ends', async () => {
    server = await startTestServer({ maxStreams: 2 });
    const a = await openSocket(server.wsUrl());
    const b = await openSocket(server.wsUrl());
    await expect(openSocket(server.wsUrl())).rejects.toThrow('HTTP 503');
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_TOO_MANY_STREAMS).toBe(1);
    const closed = whenClosed(a);
    a.close();
    await closed;
    await waitFor(() => server!.recorder.activeCount < 2, 5000, 'the closed stream to finish');
    const c = await openSocket(server.wsUrl());
    c.close();
    b.close();
  });
});
