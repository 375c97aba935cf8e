/**
 * The sample reader under analytics and transcription, against a plain decode of the same
 * file: every channel and format calltape writes, files longer than one read, a file whose
 * last frame is cut off, and a file that shrank after it was measured.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { buildWavHeader, headerSize, type WavFormat } from '../recording/wav-header.js';
import { readInterleavedSamples, readTrackSamples } from './track-audio.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-track-audio-'));
let files = 0;

function wavFile(format: WavFormat, channels: number, data: Buffer, extra = Buffer.alloc(0)): string {
  const file = path.join(dir, `${++files}.wav`);
  fs.writeFileSync(file, Buffer.concat([buildWavHeader({ format, channels, sampleRate: 8000 }, data.length), data, extra]));
  return file;
}

/** Channel `channel` of interleaved `data` (or every channel), decoded the plain way. */
function expected(format: WavFormat, channels: number, data: Buffer, channel?: number): number[] {
  const width = format === 'pcm16' ? 2 : 1;
  const out: number[] = [];
  for (let frame = 0; frame + width * channels <= data.length; frame += width * channels) {
    for (let c = 0; c < channels; c++) {
      if (channel !== undefined && c !== channel) continue;
      const at = frame + c * width;
      out.push(width === 2 ? data.readInt16LE(at) : MULAW_TO_LINEAR[data[at]!]!);
    }
  }
  return out;
}

async function collect(read: (onBlock: (samples: Int16Array) => void) => Promise<{ samples: number }>): Promise<{ values: number[]; samples: number }> {
  const values: number[] = [];
  const { samples } = await read((block) => {
    for (const v of block) values.push(v);
  });
  return { values, samples };
}

describe('readTrackSamples / readInterleavedSamples', () => {
  it('give every sample of every layout, across many reads, as a plain decode does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<WavFormat>('pcm16', 'mulaw'),
        fc.integer({ min: 1, max: 2 }),
        // Up to about three reads of the 256 KB buffer.
        fc.integer({ min: 0, max: 400_000 }),
        fc.integer(),
        async (format, channels, frames, seed) => {
          const width = format === 'pcm16' ? 2 : 1;
          const data = Buffer.alloc(frames * width * channels);
          for (let i = 0, x = seed | 1; i < data.length; i++) data[i] = (x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 24;
          const file = wavFile(format, channels, data);
          const all = await collect((onBlock) => readInterleavedSamples(file, onBlock));
          expect(all.samples).toBe(frames);
          expect(all.values).toEqual(expected(format, channels, data));
          for (let channel = 0; channel < channels; channel++) {
            const one = await collect((onBlock) => readTrackSamples({ file, channel }, onBlock));
            expect(one.values).toEqual(expected(format, channels, data, channel));
          }
          fs.rmSync(file);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('leave out a last frame cut off by a crash', async () => {
    const data = Buffer.alloc(300_001 * 4, 7);
    // Three bytes of a four-byte stereo frame after the whole ones: a file cut mid-frame.
    const file = wavFile('pcm16', 2, data, Buffer.from([1, 2, 3]));
    const all = await collect((onBlock) => readInterleavedSamples(file, onBlock));
    expect(all.samples).toBe(300_001);
    expect(all.values).toEqual(expected('pcm16', 2, data));
  });

  it('stop at the end of a file that shrank after it was measured', async () => {
    const data = Buffer.alloc(200_000 * 2, 9);
    const file = wavFile('pcm16', 1, data);
    const seen: number[] = [];
    const { samples } = await readTrackSamples({ file, channel: 0 }, (block) => {
      seen.push(block.length);
      // Cut to half while the first block is being handled.
      if (seen.length === 1) fs.truncateSync(file, headerSize('pcm16') + data.length / 2);
    });
    expect(samples).toBeGreaterThanOrEqual(32 * 1024);
    expect(samples).toBeLessThan(200_000);
  });
});
