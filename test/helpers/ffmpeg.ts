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
