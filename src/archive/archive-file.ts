/**
 * One finished WAV made into its archives (runs in a pipeline worker thread): each format
 * encoded to `<name>.<ext>.part`, fsynced, read back (verify.ts) and only then renamed into
 * place, with the directory fsynced. A crash or kill at any point leaves the WAV and at most
 * a `.part` (never uploaded, removed by the next attempt), never a half archive under its
 * real name. The WAV's own SHA-256 comes with the result, for the catalog's file list.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveFormat } from './formats.js';
import { encodeFlac } from './flac.js';
import { encodeMp3 } from './mp3.js';
import { encodeOggOpus } from './opus.js';
import { verifyArchive } from './verify.js';
import { syncDir } from '../storage/atomic-file.js';

const ENCODERS: Record<ArchiveFormat, (wavFile: string, outFile: string) => Promise<void>> = {
  flac: encodeFlac,
  opus: encodeOggOpus,
  mp3: encodeMp3,
};

export interface ArchivedFile {
  readonly format: ArchiveFormat;
  /** Its name in the recording's directory (inbound.flac). */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** How long it plays, as decoded back. */
  readonly durationMs: number;
}

export interface ArchivedWav {
  readonly wavSha256: string;
  readonly wavBytes: number;
  readonly archives: ArchivedFile[];
}

export function archiveName(wavFile: string, format: ArchiveFormat): string {
  return `${path.basename(wavFile, '.wav')}.${format}`;
}

/** `onArchived` hears of each archive as it is done (the CLI's progress). */
export async function archiveWav(wavFile: string, formats: readonly ArchiveFormat[], onArchived?: (archive: ArchivedFile) => void): Promise<ArchivedWav> {
  const archives: ArchivedFile[] = [];
  for (const format of formats) {
    archives.push(await archiveOne(wavFile, format));
    onArchived?.(archives.at(-1)!);
  }
  const wav = await sha256Of(wavFile);
  return { wavSha256: wav.sha256, wavBytes: wav.bytes, archives };
}

async function archiveOne(wavFile: string, format: ArchiveFormat): Promise<ArchivedFile> {
  const dir = path.dirname(wavFile);
  const file = archiveName(wavFile, format);
  const part = path.join(dir, `${file}.part`);
  await fsp.rm(part, { force: true });
  try {
    await ENCODERS[format](wavFile, part);
    const handle = await fsp.open(part, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const { durationMs } = await verifyArchive(format, wavFile, part);
    const { sha256, bytes } = await sha256Of(part);
    await fsp.rename(part, path.join(dir, file));
    await syncDir(dir);
    return { format, file, bytes, sha256, durationMs };
  } catch (err) {
    await fsp.rm(part, { force: true });
    throw err;
  }
}

async function sha256Of(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

