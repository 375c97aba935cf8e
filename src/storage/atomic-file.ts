import fsp from 'node:fs/promises';

let writes = 0;

/** Writes a file whole or not at all (a crash leaves the old one or the new one). */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  // Its own temporary name: two writes of one file at once must not share one.
  const temp = `${file}.${process.pid}.${++writes}.tmp`;
  try {
    const handle = await fsp.open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
  } catch (err) {
    // A full disk, say: no half-written file is left beside the recording.
    await fsp.rm(temp, { force: true });
    throw err;
  }
}

/** A rename (or removal) is durable once the directory's entry is on disk. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
