/**
 * A Recording on its own, on a real temp directory: frames in, files and meta.json out,
 * pauses and the real-time limit applied, without a socket or a session around it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { StartEvent } from '../events.js';
import { BufferPool } from './buffer-pool.js';
import { FileCreations } from './file-creations.js';
import { ReadGate } from './read-gate.js';
import { Recording, type RecordingDeps } from './recording.js';
import { StreamLog } from './stream-log.js';
import { twilioAppFrames } from '../providers/app-frames.js';
import { WriteBacklog } from './write-backlog.js';
import { WriteDispatch } from './write-dispatch.js';

function setup(overrides: Partial<ReturnType<typeof loadConfig>> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-recording-'));
  const config = { ...loadConfig({ dataDir, logLevel: 'silent' }, {}), ...overrides };
  let now = 0;
  const events: string[] = [];
  const log = new StreamLog(pino({ level: 'silent' }), () => undefined);
  const deps: RecordingDeps = {
    config,
    clock: { now: () => now, every: () => () => undefined },
    chunks: new BufferPool(),
    creations: new FileCreations(4),
    writes: new WriteDispatch(20),
    pcmScratch: new Int16Array(4096),
    scratch: Buffer.alloc(4096),
    log,
    gate: new ReadGate(new WriteBacklog(1 << 22), {}),
    openedAtMs: 0,
    appFrames: twilioAppFrames,
    countBytesWritten: () => undefined,
    failed: (code) => events.push(`failed ${code}`),
    reachedMaxDuration: () => events.push('max-duration'),
  };
  const start: StartEvent = {
    type: 'start',
    callId: 'CA1',
    streamId: 'MZ1',
    tracks: ['inbound', 'outbound'],
    format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
    params: { agent: '7' },
  };
  const dir = path.join(dataDir, 'recordings', 'MZ1');
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const recording = new Recording('twilio', start, new Date(), dir, deps, false);
  return { recording, dir, log, events, advance: (ms: number) => (now += ms) };
}

const frame = (value: number) => Buffer.alloc(160, value);

describe('Recording', () => {
  it('writes both tracks, the stereo file and meta.json from frames placed by timestamp', async () => {
    const { recording, dir } = setup();
    for (let i = 0; i < 10; i++) {
      recording.takeAudio(0, i * 20, frame(0x10), 160);
      recording.takeAudio(1, i * 20, frame(0x20), 160);
    }
    const meta = await recording.finish('stop', new Date(), { code: 1000, reason: 'stop' });
    expect(fs.readdirSync(dir).sort()).toEqual(['inbound.wav', 'meta.json', 'outbound.wav', 'stereo.wav']);
    expect(meta).toMatchObject({ status: 'complete', durationMs: 200, tracks: ['inbound', 'outbound'], customParameters: { agent: '7' }, closeCode: 1000 });
    expect(meta.inbound).toMatchObject({ framesReceived: 10, framesPlaced: 10, gapFilledMs: 0, bytes: 3200 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'))).toEqual(meta);
  });

  it('keeps the span of a silence pause and leaves out a skipped one', async () => {
    const { recording } = setup();
    recording.takeAudio(0, 0, frame(0x10), 160);
    recording.pause('silence');
    recording.takeAudio(0, 20, frame(0x10), 160);
    recording.resume();
    recording.pause('skip');
    recording.takeAudio(0, 40, frame(0x10), 160);
    recording.resume();
    recording.takeAudio(0, 60, frame(0x10), 160);
    const meta = await recording.finish('stop', new Date(), {});
    expect(meta.durationMs).toBe(60);
    expect(meta.inbound).toMatchObject({ framesReceived: 4, framesPlaced: 3, framesSkipped: 1 });
    expect(meta.pauses.map((p) => [p.behavior, p.atMs, p.endMs])).toEqual([['silence', 20, 40], ['skip', 40, 60]]);
  });

  it('refuses audio ahead of real time, and counts what it refuses', async () => {
    const { recording, log } = setup({ realtimeAllowanceMs: 100 });
    recording.takeAudio(0, 0, frame(0x10), 160);
    recording.takeAudio(0, 5000, frame(0x10), 160); // 5 s into a stream opened 0 ms ago
    const meta = await recording.finish('stop', new Date(), {});
    expect(log.rejections.CALLTAPE_ERR_AHEAD_OF_REAL_TIME).toBe(1);
    expect(meta.inbound!.framesDropped).toBe(1);
  });

  it('says when it has reached max duration, cut exactly there', async () => {
    const { recording, events } = setup({ maxDurationMs: 100, realtimeAllowanceMs: 10_000 });
    for (let i = 0; i < 8; i++) recording.takeAudio(0, i * 20, frame(0x10), 160);
    expect(events).toContain('max-duration');
    expect(recording.isFull).toBe(true);
    const meta = await recording.finish('max-duration', new Date(), {});
    expect(meta.durationMs).toBe(100);
  });
});
