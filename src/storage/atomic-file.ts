import fsp from 'node:fs/promises';

/** Writes a file whole or not at all (a crash leaves the old one or the new one). */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await fsp.open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(temp, file);
}
