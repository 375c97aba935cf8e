/**
 * GET /api/recordings/:id/peaks over a real recorded call: both lanes' peaks, equal to a
 * reference computed from ffmpeg's decode of the files, computed once and kept as
 * peaks.json; merged to a requested width; refused while the call is live.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, streamSession } from '../helpers/ws-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

/** Every sample looked at, per 20 ms bucket at 8 kHz, scaled to -127..127. */
function reference(pcm: Buffer): number[] {
  const out: number[] = [];
  const scale = (v: number) => Math.max(-127, Math.min(127, Math.round(v / 256))) || 0;
  for (let i = 0; i < pcm.length / 2; i += 160) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = i; j < Math.min(pcm.length / 2, i + 160); j++) {
      const v = pcm.readInt16LE(j * 2);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    out.push(scale(min), scale(max));
  }
  return out;
}

const api = async <T>(url: string) => {
  const res = await fetch(`${server.url}${url}`);
  return { status: res.status, body: (await res.json()) as T };
};

describe('waveform peaks', () => {
  it("draws both lanes of a finished call from the server's peaks, without its audio", async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const done = server.finishedStream(call.streamSid);
    await streamSession(server.wsUrl(), writer.session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW))));
    await done;
    await server.catalog.settled();
    const list = await api<{ items: Array<{ id: string }> }>(`/api/recordings?streamSid=${call.streamSid}`);
    const id = list.body.items[0]!.id;
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    expect(fs.existsSync(path.join(dir, 'peaks.json'))).toBe(false);

    const peaks = await api<{ bucketMs: number; sampleRate: number; tracks: Record<string, number[]> }>(`/api/recordings/${id}/peaks`);
    expect(peaks.status).toBe(200);
    expect(peaks.body).toMatchObject({ bucketMs: 20, sampleRate: 8000 });
    expect(peaks.body.tracks.inbound).toEqual(reference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm));
    expect(peaks.body.tracks.outbound).toEqual(reference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm));
    // Kept beside the files: the next request reads them from there.
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'peaks.json'), 'utf8'))).toEqual(peaks.body);

    const narrow = await api<{ bucketMs: number; tracks: Record<string, number[]> }>(`/api/recordings/${id}/peaks?buckets=100`);
    expect(narrow.body.tracks.inbound!.length / 2).toBeLessThanOrEqual(100);
    expect(narrow.body.bucketMs).toBeGreaterThan(20);
    expect((await api(`/api/recordings/${id}/peaks?buckets=0`)).status).toBe(400);
  });

  it('has none for a call still being recorded', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, 20).map((f) => writer.media(f))]);
    await server.catalog.settled();
    const list = await api<{ items: Array<{ id: string; status: string }> }>(`/api/recordings?streamSid=${call.streamSid}`);
    expect(list.body.items[0]!.status).toBe('recording');
    const res = await api<{ error: { code: string } }>(`/api/recordings/${list.body.items[0]!.id}/peaks`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CALLTAPE_ERR_RECORDING_IN_PROGRESS');
    ws.close();
  });
});
