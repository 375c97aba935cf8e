/**
 * A finished recording's files on this node's disk for a post-call step that reads them.
 */
import { createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { META_FILE } from '../../recording/meta.js';

/**
 * The recording's files on this disk: its own directory, or (uploaded, local copy removed)
 * a temporary copy from the bucket, removed after the step. `optional`: outputs of earlier
 * steps (transcript.json) copied when the bucket has them.
 */
export async function localCopy(catalog: Catalog, dataDir: string, recording: Recording, purpose: string, optional: readonly string[] = []): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = catalog.recordingDir(recording);
  const first = recording.files[0];
  const here = first ? await fsp.stat(path.join(dir, first.file)).then(() => true, () => false) : true;
  if (here || recording.storage !== 's3' || !catalog.objectStore) return { dir, cleanup: async () => undefined };
  const temp = path.join(dataDir, 'tmp', `${purpose}-${recording.id}`);
  await fsp.rm(temp, { recursive: true, force: true });
  await fsp.mkdir(temp, { recursive: true });
  const cleanup = () => fsp.rm(temp, { recursive: true, force: true });
  try {
    for (const name of [...recording.files.map((f) => f.file), META_FILE, ...optional]) {
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
