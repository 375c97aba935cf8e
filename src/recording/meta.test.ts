import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GapSpans } from './gap-spans.js';
import { buildMeta, META_FILE, stageMeta, writeMeta, type MetaSnapshot, type RecordingMeta } from './meta.js';

const counters = (n: number) => ({ received: n, skipped: 0, placed: n, dropped: 0, trimmed: 0 });
const stats = (placed: number, drift = 0, gaps = new GapSpans()) => ({ placedSamples: placed, lateSamples: 0, duplicateSamples: 0, driftSamples: drift, maxDriftSamples: Math.abs(drift), realignedFrames: 0, gaps });

function snapshot(overrides: Partial<MetaSnapshot> = {}): MetaSnapshot {
  return {
    provider: 'twilio',
    start: { type: 'start', callId: 'CA1', streamId: 'MZ1', accountId: 'AC1', tracks: ['inbound'], format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 }, params: { a: '1' } },
    startedAt: new Date('2026-12-02T00:00:00Z'),
    endedAt: new Date('2026-12-02T00:00:01Z'),
    reason: 'stop',
    failure: undefined,
    closeInfo: { code: 1000, reason: 'stop' },
    tracks: ['inbound'],
    lengthSamples: 8000,
    samplesPerMs: 8,
    trackFacts: [{ counters: counters(50), stats: stats(7200, 12), file: { name: 'inbound.wav', bytes: 16000 } }, undefined],
    stereo: undefined,
    fileFormat: 'pcm16',
    sampleRate: 8000,
    byteOrder: undefined,
    tee: false,
    arrivalInsertedSamples: undefined,
    dtmf: [],
    marks: [],
    pauses: [],
    notices: [],
    rejections: {},
    ...overrides,
  };
}

describe('buildMeta', () => {
  it("gives a complete recording's meta.json: ids, tracks, durations, gap fill and drift in ms", () => {
    const meta = buildMeta(snapshot());
    expect(meta).toMatchObject({ version: 1, status: 'complete', callSid: 'CA1', streamSid: 'MZ1', accountSid: 'AC1', durationMs: 1000, endReason: 'stop', closeCode: 1000, closeReason: 'stop' });
    expect(meta.inbound).toEqual({ file: 'inbound.wav', bytes: 16000, durationMs: 1000, framesReceived: 50, framesPlaced: 50, framesDropped: 0, framesTrimmed: 0, framesSkipped: 0, gapFilledMs: 100, timestampDriftMs: 1.5, maxTimestampDriftMs: 1.5 });
    expect(meta.outbound).toBeUndefined();
    expect('notices' in meta).toBe(false);
  });

  it('says where the silence is, in ms, and how many spans were not listed', () => {
    const gaps = new GapSpans();
    gaps.add(0, 80);
    gaps.add(4000, 6400);
    gaps.notListed = 3;
    const meta = buildMeta(snapshot({ trackFacts: [{ counters: counters(50), stats: stats(5520, 0, gaps), file: undefined }, undefined] }));
    expect(meta.inbound?.gaps).toEqual([
      { atMs: 0, endMs: 10 },
      { atMs: 500, endMs: 800 },
    ]);
    expect(meta.inbound?.gapsNotListed).toBe(3);
  });

  it('a failure makes it failed, whatever ended the stream', () => {
    const meta = buildMeta(snapshot({ failure: { code: 'CALLTAPE_ERR_WRITE_FAILED', message: 'ENOSPC' }, reason: 'closed' }));
    expect(meta).toMatchObject({ status: 'failed', endReason: 'failed', error: { code: 'CALLTAPE_ERR_WRITE_FAILED' } });
  });

  it('says what only some recordings have: tee, inferred tracks, arrival silence, byte order, stereo', () => {
    const start = { ...snapshot().start, tracksInferred: true as const, format: { encoding: 'l16' as const, sampleRate: 8000, channels: 1 } };
    const meta = buildMeta(snapshot({ start, tee: true, arrivalInsertedSamples: 800, byteOrder: 'le', stereo: { name: 'stereo.wav', bytes: 32000 } }));
    expect(meta).toMatchObject({ tracksInferred: true, outboundSource: 'tee', arrivalGapFilledMs: 100, mediaFormat: { byteOrder: 'le' }, stereo: { file: 'stereo.wav', bytes: 32000, durationMs: 1000 } });
  });
});

describe('writeMeta with a staged copy', () => {
  const dirWith = () => fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-meta-'));
  const names = (dir: string) => fs.readdirSync(dir).sort();
  const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8')) as RecordingMeta;

  it('renames the staged copy when meta.json is to say the same, leaving no temporary file', async () => {
    const dir = dirWith();
    const meta = buildMeta(snapshot());
    const staged = stageMeta(dir, meta);
    await writeMeta(dir, buildMeta(snapshot()), undefined, staged);
    expect(names(dir)).toEqual([META_FILE]);
    expect(read(dir)).toEqual(meta);
  });

  it('writes what meta.json is to say when the staged copy says something else (a file failed as it closed), and removes that copy', async () => {
    const dir = dirWith();
    const staged = stageMeta(dir, buildMeta(snapshot()));
    const failed = buildMeta(snapshot({ failure: { code: 'CALLTAPE_ERR_WRITE_FAILED', message: 'ENOSPC' } }));
    await writeMeta(dir, failed, undefined, staged);
    expect(names(dir)).toEqual([META_FILE]);
    expect(read(dir)).toMatchObject({ status: 'failed', error: { code: 'CALLTAPE_ERR_WRITE_FAILED' } });
  });

  it('writes meta.json the usual way when the staged copy could not be written', async () => {
    const dir = dirWith();
    const staged = stageMeta(path.join(dir, 'no-such-dir'), buildMeta(snapshot()));
    expect(await staged.written).toBe(false);
    await writeMeta(dir, buildMeta(snapshot()), undefined, staged);
    expect(names(dir)).toEqual([META_FILE]);
    expect(read(dir)).toMatchObject({ status: 'complete' });
  });
});
