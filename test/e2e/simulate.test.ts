/** `calltape simulate` against a real server: every simulated call recorded exactly. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { simulate } from '../../src/simulate/simulate.js';
import { ffmpegDecode, ffmpegDecodeG711 } from '../helpers/ffmpeg.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** The clip cut in 160-byte frames (a short last frame filled from the start), looped to `frames`. */
function looped(clip: Buffer, frames: number): Buffer {
  const padded = clip.length % 160 === 0 ? clip : Buffer.concat([clip, clip.subarray(0, 160 - (clip.length % 160))]);
  const out = Buffer.alloc(frames * 160);
  for (let i = 0; i < frames; i++) padded.copy(out, i * 160, (i * 160) % padded.length, ((i * 160) % padded.length) + 160);
  return out;
}

async function expectExact(dataDir: string, streamSid: string, frames: number): Promise<void> {
  const dir = findRecordingDir(dataDir, streamSid);
  expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, ffmpegDecodeG711(looped(SPEECH_IN_ULAW, frames), 'mulaw'))).toBe(-1);
  expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, ffmpegDecodeG711(looped(SPEECH_OUT_ULAW, frames), 'mulaw'))).toBe(-1);
}

describe('calltape simulate', () => {
  it('streams concurrent realtime two-track calls that are recorded exactly', async () => {
    server = await startTestServer();
    const finished = server.finished(5);
    const summary = await simulate({ url: server.wsUrl(), calls: 5, durationMs: 2000, inbound: SPEECH_IN_ULAW, outbound: SPEECH_OUT_ULAW, realtime: true, rampMs: 100 });
    expect(summary).toMatchObject({ calls: 5, ok: 5, failed: 0, framesSent: 5 * 100 * 2 });
    expect(summary.lagMs).not.toBeNull();
    const metas = await finished;
    for (const meta of metas) {
      expect(meta).toMatchObject({ endReason: 'stop', durationMs: 2000, rejections: {} });
      await expectExact(server.dataDir, meta.streamSid, 100);
    }
  });

  it('the CLI, in fast mode, signs for a hardened server and prints JSON', async () => {
    server = await startTestServer({ twilioAuthToken: 'tok-123', streamTokenSecret: 'simulate-stream-secret' });
    const finished = server.finished(3);
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'dist/cli/main.js'), 'simulate', '--url', server.wsUrl(), '--calls', '3', '--duration', '30', '--fast', '--json', '--param', 'campaign=sim'],
      { env: { ...process.env, TWILIO_AUTH_TOKEN: 'tok-123', CALLTAPE_STREAM_TOKEN_SECRET: 'simulate-stream-secret' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const summary = JSON.parse(out) as { ok: number; failed: number; framesSent: number; lagMs: unknown };
    expect(summary).toMatchObject({ ok: 3, failed: 0, framesSent: 3 * 1500 * 2, lagMs: null });
    for (const meta of await finished) {
      expect(meta).toMatchObject({ durationMs: 30_000, customParameters: { campaign: 'sim' } });
      await expectExact(server.dataDir, meta.streamSid, 1500);
    }
  });

  it("sends media in Twilio's documented layout; with coalesceWrites, a call's two frames of a tick in one socket write", async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const { port } = wss.address() as { port: number };
    const media: string[] = [];
    wss.on('connection', (ws) => ws.on('message', (data: Buffer) => data.toString().startsWith('{"event":"media"') && media.push(data.toString())));
    // Writes the client's sockets hand to the kernel (one per uncorked batch).
    let clientWrites = 0;
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (this: Socket, ...args: unknown[]) => unknown>;
    const original = { _write: proto._write, _writev: proto._writev };
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === port) clientWrites++;
        return original[name].apply(this, args);
      };
    }
    const run = async (coalesceWrites: boolean) => {
      clientWrites = 0;
      media.length = 0;
      const summary = await simulate({ url: `ws://127.0.0.1:${port}/`, calls: 1, durationMs: 1000, inbound: SPEECH_IN_ULAW, outbound: SPEECH_OUT_ULAW, realtime: true, coalesceWrites });
      expect(summary).toMatchObject({ ok: 1, framesSent: 100 });
      return clientWrites;
    };
    try {
      const layout = /^\{"event":"media","sequenceNumber":"\d+","media":\{"track":"(inbound|outbound)","chunk":"\d+","timestamp":"\d+","payload":"[A-Za-z0-9+/=]+"\},"streamSid":"MZ[0-9a-f]{32}"\}$/;
      expect(await run(false)).toBeGreaterThanOrEqual(100);
      expect(media.filter((text) => !layout.test(text))).toEqual([]);
      // 50 ticks of frame pairs, plus the upgrade, connected/start and stop/close.
      expect(await run(true)).toBeLessThanOrEqual(56);
      expect(media).toHaveLength(100);
    } finally {
      Object.assign(proto, original);
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('reports refused calls as failed', async () => {
    server = await startTestServer({ twilioAuthToken: 'tok-123' });
    const summary = await simulate({ url: server.wsUrl(), calls: 2, durationMs: 200, inbound: SPEECH_IN_ULAW, realtime: false });
    expect(summary).toMatchObject({ ok: 0, failed: 2 });
    expect(summary.results[0]!.error).toBe('upgrade refused: HTTP 401');
  });
});
