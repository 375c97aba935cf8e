/**
 * An encrypted recording's names and its record (encryption.json: each .age file with its
 * plaintext's name, size and SHA-256), readable without loading age itself
 * (custody/encrypt-recording.ts writes them).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

/** The record of what was encrypted: each .age with its plaintext's name, size and SHA-256. */
export const ENCRYPTION_FILE = 'encryption.json';
export const AGE_SUFFIX = '.age';

/** Files that hold the call's content, encrypted by the step. */
export const CONTENT_FILE = /^(inbound|outbound|stereo)\.(wav|flac|opus|mp3)$|^(meta|transcript|analytics|summary)\.json$/;

export interface EncryptedFile {
  /** Its name on disk and in the bucket (inbound.wav.age). */
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  /** What `age -d` gives back: its name, size and SHA-256, to check a decryption against. */
  readonly plaintext: { readonly name: string; readonly bytes: number; readonly sha256: string };
}

export interface EncryptionRecord {
  readonly version: 1;
  /** The age recipients (public keys) the files are encrypted to. */
  readonly recipients: readonly string[];
  readonly files: EncryptedFile[];
}

/** The record of a recording's encryption in `dir`, if it has one. */
export async function readEncryptionRecord(dir: string): Promise<EncryptionRecord | undefined> {
  const text = await fsp.readFile(path.join(dir, ENCRYPTION_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as EncryptionRecord);
}
