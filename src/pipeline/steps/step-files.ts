/**
 * The files of the post-call steps that read a finished recording and write one output
 * beside it (transcript, analytics, summary): a local copy to read (from the bucket once the
 * spool copy is gone), the outputs of earlier steps, and the output written atomically and,
 * when the recording is already in the bucket, put there too.
 */
import { createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { META_FILE } from '../../recording/meta.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';
import { recordingKey } from '../../storage/recording-keys.js';
import type { JobKind, JobView } from '../jobs.js';

/**
 * The recording's files on this disk: its own directory, or (uploaded, local copy removed)
 * a temporary copy from the bucket, removed after the step. `optional`: outputs of earlier
 * steps (transcript.json) copied when the bucket has them.
 */
async function localCopy(catalog: Catalog, dataDir: string, recording: Recording, purpose: string, optional: readonly string[] = []): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = catalog.recordingDir(recording);
  // meta.json: on this disk as long as the spool copy is (the WAVs may be gone for their archives).
  const here = await fsp.stat(path.join(dir, META_FILE)).then(() => true, () => false);
  if (here || recording.storage !== 's3' || !catalog.objectStore) return { dir, cleanup: async () => undefined };
  const temp = path.join(dataDir, 'tmp', `${purpose}-${recording.id}`);
  await fsp.rm(temp, { recursive: true, force: true });
  await fsp.mkdir(temp, { recursive: true });
  const cleanup = () => fsp.rm(temp, { recursive: true, force: true });
  try {
    // A WAV removed for its archives is in neither place (its archives come as `optional`).
    // Encrypted, the WAVs are .age files the step asks for as optional, if it needs them at all.
    const wavs = recording.encryption ? [] : recording.files.filter((f) => !f.wavRemoved).map((f) => f.file);
    for (const name of [...wavs, META_FILE, ...optional]) {
      const source = await catalog.openFile(recording, name);
      if (!source && optional.includes(name)) continue;
      if (!source) throw new Error(`${name} of ${recording.streamSid} is neither on this disk nor in the bucket`);
      await pipeline(await source.open(), createWriteStream(path.join(temp, name)));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { dir: temp, cleanup };
}

/** Runs `read` on a directory holding the recording's files (and `optional` outputs of earlier steps), removed after if it was a copy. */
export async function withRecordingFiles<T>(catalog: Catalog, dataDir: string, recording: Recording, purpose: string, optional: readonly string[], read: (dir: string) => Promise<T>): Promise<T> {
  const copy = await localCopy(catalog, dataDir, recording, purpose, optional);
  try {
    return await read(copy.dir);
  } finally {
    await copy.cleanup();
  }
}

/** A step's JSON output in `dir`, if there is one that parses (an earlier step's, which may have failed). */
export async function readStepOutput<T>(dir: string, file: string): Promise<T | undefined> {
  const text = await fsp.readFile(path.join(dir, file), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Writes a step's JSON output beside the files; already in the bucket (made again, by hand), it joins them there. */
export async function writeStepOutput(catalog: Catalog, dataDir: string, recording: Recording, dir: string, file: string, value: unknown): Promise<void> {
  await writeFileAtomic(path.join(dir, file), `${JSON.stringify(value)}\n`);
  if (recording.storage === 's3' && catalog.objectStore) {
    await catalog.objectStore.put(recordingKey(dataDir, catalog.recordingDir(recording), file), path.join(dir, file), 'application/json');
  }
}

/** The recording's jobs as they stand once `kind` commits: what a webhook sent in its transaction says. */
export function withDone(jobs: readonly JobView[], kind: JobKind): JobView[] {
  return jobs.map((j) => (j.kind === kind ? { ...j, state: 'done' as const, error: null } : j));
}
