/**
 * A finished recording's content encrypted to the customer's age recipients (runs in a
 * pipeline worker thread): each file that holds the call (the WAVs, archives, transcript,
 * analytics, summary, and meta.json's parameters and events) becomes `<name>.age`, in age's
 * format, readable with `age -d -i key.txt`. The plaintext goes only once its ciphertext is
 * complete on disk and recorded:
 *
 *   1. encrypt to `<name>.age.part`, hashing plaintext and ciphertext as they pass; fsync
 *   2. rename to `<name>.age`; fsync the directory
 *   3. record both hashes in encryption.json (written whole or not at all)
 *   4. remove the plaintext (meta.json: replaced by a copy without parameters and events); fsync the directory
 *
 * A kill at any point leaves each file as plaintext, or as a complete `.age` (a `.part` is
 * never one of the recording's files and is removed by the next run); the next run encrypts
 * what still has plaintext and keeps what is done. The peaks (a 20 ms min/max outline, no
 * speech can be heard from it) stay readable so the dashboard can draw the call.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Encrypter } from 'age-encryption';
import { syncDir, writeFileAtomic } from '../storage/atomic-file.js';
import { META_FILE } from '../recording/meta.js';
import { AGE_SUFFIX, CONTENT_FILE, ENCRYPTION_FILE, readEncryptionRecord, type EncryptedFile, type EncryptionRecord } from './encryption-record.js';

export { AGE_SUFFIX, CONTENT_FILE, ENCRYPTION_FILE, readEncryptionRecord, type EncryptedFile, type EncryptionRecord };

/** Where a test may stop the process (kill -9) to check what a crash there leaves. */
export type EncryptionPoint = 'part-written' | 'renamed' | 'recorded' | 'plaintext-removed';

export interface EncryptOptions {
  readonly onPoint?: (point: EncryptionPoint, file: string) => void;
  /**
   * Files the catalog says are gone (WAVs their archives replaced, CALLTAPE_KEEP_WAV=false):
   * removed if a crash left them, never encrypted into a copy nobody lists.
   */
  readonly removed?: readonly string[];
}

/** meta.json as kept beside encrypted files: what the catalog needs, its parameters, DTMF and marks only in meta.json.age. */
export function strippedMeta(meta: Record<string, unknown>): Record<string, unknown> {
  return { ...meta, customParameters: {}, dtmf: [], marks: [], encrypted: { file: `${META_FILE}${AGE_SUFFIX}`, holds: ['customParameters', 'dtmf', 'marks'] } };
}

function isStripped(metaText: string): boolean {
  try {
    return (JSON.parse(metaText) as { encrypted?: unknown }).encrypted !== undefined;
  } catch {
    return false;
  }
}

/** Encrypts every content file of `dir` still in plaintext; the record of all of them. */
export async function encryptRecording(dir: string, recipients: readonly string[], options: EncryptOptions = {}): Promise<EncryptionRecord> {
  if (recipients.length === 0) throw new Error('no recipient to encrypt to');
  const names = await fsp.readdir(dir);
  // A .part is what a crash left mid-file: its plaintext is still there and is encrypted again.
  for (const name of names) if (name.endsWith(`${AGE_SUFFIX}.part`)) await fsp.rm(path.join(dir, name), { force: true });
  const previous = await readEncryptionRecord(dir);
  const files = new Map<string, EncryptedFile>((previous?.files ?? []).map((f) => [f.name, f]));
  const record = (): EncryptionRecord => ({ version: 1, recipients: [...recipients], files: [...files.values()].sort((a, b) => a.name.localeCompare(b.name)) });

  const removed = new Set(options.removed ?? []);
  for (const name of names.filter((n) => removed.has(n))) await fsp.rm(path.join(dir, name), { force: true });
  for (const name of names.filter((n) => CONTENT_FILE.test(n) && !removed.has(n)).sort()) {
    const plainFile = path.join(dir, name);
    if (name === META_FILE && isStripped(await fsp.readFile(plainFile, 'utf8'))) continue;
    const encrypted = await encryptFile(plainFile, recipients, options);
    options.onPoint?.('renamed', name);
    files.set(encrypted.name, encrypted);
    await writeFileAtomic(path.join(dir, ENCRYPTION_FILE), `${JSON.stringify(record(), null, 2)}\n`);
    await syncDir(dir);
    options.onPoint?.('recorded', name);
    if (name === META_FILE) {
      const meta = JSON.parse(await fsp.readFile(plainFile, 'utf8')) as Record<string, unknown>;
      await writeFileAtomic(plainFile, `${JSON.stringify(strippedMeta(meta), null, 2)}\n`);
    } else {
      await fsp.rm(plainFile, { force: true });
    }
    await syncDir(dir);
    options.onPoint?.('plaintext-removed', name);
  }
  // Every .age of the directory must be accounted for: one with no record cannot be checked.
  for (const name of await fsp.readdir(dir)) {
    if (name.endsWith(AGE_SUFFIX) && !files.has(name)) throw new Error(`${name} is in the recording's directory but not in ${ENCRYPTION_FILE}`);
  }
  return record();
}

/** One file to `<file>.age` (steps 1 and 2 above). */
async function encryptFile(plainFile: string, recipients: readonly string[], options: EncryptOptions): Promise<EncryptedFile> {
  const name = path.basename(plainFile);
  const target = `${plainFile}${AGE_SUFFIX}`;
  const part = `${target}.part`;
  const plainHash = crypto.createHash('sha256');
  let plainBytes = 0;
  const chunks = (fs.createReadStream(plainFile, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  // Pulled by the encrypter as it needs more: the file is read at the pace the output is written.
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) return controller.close();
      plainHash.update(next.value);
      plainBytes += next.value.length;
      controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
    },
    async cancel() {
      await chunks.return?.();
    },
  });
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const cipherHash = crypto.createHash('sha256');
  let cipherBytes = 0;
  const handle = await fsp.open(part, 'w');
  try {
    let first = true;
    const reader = (await encrypter.encrypt(source)).getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const chunk = read.value;
      await handle.write(chunk);
      cipherHash.update(chunk);
      cipherBytes += chunk.length;
      if (first) options.onPoint?.('part-written', name);
      first = false;
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fsp.rm(part, { force: true });
    throw err;
  }
  await handle.close();
  await fsp.rename(part, target);
  await syncDir(path.dirname(plainFile));
  return {
    name: path.basename(target),
    bytes: cipherBytes,
    sha256: cipherHash.digest('hex'),
    plaintext: { name, bytes: plainBytes, sha256: plainHash.digest('hex') },
  };
}
