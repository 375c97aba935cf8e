/**
 * Waveform peaks of a finished recording, so a page can draw an hour-long call without
 * downloading its audio: per track, the smallest and largest sample of each bucket of
 * PEAKS_BUCKET_MS, scaled to -127..127. Read from the WAV files in a stream (never whole),
 * computed once (after the recording finished, or on the first request for it) and kept
 * beside the files as peaks.bin: a byte per value (a 4-hour call's peaks are 2.9 MB, read
 * without parsing; as JSON they were 10 MB parsed on every request). The API answers JSON.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { readTrackSamples, samplesIn } from '../transcribe/track-audio.js';
import { parseWavHeader, type ParsedWavHeader } from './wav-header.js';

/** 20 ms buckets: one per typical media frame; an hour is 180,000 per track. */
export const PEAKS_BUCKET_MS = 20;
export const PEAKS_FILE = 'peaks.bin';
/** Where peaks were kept before peaks.bin (read when there is no peaks.bin; removed with the recording). */
export const LEGACY_PEAKS_FILE = 'peaks.json';

/** Per track: [min0, max0, min1, max1, ...], each -127..127 (16-bit samples divided by 256, rounded). */
export type PeakValues = ArrayLike<number>;

export interface Peaks {
  readonly version: 1;
  readonly bucketMs: number;
  readonly sampleRate: number;
  readonly tracks: Partial<Record<'inbound' | 'outbound', PeakValues>>;
}

/**
 * peaks.bin: "CTPK", a format byte (1), bucketMs (u16), sampleRate (u32), the inbound and
 * outbound value counts (u32 each; 0 = no such track), then the values as signed bytes,
 * inbound first. Little-endian.
 */
const MAGIC = 'CTPK';
const HEADER_BYTES = 4 + 1 + 2 + 4 + 4 + 4;

export function encodePeaks(peaks: Peaks): Buffer {
  const inbound = peaks.tracks.inbound ?? [];
  const outbound = peaks.tracks.outbound ?? [];
  const out = Buffer.alloc(HEADER_BYTES + inbound.length + outbound.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt8(1, 4);
  out.writeUInt16LE(peaks.bucketMs, 5);
  out.writeUInt32LE(peaks.sampleRate, 7);
  out.writeUInt32LE(inbound.length, 11);
  out.writeUInt32LE(outbound.length, 15);
  const values = new Int8Array(out.buffer, out.byteOffset + HEADER_BYTES, inbound.length + outbound.length);
  values.set(inbound as ArrayLike<number>, 0);
  values.set(outbound as ArrayLike<number>, inbound.length);
  return out;
}

/** The peaks in a peaks.bin (views over `bytes`, no copy), or undefined if it is not one. */
export function decodePeaks(bytes: Buffer): Peaks | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 4) !== MAGIC || bytes.readUInt8(4) !== 1) return undefined;
  const inboundCount = bytes.readUInt32LE(11);
  const outboundCount = bytes.readUInt32LE(15);
  if (bytes.length !== HEADER_BYTES + inboundCount + outboundCount) return undefined;
  const at = bytes.byteOffset + HEADER_BYTES;
  const tracks: Peaks['tracks'] = {};
  if (inboundCount > 0) tracks.inbound = new Int8Array(bytes.buffer, at, inboundCount);
  if (outboundCount > 0) tracks.outbound = new Int8Array(bytes.buffer, at + inboundCount, outboundCount);
  return { version: 1, bucketMs: bytes.readUInt16LE(5), sampleRate: bytes.readUInt32LE(7), tracks };
}

/** The API's JSON of peaks (arrays, however they are held). */
export function peaksJson(peaks: Peaks): { version: 1; bucketMs: number; sampleRate: number; tracks: Partial<Record<'inbound' | 'outbound', number[]>> } {
  const tracks: Partial<Record<'inbound' | 'outbound', number[]>> = {};
  for (const [name, values] of Object.entries(peaks.tracks) as Array<['inbound' | 'outbound', PeakValues]>) tracks[name] = Array.from(values);
  return { version: 1, bucketMs: peaks.bucketMs, sampleRate: peaks.sampleRate, tracks };
}

/**
 * Peaks of one channel of a WAV file calltape wrote (mono, or one channel of the stereo
 * file), streaming through it. Undefined when the file is not one of calltape's.
 */
export async function wavPeaks(file: string, channel = 0, bucketMs = PEAKS_BUCKET_MS): Promise<{ sampleRate: number; peaks: Int8Array } | undefined> {
  const handle = await fsp.open(file, 'r');
  let header: ParsedWavHeader | undefined;
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, 64, 0);
    header = parseWavHeader(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
  if (!header || channel >= header.channels) return undefined;
  const perBucket = Math.max(1, Math.round((header.sampleRate * bucketMs) / 1000));
  // A byte per value, sized from the file before reading it (the reader stops at that count):
  // a plain array of a 30-minute call's 180,000 values grew the worker's heap by megabytes
  // that it kept after the job (the length bench's peak RSS).
  const peaks = new Int8Array(Math.ceil((await samplesIn(file, header)) / perBucket) * 2);
  let filled = 0;
  let min = 0;
  let max = 0;
  let inBucket = 0;
  await readTrackSamples({ file, channel }, (block) => {
    for (let i = 0; i < block.length; i++) {
      const sample = block[i]!;
      if (inBucket === 0 || sample < min) min = sample;
      if (inBucket === 0 || sample > max) max = sample;
      if (++inBucket === perBucket) {
        peaks[filled++] = scale(min);
        peaks[filled++] = scale(max);
        inBucket = 0;
      }
    }
  });
  if (inBucket > 0) {
    peaks[filled++] = scale(min);
    peaks[filled++] = scale(max);
  }
  // Fewer when the file shrank since it was measured.
  return { sampleRate: header.sampleRate, peaks: filled === peaks.length ? peaks : peaks.slice(0, filled) };
}


function scale(sample: number): number {
  // || 0: no -0 (JSON would write it as 0 anyway).
  return Math.max(-127, Math.min(127, Math.round(sample / 256))) || 0;
}

/** The files of a recording peaks are read from: each track's own, else its side of the stereo file. */
export interface PeakSources {
  readonly inbound?: { file: string; channel: number } | undefined;
  readonly outbound?: { file: string; channel: number } | undefined;
}

/** Computes the recording's peaks and keeps them as peaks.bin in `dir` (written whole, then renamed). */
export async function writePeaks(dir: string, sources: PeakSources): Promise<Peaks> {
  const tracks: Peaks['tracks'] = {};
  let sampleRate = 8000;
  for (const name of ['inbound', 'outbound'] as const) {
    const source = sources[name];
    if (!source) continue;
    const result = await wavPeaks(path.join(dir, source.file), source.channel);
    if (!result) continue;
    sampleRate = result.sampleRate;
    tracks[name] = result.peaks;
  }
  const peaks: Peaks = { version: 1, bucketMs: PEAKS_BUCKET_MS, sampleRate, tracks };
  const target = path.join(dir, PEAKS_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await fsp.writeFile(temp, encodePeaks(peaks));
    await fsp.rename(temp, target);
  } catch (err) {
    // A full disk, say: no half-written file is left beside the recording.
    await fsp.rm(temp, { force: true });
    throw err;
  }
  return peaks;
}

/** Peaks merged down to at most `buckets` buckets per track (min of mins, max of maxes). */
export function downsample(peaks: Peaks, buckets: number): Peaks {
  const tracks: Peaks['tracks'] = {};
  let bucketMs = peaks.bucketMs;
  for (const [name, values] of Object.entries(peaks.tracks) as Array<['inbound' | 'outbound', PeakValues]>) {
    const have = values.length / 2;
    const factor = Math.max(1, Math.ceil(have / buckets));
    bucketMs = peaks.bucketMs * factor;
    const out = new Int8Array(Math.ceil(have / factor) * 2);
    for (let i = 0, o = 0; i < have; i += factor, o += 2) {
      let min = 127;
      let max = -127;
      const end = Math.min(have, i + factor);
      for (let j = i; j < end; j++) {
        const low = values[j * 2]!;
        const high = values[j * 2 + 1]!;
        if (low < min) min = low;
        if (high > max) max = high;
      }
      out[o] = min;
      out[o + 1] = max;
    }
    tracks[name] = out;
  }
  return { ...peaks, bucketMs, tracks };
}
