/**
 * The archive encoders on real files: a call's track of real speech on a noisy line, as
 * calltape writes it from a Twilio stream (mu-law on the wire, PCM16 in the WAV), and the
 * stereo file. Each archive is checked by decoders that are not calltape's encoders: ffmpeg
 * (the reference) and the WASM decoders the archive step verifies with.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_TO_LINEAR } from '../../src/codec/g711.js';
import { buildWavHeader } from '../../src/recording/wav-header.js';
import { archiveWav } from '../../src/archive/archive-file.js';
import { encodeFlac } from '../../src/archive/flac.js';
import { encodeOggOpus } from '../../src/archive/opus.js';
import { encodeMp3 } from '../../src/archive/mp3.js';
import { hasGaplessTag } from '../../src/archive/mp3-gapless.js';
import { loadLibFlac } from '../../src/archive/libflac.js';
import { ArchiveMismatchError, verifyArchive } from '../../src/archive/verify.js';
import { FFMPEG, ffmpegDecode } from '../helpers/ffmpeg.js';
import { tempDataDir } from '../helpers/recordings.js';
import { buildConversation, CONVERSATION, pcmWav, ulaw } from '../helpers/speech-call.js';

/**
 * A line with idle noise at -62 dBFS (ITU-T Q.551 allows a digital exchange -65 dBm0p), and
 * the other party's echo at -25 dB. FLAC's size depends on that noise most (README: 33% of the
 * WAV with none, 43% here, 52% at -50 dBFS).
 */
const conversation = buildConversation({ ...CONVERSATION, noiseRms: 25 });
/** What calltape writes for a mu-law stream with the default pcm16 format: the wire's codes decoded. */
const onWire = (samples: Int16Array) => Int16Array.from(ulaw(samples), (code) => MULAW_TO_LINEAR[code]!);
const caller = onWire(conversation.line.caller);
const agent = onWire(conversation.line.agent);

function stereoWav(left: Int16Array, right: Int16Array): Buffer {
  const frames = new Int16Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    frames[i * 2] = left[i]!;
    frames[i * 2 + 1] = right[i]!;
  }
  return Buffer.concat([buildWavHeader({ format: 'pcm16', channels: 2, sampleRate: 8000 }, frames.byteLength), Buffer.from(frames.buffer)]);
}

/** RMS per 20 ms frame of mono s16le PCM. */
function envelope(pcm: Int16Array, rate = 8000): Float64Array {
  const frame = (rate * 20) / 1000;
  const out = new Float64Array(Math.floor(pcm.length / frame));
  for (let f = 0; f < out.length; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += pcm[i]! * pcm[i]!;
    out[f] = Math.sqrt(sum / frame);
  }
  return out;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** ffmpeg's decode at 8 kHz mono, whatever the file's own rate (Opus decodes at 48 kHz). */
function ffmpegAt8k(file: string): Int16Array {
  const result = spawnSync(FFMPEG, ['-hide_banner', '-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', '8000', '-'], { maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(result.stderr.toString());
  const pcm = result.stdout;
  return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
}

const asBytes = (samples: Int16Array) => Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);

let dir: string;
let mono: string;
let stereo: string;

beforeAll(() => {
  dir = tempDataDir('calltape-archive-');
  mono = path.join(dir, 'inbound.wav');
  stereo = path.join(dir, 'stereo.wav');
  fs.writeFileSync(mono, pcmWav(caller));
  fs.writeFileSync(stereo, stereoWav(caller, agent));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('FLAC', () => {
  it('decodes bit-exact to the WAV with ffmpeg, mono and stereo, at most 45% of the WAV, with STREAMINFO total samples and MD5', async () => {
    for (const [wav, channels, pcm] of [
      [mono, 1, asBytes(caller)],
      [stereo, 2, fs.readFileSync(stereo).subarray(44)],
    ] as const) {
      const out = wav.replace('.wav', '.test.flac');
      await encodeFlac(wav, out);
      const decoded = ffmpegDecode(out);
      expect(decoded.codec).toBe('flac');
      expect(decoded.channels).toBe(channels);
      expect(decoded.sampleRate).toBe(8000);
      expect(decoded.pcm.equals(pcm)).toBe(true);
      const ratio = fs.statSync(out).size / fs.statSync(wav).size;
      console.log(`FLAC ${channels === 1 ? 'mono' : 'stereo'}: ${(ratio * 100).toFixed(1)}% of the WAV`);
      expect(ratio).toBeLessThanOrEqual(0.45);
      // STREAMINFO (RFC 9639 section 8.2): 36 bits of total samples, then the MD5 of the samples.
      const head = fs.readFileSync(out).subarray(0, 42);
      expect(head.subarray(0, 4).toString('latin1')).toBe('fLaC');
      const total = (head.readUInt8(21) & 0x0f) * 2 ** 32 + head.readUInt32BE(22);
      expect(total).toBe(pcm.length / 2 / channels);
      expect(head.subarray(26, 42).toString('hex')).toBe(crypto.createHash('md5').update(pcm).digest('hex'));
      // The step's own check (a WASM decoder, not the encoder) agrees.
      await expect(verifyArchive('flac', wav, out)).resolves.toMatchObject({ frames: pcm.length / 2 / channels });
    }
  });

  it('keeps a mu-law WAV exact: the FLAC holds its decoded samples', async () => {
    const codes = ulaw(conversation.line.caller);
    const wav = path.join(dir, 'mulaw.wav');
    fs.writeFileSync(wav, Buffer.concat([buildWavHeader({ format: 'mulaw', channels: 1, sampleRate: 8000 }, codes.length), codes]));
    const out = path.join(dir, 'mulaw.flac');
    await encodeFlac(wav, out);
    expect(ffmpegDecode(out).pcm.equals(asBytes(caller))).toBe(true);
    await verifyArchive('flac', wav, out);
  });

  it('refuses a FLAC file that differs from its WAV by one sample, or ends early', async () => {
    const other = caller.slice();
    other[100_000] = other[100_000]! ^ 1;
    const wav = path.join(dir, 'other.wav');
    fs.writeFileSync(wav, pcmWav(other));
    const out = path.join(dir, 'original.flac');
    await encodeFlac(mono, out);
    await expect(verifyArchive('flac', wav, out)).rejects.toThrow(/differs from the WAV at frame 100000/);
    const longer = path.join(dir, 'longer.wav');
    fs.writeFileSync(longer, pcmWav(Int16Array.from([...caller, ...new Int16Array(8000)])));
    await expect(verifyArchive('flac', longer, out)).rejects.toThrow(ArchiveMismatchError);
  });

  it('loads libflac.js while fetch exists, and puts fetch back', async () => {
    const before = globalThis.fetch;
    expect(typeof before).toBe('function');
    const flac = await loadLibFlac();
    expect(flac.isReady()).toBe(true);
    expect(globalThis.fetch).toBe(before);
  });
});

describe('Ogg Opus', () => {
  it('is at most 13% of the WAV at 16 kbps, lasts as long within 40 ms, and keeps the speech envelope (correlation ≥ 0.9)', async () => {
    for (const [wav, channels] of [
      [mono, 1],
      [stereo, 2],
    ] as const) {
      const out = wav.replace('.wav', '.test.opus');
      await encodeOggOpus(wav, out);
      const decoded = ffmpegDecode(out);
      expect(decoded.codec).toBe('opus');
      expect(decoded.channels).toBe(channels);
      const ratio = fs.statSync(out).size / fs.statSync(wav).size;
      console.log(`Opus ${channels === 1 ? 'mono' : 'stereo'}: ${(ratio * 100).toFixed(1)}% of the WAV`);
      expect(ratio).toBeLessThanOrEqual(0.13);
      const durationMs = (decoded.pcm.length / 2 / channels / decoded.sampleRate) * 1000;
      expect(Math.abs(durationMs - caller.length / 8)).toBeLessThanOrEqual(40);
      const { durationMs: verified } = await verifyArchive('opus', wav, out);
      expect(Math.abs(verified - caller.length / 8)).toBeLessThanOrEqual(40);
    }
    const back = ffmpegAt8k(mono.replace('.wav', '.test.opus'));
    expect(correlation(envelope(back), envelope(caller))).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses a file cut short', async () => {
    const out = path.join(dir, 'whole.opus');
    await encodeOggOpus(mono, out);
    const cut = path.join(dir, 'cut.opus');
    fs.writeFileSync(cut, fs.readFileSync(out).subarray(0, Math.floor(fs.statSync(out).size / 2)));
    await expect(verifyArchive('opus', mono, cut)).rejects.toThrow(/lasts \d+ ms, the WAV 25000 ms/);
  });
});

describe('MP3', () => {
  it('is at most 13% of the WAV at 16 kbps, and decodes (ffmpeg, mpg123) to the WAV’s duration within 40 ms, in step with it', async () => {
    const out = path.join(dir, 'inbound.test.mp3');
    await encodeMp3(mono, out);
    const decoded = ffmpegDecode(out);
    expect(decoded.codec).toBe('mp3');
    const ratio = fs.statSync(out).size / fs.statSync(mono).size;
    console.log(`MP3 mono: ${(ratio * 100).toFixed(1)}% of the WAV`);
    expect(ratio).toBeLessThanOrEqual(0.13);
    expect(await hasGaplessTag(out)).toBe(true);
    // The LAME tag's delay and padding: both decoders give exactly the WAV's samples.
    expect(decoded.pcm.length / 2).toBe(caller.length);
    await expect(verifyArchive('mp3', mono, out)).resolves.toEqual({ frames: caller.length, durationMs: caller.length / 8 });
    expect(correlation(envelope(ffmpegAt8k(out)), envelope(caller))).toBeGreaterThanOrEqual(0.9);
  });
});

describe('archiveWav', () => {
  it('writes each format under its name with its size and SHA-256, and leaves no .part', async () => {
    const result = await archiveWav(mono, ['flac', 'opus', 'mp3']);
    expect(result.wavSha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(mono)).digest('hex'));
    expect(result.archives.map((a) => a.file)).toEqual(['inbound.flac', 'inbound.opus', 'inbound.mp3']);
    for (const archive of result.archives) {
      const bytes = fs.readFileSync(path.join(dir, archive.file));
      expect(archive.bytes).toBe(bytes.length);
      expect(archive.sha256).toBe(crypto.createHash('sha256').update(bytes).digest('hex'));
    }
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('refuses a rate Opus cannot carry, and leaves nothing of it', async () => {
    const wav = path.join(dir, 'odd.wav');
    fs.writeFileSync(wav, Buffer.concat([buildWavHeader({ format: 'pcm16', channels: 1, sampleRate: 11025 }, 22050 * 2), Buffer.alloc(22050 * 2)]));
    await expect(archiveWav(wav, ['opus'])).rejects.toMatchObject({ name: 'UnsupportedRateError' });
    expect(fs.existsSync(path.join(dir, 'odd.opus'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'odd.opus.part'))).toBe(false);
  });
});
