/**
 * The reference decoder: ffmpeg (the binary the @ffmpeg-installer package ships), never
 * calltape's own code. Reading a file through it also proves its header is well-formed.
 */
import { spawnSync } from 'node:child_process';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

export const FFMPEG = ffmpegInstaller.path;

export interface DecodedWav {
  /** Interleaved s16le samples as ffmpeg decodes them. */
  pcm: Buffer;
  codec: string;
  sampleRate: number;
  channels: number;
}

export function ffmpegDecode(file: string): DecodedWav {
  const result = spawnSync(FFMPEG, ['-hide_banner', '-i', file, '-f', 's16le', '-acodec', 'pcm_s16le', '-'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const stderr = result.stderr.toString();
  if (result.status !== 0) throw new Error(`ffmpeg could not read ${file}: ${stderr}`);
  const match = /Audio: (\w+).*?, (\d+) Hz, (mono|stereo|\d+ channels)/.exec(stderr);
  if (!match) throw new Error(`no audio stream info from ffmpeg: ${stderr}`);
  const layout = match[3]!;
  return {
    pcm: result.stdout,
    codec: match[1]!,
    sampleRate: Number(match[2]),
    channels: layout === 'mono' ? 1 : layout === 'stereo' ? 2 : Number.parseInt(layout, 10),
  };
}

/** Decodes raw G.711 bytes with ffmpeg's pcm_mulaw / pcm_alaw decoder. */
export function ffmpegDecodeG711(codes: Buffer, law: 'mulaw' | 'alaw'): Buffer {
  const result = spawnSync(FFMPEG, ['-hide_banner', '-f', law, '-ar', '8000', '-ac', '1', '-i', '-', '-f', 's16le', '-'], {
    input: codes,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(result.stderr.toString());
  return result.stdout;
}

/** Runs ffmpeg with `args` (reading stdin when `input` is given) and returns stdout. */
export function ffmpegRun(args: string[], input?: Buffer): Buffer {
  const result = spawnSync(FFMPEG, ['-hide_banner', '-v', 'error', ...args], { input, maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${result.stderr.toString()}`);
  return result.stdout;
}

/** 16-bit LE mono PCM at `rate` -> G.722 bytes, encoded by ffmpeg's g722 encoder. */
export function ffmpegEncodeG722(pcm16k: Buffer): Buffer {
  return ffmpegRun(['-f', 's16le', '-ar', '16000', '-ac', '1', '-i', '-', '-acodec', 'g722', '-f', 'g722', '-'], pcm16k);
}

/** G.722 bytes -> 16 kHz s16le, decoded by ffmpeg's g722 decoder (the reference). */
export function ffmpegDecodeG722(codes: Buffer): Buffer {
  return ffmpegRun(['-f', 'g722', '-i', '-', '-f', 's16le', '-'], codes);
}

/** PCM -> another G.711 law or rate with ffmpeg (fixtures for A-law streams). */
export function ffmpegEncodeAlaw(pcm8k: Buffer): Buffer {
  return ffmpegRun(['-f', 's16le', '-ar', '8000', '-ac', '1', '-i', '-', '-f', 'alaw', '-'], pcm8k);
}

/**
 * Encodes 16-bit mono PCM to Opus packets of 20 ms with ffmpeg's libopus encoder, and returns
 * the raw packets (as an RTP payload carries them), read out of the Ogg stream.
 */
export function ffmpegEncodeOpusPackets(pcm: Buffer, rate: number): Buffer[] {
  const ogg = ffmpegRun(
    ['-f', 's16le', '-ar', String(rate), '-ac', '1', '-i', '-', '-c:a', 'libopus', '-frame_duration', '20', '-b:a', '32k', '-f', 'ogg', '-'],
    pcm,
  );
  return oggPackets(ogg).slice(2); // OpusHead and OpusTags come first
}

/** The packets of an Ogg bitstream (RFC 3533): pages of lacing values and segments. */
function oggPackets(ogg: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  let offset = 0;
  while (offset + 27 <= ogg.length) {
    if (ogg.toString('latin1', offset, offset + 4) !== 'OggS') throw new Error(`no Ogg page at ${offset}`);
    const segments = ogg[offset + 26]!;
    const lacing = ogg.subarray(offset + 27, offset + 27 + segments);
    let body = offset + 27 + segments;
    for (const size of lacing) {
      partial.push(ogg.subarray(body, body + size));
      body += size;
      if (size < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    offset = body;
  }
  return packets;
}
