/**
 * Fault injection: a real calltape process recording 20 live calls is killed with SIGKILL.
 * On restart every recording is repaired, marked recovered, announced by webhook, and holds
 * what was sent up to at most the flush interval before the kill.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ffmpegDecode, ffmpegDecodeG711 } from '../helpers/ffmpeg.js';
import { openLiveCalls } from '../helpers/live-calls.js';
import { spawnCalltape } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { findRecordingDir, firstDifference, readMeta, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';

const FLUSH_INTERVAL_MS = 1000; // the recorder's tick: a quiet stream's settled audio is written by then
const SENT_MS = 3000;

describe('crash recovery', () => {
  it('recovers all 20 calls of a process killed with SIGKILL', async () => {
    const dataDir = tempDataDir();
    const server = spawnCalltape(dataDir);
    const url = await server.url;
    const calls = await openLiveCalls(`${url.replace('http', 'ws')}/streams/twilio`, 20, SENT_MS);
    // Everything is sent; let one periodic flush pass, then pull the plug.
    await new Promise((r) => setTimeout(r, FLUSH_INTERVAL_MS + 500));
    server.child.kill('SIGKILL');
    expect((await server.exited).signal).toBe('SIGKILL');
    for (const c of calls) expect(readMeta(findRecordingDir(dataDir, c.call.streamSid)).status).toBe('recording');

    const receiver = await startReceiver();
    const restarted = await startTestServer({ dataDir, webhookUrl: receiver.url, webhookPollMs: 50 });
    try {
      for (const c of calls) {
        const recording = await restarted.catalog.repo.getByStreamSid(c.call.streamSid);
        expect(recording).toMatchObject({ status: 'recovered', endReason: 'crashed' });
        const dir = findRecordingDir(dataDir, c.call.streamSid);
        const meta = readMeta(dir);
        expect(meta.status).toBe('recovered');
        // At most the flush interval is lost; everything kept is exactly what was sent.
        expect(meta.durationMs).toBeGreaterThanOrEqual(SENT_MS - FLUSH_INTERVAL_MS);
        expect(meta.durationMs).toBeLessThanOrEqual(SENT_MS);
        const samples = meta.durationMs * 8;
        const inbound = ffmpegDecode(path.join(dir, 'inbound.wav'));
        expect(inbound.pcm.length).toBe(samples * 2);
        expect(firstDifference(inbound.pcm, ffmpegDecodeG711(c.inbound.subarray(0, samples), 'mulaw'))).toBe(-1);
        const outbound = ffmpegDecode(path.join(dir, 'outbound.wav'));
        expect(firstDifference(outbound.pcm, ffmpegDecodeG711(c.outbound.subarray(0, samples), 'mulaw'))).toBe(-1);
        expect(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm.length).toBe(samples * 4);
      }
      await waitFor(() => receiver.received.length === 20, 10_000, '20 recovery webhooks');
      expect(new Set(receiver.received.map((r) => JSON.parse(r.body).event))).toEqual(new Set(['recording.recovered']));
    } finally {
      await restarted.stop();
      await receiver.close();
    }
  });
});
