import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { decodePeaks, downsample, PEAKS_FILE, peaksJson, wavPeaks, writePeaks } from './peaks.js';
import { buildWavHeader } from './wav-header.js';

/** The reference: every sample looked at, per bucket of `per` samples, scaled to -127..127. */
function reference(samples: ArrayLike<number>, per: number): number[] {
  const out: number[] = [];
  const scale = (v: number) => Math.max(-127, Math.min(127, Math.round(v / 256))) || 0;
  for (let i = 0; i < samples.length; i += per) {
    const bucket = Array.from({ length: Math.min(per, samples.length - i) }, (_, j) => samples[i + j]!);
    out.push(scale(Math.min(...bucket)), scale(Math.max(...bucket)));
  }
  return out;
}

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-peaks-'));
/** Noise-like 16-bit samples, reproducible. */
const samples = (n: number, seed: number) => Int16Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 0.37 + seed) * 20000 * Math.sin(i / 900 + seed)));

function writeWav(file: string, format: 'pcm16' | 'mulaw', channels: number, data: Buffer, sampleRate = 8000): void {
  fs.writeFileSync(file, Buffer.concat([buildWavHeader({ format, channels, sampleRate }, data.length), data]));
}

describe('peaks', () => {
  it('16-bit mono: min and max of every 20 ms bucket, equal to looking at every sample (a partial last bucket too)', async () => {
    const d = dir();
    const pcm = samples(8000 * 3 + 37, 1); // 3 s and a bit, in pieces larger than the read size
    writeWav(path.join(d, 'inbound.wav'), 'pcm16', 1, Buffer.from(pcm.buffer));
    const result = await wavPeaks(path.join(d, 'inbound.wav'));
    expect(result!.sampleRate).toBe(8000);
    expect(Array.from(result!.peaks)).toEqual(reference(pcm, 160));
  });

  it('mu-law files through the G.711 table, and one side of a stereo file', async () => {
    const d = dir();
    const codes = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 37) % 256));
    writeWav(path.join(d, 'inbound.wav'), 'mulaw', 1, codes);
    expect(Array.from((await wavPeaks(path.join(d, 'inbound.wav')))!.peaks)).toEqual(reference(Array.from(codes, (c) => MULAW_TO_LINEAR[c]!), 160));
    const left = samples(5000, 2);
    const right = samples(5000, 3);
    const stereo = Buffer.alloc(5000 * 4);
    for (let i = 0; i < 5000; i++) {
      stereo.writeInt16LE(left[i]!, i * 4);
      stereo.writeInt16LE(right[i]!, i * 4 + 2);
    }
    writeWav(path.join(d, 'stereo.wav'), 'pcm16', 2, stereo);
    expect(Array.from((await wavPeaks(path.join(d, 'stereo.wav'), 1))!.peaks)).toEqual(reference(right, 160));
    expect(await wavPeaks(path.join(d, 'stereo.wav'), 2)).toBeUndefined();
  });

  it('writes peaks.bin for both tracks (a byte per value, read back as written), and merges buckets on request', async () => {
    const d = dir();
    writeWav(path.join(d, 'inbound.wav'), 'pcm16', 1, Buffer.from(samples(16000, 4).buffer));
    writeWav(path.join(d, 'outbound.wav'), 'pcm16', 1, Buffer.from(samples(16000, 5).buffer));
    const peaks = await writePeaks(d, { inbound: { file: 'inbound.wav', channel: 0 }, outbound: { file: 'outbound.wav', channel: 0 } });
    const stored = fs.readFileSync(path.join(d, PEAKS_FILE));
    expect(stored.length).toBe(19 + 200 + 200);
    expect(peaksJson(decodePeaks(stored)!)).toEqual(peaksJson(peaks));
    expect(decodePeaks(Buffer.concat([stored, Buffer.from([1])]))).toBeUndefined();
    expect(decodePeaks(Buffer.from('{"version":1}'))).toBeUndefined();
    expect(peaks.tracks.inbound).toHaveLength(200);
    const small = downsample(peaks, 10);
    expect(small.bucketMs).toBe(200);
    expect(small.tracks.inbound).toHaveLength(20);
    const inbound = Array.from(peaks.tracks.inbound!);
    expect(small.tracks.inbound![0]).toBe(Math.min(...inbound.filter((_, i) => i % 2 === 0 && i < 20)));
    expect(small.tracks.inbound![1]).toBe(Math.max(...inbound.filter((_, i) => i % 2 === 1 && i < 20)));
  });
});
