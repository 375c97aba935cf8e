import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ffmpegDecode } from '../../test/helpers/ffmpeg.js';
import { tempDataDir, waitFor } from '../../test/helpers/recordings.js';
import { WavFileWriter, type WavFileWriterOptions } from './wav-file.js';
import { buildWavHeader, MAX_WAV_DATA_BYTES, parseWavHeader } from './wav-header.js';
import { WriteBacklog } from './write-backlog.js';

function newWriter(dir: string, name: string, format: 'pcm16' | 'mulaw' = 'pcm16', channels = 1, options: WavFileWriterOptions = {}) {
  const failures: Error[] = [];
  const writer = new WavFileWriter(path.join(dir, name), { format, channels, sampleRate: 8000 }, (_w, err) => failures.push(err), options);
  return { writer, failures };
}

describe('WavFileWriter', () => {
  it('writes a PCM file ffmpeg reads back exactly', async () => {
    const dir = tempDataDir();
    const { writer } = newWriter(dir, 'a.wav', 'pcm16', 2);
    writer.open();
    const audio = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7) % 256));
    for (let i = 0; i < audio.length; i += 400) writer.append(audio.subarray(i, i + 400));
    await writer.close();
    const decoded = ffmpegDecode(writer.path);
    expect(decoded).toMatchObject({ codec: 'pcm_s16le', sampleRate: 8000, channels: 2 });
    expect(decoded.pcm.equals(audio)).toBe(true);
    expect(parseWavHeader(fs.readFileSync(writer.path))).toMatchObject({ format: 'pcm16', dataBytes: 4000, dataOffset: 44 });
  });

  it('writes mu-law as WAVE_FORMAT_MULAW with a fact chunk, bytes unchanged', async () => {
    const dir = tempDataDir();
    const { writer } = newWriter(dir, 'u.wav', 'mulaw');
    writer.open();
    const codes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    writer.append(codes);
    await writer.close();
    const file = fs.readFileSync(writer.path);
    expect(file.readUInt16LE(20)).toBe(7);
    expect(file.toString('ascii', 38, 42)).toBe('fact');
    expect(file.readUInt32LE(46)).toBe(1000);
    expect(file.subarray(58).equals(codes)).toBe(true);
    expect(ffmpegDecode(writer.path).codec).toBe('pcm_mulaw');
  });

  it('patches the header while writing, so a file cut off mid-call is playable', async () => {
    const dir = tempDataDir();
    const { writer } = newWriter(dir, 'p.wav');
    writer.open();
    writer.append(Buffer.alloc(3200, 1));
    writer.patchHeader();
    await waitFor(() => fs.existsSync(writer.path) && parseWavHeader(fs.readFileSync(writer.path))?.dataBytes === 3200, 5000, 'header patch');
    expect(fs.statSync(writer.path).size).toBe(44 + 3200);
    expect(ffmpegDecode(writer.path).pcm.length).toBe(3200);
    await writer.close();
  });

  it('patches the header by itself after a write once patchIntervalMs has passed', async () => {
    const dir = tempDataDir();
    const { writer } = newWriter(dir, 'auto.wav', 'pcm16', 1, { patchIntervalMs: 50 });
    writer.open();
    writer.append(Buffer.alloc(1600, 1));
    await new Promise((r) => setTimeout(r, 100));
    writer.append(Buffer.alloc(1600, 2)); // this write finds the interval passed: a patch follows it
    await waitFor(() => parseWavHeader(fs.readFileSync(writer.path))?.dataBytes === 3200, 5000, 'header patched without a call');
    await writer.close();
  });

  it('never overwrites an existing file, and reports why', async () => {
    const dir = tempDataDir();
    fs.writeFileSync(path.join(dir, 'x.wav'), 'finished recording');
    const { writer, failures } = newWriter(dir, 'x.wav');
    writer.open();
    writer.append(Buffer.alloc(100));
    await expect(writer.close()).rejects.toMatchObject({ code: 'EEXIST' });
    expect(failures).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, 'x.wav'), 'utf8')).toBe('finished recording');
  });

  it('any sequence of appends and header patches yields exactly the appended audio', async () => {
    const dir = tempDataDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((b) => ({ data: b })), fc.constant({ patch: true })), { maxLength: 30 }),
        async (ops) => {
          // A recycled chunk is scribbled over at once, as a reused batch buffer would be:
          // recycling one before the kernel has it would show in the file.
          const recycled = new Set<Buffer>();
          const recycle = (chunk: Buffer) => {
            expect(recycled.has(chunk)).toBe(false);
            recycled.add(chunk);
            chunk.fill(0xaa);
          };
          const { writer, failures } = newWriter(dir, `prop-${n++}.wav`, 'pcm16', 1, { recycle });
          writer.open();
          const expected: Buffer[] = [];
          for (const op of ops) {
            if ('patch' in op) writer.patchHeader();
            else {
              expected.push(Buffer.from(op.data));
              writer.append(Buffer.from(op.data));
            }
          }
          await writer.close();
          const file = fs.readFileSync(writer.path);
          const all = Buffer.concat(expected);
          expect(failures).toEqual([]);
          expect(file.subarray(0, 44).equals(buildWavHeader(writer.layout, all.length))).toBe(true);
          expect(file.subarray(44).equals(all)).toBe(true);
          expect(recycled.size).toBe(expected.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps a shared backlog equal to the audio it has not written, through writes and a failure mid-write', async () => {
    const dir = tempDataDir();
    const backlog = new WriteBacklog(1 << 30);
    const a = newWriter(dir, 'a.wav', 'pcm16', 1, { backlog });
    const b = newWriter(dir, 'b.wav', 'pcm16', 1, { backlog });
    a.writer.append(Buffer.alloc(3000, 1));
    b.writer.append(Buffer.alloc(1000, 2));
    // Not open yet: nothing can be written, everything is backlog.
    expect(backlog.bytes).toBe(4000);
    a.writer.open();
    b.writer.open();
    await waitFor(() => a.writer.bytesOnDisk === 3000 && b.writer.bytesOnDisk === 1000, 5000, 'first writes');
    expect(backlog.bytes).toBe(0);
    // A failure while a write is in flight: the writer's backlog counts as gone at once, and
    // the in-flight write completing afterwards must not take it off a second time.
    a.writer.append(Buffer.alloc(2000, 3));
    expect(backlog.bytes).toBe(2000);
    // A chunk past the WAV size limit (its length faked: 4 GiB cannot be allocated here).
    a.writer.append(Object.defineProperty(Buffer.alloc(1), 'length', { value: MAX_WAV_DATA_BYTES }));
    expect(a.failures).toHaveLength(1);
    expect(backlog.bytes).toBe(0);
    b.writer.append(Buffer.alloc(500, 4));
    await expect(a.writer.close()).rejects.toMatchObject({ code: 'EFBIG' });
    await b.writer.close();
    expect(backlog.bytes).toBe(0);
    expect(fs.statSync(b.writer.path).size).toBe(44 + 1500);
  });
});
