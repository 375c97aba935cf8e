/**
 * GET /api/recordings/:id/peaks over a real recorded call: both lanes' peaks, equal to a
 * reference computed from ffmpeg's decode of the files, computed once and kept as
 * peaks.bin (a byte per value); merged to a requested width; refused while the call is live.
 * Hostile bucket counts are refused; requests for many long recordings at once are bounded
 * (two loads at once, a few waiting, the rest 503 with Retry-After) and cheap once loaded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePeaks, encodePeaks, peaksJson } from '../../src/recording/peaks.js';
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
    // Computed once after the call by the pipeline's peaks step, in a worker thread.
    expect((await server.jobSettled(id, 'peaks')).state).toBe('done');
    expect(fs.existsSync(path.join(dir, 'peaks.bin'))).toBe(true);

    const peaks = await api<{ bucketMs: number; sampleRate: number; tracks: Record<string, number[]> }>(`/api/recordings/${id}/peaks`);
    expect(peaks.status).toBe(200);
    expect(peaks.body).toMatchObject({ bucketMs: 20, sampleRate: 8000 });
    expect(peaks.body.tracks.inbound).toEqual(reference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm));
    expect(peaks.body.tracks.outbound).toEqual(reference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm));
    // Kept beside the files, a byte per value: requests read them from there.
    const stored = fs.readFileSync(path.join(dir, 'peaks.bin'));
    expect(stored.length).toBe(19 + peaks.body.tracks.inbound!.length + peaks.body.tracks.outbound!.length);
    expect(peaksJson(decodePeaks(stored)!)).toEqual(peaks.body);
    // Gone (a recording made before the pipeline, a step that failed): computed on request, kept again.
    fs.rmSync(path.join(dir, 'peaks.bin'));
    expect((await api(`/api/recordings/${id}/peaks`)).body).toEqual(peaks.body);
    expect(fs.readFileSync(path.join(dir, 'peaks.bin')).equals(stored)).toBe(true);

    const narrow = await api<{ bucketMs: number; tracks: Record<string, number[]> }>(`/api/recordings/${id}/peaks?buckets=100`);
    expect(narrow.body.tracks.inbound!.length / 2).toBeLessThanOrEqual(100);
    expect(narrow.body.bucketMs).toBeGreaterThan(20);
    for (const hostile of ['0', '1e309', '1e3', '0x10', '-5', '2.5', '%205', '99999999', 'Infinity']) {
      expect((await api(`/api/recordings/${id}/peaks?buckets=${hostile}`)).status, hostile).toBe(400);
    }
    expect((await api(`/api/recordings/${id}/peaks?buckets=1&buckets=2`)).status).toBe(400);
  });

  it('a recording kept before peaks.bin has its peaks.json read once, then peaks.bin', async () => {
    const call = newTwilioCall();
    const done = server.finishedStream(call.streamSid);
    await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW), { tracks: ['inbound'] }));
    await done;
    await server.catalog.settled();
    const id = (await server.catalog.repo.getByStreamSid(call.streamSid))!.id;
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    // As an older calltape left it: peaks.json, no peaks.bin (the pipeline makes one after the call).
    expect((await server.jobSettled(id, 'peaks')).state).toBe('done');
    fs.rmSync(path.join(dir, 'peaks.bin'));
    const old = { version: 1, bucketMs: 20, sampleRate: 8000, tracks: { inbound: [-3, 4, -5, 6] } };
    fs.writeFileSync(path.join(dir, 'peaks.json'), JSON.stringify(old));
    expect((await api(`/api/recordings/${id}/peaks`)).body).toEqual(old);
    expect(peaksJson(decodePeaks(fs.readFileSync(path.join(dir, 'peaks.bin')))!)).toEqual(old);
  });

  it('bounds loads of many long recordings at once: some wait, the rest are refused 503 with Retry-After, /healthz keeps answering', async () => {
    // Twenty 4-hour recordings' peaks, as the files would have them (computing them from
    // audio is what the first tests check): each 2.9 MB.
    const ids: string[] = [];
    const fourHours = 4 * 3600 * 50 * 2;
    for (let i = 0; i < 20; i++) {
      const call = newTwilioCall();
      const done = server.finishedStream(call.streamSid);
      await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), { tracks: ['inbound'] }));
      await done;
      await server.catalog.settled();
      const values = Int8Array.from({ length: fourHours }, (_, j) => ((j * 7 + i) % 255) - 127);
      fs.writeFileSync(path.join(findRecordingDir(server.dataDir, call.streamSid), 'peaks.bin'), encodePeaks({ version: 1, bucketMs: 20, sampleRate: 8000, tracks: { inbound: values, outbound: values } }));
      ids.push((await server.catalog.repo.getByStreamSid(call.streamSid))!.id);
    }
    const started = Date.now();
    const health: number[] = [];
    const probing = (async () => {
      while (Date.now() - started < 3000 && health.length < 200) {
        const t = Date.now();
        await fetch(`${server.url}/healthz`);
        health.push(Date.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const answers = await Promise.all(ids.map((id) => fetch(`${server.url}/api/recordings/${id}/peaks?buckets=4000`).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() }))));
    await probing;
    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 503);
    expect(ok.length + busy.length).toBe(20);
    expect(ok.length).toBeGreaterThanOrEqual(2 + 16);
    for (const answer of busy) expect(answer).toMatchObject({ retryAfter: '1', body: { error: { code: 'CALLTAPE_ERR_PEAKS_BUSY' } } });
    for (const answer of ok) expect((answer.body as { tracks: { inbound: number[] } }).tracks.inbound.length).toBeLessThanOrEqual(8000);
    // The node kept answering while they loaded.
    expect(Math.max(...health)).toBeLessThan(1000);
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
