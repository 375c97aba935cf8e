import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDataDir, waitFor } from '../../test/helpers/recordings.js';
import { WavFileWriter } from './wav-file.js';
import { parseWavHeader } from './wav-header.js';
import { WriteDispatch } from './write-dispatch.js';

const layout = { format: 'pcm16' as const, channels: 1, sampleRate: 8000 };
const dataBytes = (file: string) => fs.statSync(file).size - 44;

describe('WriteDispatch', () => {
  it('calls each scheduled writer once at the next tick, and schedules again after it', async () => {
    const dispatch = new WriteDispatch(10);
    const calls: string[] = [];
    dispatch.schedule({ dispatched: () => calls.push('a') });
    dispatch.schedule({ dispatched: () => calls.push('b') });
    expect(calls).toEqual([]);
    expect(dispatch.waiting).toBe(2);
    await waitFor(() => calls.length === 2, 1000, 'first tick');
    expect(dispatch.waiting).toBe(0);
    dispatch.schedule({ dispatched: () => calls.push('c') });
    await waitFor(() => calls.length === 3, 1000, 'second tick');
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it("holds several files' appends until the tick and hands them over together, header first", async () => {
    const dir = tempDataDir();
    const dispatch = new WriteDispatch(150);
    const writers = ['a', 'b', 'c'].map((name) => new WavFileWriter(path.join(dir, `${name}.wav`), layout, () => undefined, { dispatch }));
    for (const writer of writers) writer.open();
    await waitFor(() => writers.every((w) => fs.existsSync(w.path) && fs.statSync(w.path).size === 44), 2000, 'headers');
    for (const writer of writers) writer.append(Buffer.alloc(1600, 3));
    for (const writer of writers) writer.patchHeader();
    expect(dispatch.waiting).toBe(3); // one entry per file, not per request
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(writers.map((w) => dataBytes(w.path))).toEqual([0, 0, 0]);
    await waitFor(() => writers.every((w) => w.bytesOnDisk === 1600), 2000, 'the tick');
    for (const writer of writers) await writer.close();
    for (const writer of writers) {
      const file = fs.readFileSync(writer.path);
      expect(parseWavHeader(file)).toMatchObject({ dataBytes: 1600 });
      expect(file.subarray(44).equals(Buffer.alloc(1600, 3))).toBe(true);
    }
  });

  it('does not hold a file that falls behind: with a second batch waiting, it writes at once', async () => {
    const dir = tempDataDir();
    const dispatch = new WriteDispatch(60_000);
    const writer = new WavFileWriter(path.join(dir, 'behind.wav'), layout, () => undefined, { dispatch });
    writer.open();
    await waitFor(() => fs.existsSync(writer.path) && fs.statSync(writer.path).size === 44, 2000, 'header');
    writer.append(Buffer.alloc(1600, 1));
    expect(dispatch.waiting).toBe(1);
    writer.append(Buffer.alloc(1600, 2));
    // Written with the tick a minute away.
    await waitFor(() => writer.bytesOnDisk === 3200, 2000, 'both batches');
    await writer.close();
    expect(fs.readFileSync(writer.path).subarray(44).equals(Buffer.concat([Buffer.alloc(1600, 1), Buffer.alloc(1600, 2)]))).toBe(true);
  });

  it('does not hold a closing file for the tick: close writes what is queued at once', async () => {
    const dir = tempDataDir();
    const dispatch = new WriteDispatch(60_000);
    const writer = new WavFileWriter(path.join(dir, 'end.wav'), layout, () => undefined, { dispatch });
    writer.open();
    writer.append(Buffer.alloc(800, 9));
    await writer.close();
    expect(parseWavHeader(fs.readFileSync(writer.path))).toMatchObject({ dataBytes: 800 });
    expect(fs.readFileSync(writer.path).subarray(44).equals(Buffer.alloc(800, 9))).toBe(true);
    // Closed with the tick a minute away: its entry is still waiting, and will find a closed file.
    expect(dispatch.waiting).toBe(1);
    writer.dispatched();
    expect(fs.readFileSync(writer.path).length).toBe(44 + 800);
  });
});
