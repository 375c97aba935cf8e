/**
 * The contract every adapter passes: its fixture session (documented frames, real speech)
 * yields the expected normalized events, and end to end over a real socket, both on its own
 * route and on /streams/auto, gives files of the right rate and channel layout whose audio
 * equals the reference decoder's.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRejection, type ParseResult, type StartEvent } from '../../src/events.js';
import { ADAPTERS, PROVIDERS } from '../../src/providers/registry.js';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { callFiles, findRecordingDir, interleaveStereo, padPcm } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';
import { contractSessions, type ContractSession } from './sessions.js';
import { chunks, PCM8K } from './speech.js';

const sessions = await contractSessions();

function parseAll(session: ContractSession, provider: 'auto' | ContractSession['provider']): ParseResult[] {
  const parser = PROVIDERS[provider].createParser({ subprotocol: session.protocols[0], query: new URLSearchParams(session.query) });
  const results: ParseResult[] = [];
  for (const frame of session.frames) {
    const output = typeof frame === 'string' ? parser.parseText(frame) : parser.parseBinary(frame);
    results.push(...(Array.isArray(output) ? output : [output as ParseResult]));
  }
  return results;
}

/** Largest per-sample difference between two s16le buffers of equal length. */
function maxDifference(actual: Buffer, expected: Buffer): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < actual.length; i += 2) max = Math.max(max, Math.abs(actual.readInt16LE(i) - expected.readInt16LE(i)));
  return max;
}

async function record(server: TestServer, session: ContractSession, route: string): Promise<RecordingMeta> {
  const finished = server.finished(1);
  const ws = await openSocket(`${server.wsUrl(route)}${session.query}`, { protocols: session.protocols });
  const closed = whenClosed(ws);
  await sendAll(ws, session.frames);
  ws.close(1000, 'done');
  await closed;
  const [meta] = await finished;
  return meta!;
}

function checkFiles(server: TestServer, session: ContractSession, meta: RecordingMeta): void {
  const { expected } = session;
  expect(meta.status).toBe('complete');
  expect(meta.tracks).toEqual(expected.tracks);
  expect(meta.fileFormat).toEqual({ format: 'pcm16', sampleRate: expected.sampleRate });
  expect(meta.rejections).toEqual({});
  if (expected.mix) expect(meta.mix).toBe(expected.mix);
  const dir = findRecordingDir(server.dataDir, meta.streamSid);
  // Exactly the files of the tracks recorded: none left behind for a track never sent.
  const files = [...expected.tracks.map((t) => `${t}.wav`), ...(expected.tracks.length === 2 ? ['stereo.wav'] : []), 'meta.json'];
  expect(callFiles(dir)).toEqual(files.sort());
  const samples = Math.max(...Object.values(expected.pcm).map((pcm) => pcm!.length / 2));
  const want: Record<string, Buffer> = {};
  for (const track of expected.tracks) {
    want[track] = padPcm(expected.pcm[track]!, samples);
    const decoded = ffmpegDecode(path.join(dir, `${track}.wav`));
    expect(decoded).toMatchObject({ codec: 'pcm_s16le', sampleRate: expected.sampleRate, channels: 1 });
    expect(maxDifference(decoded.pcm, want[track]!), `${track}.wav`).toBeLessThanOrEqual(expected.tolerance);
  }
  if (expected.tracks.length === 2) {
    const stereo = ffmpegDecode(path.join(dir, 'stereo.wav'));
    expect(stereo).toMatchObject({ sampleRate: expected.sampleRate, channels: 2 });
    expect(maxDifference(stereo.pcm, interleaveStereo(want.inbound!, want.outbound!))).toBeLessThanOrEqual(expected.tolerance);
  }
  expect(meta.dtmf.map((d) => d.digit)).toEqual(expected.dtmf ?? []);
  if (expected.dtmfDurationsMs) expect(meta.dtmf.map((d) => d.durationMs)).toEqual(expected.dtmfDurationsMs);
  expect(meta.marks.map((m) => m.name)).toEqual(expected.marks ?? []);
  const notices = meta.notices ?? [];
  expect(notices).toHaveLength(expected.notices?.length ?? 0);
  (expected.notices ?? []).forEach((text, i) => expect(notices[i]!.message).toContain(text));
  expect(meta.tracksInferred ?? false).toBe(expected.tracksInferred ?? false);
  // Contiguous audio is written contiguous: nothing trimmed, whatever the timestamps did.
  for (const track of expected.tracks) expect(meta[track]!.framesTrimmed, `${track}.framesTrimmed`).toBe(0);
}

describe('adapter contract', () => {
  // Each session's ids are fixed, so /streams/auto records them on a server of its own.
  let server: TestServer;
  let autoServer: TestServer;
  beforeAll(async () => {
    [server, autoServer] = await Promise.all([startTestServer(), startTestServer()]);
  });
  afterAll(async () => {
    await Promise.all([server.stop(), autoServer.stop()]);
  });

  for (const session of sessions) {
    describe(session.name, () => {
      it('parses into the expected normalized events', () => {
        const results = parseAll(session, session.provider);
        const rejections = results.filter(isRejection);
        expect(rejections).toEqual([]);
        const starts = results.filter((r): r is StartEvent => !isRejection(r) && r.type === 'start');
        expect(starts).toHaveLength(1);
        const start = starts[0]!;
        // Tracks nobody named are all prepared; the files then hold those sent (checkFiles).
        expect(start.tracks).toEqual(start.tracksInferred ? ['inbound', 'outbound'] : session.expected.tracks);
        expect(start.format.encoding).toBe(session.expected.encoding);
        if (session.expected.callId) expect(start.callId).toBe(session.expected.callId);
        if (session.expected.streamId) expect(start.streamId).toBe(session.expected.streamId);
        if (session.expected.params) expect(start.params).toMatchObject(session.expected.params);
        if (session.expected.mix) expect(start.mix).toBe(session.expected.mix);
        // Start comes before any audio, and audio of each track adds up to what was sent.
        const firstAudio = results.findIndex((r) => !isRejection(r) && r.type === 'audio');
        expect(results.indexOf(start)).toBeLessThan(firstAudio);
        const stops = results.filter((r) => !isRejection(r) && r.type === 'stop');
        expect(stops).toHaveLength(session.expected.stop ? 1 : 0);
      });

      it(`cites its source (${session.source.slice(0, 60)})`, () => {
        expect(session.source).toMatch(/https:\/\/|document/);
      });

      it('records the audio exactly over a real socket', async () => {
        const meta = await record(server, session, session.provider);
        expect(meta.provider).toBe(session.provider);
        checkFiles(server, session, meta);
      });

      it(`is recognised by /streams/auto as ${session.provider}`, async () => {
        const parsed = parseAll(session, 'auto').filter((r): r is StartEvent => !isRejection(r) && r.type === 'start');
        expect(parsed.map((s) => s.provider)).toEqual([session.provider]);
        const meta = await record(autoServer, session, 'auto');
        expect(meta.provider).toBe(session.provider);
        checkFiles(autoServer, session, meta);
      });
    });
  }

  it('covers every provider adapter the registry has, and no other', () => {
    const covered = new Set(sessions.map((session) => session.provider));
    expect(ADAPTERS.map((adapter) => adapter.name).filter((name) => !covered.has(name as ContractSession['provider']))).toEqual([]);
    expect([...covered].filter((name) => !ADAPTERS.some((adapter) => adapter.name === name))).toEqual([]);
  });

  it('/streams/auto refuses binary audio whose format nothing proves (no subprotocol, no ?rate=): 1003, nothing recorded, counted', async () => {
    // A JSON frame of no protocol calltape speaks (a made-up one), then audio: taken for
    // FreeSWITCH at 8 kHz, it would be recorded at whatever rate and layout it is not.
    const open = { type: 'session.begin', codec: 'pcm', rate: 'auto', session: 'e160e428-53e2-487c-977d-96989bf5c99d' };
    for (const frames of [
      [JSON.stringify(open), Buffer.alloc(320)],
      [Buffer.alloc(640), Buffer.alloc(640)],
    ]) {
      const before = autoServer.recorder.stats();
      const ws = await openSocket(autoServer.wsUrl('auto'));
      const closed = whenClosed(ws);
      await sendAll(ws, frames);
      expect(await closed).toMatchObject({ code: 1003, reason: 'CALLTAPE_ERR_UNKNOWN_PROVIDER' });
      const after = autoServer.recorder.stats();
      expect(after.streamsStarted).toBe(before.streamsStarted);
      expect(after.rejections.CALLTAPE_ERR_UNKNOWN_PROVIDER).toBe((before.rejections.CALLTAPE_ERR_UNKNOWN_PROVIDER ?? 0) + 1);
    }
  });

  it('/streams/freeswitch refuses a metadata frame whose format contradicts the URL, and takes the metadata’s where the URL is silent', async () => {
    for (const [query, metadata] of [
      ['?rate=8000', { uuid: 'u1', sampleRate: 16000 }],
      ['?mix=mono&rate=16000', { uuid: 'u2', mix: 'stereo' }],
      ['', { uuid: 'u3', channels: 1, mix: 'stereo' }],
    ] as const) {
      const ws = await openSocket(`${server.wsUrl('freeswitch')}${query}`);
      const closed = whenClosed(ws);
      await sendAll(ws, [JSON.stringify(metadata), Buffer.alloc(640)]);
      expect(await closed, JSON.stringify(metadata)).toMatchObject({ code: 1003, reason: 'CALLTAPE_ERR_UNSUPPORTED_FORMAT' });
    }
    // The URL says nothing; the metadata says 16k stereo (mod_audio_stream's spelling); a key that is no format is a parameter.
    const parsed = PROVIDERS.freeswitch.createParser({ query: new URLSearchParams('') }).parseText(JSON.stringify({ uuid: 'u4', rate: 'gold', sampling_rate: '16k', mix: 'stereo' }));
    expect(parsed).toMatchObject({ type: 'start', format: { sampleRate: 16000, channels: 2 }, tracks: ['inbound', 'outbound'], params: { rate: 'gold' } });
  });

  it('Sinch: the ConnectRequest is answered {"command":"answer"} (no audio flows before it), on its route and on /streams/auto; another codec gets no answer and is refused', async () => {
    const connect = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({ command: 'connect', version: 1, callId: '01KHKF468K4P1T3CZ4XJ1NYVN3', applicationKey: 'app', codec: 'PCM', sampleRate: 8000, callHeaders: {}, ...extra });
    for (const route of ['sinch', 'auto']) {
      const ws = await openSocket(server.wsUrl(route));
      const answered = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
      const finished = server.finished(1);
      await sendAll(ws, [connect()]);
      expect(await answered).toBe('{"command":"answer"}');
      await sendAll(ws, chunks(Buffer.from(PCM8K.inbound), 320).slice(0, 50));
      ws.close(1000, 'hung up');
      const [meta] = await finished;
      expect(meta).toMatchObject({ provider: 'sinch', callSid: '01KHKF468K4P1T3CZ4XJ1NYVN3', fileFormat: { sampleRate: 8000 }, tracks: ['inbound'] });
    }
    const refused = await openSocket(server.wsUrl('sinch'));
    const messages: string[] = [];
    refused.on('message', (data: Buffer) => messages.push(data.toString('utf8')));
    const closed = whenClosed(refused);
    await sendAll(refused, [connect({ codec: 'OPUS' })]);
    expect(await closed).toMatchObject({ code: 1003, reason: 'CALLTAPE_ERR_UNSUPPORTED_FORMAT' });
    expect(messages).toEqual([]);
  });

  it('/streams/auto refuses a stream that matches no provider: 1003, nothing recorded', async () => {
    const before = autoServer.recorder.stats();
    const ws = await openSocket(autoServer.wsUrl('auto'));
    const closed = whenClosed(ws);
    await sendAll(ws, ['{"hello":1}', '{"event":"connected"}', '{"event":"media"}', '{"what":"ever"}']);
    expect(await closed).toMatchObject({ code: 1003, reason: 'CALLTAPE_ERR_UNKNOWN_PROVIDER' });
    const after = autoServer.recorder.stats();
    expect(after.streamsStarted).toBe(before.streamsStarted);
    expect(after.rejections.CALLTAPE_ERR_UNKNOWN_PROVIDER).toBe((before.rejections.CALLTAPE_ERR_UNKNOWN_PROVIDER ?? 0) + 1);
  });
});
