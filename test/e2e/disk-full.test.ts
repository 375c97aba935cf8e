/**
 * Storage failures. Disk full (ENOSPC) during a call: that recording is marked failed with
 * the reason, its socket is closed (1011), the process keeps serving, and finished files are
 * untouched. Recordings go to a small tmpfs mounted for the test (needs root, as on CI).
 * A recording directory that cannot be made fails that stream the same way, and the next
 * stream, once the path is usable, records normally (its parents are made as needed).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { parseWavHeader } from '../../src/recording/wav-header.js';
import { callFiles, fileHashes, findRecordingDir, readMeta, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, streamSession, whenClosed } from '../helpers/ws-client.js';

const canMount = process.getuid?.() === 0;

const wavFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.wav'));

/**
 * Every WAV header's data size is the file's length past the header, in whole frames (a file
 * the full disk left without room for even its header has nothing to describe).
 */
function headersMatchData(dir: string): boolean {
  return wavFiles(dir).every((file) => {
    const bytes = fs.readFileSync(path.join(dir, file));
    if (bytes.length < 44) return true;
    const header = parseWavHeader(bytes);
    if (!header) return false;
    const frame = header.channels * (header.format === 'mulaw' ? 1 : 2);
    const onDisk = bytes.length - header.dataOffset;
    return header.dataBytes === onDisk - (onDisk % frame);
  });
}

describe('disk full', () => {
  it.skipIf(!canMount)('fails only the recording that hit ENOSPC and keeps serving', async () => {
    const dataDir = tempDataDir();
    const recordings = path.join(dataDir, 'recordings');
    fs.mkdirSync(recordings);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', recordings]);
    expect(mounted.status).toBe(0);
    const server = await startTestServer({ dataDir });
    try {
      const first = newTwilioCall();
      let done = server.finished(1);
      await streamSession(server.wsUrl(), new TwilioFrameWriter(first).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 8000)), { tracks: ['inbound'] }));
      expect((await done)[0]!.status).toBe('complete');
      // Its post-call steps done (peaks.bin): from here on nothing may change it.
      await server.pipelineSettled();
      const firstDir = findRecordingDir(dataDir, first.streamSid);
      const before = fileHashes(firstDir);

      const big = newTwilioCall();
      const writer = new TwilioFrameWriter(big);
      const ws = await openSocket(server.wsUrl());
      const closed = whenClosed(ws);
      done = server.finished(1);
      const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW)).map((f) => writer.media(f));
      await sendAll(ws, [writer.connected(), writer.start(), ...frames]).catch(() => undefined);
      const [meta] = await done;
      expect(meta).toMatchObject({ status: 'failed', endReason: 'failed', error: { code: 'CALLTAPE_ERR_WRITE_FAILED' } });
      expect(meta!.error!.message).toContain('ENOSPC');
      expect((await closed).code).toBe(1011);
      await server.catalog.settled();
      // Its post-call steps settled too (peaks of what it kept, on a full disk: failed, leaving nothing).
      await server.pipelineSettled();
      expect(await server.catalog.repo.getByStreamSid(big.streamSid)).toMatchObject({ status: 'failed' });
      expect(server.recorder.stats().rejections.CALLTAPE_ERR_WRITE_FAILED).toBe(1);

      expect(fileHashes(firstDir)).toEqual(before);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      // The recordings volume is full (and smaller than CALLTAPE_MIN_FREE_BYTES): readiness
      // says so, though the data dir's own volume has room; the node keeps answering.
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string; checks: Record<string, string> };
      expect(ready).toMatchObject({ status: 'not-ready', checks: { dataDir: 'ok', recordings: 'ok', disk: 'low', catalog: 'ok' } });

      // Finalized as far as the disk allows: meta.json says failed (written in its own space,
      // the disk being full), and every header describes exactly the whole samples on disk.
      const bigDir = findRecordingDir(dataDir, big.streamSid);
      expect(readMeta(bigDir)).toMatchObject({ status: 'failed', streamSid: big.streamSid });
      expect(fs.readdirSync(bigDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(headersMatchData(bigDir)).toBe(true);

      // The state the disk used to leave (meta.json still `recording`, headers behind the data):
      // the next start repairs the files and keeps the recording failed.
      for (const file of wavFiles(bigDir).filter((f) => fs.statSync(path.join(bigDir, f)).size >= 44)) {
        const fd = fs.openSync(path.join(bigDir, file), 'r+');
        fs.writeSync(fd, Buffer.alloc(4), 0, 4, 40); // data size 0
        fs.closeSync(fd);
      }
      const stale = readMeta(bigDir);
      const staleText = JSON.stringify({ ...stale, status: 'recording' });
      fs.writeFileSync(path.join(bigDir, 'meta.json'), staleText.padEnd(fs.statSync(path.join(bigDir, 'meta.json')).size, ' '));
      await server.stop();
      const again = await startTestServer({ dataDir });
      try {
        expect(readMeta(bigDir)).toMatchObject({ status: 'failed', endReason: 'failed' });
        expect(headersMatchData(bigDir)).toBe(true);
        expect(await again.catalog.repo.getByStreamSid(big.streamSid)).toMatchObject({ status: 'failed' });
      } finally {
        await again.stop();
      }
    } finally {
      await server.stop();
      spawnSync('umount', [recordings]);
    }
  });

  it.skipIf(!canMount)('with the whole data dir on a full disk: /readyz says so, and the failed call is catalogued once there is room', async () => {
    const dataDir = tempDataDir();
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dataDir]).status).toBe(0);
    const server = await startTestServer({ dataDir, minFreeBytes: 1024 * 1024 });
    const filler = path.join(dataDir, 'filler');
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      // Fill the disk.
      const fd = fs.openSync(filler, 'w');
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        fs.closeSync(fd);
      }
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.disk).toBe('low');

      // SQLite's own rollback on SQLITE_FULL is not hidden behind "no transaction is active".
      await expect(
        server.catalog.repo.create({ provider: 'twilio', callSid: 'CA0', streamSid: 'MZ0', tracks: ['inbound'], format: 'pcm16', sampleRate: 8000, customParameters: { a: 'x'.repeat(100_000) }, startedAt: new Date(), location: 'recordings/x' }),
      ).rejects.toThrow(/full/i);

      const call = newTwilioCall();
      const writer = new TwilioFrameWriter(call);
      const ws = await openSocket(server.wsUrl());
      const closed = whenClosed(ws);
      const done = server.finished(1);
      const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW)).map((f) => writer.media(f));
      await sendAll(ws, [writer.connected(), writer.start(), ...frames]).catch(() => undefined);
      expect((await done)[0]).toMatchObject({ status: 'failed', error: { code: 'CALLTAPE_ERR_WRITE_FAILED' } });
      expect((await closed).code).toBe(1011);
      await waitFor(() => server.catalog.writesFailing, 5000, 'the catalog writes to fail on the full disk');
      expect(((await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, string> }).checks).toMatchObject({ disk: 'low', catalogWrites: 'failing' });

      fs.rmSync(filler);
      await waitFor(() => !server.catalog.writesFailing, 20_000, 'the retried catalog writes to land');
      const row = await server.catalog.repo.getByStreamSid(call.streamSid);
      expect(row).toMatchObject({ status: 'failed' });
      expect(row!.error).toContain('ENOSPC');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop();
      spawnSync('umount', ['-l', dataDir]);
    }
  });

  it('fails a stream whose directory cannot be made, and records the next once it can', async () => {
    const dataDir = tempDataDir();
    const recordings = path.join(dataDir, 'recordings');
    // (A recordings path that is not a directory at start-up stops the start: start-up-dirs.test.ts.)
    const server = await startTestServer({ dataDir });
    fs.rmSync(recordings, { recursive: true });
    fs.writeFileSync(recordings, 'not a directory');
    try {
      const blocked = newTwilioCall();
      const ws = await openSocket(server.wsUrl());
      const closed = whenClosed(ws);
      let done = server.finished(1);
      const writer = new TwilioFrameWriter(blocked);
      await sendAll(ws, [writer.connected(), writer.start(), ...mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)).map((f) => writer.media(f))]).catch(() => undefined);
      const [failed] = await done;
      expect(failed).toMatchObject({ status: 'failed', endReason: 'failed', error: { code: 'CALLTAPE_ERR_WRITE_FAILED' } });
      expect(failed!.error!.message).toContain('ENOTDIR');
      expect((await closed).code).toBe(1011);
      expect(server.recorder.stats().rejections.CALLTAPE_ERR_WRITE_FAILED).toBe(1);

      fs.rmSync(recordings);
      const next = newTwilioCall();
      done = server.finished(1);
      await streamSession(server.wsUrl(), new TwilioFrameWriter(next).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 8000)), { tracks: ['inbound'] }));
      expect((await done)[0]!.status).toBe('complete');
      const dir = findRecordingDir(dataDir, next.streamSid);
      expect(callFiles(dir)).toEqual(['inbound.wav', 'meta.json']);
      expect(fs.statSync(path.join(dir, 'inbound.wav')).size).toBe(44 + 8000 * 2);
    } finally {
      await server.stop();
    }
  });
});
