/**
 * Audio for simulated calls: 8 kHz mu-law bytes, as Twilio sends them. Accepts raw mu-law
 * (.ulaw/.mulaw/.raw) and WAV files of 8 kHz mono mu-law or 16-bit PCM (encoded here), as
 * any tool writes them: chunks other than `fmt ` and `data` (LIST, fact…) are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMulaw } from '../codec/g711.js';

/** The speech clips shipped in assets/ (the tests use them too), for runs without audio of one's own. */
export function builtinSpeech(track: 'inbound' | 'outbound'): Buffer {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return fs.readFileSync(path.join(root, 'assets', track === 'inbound' ? 'speech-in.ulaw' : 'speech-out.ulaw'));
}

/** A problem with an audio file given to simulate, said in one line. */
export class AudioFileError extends Error {}

interface WavFormatChunk {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Walks a RIFF/WAVE file's chunks: its format and its audio bytes. */
export function readWav(data: Buffer): { fmt: WavFormatChunk; audio: Buffer } | undefined {
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let fmt: WavFormatChunk | undefined;
  let offset = 12;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && size >= 16) {
      let format = data.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its subformat GUID.
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40) format = data.readUInt16LE(body + 24);
      fmt = { format, channels: data.readUInt16LE(body + 2), sampleRate: data.readUInt32LE(body + 4), bitsPerSample: data.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) return undefined;
      // A streamed writer may leave the size unset (0 or 0xFFFFFFFF): the data runs to the end.
      const end = size === 0 || body + size > data.length ? data.length : body + size;
      return { fmt, audio: data.subarray(body, end) };
    }
    offset = body + size + (size % 2); // chunks are padded to an even length
  }
  return undefined;
}

export function loadMulaw(file: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new AudioFileError(`${JSON.stringify(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (data.toString('ascii', 0, 4) !== 'RIFF') return data;
  const wav = readWav(data);
  if (!wav) throw new AudioFileError(`${JSON.stringify(file)} is not a WAV file with fmt and data chunks`);
  const { fmt, audio } = wav;
  if (fmt.sampleRate !== 8000 || fmt.channels !== 1) {
    throw new AudioFileError(`${JSON.stringify(file)} needs 8000 Hz mono, has ${fmt.sampleRate} Hz, ${fmt.channels} channel(s) (convert it: ffmpeg -i in.wav -ar 8000 -ac 1 out.wav)`);
  }
  if (fmt.format === WAVE_FORMAT_MULAW && fmt.bitsPerSample === 8) return Buffer.from(audio);
  if (fmt.format !== WAVE_FORMAT_PCM || fmt.bitsPerSample !== 16) {
    throw new AudioFileError(`${JSON.stringify(file)} is neither 16-bit PCM nor mu-law (format ${fmt.format}, ${fmt.bitsPerSample} bits)`);
  }
  const out = Buffer.alloc(audio.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = encodeMulaw(audio.readInt16LE(i * 2));
  return out;
}
