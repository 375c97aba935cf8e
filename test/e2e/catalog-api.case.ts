/**
 * The catalog and REST API contract, run once per database dialect (catalog-sqlite.test.ts,
 * catalog-postgres.test.ts): real server, real sockets, real files, real database.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalogDb } from '../../src/catalog/db.js';
import { RecordingsRepo } from '../../src/catalog/recordings.js';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, interleaveStereo, padPcm, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

interface ApiRecording {
  id: string;
  status: string;
  callSid: string;
  streamSid: string;
  durationMs: number | null;
  customParameters: Record<string, string>;
  tracks: Array<{ name: string; bytes: number; durationMs: number; url: string }>;
}

/** Collects Server-Sent Events from /api/events. */
function subscribe(url: string): { events: Array<{ event: string; data: ApiRecording }>; close(): void; ready: Promise<void> } {
  const events: Array<{ event: string; data: ApiRecording }> = [];
  let buffer = '';
  let req: http.ClientRequest;
  const ready = new Promise<void>((resolve) => {
    req = http.get(`${url}/api/events`, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as ApiRecording });
        }
      });
      resolve();
    });
  });
  return { events, ready, close: () => req.destroy() };
}

export function catalogApiSuite(dialect: 'sqlite' | 'postgres', databaseUrl: () => Promise<string | undefined>): void {
  describe(`catalog repository (${dialect})`, () => {
    it('creates, finishes, filters, paginates and removes recordings', async () => {
      const catalog = await openCatalogDb({ dataDir: tempDataDir(), databaseUrl: await databaseUrl() });
      const repo = new RecordingsRepo(catalog.db);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          const call = newTwilioCall();
          ids.push(
            (
              await repo.create({
              provider: i % 2 ? 'signalwire' : 'twilio',
              callSid: call.callSid,
              streamSid: call.streamSid,
              accountSid: call.accountSid,
              tracks: ['inbound', 'outbound'],
              format: 'pcm16',
              sampleRate: 8000,
              customParameters: { team: i < 4 ? 'red' : 'blue', n: String(i) },
              startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
              location: `recordings/2026/01/01/${call.streamSid}`,
              })
            ).id,
          );
        }
        const first = (await repo.get(ids[0]!))!;
        const meta = {
          status: 'complete',
          endedAt: new Date(Date.UTC(2026, 0, 1, 0, 1)).toISOString(),
          durationMs: 60_000,
          endReason: 'stop',
          rejections: { CALLTAPE_ERR_BAD_BASE64: 2 },
          inbound: { file: 'inbound.wav', bytes: 960_000, durationMs: 60_000 },
          stereo: { file: 'stereo.wav', bytes: 1_920_000, durationMs: 60_000 },
          dtmf: [{ digit: '5', atMs: 2000, receivedAt: new Date().toISOString() }],
          marks: [{ name: 'greeting', atMs: 1000, receivedAt: new Date().toISOString() }],
          pauses: [{ behavior: 'silence', atMs: 3000, endMs: 4000, receivedAt: new Date().toISOString() }],
        } as unknown as RecordingMeta;
        await repo.finish(first.id, meta);
        expect(await repo.get(first.id)).toMatchObject({
          status: 'complete',
          durationMs: 60_000,
          files: [
            { name: 'inbound', file: 'inbound.wav', bytes: 960_000 },
            { name: 'stereo', file: 'stereo.wav', bytes: 1_920_000 },
          ],
          rejections: { CALLTAPE_ERR_BAD_BASE64: 2 },
        });
        expect((await repo.events(first.id)).map((e) => [e.kind, e.atMs])).toEqual([['mark', 1000], ['dtmf', 2000], ['pause', 3000]]);

        const all = await repo.list({ limit: 3 });
        expect(all.items.map((r) => r.id)).toEqual([ids[6], ids[5], ids[4]]);
        const next = await repo.list({ limit: 3, cursor: all.nextCursor! });
        expect(next.items.map((r) => r.id)).toEqual([ids[3], ids[2], ids[1]]);
        const last = await repo.list({ limit: 3, cursor: next.nextCursor! });
        expect(last.items.map((r) => r.id)).toEqual([ids[0]]);
        expect(last.nextCursor).toBeNull();

        expect((await repo.list({ limit: 50, params: { team: 'red' }, provider: 'twilio' })).items.map((r) => r.id)).toEqual([ids[2], ids[0]]);
        expect((await repo.list({ limit: 50, status: 'complete' })).items.map((r) => r.id)).toEqual([ids[0]]);
        expect((await repo.list({ limit: 50, minDurationMs: 1 })).items).toHaveLength(1);
        expect((await repo.list({ limit: 50, fromMs: Date.UTC(2026, 0, 1, 0, 0, 5) })).items.map((r) => r.id)).toEqual([ids[6], ids[5]]);
        expect((await repo.list({ limit: 50, callSid: first.callSid })).items.map((r) => r.id)).toEqual([first.id]);

        expect(await repo.remove(first.id)).toBe(true);
        expect(await repo.get(first.id)).toBeUndefined();
        expect(await repo.events(first.id)).toEqual([]);
        expect(await repo.remove(first.id)).toBe(false);
      } finally {
        await catalog.close();
      }
    });
  });

  describe(`REST API over a live call (${dialect})`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ databaseUrl: await databaseUrl() });
    });
    afterAll(async () => {
      await server.stop();
    });

    const getJson = async <T>(p: string): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${server.url}${p}`);
      return { status: res.status, body: (await res.json()) as T };
    };

    it('shows a call as recording while live (list, live view, SSE), then complete with its files', async () => {
      const sse = subscribe(server.url);
      await sse.ready;
      const call = newTwilioCall();
      const writer = new TwilioFrameWriter(call);
      const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
      const ws = await openSocket(server.wsUrl());
      await sendAll(ws, [writer.connected(), writer.start({ customParameters: { agent: 'ada' } }), ...frames.slice(0, 100).map((f) => writer.media(f))]);

      let live: ApiRecording | undefined;
      await waitFor(() => sse.events.some((e) => e.event === 'started' && e.data.streamSid === call.streamSid), 10_000, 'SSE started');
      const list = await getJson<{ items: ApiRecording[] }>(`/api/recordings?streamSid=${call.streamSid}`);
      live = list.body.items[0];
      expect(live).toMatchObject({ status: 'recording', callSid: call.callSid, customParameters: { agent: 'ada' } });
      const liveStreams = await getJson<{ items: Array<{ streamSid: string; durationMs: number }> }>('/api/streams/live');
      expect(liveStreams.body.items.find((s) => s.streamSid === call.streamSid)).toBeDefined();
      const refused = await fetch(`${server.url}/api/recordings/${live!.id}`, { method: 'DELETE' });
      expect(refused.status).toBe(409);

      const closed = whenClosed(ws);
      await sendAll(ws, [...frames.slice(100).map((f) => writer.media(f)), writer.stop()]);
      ws.close();
      await closed;
      await waitFor(() => sse.events.some((e) => e.event === 'finished' && e.data.streamSid === call.streamSid), 10_000, 'SSE finished');
      sse.close();

      const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
      const done = await getJson<ApiRecording & { events: unknown[] }>(`/api/recordings/${live!.id}`);
      expect(done.body).toMatchObject({ status: 'complete', durationMs: Math.round(samples / 8), endReason: 'stop' });
      const track = (name: string, bytes: number) => {
        const url = `/api/recordings/${live!.id}/audio/${name}.wav`;
        // Not archived (no CALLTAPE_ARCHIVE_FORMATS): the WAV alone, its size with the 44-byte header.
        return { name, bytes, durationMs: Math.round(samples / 8), url, wav: true, files: [{ format: 'wav', bytes: bytes + 44, url }] };
      };
      expect(done.body.tracks).toEqual([track('inbound', samples * 2), track('outbound', samples * 2), track('stereo', samples * 4)]);
      const filtered = await getJson<{ items: ApiRecording[] }>(`/api/recordings?param.agent=ada&status=complete&minDurationMs=1000`);
      expect(filtered.body.items.map((r) => r.id)).toContain(live!.id);
      expect((await getJson<{ items: ApiRecording[] }>(`/api/recordings?param.agent=bob`)).body.items).toEqual([]);

      // Range requests return exactly the requested bytes of the file.
      const file = fs.readFileSync(path.join(findRecordingDir(server.dataDir, call.streamSid), 'stereo.wav'));
      const audioUrl = `${server.url}${done.body.tracks[2]!.url}`;
      const whole = await fetch(audioUrl);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('audio/wav');
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(Buffer.from(await whole.arrayBuffer()).equals(file)).toBe(true);
      const cases: Array<[string, number, number]> = [
        ['bytes=0-99', 0, 99],
        ['bytes=44-', 44, file.length - 1],
        ['bytes=0-', 0, file.length - 1],
        ['bytes=-500', file.length - 500, file.length - 1],
        ['bytes=1000-999999999', 1000, file.length - 1],
      ];
      for (const [range, start, end] of cases) {
        const res = await fetch(audioUrl, { headers: { Range: range } });
        expect([range, res.status, res.headers.get('content-range')]).toEqual([range, 206, `bytes ${start}-${end}/${file.length}`]);
        expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(start, end + 1))).toBe(true);
      }
      const unsatisfiable = await fetch(audioUrl, { headers: { Range: `bytes=${file.length + 10}-` } });
      expect(unsatisfiable.status).toBe(416);
      expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${file.length}`);
      const head = await fetch(audioUrl, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length')]).toEqual([200, String(file.length)]);
      // A browser seeking: an open-ended range from the middle, then playing on from there.
      const seek = await fetch(audioUrl.replace('stereo.wav', 'stereo'), { headers: { Range: `bytes=${file.length >> 1}-` } });
      expect(seek.status).toBe(206);
      expect((await seek.arrayBuffer()).byteLength).toBe(file.length - (file.length >> 1));

      const deleted = await fetch(`${server.url}/api/recordings/${live!.id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      expect((await fetch(`${server.url}/api/recordings/${live!.id}`)).status).toBe(410);
      expect(() => findRecordingDir(server.dataDir, call.streamSid)).toThrow();
    });

    it('answers bad queries with 400 and a stable code', async () => {
      for (const q of ['status=gone', 'limit=0', 'limit=abc', 'from=yesterday', 'cursor=bm9wZQ', 'colour=red']) {
        const res = await getJson<{ error: { code: string } }>(`/api/recordings?${q}`);
        expect([q, res.status, res.body.error.code]).toEqual([q, 400, 'CALLTAPE_ERR_BAD_REQUEST']);
      }
      expect((await getJson<{ error: { code: string } }>('/api/recordings/nope/audio/left')).status).toBe(404);
    });

    for (const behavior of ['silence', 'skip'] as const) {
      it(`pause with behavior ${behavior} removes exactly the paused span, and the catalog lists the pause`, async () => {
        const call = newTwilioCall();
        const writer = new TwilioFrameWriter(call);
        const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
        const ws = await openSocket(server.wsUrl());
        const received = async (count: number) =>
          waitFor(() => server.recorder.liveStreams().find((s) => s.streamSid === call.streamSid)?.framesReceived === count, 10_000, `${count} frames`);
        const before = frames.filter((f) => f.timestampMs < 1000);
        const during = frames.filter((f) => f.timestampMs >= 1000 && f.timestampMs < 2500);
        const after = frames.filter((f) => f.timestampMs >= 2500);
        await sendAll(ws, [writer.connected(), writer.start(), ...before.map((f) => writer.media(f))]);
        await received(before.length);
        const paused = await fetch(`${server.url}/api/streams/${call.streamSid}/pause`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ behavior }),
        });
        expect(await paused.json()).toEqual({ streamSid: call.streamSid, paused: behavior });
        await sendAll(ws, during.map((f) => writer.media(f)));
        await received(before.length + during.length);
        expect((await fetch(`${server.url}/api/streams/${call.streamSid}/resume`, { method: 'POST' })).status).toBe(200);
        const finished = server.finished(1);
        await sendAll(ws, [...after.map((f) => writer.media(f)), writer.stop()]);
        const [meta] = await finished;
        ws.close();
        expect(meta!.pauses).toMatchObject([{ behavior, atMs: 1000, endMs: 2500 }]);

        const samples = Math.max(SPEECH_IN_PCM.length, SPEECH_OUT_PCM.length) / 2;
        let inbound = padPcm(SPEECH_IN_PCM, samples);
        let outbound = padPcm(SPEECH_OUT_PCM, samples);
        const [from, to] = [1000 * 8 * 2, 2500 * 8 * 2];
        if (behavior === 'silence') {
          inbound = Buffer.from(inbound).fill(0, from, to);
          outbound = Buffer.from(outbound).fill(0, from, to);
        } else {
          inbound = Buffer.concat([inbound.subarray(0, from), inbound.subarray(to)]);
          outbound = Buffer.concat([outbound.subarray(0, from), outbound.subarray(to)]);
        }
        const dir = findRecordingDir(server.dataDir, call.streamSid);
        expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(inbound, outbound))).toBe(-1);

        await server.catalog.settled();
        const list = await getJson<{ items: ApiRecording[] }>(`/api/recordings?streamSid=${call.streamSid}`);
        const detail = await getJson<{ events: Array<{ kind: string; atMs: number; endMs: number; behavior: string }> }>(`/api/recordings/${list.body.items[0]!.id}`);
        expect(detail.body.events).toMatchObject([{ kind: 'pause', atMs: 1000, endMs: 2500, behavior }]);
      });
    }

    it('answers 404 for pausing a stream that is not live', async () => {
      expect((await fetch(`${server.url}/api/streams/MZnothere/pause`, { method: 'POST' })).status).toBe(404);
    });

  });
}
