/** Finding and checking what calltape wrote. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordingMeta } from '../../src/recording/meta.js';

export function tempDataDir(prefix = 'calltape-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The directory of a stream's recording: data/recordings/YYYY/MM/DD/<streamSid>. */
export function findRecordingDir(dataDir: string, streamSid: string): string {
  const root = path.join(dataDir, 'recordings');
  for (const year of fs.readdirSync(root)) {
    for (const month of fs.readdirSync(path.join(root, year))) {
      for (const day of fs.readdirSync(path.join(root, year, month))) {
        const dir = path.join(root, year, month, day, streamSid);
        if (fs.existsSync(dir)) return dir;
      }
    }
  }
  throw new Error(`no recording directory for ${streamSid} under ${root}`);
}

/** sha256 of every file in a directory: to prove files were not touched. */
/**
 * The files a recording's call wrote in its directory, sorted: what the post-call pipeline
 * adds beside them after the call (peaks.bin, transcript.json, their temporary files) is left
 * out (so are analytics.json and summary.json), since it may be written at any moment after the recording finished.
 */
export function callFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => !/^(peaks\.bin|transcript\.json|transcript\.pieces\.json|analytics\.json|summary\.json)(\.\d+(\.\d+)?\.tmp)?$/.test(name))
    .sort();
}

export function fileHashes(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
}

export function readMeta(dir: string): RecordingMeta {
  return JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as RecordingMeta;
}

/** s16le PCM padded with silence (zeros) to `samples` samples. */
export function padPcm(pcm: Buffer, samples: number): Buffer {
  if (pcm.length >= samples * 2) return pcm.subarray(0, samples * 2);
  return Buffer.concat([pcm, Buffer.alloc(samples * 2 - pcm.length)]);
}

/** Interleaves two mono s16le buffers of equal length into stereo. */
export function interleaveStereo(left: Buffer, right: Buffer): Buffer {
  const out = Buffer.alloc(left.length * 2);
  for (let i = 0; i < left.length; i += 2) {
    left.copy(out, i * 2, i, i + 2);
    right.copy(out, i * 2 + 2, i, i + 2);
  }
  return out;
}

/** Index of the first differing sample, or -1: a readable failure instead of a 100 KB diff. */
export function firstDifference(actual: Buffer, expected: Buffer): number {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i += 2) if (actual.readInt16LE(i) !== expected.readInt16LE(i)) return i / 2;
  return actual.length === expected.length ? -1 : n / 2;
}

/** Waits until `predicate` holds, polling; for state another process or socket produces. */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
