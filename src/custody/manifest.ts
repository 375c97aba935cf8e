/**
 * A recording's custody manifest: every file of its directory that holds the call (audio,
 * archives, meta.json, transcript, analytics, summary, peaks) with its size and SHA-256, the
 * call's ids and times and the calltape version, signed in minisign's format beside it
 * (minisign.ts). Whoever holds the public key can check, with standard tools, that the files
 * are the ones calltape wrote (for an encrypted file, its plaintext's size and hash too, to
 * check a decryption against): `minisign -V` on the manifest, then `sha256sum` on each file,
 * or `calltape verify`, which does both and names the first file that differs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Recording } from '../catalog/recordings.js';
import { SPOOLED_FILE } from '../storage/recording-keys.js';
import { readEncryptionRecord } from './encryption-record.js';
import { signMinisign, verifyMinisign, type PublicKey, type SigningKey } from './minisign.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SIGNATURE_FILE = 'manifest.json.minisig';

export interface ManifestFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  /** An encrypted file's plaintext (what `age -d` gives back), from encryption.json. */
  readonly plaintext?: { readonly name: string; readonly bytes: number; readonly sha256: string };
}

export interface Manifest {
  readonly version: 1;
  readonly calltape: string;
  readonly recording: {
    readonly id: string;
    readonly provider: string;
    readonly callSid: string;
    readonly streamSid: string;
    readonly accountSid: string | null;
    readonly startedAt: string;
    readonly endedAt: string | null;
    readonly durationMs: number | null;
  };
  readonly createdAt: string;
  readonly files: readonly ManifestFile[];
}

export async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The files the manifest covers, by name: those that travel with the recording (never a .part), but itself. */
export async function custodyFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((name) => SPOOLED_FILE.test(name) && name !== MANIFEST_FILE && name !== MANIFEST_SIGNATURE_FILE).sort();
}

export async function buildManifest(dir: string, recording: Recording, version: string, now = new Date()): Promise<Manifest> {
  const files: ManifestFile[] = [];
  const encrypted = new Map((await readEncryptionRecord(dir))?.files.map((f) => [f.name, f.plaintext]) ?? []);
  for (const name of await custodyFiles(dir)) {
    const plaintext = encrypted.get(name);
    files.push({ name, ...(await hashFile(path.join(dir, name))), ...(plaintext ? { plaintext } : {}) });
  }
  return {
    version: 1,
    calltape: version,
    recording: {
      id: recording.id,
      provider: recording.provider,
      callSid: recording.callSid,
      streamSid: recording.streamSid,
      accountSid: recording.accountSid,
      startedAt: recording.startedAt,
      endedAt: recording.endedAt,
      durationMs: recording.durationMs,
    },
    createdAt: now.toISOString(),
    files,
  };
}

/** The manifest's bytes and their signature, whose trusted comment names the recording and the time. */
export function signedManifest(manifest: Manifest, key: SigningKey): { text: string; signature: string } {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const seconds = Math.floor(Date.parse(manifest.createdAt) / 1000);
  const signature = signMinisign(key, Buffer.from(text), `timestamp:${seconds}\tfile:${MANIFEST_FILE}\trecording:${manifest.recording.id}`, `calltape custody manifest of ${manifest.recording.streamSid}`);
  return { text, signature };
}

/** Where a recording's files part from its signed manifest, in the order found; empty when they agree. */
export interface VerifyResult {
  readonly manifest?: Manifest;
  readonly trustedComment?: string;
  readonly problems: string[];
}

/**
 * Checks the signature over the manifest, then each file it lists (size, then SHA-256), in
 * the manifest's order. `read` gives a file's bytes by name (the manifest and its signature),
 * `hash` a listed file's size and hash, undefined when it is missing.
 */
export async function verifyManifest(
  key: PublicKey,
  read: (name: string) => Promise<Buffer | undefined>,
  hash: (name: string) => Promise<{ bytes: number; sha256: string } | undefined>,
): Promise<VerifyResult> {
  const text = await read(MANIFEST_FILE);
  const signature = await read(MANIFEST_SIGNATURE_FILE);
  if (!text) return { problems: [`${MANIFEST_FILE} is missing`] };
  if (!signature) return { problems: [`${MANIFEST_SIGNATURE_FILE} is missing`] };
  let trustedComment: string;
  try {
    trustedComment = verifyMinisign(key, text, signature.toString('utf8'));
  } catch (err) {
    return { problems: [`${MANIFEST_FILE}: ${(err as Error).message}`] };
  }
  const manifest = JSON.parse(text.toString('utf8')) as Manifest;
  const problems: string[] = [];
  for (const file of manifest.files) {
    const found = await hash(file.name);
    if (!found) problems.push(`${file.name} is missing`);
    else if (found.bytes !== file.bytes) problems.push(`${file.name} is ${found.bytes} bytes, the manifest says ${file.bytes}`);
    else if (found.sha256 !== file.sha256) problems.push(`${file.name} differs from the manifest (SHA-256 ${found.sha256}, signed ${file.sha256})`);
  }
  return { manifest, trustedComment, problems };
}

