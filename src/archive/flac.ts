/**
 * WAV to FLAC (libFLAC in WebAssembly, libflac.ts), streamed: the WAV is read in blocks and
 * each block's frames are written before the next is read, so a call of any length takes a
 * few hundred KiB. libFLAC's stream encoder cannot seek back, so the STREAMINFO it writes
 * first has no MD5 yet: the total sample count is given up front, and the MD5 and frame
 * sizes it reports at the end are written into the header afterwards, so players show the
 * duration and `flac -t` checks the audio against the signature.
 */
import fsp from 'node:fs/promises';
import { readInterleavedSamples, readWavHeader, samplesIn } from '../transcribe/track-audio.js';
import { loadLibFlac } from './libflac.js';

/** Level 5 is flac's default: level 8 was 1% smaller and 3× slower on telephone speech. */
const COMPRESSION_LEVEL = 5;

/** STREAMINFO's place in a FLAC file: after "fLaC" and its 4-byte block header. */
const STREAMINFO_AT = 8;

export async function encodeFlac(wavFile: string, outFile: string): Promise<void> {
  const flac = await loadLibFlac();
  const header = await readWavHeader(wavFile);
  const total = await samplesIn(wavFile, header);
  const encoder = flac.create_libflac_encoder(header.sampleRate, header.channels, 16, COMPRESSION_LEVEL, total, false);
  if (!encoder) throw new Error('libFLAC could not create an encoder');
  const out = await fsp.open(outFile, 'w');
  try {
    let pending: Uint8Array[] = [];
    let info: { min_framesize: number; max_framesize: number; md5sum: string } | undefined;
    const status = flac.init_encoder_stream(
      encoder,
      // Called synchronously inside libFLAC with a view of its memory: copied, written after.
      (data, bytes) => void pending.push(data.slice(0, bytes)),
      (metadata) => void (info = metadata as typeof info),
    );
    if (status !== 0) throw new Error(`libFLAC could not start encoding (init status ${status})`);
    const flush = async () => {
      for (const chunk of pending) await out.write(chunk);
      pending = [];
    };
    await readInterleavedSamples(wavFile, async (block) => {
      // libFLAC reads 32-bit samples.
      if (!flac.FLAC__stream_encoder_process_interleaved(encoder, Int32Array.from(block), block.length / header.channels)) {
        throw new Error(`libFLAC refused the audio (encoder state ${flac.FLAC__stream_encoder_get_state(encoder)})`);
      }
      await flush();
    });
    if (!flac.FLAC__stream_encoder_finish(encoder)) throw new Error(`libFLAC could not finish (encoder state ${flac.FLAC__stream_encoder_get_state(encoder)})`);
    await flush();
    if (!info) throw new Error('libFLAC did not report the stream information');
    await out.write(streamInfoPatch(info.min_framesize, info.max_framesize), 0, 6, STREAMINFO_AT + 4);
    await out.write(Buffer.from(info.md5sum, 'hex'), 0, 16, STREAMINFO_AT + 18);
    await out.sync();
  } finally {
    flac.FLAC__stream_encoder_delete(encoder);
    await out.close();
  }
}

/** STREAMINFO's minimum and maximum frame sizes: two 24-bit big-endian fields. */
function streamInfoPatch(min: number, max: number): Buffer {
  const bytes = Buffer.alloc(6);
  bytes.writeUIntBE(min, 0, 3);
  bytes.writeUIntBE(max, 3, 3);
  return bytes;
}
