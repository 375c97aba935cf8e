/**
 * The gapless information (the LAME tag) an MP3 needs to play exactly as long as its audio.
 * LAME primes each stream with 576 samples of its own and pads the last frame, and decoders
 * add 529 of theirs; mediabunny's Info (Xing) frame carries frame count and TOC but not the
 * LAME extension that says how much of that to drop, so without it a call's MP3 played
 * 100-140 ms late and long (measured at 8 kHz). This writes the extension into the Info
 * frame's spare room, as LAME itself does: version, encoder delay and padding, and the tag's
 * CRC. Layout: the "Mp3 Info Tag rev 1" specification (LAME project), which ffmpeg and
 * mpg123 read.
 */
import fsp from 'node:fs/promises';

/** LAME's encoder delay (ENCDELAY), measured here: a click comes out 576 + 529 samples late. */
export const LAME_ENCODER_DELAY = 576;

const BITRATES_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface FrameHeader {
  readonly bytes: number;
  readonly samples: number;
  /** Where the Xing/Info tag starts in the frame (after the side information). */
  readonly xingOffset: number;
}

function parseHeader(b0: number, b1: number, b2: number, b3: number): FrameHeader | undefined {
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3;
  const layer = (b1 >> 1) & 3;
  if (version === 1 || layer !== 1) return undefined;
  const rate = RATES[version]?.[(b2 >> 2) & 3];
  const kbps = (version === 3 ? BITRATES_MPEG1 : BITRATES_MPEG2)[(b2 >> 4) & 0xf];
  if (!rate || !kbps) return undefined;
  const mono = b3 >> 6 === 3;
  const mpeg1 = version === 3;
  return {
    bytes: Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / rate) + ((b2 >> 1) & 1),
    samples: mpeg1 ? 1152 : 576,
    xingOffset: 4 + (mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17),
  };
}

/** CRC-16/ARC, the LAME tag's checksum. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Size of the Xing tag with the LAME extension, from the tag's start. */
const TAG_BYTES = 0x9c;

/**
 * Writes the LAME extension into the file's Info frame for `samples` frames of audio. False
 * (and the file untouched) when there is no Info frame or it is too small to hold it.
 */
export async function writeGaplessTag(file: string, samples: number): Promise<boolean> {
  const handle = await fsp.open(file, 'r+');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const info = parseHeader(head[0]!, head[1]!, head[2]!, head[3]!);
    if (!info || info.bytes < info.xingOffset + TAG_BYTES) return false;
    const frame = Buffer.alloc(info.bytes);
    await handle.read(frame, 0, info.bytes, 0);
    const tag = frame.toString('latin1', info.xingOffset, info.xingOffset + 4);
    if (tag !== 'Xing' && tag !== 'Info') return false;
    // The audio frames after the Info frame, walked by their headers.
    let audioFrames = 0;
    let at = info.bytes;
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(1 << 16);
    let chunkAt = 0;
    let chunkBytes = 0;
    while (at + 4 <= size) {
      if (at + 4 > chunkAt + chunkBytes) {
        chunkAt = at;
        chunkBytes = (await handle.read(chunk, 0, chunk.length, at)).bytesRead;
        if (chunkBytes < 4) break;
      }
      const o = at - chunkAt;
      const header = parseHeader(chunk[o]!, chunk[o + 1]!, chunk[o + 2]!, chunk[o + 3]!);
      if (!header) break;
      audioFrames++;
      at += header.bytes;
    }
    const padding = audioFrames * info.samples - LAME_ENCODER_DELAY - samples;
    if (padding < 0 || padding > 0xfff) return false;
    // The quality field (flag 8) is what puts the LAME extension at 0x78: readers take it
    // right after the TOC when the flag is unset.
    const flags = frame.readUInt32BE(info.xingOffset + 4);
    frame.writeUInt32BE(flags | 8, info.xingOffset + 4);
    // The frame count readers end the audio by (frames x samples - padding) counts the audio
    // frames, not the Info frame (mediabunny's count includes it: ffmpeg then trimmed nothing).
    if (flags & 1) frame.writeUInt32BE(audioFrames, info.xingOffset + 8);
    frame.write('LAME3.100', info.xingOffset + 0x78, 'latin1');
    frame[info.xingOffset + 0x8d] = LAME_ENCODER_DELAY >> 4;
    frame[info.xingOffset + 0x8e] = ((LAME_ENCODER_DELAY & 0xf) << 4) | (padding >> 8);
    frame[info.xingOffset + 0x8f] = padding & 0xff;
    // Music length: the bytes from the Info frame's start to the last audio frame's end.
    frame.writeUInt32BE(at, info.xingOffset + 0x94);
    frame.writeUInt16BE(crc16(frame.subarray(0, info.xingOffset + 0x9a)), info.xingOffset + 0x9a);
    await handle.write(frame, 0, info.bytes, 0);
    return true;
  } finally {
    await handle.close();
  }
}

/** Whether the file's Info frame carries the LAME extension (then decoders drop the priming and padding). */
export async function hasGaplessTag(file: string): Promise<boolean> {
  const handle = await fsp.open(file, 'r');
  try {
    const frame = Buffer.alloc(512);
    const { bytesRead } = await handle.read(frame, 0, frame.length, 0);
    const info = bytesRead >= 4 ? parseHeader(frame[0]!, frame[1]!, frame[2]!, frame[3]!) : undefined;
    return info !== undefined && bytesRead >= info.xingOffset + TAG_BYTES && frame.toString('latin1', info.xingOffset + 0x78, info.xingOffset + 0x7c) === 'LAME';
  } finally {
    await handle.close();
  }
}
