/** `calltape simulate` against a real server: every simulated call recorded exactly. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { simulate } from '../../src/simulate/simulate.js';
import { SIMULATED_PROVIDERS, WIRE_PROTOCOLS } from '../../src/simulate/wire.js';
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

/** Each 16-bit sample `times` times over (the simulator's 8 kHz audio sent at a higher rate). */
function repeated(pcm: Buffer, times: number): Buffer {
  if (times === 1) return pcm;
  const out = Buffer.alloc(pcm.length * times);
  for (let i = 0; i < pcm.length / 2; i++) for (let k = 0; k < times; k++) pcm.copy(out, (i * times + k) * 2, i * 2, i * 2 + 2);
  return out;
}

async function expectExact(dataDir: string, streamSid: string, frames: number, tracks: 1 | 2 = 2, rateFactor = 1): Promise<void> {
  const dir = findRecordingDir(dataDir, streamSid);
  expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, repeated(ffmpegDecodeG711(looped(SPEECH_IN_ULAW, frames), 'mulaw'), rateFactor))).toBe(-1);
  if (tracks === 1) return;
  expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, repeated(ffmpegDecodeG711(looped(SPEECH_OUT_ULAW, frames), 'mulaw'), rateFactor))).toBe(-1);
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
      expect(meta).toMatchObject({ endReason: 'stop', durationMs: 2000 });
      expect(meta.rejections).toEqual({});
      await expectExact(server.dataDir, meta.streamSid, 100);
    }
  });

  it('the CLI, in fast mode, signs for a hardened server and prints JSON', async () => {
    // 30 s calls sent in a moment: a replay faster than real time, so the allowance is raised.
    server = await startTestServer({ twilioAuthToken: 'tok-123', streamTokenSecret: 'simulate-stream-secret', realtimeAllowanceMs: 60_000 });
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
    // What the server recorded was read back from its API: every call as sent.
    expect(summary).toMatchObject({ ok: 3, failed: 0, framesSent: 3 * 1500 * 2, lagMs: null, recordings: { checked: 3, mismatched: [] } });
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

  it('the CLI reads the recordings back, and a fast replay the server cut short fails naming the setting to raise', async () => {
    // The server's default is 10 s ahead of real time; 1 s here keeps the call short.
    server = await startTestServer({ realtimeAllowanceMs: 1000 });
    const finished = server.finished(1);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'simulate', '--url', server.wsUrl(), '--calls', '1', '--duration', '4', '--fast'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const [meta] = await finished;
    expect(meta!.durationMs).toBeLessThan(4000);
    expect(code, out).toBe(1);
    expect(out).toContain('calls: 1 ok, 0 failed (of 1)');
    expect(out).toContain('recordings: 0 as sent, 1 not (of 1 checked)');
    expect(out).toMatch(new RegExp(`${meta!.streamSid}: 4000 ms sent, \\d+ ms recorded \\(complete\\); refused: \\d+ × CALLTAPE_ERR_AHEAD_OF_REAL_TIME`));
    expect(out).toContain('start the server with CALLTAPE_REALTIME_ALLOWANCE_MS at least the call length in ms');
  });

  it('the CLI says when it could not check the recordings (an API behind a token), without failing the calls', async () => {
    server = await startTestServer({ apiToken: 'simulate-api-token-0123456789' });
    const cli = (extra: string[]) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'simulate', '--url', server!.wsUrl(), '--duration', '1', '--fast', ...extra], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CALLTAPE_API_TOKEN: '' },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
    };
    const unchecked = await cli([]);
    expect(unchecked.code).toBe(0);
    expect(unchecked.out).toMatch(/recordings: not checked: the API at http:\/\/127\.0\.0\.1:\d+ answered 401: give its token with --api-token/);
    const checked = await cli(['--api-token', 'simulate-api-token-0123456789']);
    expect(checked).toMatchObject({ code: 0 });
    expect(checked.out).toContain('recordings: 1 as sent, 0 not (of 1 checked)');
    expect(checked.out).not.toContain('simulate-api-token');
  });

  it('reports refused calls as failed', async () => {
    server = await startTestServer({ twilioAuthToken: 'tok-123' });
    const summary = await simulate({ url: server.wsUrl(), calls: 2, durationMs: 200, inbound: SPEECH_IN_ULAW, realtime: false });
    expect(summary).toMatchObject({ ok: 0, failed: 2 });
    expect(summary.results[0]!.error).toBe('upgrade refused: HTTP 401');
  });

  /** Protocols without timestamps: the server places their audio by arrival, so it must arrive in time. */
  const PLACED_BY_ARRIVAL = new Set<string>(['bandwidth', 'sinch', 'asterisk']);
  for (const provider of SIMULATED_PROVIDERS.filter((p) => p !== 'twilio')) {
    const wire = WIRE_PROTOCOLS[provider];
    const twoTracks = wire.outbound;
    const params = wire.carriesParams !== false;
    it(`speaks ${provider}'s protocol: every call recorded exactly under its ids${params ? ', parameters kept' : ''}`, async () => {
      server = await startTestServer(params ? { streamTokenSecret: 'simulate-stream-secret', answerKey: 'simulate-answer-key-0123' } : {});
      const finished = server.finished(2);
      const summary = await simulate({
        provider,
        url: server.wsUrl(provider),
        calls: 2,
        durationMs: 2000,
        inbound: SPEECH_IN_ULAW,
        outbound: twoTracks ? SPEECH_OUT_ULAW : undefined,
        realtime: PLACED_BY_ARRIVAL.has(provider),
        rampMs: 100,
        ...(params ? { streamTokenSecret: 'simulate-stream-secret', customParameters: { campaign: 'sim' } } : {}),
      });
      expect(summary).toMatchObject({ calls: 2, ok: 2, failed: 0 });
      const metas = await finished;
      for (const meta of metas) {
        // Sinch's stream id is the server's own: its call is found by the call id.
        const call = summary.results.find((r) => (wire.findBy === 'callSid' ? r.callSid === meta.callSid : r.streamSid === meta.streamSid))!;
        expect(meta).toMatchObject({ provider, callSid: call.callSid, status: 'complete', durationMs: 2000 });
        expect(meta.rejections).toEqual({});
        if (params) expect(meta.customParameters).toMatchObject({ campaign: 'sim' });
        expect(meta.tracks).toEqual(twoTracks ? ['inbound', 'outbound'] : ['inbound']);
        // ACS streams 16 kHz: the simulator doubles each 8 kHz sample.
        await expectExact(server.dataDir, meta.streamSid, 100, twoTracks ? 2 : 1, provider === 'acs' ? 2 : 1);
      }
    });
  }

  it("the CLI signs AudioHook upgrades with the integration's key and secret from the environment, and finds Sinch's recordings by call id", async () => {
    const secret = Buffer.from('a client secret of thirty-two bytes!').toString('base64');
    server = await startTestServer({ genesysApiKey: 'simulated-genesys-key', genesysClientSecret: secret });
    const cli = (args: string[], env: Record<string, string> = {}) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
    };
    const signed = await cli(['--provider', 'genesys', '--url', server.wsUrl('genesys'), '--duration', '1', '--fast', '--json'], { CALLTAPE_GENESYS_API_KEY: 'simulated-genesys-key', CALLTAPE_GENESYS_CLIENT_SECRET: secret });
    expect(signed.code, signed.out).toBe(0);
    expect(JSON.parse(signed.out)).toMatchObject({ calls: 1, ok: 1, recordings: { checked: 1, mismatched: [] } });
    const unsigned = await cli(['--provider', 'genesys', '--url', server.wsUrl('genesys'), '--duration', '1', '--fast', '--json'], { CALLTAPE_GENESYS_API_KEY: 'simulated-genesys-key' });
    expect(JSON.parse(unsigned.out)).toMatchObject({ ok: 0, results: [{ error: 'upgrade refused: HTTP 401' }] });
    const sinch = await cli(['--provider', 'sinch', '--url', server.wsUrl('sinch'), '--duration', '1', '--one-track', '--json']);
    expect(sinch.code, sinch.out).toBe(0);
    expect(JSON.parse(sinch.out)).toMatchObject({ calls: 1, ok: 1, recordings: { checked: 1, mismatched: [] } });
  });

  it('the CLI takes --provider (its endpoint by default) and explains a track the provider does not stream', async () => {
    server = await startTestServer();
    const finished = server.finished(1);
    const cli = (args: string[]) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
    };
    const ok = await cli(['--provider', 'telnyx', '--url', server.wsUrl('telnyx'), '--duration', '1', '--fast', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ calls: 1, ok: 1 });
    const [meta] = await finished;
    expect(meta).toMatchObject({ provider: 'telnyx', tracks: ['inbound', 'outbound'], durationMs: 1000 });
    const refused = await cli(['--provider', 'exotel', '--duration', '1']);
    expect(refused).toMatchObject({ code: 2 });
    expect(refused.out).toContain('--provider exotel streams the caller');
    const unknown = await cli(['--provider', 'skype', '--duration', '1']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.out).toContain('--provider must be one of twilio, signalwire, telnyx, plivo, bandwidth, exotel, sinch, acs, asterisk, genesys');
  });

  it("refuses an outbound clip for a provider that streams the caller's audio only", async () => {
    await expect(
      simulate({ provider: 'exotel', url: 'ws://127.0.0.1:9/streams/exotel', calls: 1, durationMs: 100, inbound: SPEECH_IN_ULAW, outbound: SPEECH_OUT_ULAW, realtime: false }),
    ).rejects.toThrow(/caller's audio/);
  });
});
