/**
 * Audio for simulated calls: 8 kHz mu-law bytes, as Twilio sends them. Accepts raw mu-law
 * (.ulaw/.mulaw/.raw), mu-law WAV (format 7) and 16-bit PCM WAV at 8 kHz mono (encoded here).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMulaw } from '../codec/g711.js';
import { parseWavHeader } from '../recording/wav-header.js';

/** The speech clips the test suite uses (test/fixtures), for runs without a file of one's own. */
export function builtinSpeech(track: 'inbound' | 'outbound'): Buffer {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return fs.readFileSync(path.join(root, 'test', 'fixtures', track === 'inbound' ? 'speech-in.ulaw' : 'speech-out.ulaw'));
}

export function loadMulaw(file: string): Buffer {
  const data = fs.readFileSync(file);
  if (data.toString('ascii', 0, 4) !== 'RIFF') return data;
  const header = parseWavHeader(data);
  if (!header) throw new Error(`${file}: not a WAV file calltape can read (PCM16 or mu-law)`);
  if (header.sampleRate !== 8000 || header.channels !== 1) {
    throw new Error(`${file}: needs 8000 Hz mono, has ${header.sampleRate} Hz, ${header.channels} channel(s)`);
  }
  const body = data.subarray(header.dataOffset, header.dataOffset + header.dataBytes);
  if (header.format === 'mulaw') return Buffer.from(body);
  const out = Buffer.alloc(body.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = encodeMulaw(body.readInt16LE(i * 2));
  return out;
}
