/**
 * WAV to MP3 (LAME in WebAssembly, @mediabunny/mp3-encoder), for players and tools that read
 * nothing newer: mediabunny feeds LAME (in a thread of its own) and writes the frames with a
 * Xing header, so players know the duration without reading the whole file, and the LAME
 * tag (mp3-gapless.ts), so they play exactly the call's length.
 */
import { registerMp3Encoder } from '@mediabunny/mp3-encoder';
import { AudioSample, AudioSampleSource, FilePathTarget, Mp3OutputFormat, Output } from 'mediabunny';
import { readInterleavedSamples, readWavHeader } from '../transcribe/track-audio.js';
import { writeGaplessTag } from './mp3-gapless.js';
import { UnsupportedRateError } from './opus.js';

/** Bits per second per channel (MPEG-2.5 at 8 kHz goes from 8 to 64 kbps). */
export const MP3_BITRATE_PER_CHANNEL = 16_000;
/** The rates MPEG-1, 2 and 2.5 Layer III carry. */
const MP3_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

let registered = false;

export async function encodeMp3(wavFile: string, outFile: string): Promise<void> {
  if (!registered) {
    registerMp3Encoder();
    registered = true;
  }
  const { sampleRate, channels } = await readWavHeader(wavFile);
  if (!MP3_RATES.includes(sampleRate)) throw new UnsupportedRateError(`MP3 carries ${MP3_RATES.join(', ')} Hz audio; this file is ${sampleRate} Hz`);
  const output = new Output({ format: new Mp3OutputFormat(), target: new FilePathTarget(outFile) });
  try {
    const source = new AudioSampleSource({ codec: 'mp3', bitrate: MP3_BITRATE_PER_CHANNEL * channels });
    output.addAudioTrack(source);
    await output.start();
    let frames = 0;
    await readInterleavedSamples(wavFile, async (block) => {
      // A copy: AudioSample keeps a view of its data, and the reader reuses its block.
      const sample = new AudioSample({ data: block.slice(), format: 's16', numberOfChannels: channels, sampleRate, timestamp: frames / sampleRate });
      frames += block.length / channels;
      await source.add(sample);
      sample.close();
    });
    source.close();
    await output.finalize();
    // Where the Info frame has room (8 and 16 kHz, mono and stereo), decoders are told the
    // priming and padding to drop; elsewhere the file plays up to two frames longer.
    await writeGaplessTag(outFile, frames);
  } catch (err) {
    await output.cancel().catch(() => undefined);
    throw err;
  }
}
