/**
 * RIFF/WAVE headers for the two formats calltape writes. PCM gets the canonical 44-byte
 * header. mu-law (format tag 7) is not PCM, so the WAVE spec wants WAVEFORMATEX (cbSize = 0)
 * and a `fact` chunk with the sample count; tools that reject a bare 44-byte mu-law header
 * (see PROTOCOLS.md: IBM Watson) accept this layout, and ffmpeg and sox read both.
 */

export type WavFormat = 'pcm16' | 'mulaw';

export interface WavLayout {
  readonly format: WavFormat;
  readonly channels: number;
  readonly sampleRate: number;
}

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_MULAW = 7;

export function bytesPerSample(format: WavFormat): number {
  return format === 'pcm16' ? 2 : 1;
}

/** Size of the header calltape writes for this format; audio starts right after it. */
export function headerSize(format: WavFormat): number {
  return format === 'pcm16' ? 44 : 58;
}

/** Maximum audio bytes a RIFF file can describe (its sizes are 32-bit). */
export const MAX_WAV_DATA_BYTES = 0xffffffff - 58;

export function buildWavHeader(layout: WavLayout, dataBytes: number): Buffer {
  const sampleBytes = bytesPerSample(layout.format);
  const blockAlign = sampleBytes * layout.channels;
  const size = headerSize(layout.format);
  const header = Buffer.alloc(size);
  const isPcm = layout.format === 'pcm16';
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(size - 8 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(isPcm ? 16 : 18, 16);
  header.writeUInt16LE(isPcm ? WAVE_FORMAT_PCM : WAVE_FORMAT_MULAW, 20);
  header.writeUInt16LE(layout.channels, 22);
  header.writeUInt32LE(layout.sampleRate, 24);
  header.writeUInt32LE(layout.sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(sampleBytes * 8, 34);
  if (isPcm) {
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(dataBytes, 40);
  } else {
    header.writeUInt16LE(0, 36); // cbSize: no extension
    header.write('fact', 38, 'ascii');
    header.writeUInt32LE(4, 42);
    header.writeUInt32LE(Math.floor(dataBytes / blockAlign), 46);
    header.write('data', 50, 'ascii');
    header.writeUInt32LE(dataBytes, 54);
  }
  return header;
}

export interface ParsedWavHeader extends WavLayout {
  readonly dataOffset: number;
  readonly dataBytes: number;
}

/**
 * Reads back a header calltape wrote (used by recovery and tests). Returns undefined for
 * anything else rather than guessing.
 */
export function parseWavHeader(buf: Uint8Array): ParsedWavHeader | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 44 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  if (b.toString('ascii', 12, 16) !== 'fmt ') return undefined;
  const tag = b.readUInt16LE(20);
  const format: WavFormat | undefined = tag === WAVE_FORMAT_PCM ? 'pcm16' : tag === WAVE_FORMAT_MULAW ? 'mulaw' : undefined;
  if (!format) return undefined;
  const dataOffset = headerSize(format);
  if (b.length < dataOffset || b.toString('ascii', dataOffset - 8, dataOffset - 4) !== 'data') return undefined;
  return {
    format,
    channels: b.readUInt16LE(22),
    sampleRate: b.readUInt32LE(24),
    dataOffset,
    dataBytes: b.readUInt32LE(dataOffset - 4),
  };
}
