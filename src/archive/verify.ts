/**
 * Reading an archive back before it counts (and before any WAV is removed for it), with
 * decoders other than the encoders: FLAC must decode to exactly the WAV's samples; Opus and
 * MP3 (lossy) must decode whole and last as long as the WAV, within ARCHIVE_DURATION_TOLERANCE_MS.
 * Streamed in chunks: a call of any length is checked in bounded memory.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { MPEGDecoder } from 'mpg123-decoder';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { readWavHeader, samplesIn } from '../transcribe/track-audio.js';
import type { ArchiveFormat } from './formats.js';
import { hasGaplessTag } from './mp3-gapless.js';

export const ARCHIVE_DURATION_TOLERANCE_MS = 40;
/** FLAC read in chunks of this size (about 16 s of 8 kHz speech, decoded to 0.5 MB of floats). */
const CHUNK_BYTES = 256 * 1024;
/**
 * Opus and MP3 in smaller ones: 16 KB is 8 s at 16 kbps, decoded to 1.5 MB of 48 kHz floats;
 * at 256 KB each chunk came back as 24 MB, and a worker thread's RSS grew by 76 MB.
 */
const LOSSY_CHUNK_BYTES = 16 * 1024;

/** The FLAC decoder gives 16-bit samples as floats divided by 32767 (measured: every sample of a call exact). */
const FLAC_DECODER_SCALE = 32767;

export class ArchiveMismatchError extends Error {
  override name = 'ArchiveMismatchError';
}

export interface VerifiedArchive {
  /** Frames the archive decodes to (at its own rate: 48 kHz for Opus). */
  readonly frames: number;
  readonly durationMs: number;
}

export async function verifyArchive(format: ArchiveFormat, wavFile: string, archiveFile: string): Promise<VerifiedArchive> {
  return format === 'flac' ? verifyFlac(wavFile, archiveFile) : verifyLossy(format, wavFile, archiveFile);
}

/**
 * Decoders kept for the next check: each is a WebAssembly instance whose memory, once grown,
 * stays with the process (a new one per file grew a worker thread by 76 MB over a dozen Opus
 * checks). Taken while in use, reset and put back after, so checks at once never share one.
 */
type Decoders = { flac: FLACDecoder; opus: OggOpusDecoder; mp3: MPEGDecoder };
const idle: { [F in ArchiveFormat]: Array<Decoders[F]> } = { flac: [], opus: [], mp3: [] };

async function borrow<F extends ArchiveFormat>(format: F): Promise<Decoders[F]> {
  const kept = idle[format].pop();
  if (kept) return kept;
  const made = (format === 'flac' ? new FLACDecoder() : format === 'opus' ? new OggOpusDecoder() : new MPEGDecoder()) as Decoders[F];
  await made.ready;
  return made;
}

/** Back for the next check, reset; dropped (freed) if it cannot be reset. */
async function giveBack<F extends ArchiveFormat>(format: F, decoder: Decoders[F]): Promise<void> {
  try {
    await decoder.reset();
    idle[format].push(decoder);
  } catch {
    decoder.free();
  }
}

async function* chunksOf(file: string, bytes: number): AsyncGenerator<Uint8Array> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: bytes }) as AsyncIterable<Buffer>) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
}

/** Every decoded sample equal to the WAV's, and as many of them. */
async function verifyFlac(wavFile: string, flacFile: string): Promise<VerifiedArchive> {
  const header = await readWavHeader(wavFile);
  const total = await samplesIn(wavFile, header);
  const width = header.format === 'pcm16' ? 2 : 1;
  const frameBytes = width * header.channels;
  const decoder = await borrow('flac');
  const wav = await fsp.open(wavFile, 'r');
  let frame = 0;
  let raw = Buffer.alloc(0);
  const compare = async (decoded: { channelData: Float32Array[]; samplesDecoded: number; bitDepth: number; errors: unknown[] }) => {
    if (decoded.errors.length > 0) throw new ArchiveMismatchError(`the FLAC file does not decode: ${JSON.stringify(decoded.errors[0])}`);
    const count = decoded.samplesDecoded;
    if (count === 0) return;
    if (decoded.bitDepth !== 16) throw new ArchiveMismatchError(`the FLAC file holds ${decoded.bitDepth}-bit samples, not 16`);
    if (decoded.channelData.length !== header.channels) throw new ArchiveMismatchError(`the FLAC file has ${decoded.channelData.length} channels, the WAV ${header.channels}`);
    if (frame + count > total) throw new ArchiveMismatchError(`the FLAC file holds more than the WAV's ${total} frames`);
    if (raw.length < count * frameBytes) raw = Buffer.alloc(count * frameBytes);
    const { bytesRead } = await wav.read(raw, 0, count * frameBytes, header.dataOffset + frame * frameBytes);
    if (bytesRead < count * frameBytes) throw new ArchiveMismatchError('the WAV ended before the FLAC file');
    for (let c = 0; c < header.channels; c++) {
      const channel = decoded.channelData[c]!;
      for (let i = 0, at = c * width; i < count; i++, at += frameBytes) {
        const expected = width === 2 ? raw.readInt16LE(at) : MULAW_TO_LINEAR[raw[at]!]!;
        if (Math.round(channel[i]! * FLAC_DECODER_SCALE) !== expected) throw new ArchiveMismatchError(`the FLAC file differs from the WAV at frame ${frame + i}, channel ${c}`);
      }
    }
    frame += count;
  };
  try {
    for await (const chunk of chunksOf(flacFile, CHUNK_BYTES)) await compare(await decoder.decode(chunk));
    await compare(await decoder.flush());
  } finally {
    await giveBack('flac', decoder);
    await wav.close();
  }
  if (frame !== total) throw new ArchiveMismatchError(`the FLAC file holds ${frame} frames, the WAV ${total}`);
  return { frames: frame, durationMs: Math.round((frame * 1000) / header.sampleRate) };
}

/** Decodes whole, without errors, to the WAV's duration. */
async function verifyLossy(format: 'opus' | 'mp3', wavFile: string, file: string): Promise<VerifiedArchive> {
  const header = await readWavHeader(wavFile);
  const wavMs = ((await samplesIn(wavFile, header)) * 1000) / header.sampleRate;
  const decoder = await borrow(format);
  let frames = 0;
  let rate = 0;
  let errors = 0;
  const count = (decoded: { samplesDecoded: number; sampleRate: number; errors: unknown[] }) => {
    frames += decoded.samplesDecoded;
    if (decoded.samplesDecoded > 0) rate = decoded.sampleRate;
    errors += decoded.errors.length;
  };
  try {
    for await (const chunk of chunksOf(file, LOSSY_CHUNK_BYTES)) count(await decoder.decode(chunk));
    if (decoder instanceof OggOpusDecoder) count(await decoder.flush());
  } finally {
    await giveBack(format, decoder);
  }
  if (errors > 0) throw new ArchiveMismatchError(`the ${format} file has ${errors} frame${errors === 1 ? '' : 's'} that do not decode`);
  const durationMs = rate > 0 ? (frames * 1000) / rate : 0;
  // An MP3 without the LAME tag (a rate whose Info frame has no room for it) plays the
  // encoder's priming and the last frame's padding: up to two frames longer, silence at the ends.
  const slackMs = format === 'mp3' && rate > 0 && !(await hasGaplessTag(file)) ? (2 * mp3FrameSamples(rate) * 1000) / rate : 0;
  if (durationMs < wavMs - ARCHIVE_DURATION_TOLERANCE_MS || durationMs > wavMs + ARCHIVE_DURATION_TOLERANCE_MS + slackMs) {
    throw new ArchiveMismatchError(`the ${format} file lasts ${durationMs.toFixed(0)} ms, the WAV ${wavMs.toFixed(0)} ms`);
  }
  return { frames, durationMs: Math.round(durationMs) };
}

/** Samples per Layer III frame: 1152 for MPEG-1 (32 kHz and up), 576 for MPEG-2 and 2.5. */
export function mp3FrameSamples(rate: number): number {
  return rate >= 32_000 ? 1152 : 576;
}
