/**
 * Clients that stop reading cannot hold memory or sockets: event-stream clients are dropped
 * past their buffer bound, downloads are cut off after the HTTP idle deadline, and event
 * streams end cleanly at shutdown.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Recording } from '../../src/catalog/recordings.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW, looped } from '../helpers/fixtures.js';
import { spawnCalltape } from '../helpers/process.js';
import { tempDataDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/**
 * A client that sends a request and then reads nothing for `stallMs`, then reads what is
 * left: resolves with the bytes it got, once the server has closed the connection.
 */
function stalledClient(url: string, path: string, stallMs: number): Promise<number> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.pause();
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  socket.on('error', () => undefined);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  setTimeout(() => socket.resume(), stallMs);
  return new Promise((resolve) => socket.on('close', () => resolve(bytes)));
}

describe('slow readers', () => {
  it('drops an event-stream client that does not read, and fans out to many clients without a listener each', async () => {
    server = await startTestServer({ sseMaxBufferedBytes: 64 * 1024 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const readers = await Promise.all(Array.from({ length: 12 }, () => fetch(`${server!.url}/api/events`)));
    // These read everything they are sent.
    for (const r of readers) void r.body!.pipeTo(new WritableStream()).catch(() => undefined);
    const stalled = stalledClient(server.url, '/api/events', 2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.catalog.listenerCount('recording.started')).toBe(1);
    // Events as the catalog emits them, large enough to fill the kernel's buffers quickly.
    const big = { id: 'x', customParameters: { note: 'x'.repeat(4000) }, files: [], rejections: {} } as unknown as Recording;
    for (let i = 0; i < 3000 && !server.recorder.stats().rejections.CALLTAPE_ERR_SLOW_CLIENT; i++) {
      server.catalog.emit('recording.started', big);
      // Small bursts, so the clients that do read (in this process) can keep up.
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_SLOW_CLIENT).toBe(1);
    // Once it reads again, it finds its stream ended by the server.
    expect(await stalled).toBeGreaterThan(0);
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('cuts off a download the client stopped reading after the HTTP idle deadline', async () => {
    server = await startTestServer({ httpIdleTimeoutMs: 1000, realtimeAllowanceMs: 3_600_000 });
    // 5 minutes of two-track audio: a stereo file of 9.6 MB, far more than socket buffers hold.
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const seconds = 300;
    const frames = interleave(mediaFrames('inbound', looped(SPEECH_IN_ULAW, seconds * 8000)), mediaFrames('outbound', looped(SPEECH_OUT_ULAW, seconds * 8000)));
    const done = server.finished(1);
    await streamSession(server.wsUrl(), [writer.start(), ...frames.map((f) => writer.media(f)), writer.stop()]);
    await done;
    await server.catalog.settled();
    const row = await server.catalog.repo.getByStreamSid(call.streamSid);
    const stereoBytes = 44 + seconds * 8000 * 2 * 2;
    // Stalled for 4 s against a 1 s deadline: the server closed the connection mid-file.
    const received = await stalledClient(server.url, `/api/recordings/${row!.id}/audio/stereo.wav`, 4000);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(stereoBytes);
    // A client that reads gets the whole file.
    expect(await stalledClient(server.url, `/api/recordings/${row!.id}/audio/stereo.wav`, 0)).toBeGreaterThan(stereoBytes);
  }, 60_000);

  it('ends event streams at SIGTERM and exits 0 at once', async () => {
    const proc = spawnCalltape(tempDataDir());
    const url = await proc.url;
    const events = await fetch(`${url}/api/events`);
    const ended = events.text();
    const signalledAt = performance.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt).toBeLessThan(3000);
    expect(await ended).toContain(': calltape events');
  });
});
