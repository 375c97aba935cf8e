/**
 * Limits with documented defaults: idle timeout, max duration, max concurrent streams, and
 * the write backlog past which a stream's socket stops being read.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRecorder, type Recorder } from '../../src/recording/recorder.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { looped, SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, interleaveStereo, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, streamSession, whenClosed } from '../helpers/ws-client.js';
import { ManualClock } from '../helpers/manual-clock.js';

let server: TestServer | undefined;
/** A stalled file pool must be freed before the server can stop, even after a failure. */
let stall: { release(): void } | undefined;
/** A recorder a test made itself (no server around it). */
let embedded: Recorder | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  stall?.release();
  stall = undefined;
  await embedded?.shutdown();
  embedded = undefined;
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
    // On a clock the test moves: the second of quiet passes without a second of waiting.
    const clock = new ManualClock();
    server = await startTestServer({ idleTimeoutMs: 1000, headerIntervalMs: 100, clock });
    const { call, closed, done } = await inboundCallLeftOpen(server, 50);
    await waitFor(() => server!.recorder.stats().framesReceived >= 52, 5000, 'the frames to arrive');
    clock.advance(900);
    expect(server.recorder.activeCount).toBe(1);
    clock.advance(200);
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

  it('finishes a recording whose socket has been open for maxDurationMs, however little audio it holds', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ maxDurationMs: 60_000, idleTimeoutMs: 3_600_000, headerIntervalMs: 100, clock });
    const { closed, done } = await inboundCallLeftOpen(server, 10);
    await waitFor(() => server!.recorder.stats().framesReceived >= 12, 5000, 'the frames to arrive');
    clock.advance(59_000);
    expect(server.recorder.activeCount).toBe(1);
    clock.advance(1_100);
    const [meta] = await done;
    expect(meta).toMatchObject({ endReason: 'max-duration', closeReason: 'CALLTAPE_ERR_MAX_DURATION', durationMs: 200 });
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

  it('stops reading a stream whose files are behind, never takes that for idle, and loses nothing', async () => {
    server = await startTestServer({ idleTimeoutMs: 1000, headerIntervalMs: 100, realtimeAllowanceMs: 60_000 });
    // 24 s of two-track audio is 1.5 MiB for the three 16-bit files: past the 1 MiB backlog
    // at which a stream's socket stops being read while no file operation can complete.
    const seconds = 24;
    const inbound = looped(SPEECH_IN_ULAW, seconds * 8000);
    const outbound = looped(SPEECH_OUT_ULAW, seconds * 8000);
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = interleave(mediaFrames('inbound', inbound), mediaFrames('outbound', outbound)).map((f) => writer.media(f));
    stall = stallFilePool(tempDataDir('calltape-stall-'));
    const ws = await openSocket(server.wsUrl());
    const done = server.finished(1);
    const sent = sendAll(ws, [writer.connected(), writer.start(), ...frames, writer.stop()]);
    await waitFor(() => server!.recorder.stats().framesReceived > 0, 10_000, 'frames read');
    // Reading stops once the backlog passes the limit; twice the idle timeout of quiet follows.
    await readingStopped(server);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(server.recorder.stats().framesReceived).toBeLessThan(frames.length);
    stall.release();
    await sent;
    const [meta] = await done;
    expect(meta).toMatchObject({ status: 'complete', endReason: 'stop', durationMs: seconds * 1000 });
    expect(meta!.inbound).toMatchObject({ framesReceived: frames.length / 2, framesPlaced: frames.length / 2, framesDropped: 0 });
    const dir = findRecordingDir(server.dataDir, call.streamSid);
    const inPcm = looped(SPEECH_IN_PCM, seconds * 16000);
    const outPcm = looped(SPEECH_OUT_PCM, seconds * 16000);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, inPcm)).toBe(-1);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, outPcm)).toBe(-1);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(inPcm, outPcm))).toBe(-1);
  });

  it('stops reading every stream while the recorder as a whole is past maxWriteBacklogBytes, and loses nothing', async () => {
    // Each stream alone stays far under its own 1 MiB; together they pass 256 KiB.
    server = await startTestServer({ maxWriteBacklogBytes: 256 * 1024, idleTimeoutMs: 1000, headerIntervalMs: 100 });
    const seconds = 6;
    const inbound = looped(SPEECH_IN_ULAW, seconds * 8000);
    const outbound = looped(SPEECH_OUT_ULAW, seconds * 8000);
    const calls = [newTwilioCall(), newTwilioCall()];
    stall = stallFilePool(tempDataDir('calltape-stall-'));
    const done = server.finished(2);
    let framesTotal = 0;
    const sent = await Promise.all(
      calls.map(async (call) => {
        const writer = new TwilioFrameWriter(call);
        const frames = interleave(mediaFrames('inbound', inbound), mediaFrames('outbound', outbound)).map((f) => writer.media(f));
        framesTotal += frames.length + 3;
        const ws = await openSocket(server!.wsUrl());
        // Not awaited here: with reading stopped, the sends may wait for the stall to end.
        return { sending: sendAll(ws, [writer.connected(), writer.start(), ...frames, writer.stop()]) };
      }),
    );
    await waitFor(() => server!.recorder.stats().framesReceived > 0, 10_000, 'frames read');
    await readingStopped(server);
    const atPause = server.recorder.stats().writeBacklogBytes;
    // Quiet for 15 ticks (every 100 ms here): a stream paused for the disk is quiet because of
    // us, so its held audio is not flushed into the backlog that is already past its limit.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stats = server.recorder.stats();
    expect(stats.writeBacklogBytes).toBe(atPause);
    expect(stats.framesReceived).toBeLessThan(framesTotal);
    expect(stats.writeBacklogBytes).toBeGreaterThan(256 * 1024);
    expect(stats.writeBacklogBytes).toBeLessThan(1024 * 1024);
    stall.release();
    await Promise.all(sent.map((s) => s.sending));
    const metas = await done;
    const inPcm = looped(SPEECH_IN_PCM, seconds * 16000);
    const outPcm = looped(SPEECH_OUT_PCM, seconds * 16000);
    for (const call of calls) {
      const meta = metas.find((m) => m.streamSid === call.streamSid)!;
      expect(meta).toMatchObject({ status: 'complete', endReason: 'stop', durationMs: seconds * 1000 });
      expect(meta.outbound).toMatchObject({ framesReceived: seconds * 50, framesPlaced: seconds * 50, framesDropped: 0 });
      const dir = findRecordingDir(server.dataDir, call.streamSid);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, inPcm)).toBe(-1);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(inPcm, outPcm))).toBe(-1);
    }
    expect(server.recorder.stats().writeBacklogBytes).toBe(0);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^calltape_write_backlog_bytes 0$/m);
  });
});

describe('paused for the disk', () => {
  it('does not flush a paused stream\'s held audio into the backlog while it is quiet', async () => {
    const dataDir = tempDataDir();
    // Ticks every 100 ms; the smallest recorder-wide backlog (64 KiB, about one second of a
    // call's three 16-bit files).
    const recorder = createRecorder({ dataDir, logLevel: 'silent', maxWriteBacklogBytes: 64 * 1024, headerIntervalMs: 100 });
    embedded = recorder;
    stall = stallFilePool(tempDataDir('calltape-stall-'));
    const paused = { a: 0, b: 0 };
    const a = recorder.openStream('twilio', { pause: () => paused.a++ });
    const b = recorder.openStream('twilio', { pause: () => paused.b++ });
    const writers = [new TwilioFrameWriter(newTwilioCall()), new TwilioFrameWriter(newTwilioCall())] as const;
    const framesOf = (ms: number) => interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW)).slice(0, ms / 10);
    const send = (stream: typeof a, writer: TwilioFrameWriter, frames: ReturnType<typeof framesOf>) => {
      for (const frame of frames) stream.frame(Buffer.from(writer.media(frame)), false);
    };
    for (const [stream, writer] of [[a, writers[0]], [b, writers[1]]] as const) {
      stream.frame(Buffer.from(writer.connected()), false);
      stream.frame(Buffer.from(writer.start()), false);
    }
    const bFrames = framesOf(1000);
    // B holds half a second (less than a batch); A writes two batches and passes the limit;
    // B's next frame finds the recorder past it and B stops with its half second held.
    send(b, writers[1], bFrames.slice(0, 50));
    send(a, writers[0], framesOf(2500));
    expect(paused).toEqual({ a: 1, b: 0 });
    send(b, writers[1], bFrames.slice(50, 52));
    expect(paused).toEqual({ a: 1, b: 1 });
    const atPause = recorder.stats().writeBacklogBytes;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(recorder.stats().writeBacklogBytes).toBe(atPause);
    stall.release();
    await waitFor(() => recorder.stats().writeBacklogBytes === 0, 10_000, 'files written');
    send(b, writers[1], bFrames.slice(52));
    const metas: unknown[] = [];
    recorder.on('recording.finished', (meta) => metas.push(meta));
    b.frame(Buffer.from(writers[1].stop()), false);
    a.frame(Buffer.from(writers[0].stop()), false);
    await waitFor(() => metas.length === 2, 10_000, 'both recordings finished');
    const dir = findRecordingDir(dataDir, writers[1].call.streamSid);
    const stereo = ffmpegDecode(path.join(dir, 'stereo.wav')).pcm;
    expect(firstDifference(stereo, interleaveStereo(SPEECH_IN_PCM.subarray(0, 16000), SPEECH_OUT_PCM.subarray(0, 16000)))).toBe(-1);
  });
});

describe('file creations', () => {
  /**
   * Counts the creations that start recordings (mkdir, open with 'wx', and the temp file of
   * the initial meta.json) in flight at once, through the same fs functions the recorder calls.
   */
  function countCreations() {
    const seen = { total: 0, inFlight: 0, max: 0 };
    const begin = () => {
      seen.total++;
      seen.max = Math.max(seen.max, ++seen.inFlight);
    };
    const wrapCallback = (args: unknown[]) => {
      const callback = args.pop() as (...result: unknown[]) => void;
      begin();
      return [
        ...args,
        (...result: unknown[]) => {
          seen.inFlight--;
          callback(...result);
        },
      ];
    };
    const mkdir = fs.mkdir;
    const open = fs.open;
    const writeFile = fsp.writeFile;
    vi.spyOn(fs, 'mkdir').mockImplementation(((...args: unknown[]) => Reflect.apply(mkdir, fs, wrapCallback(args))) as typeof fs.mkdir);
    vi.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) =>
      Reflect.apply(open, fs, args[1] === 'wx' ? wrapCallback(args) : args)) as typeof fs.open);
    vi.spyOn(fsp, 'writeFile').mockImplementation(async (...args: Parameters<typeof fsp.writeFile>) => {
      const isMetaTemp = String(args[0]).endsWith('.tmp') && String(args[1]).includes('"status": "recording"');
      if (isMetaTemp) begin();
      try {
        return await writeFile(...args);
      } finally {
        if (isMetaTemp) seen.inFlight--;
      }
    });
    return seen;
  }

  /** `count` short two-track calls started together; every file must hold exactly its call. */
  async function burstOfCalls(target: TestServer, count: number) {
    const calls = Array.from({ length: count }, () => newTwilioCall());
    const done = target.finished(count);
    const inbound = mediaFrames('inbound', SPEECH_IN_ULAW).slice(0, 25);
    const outbound = mediaFrames('outbound', SPEECH_OUT_ULAW).slice(0, 25);
    await Promise.all(calls.map((call) => streamSession(target.wsUrl(), new TwilioFrameWriter(call).session(interleave(inbound, outbound)))));
    const metas = await done;
    const inPcm = SPEECH_IN_PCM.subarray(0, 25 * 320);
    const outPcm = SPEECH_OUT_PCM.subarray(0, 25 * 320);
    for (const call of calls) {
      expect(metas.find((m) => m.streamSid === call.streamSid)).toMatchObject({ status: 'complete', durationMs: 500 });
      const dir = findRecordingDir(target.dataDir, call.streamSid);
      expect(firstDifference(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm, interleaveStereo(inPcm, outPcm))).toBe(-1);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'))).toMatchObject({ status: 'complete' });
    }
  }

  // One slot: never two at once. Eight: the count does see concurrency, so the first case
  // could fail.
  it.each([
    { limit: 1, least: 1 },
    { limit: 8, least: 2 },
  ])('creates at most $limit directories and files at once, and records every call of a burst', async ({ limit, least }) => {
    server = await startTestServer({ maxConcurrentFileCreations: limit });
    const seen = countCreations();
    await burstOfCalls(server, 12);
    // Each recording: its directory and three WAVs, and the initial meta.json unless the
    // call was over before its directory was made.
    expect(seen.total).toBeGreaterThanOrEqual(12 * 4);
    expect(seen.max).toBeGreaterThanOrEqual(least);
    expect(seen.max).toBeLessThanOrEqual(limit);
    expect(server.recorder.stats().fileCreationsWaiting).toBe(0);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^calltape_file_creations_waiting 0$/m);
  });
});

/**
 * Takes every thread of libuv's file pool with an open() of a FIFO nobody writes to, so the
 * recorder's file operations wait behind them (a disk that stopped answering) until release().
 */
function stallFilePool(dir: string): { release(): void } {
  const fifo = path.join(dir, 'stall.fifo');
  execFileSync('mkfifo', [fifo]);
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  for (let i = 0; i < threads; i++) fs.open(fifo, 'r', (err, fd) => err || fs.close(fd, () => undefined));
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // A writer lets every blocked open() complete (each reader is closed again at once).
      fs.closeSync(fs.openSync(fifo, 'w'));
    },
  };
}

/** Resolves once the server's frame count has not moved for `quietMs` (its reading paused). */
async function readingStopped(target: TestServer, quietMs = 300): Promise<void> {
  let count = target.recorder.stats().framesReceived;
  let since = Date.now();
  await waitFor(() => {
    const now = target.recorder.stats().framesReceived;
    if (now !== count) {
      count = now;
      since = Date.now();
    }
    return Date.now() - since >= quietMs;
  }, 10_000, 'reading to stop');
}
