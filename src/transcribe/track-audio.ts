/**
 * Reading one track of a finished recording for transcription: its loudness per 20 ms frame
 * (streamed through the file, for finding silences; runs in the pipeline's worker threads),
 * and a span of it as a 16-bit PCM mono WAV (what every speech-to-text server reads,
 * whatever calltape stored: mu-law or PCM, a track's own file or one side of the stereo file).
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { buildWavHeader, parseWavHeader, type ParsedWavHeader } from '../recording/wav-header.js';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Loudness is measured per frame of this many ms (a media frame). */
export const LEVEL_FRAME_MS = 20;

/** One track to read: a file of the recording and the channel in it (0, or 1 for the stereo file's right side). */
export interface TrackSource {
  readonly file: string;
  readonly channel: number;
}

export async function readWavHeader(file: string): Promise<ParsedWavHeader> {
  const handle = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, 64, 0);
    const header = parseWavHeader(head.subarray(0, bytesRead));
    if (!header) throw new Error(`${file} is not a WAV file calltape wrote`);
    return header;
  } finally {
    await handle.close();
  }
}

/** The frame count of a WAV file, from the file's size (the header's count may be stale after a crash). */
export async function samplesIn(file: string, header: ParsedWavHeader): Promise<number> {
  const { size } = await fsp.stat(file);
  const width = header.format === 'pcm16' ? 2 : 1;
  return Math.floor(Math.max(0, size - header.dataOffset) / (width * header.channels));
}

export interface TrackLevels {
  readonly sampleRate: number;
  readonly durationMs: number;
  /** RMS of each LEVEL_FRAME_MS frame, 0..1 of full scale. */
  readonly frames: Float32Array;
}

/** RMS per 20 ms frame of one channel, streaming through the file (never held whole). */
export async function trackLevels(source: TrackSource): Promise<TrackLevels> {
  const header = await readWavHeader(source.file);
  const total = await samplesIn(source.file, header);
  const perFrame = Math.round((header.sampleRate * LEVEL_FRAME_MS) / 1000);
  const frames = new Float32Array(Math.ceil(total / perFrame));
  let frame = 0;
  let inFrame = 0;
  let sum = 0;
  await readTrackSamples(source, (block) => {
    for (let i = 0; i < block.length; i++) {
      const sample = block[i]! / 32768;
      sum += sample * sample;
      if (++inFrame === perFrame) {
        frames[frame++] = Math.sqrt(sum / perFrame);
        inFrame = 0;
        sum = 0;
      }
    }
  });
  if (inFrame > 0) frames[frame++] = Math.sqrt(sum / inFrame);
  return { sampleRate: header.sampleRate, durationMs: Math.round((total * 1000) / header.sampleRate), frames };
}

/** Samples handed to `onBlock` at a time: a few seconds at telephony rates. */
const SAMPLE_BLOCK = 32 * 1024;
/** Bytes read from the file at a time. */
const READ_BYTES = 256 * 1024;

/**
 * Streams one channel of a track through `onBlock` as 16-bit linear samples (mu-law decoded),
 * in blocks of up to SAMPLE_BLOCK whose buffer is reused: copy what must outlive the call.
 * Resolves with the header and the number of samples read.
 */
export async function readTrackSamples(source: TrackSource, onBlock: (samples: Int16Array, header: ParsedWavHeader) => void): Promise<{ header: ParsedWavHeader; samples: number }> {
  return streamSamples(source.file, source.channel, onBlock);
}

/**
 * Streams every channel of a WAV file through `onBlock`, interleaved, as 16-bit linear
 * samples (mu-law decoded), in reused blocks of whole frames. Resolves with the header and
 * the number of frames read.
 */
export async function readInterleavedSamples(file: string, onBlock: (samples: Int16Array, header: ParsedWavHeader) => void | Promise<void>): Promise<{ header: ParsedWavHeader; samples: number }> {
  return streamSamples(file, undefined, onBlock);
}

/** One channel (`channel`), or all of them interleaved (undefined). */
async function streamSamples(file: string, channel: number | undefined, onBlock: (samples: Int16Array, header: ParsedWavHeader) => void | Promise<void>): Promise<{ header: ParsedWavHeader; samples: number }> {
  const header = await readWavHeader(file);
  const { channels, dataOffset, format } = header;
  if (channel !== undefined && channel >= channels) throw new Error(`${file} has no channel ${channel}`);
  const width = format === 'pcm16' ? 2 : 1;
  const frameBytes = width * channels;
  // Samples taken from each frame, and the byte step between them.
  const picked = channel === undefined ? channels : 1;
  const firstByte = channel === undefined ? 0 : channel * width;
  const total = await samplesIn(file, header);
  const blockSize = SAMPLE_BLOCK - (SAMPLE_BLOCK % picked);
  const block = new Int16Array(blockSize);
  let filled = 0;
  let seen = 0;
  if (total === 0) return { header, samples: 0 };
  // One buffer for the whole file, read into again and again: a read stream's fresh 256 KB
  // chunks live outside the heap until a collection notices them, and a worker analysing a
  // 30-minute call held 25-35 MiB more RSS at its peak than for a 1-minute one. Whole frames
  // only: a frame cut by a read is read again with the next one.
  const buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.floor(READ_BYTES / frameBytes)) * frameBytes);
  // 16-bit samples through a typed view on a little-endian machine, as the files are (this
  // is the analytics' hot loop).
  const view = width === 2 && LITTLE_ENDIAN ? new Int16Array(buffer.buffer, buffer.byteOffset, buffer.length >> 1) : undefined;
  const handle = await fsp.open(file, 'r');
  try {
    for (let position = dataOffset; seen < total; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, (total - seen) * frameBytes), position);
      const whole = bytesRead - (bytesRead % frameBytes);
      if (whole === 0) break; // the file ends (or shrank since it was measured)
      position += whole;
      for (let frame = 0; frame < whole; frame += frameBytes, seen++) {
        for (let c = 0, at = frame + firstByte; c < picked; c++, at += width) {
          block[filled++] = view ? view[at >> 1]! : width === 2 ? buffer.readInt16LE(at) : MULAW_TO_LINEAR[buffer[at]!]!;
        }
        if (filled === blockSize) {
          await onBlock(block, header);
          filled = 0;
        }
      }
    }
  } finally {
    await handle.close();
  }
  if (filled > 0) await onBlock(block.subarray(0, filled), header);
  return { header, samples: seen };
}

/** [startMs, endMs) of one channel as a 16-bit PCM mono WAV file's bytes. */
export async function readTrackSpan(source: TrackSource, startMs: number, endMs: number): Promise<Buffer> {
  const header = await readWavHeader(source.file);
  const { sampleRate, channels, dataOffset, format } = header;
  const width = format === 'pcm16' ? 2 : 1;
  const frameBytes = width * channels;
  const total = await samplesIn(source.file, header);
  const first = Math.min(total, Math.round((startMs * sampleRate) / 1000));
  const last = Math.min(total, Math.round((endMs * sampleRate) / 1000));
  const count = Math.max(0, last - first);
  const raw = Buffer.alloc(count * frameBytes);
  const handle = await fsp.open(source.file, 'r');
  try {
    let read = 0;
    while (read < raw.length) {
      const { bytesRead } = await handle.read(raw, read, raw.length - read, dataOffset + first * frameBytes + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const out = Buffer.alloc(44 + count * 2);
  buildWavHeader({ format: 'pcm16', channels: 1, sampleRate }, count * 2).copy(out, 0);
  for (let i = 0, at = source.channel * width; i < count; i++, at += frameBytes) {
    out.writeInt16LE(width === 2 ? raw.readInt16LE(at) : MULAW_TO_LINEAR[raw[at]!]!, 44 + i * 2);
  }
  return out;
}
