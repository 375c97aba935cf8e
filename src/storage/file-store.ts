/**
 * The object store on local disk: keys are paths under a root directory. A put copies the
 * file to a temporary name beside its target, flushes it to disk and renames it into place,
 * so a reader never sees half an object and a crash leaves the old one or the new one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { digestFile } from './file-digest.js';
import { checkKey, checkPrefix, ObjectNotFoundError, UploadVerificationError, type ByteRange, type ObjectInfo, type ObjectStore, type StoredObject } from './object-store.js';

export class FileObjectStore implements ObjectStore {
  readonly kind = 'file' as const;

  constructor(readonly root: string) {}

  location(key: string): string {
    return path.join(this.root, checkKey(key));
  }

  async put(key: string, source: string): Promise<StoredObject> {
    const target = this.location(key);
    const digest = await digestFile(source, Number.MAX_SAFE_INTEGER);
    if (path.resolve(source) !== target) {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      const temp = `${target}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      try {
        await pipeline(fs.createReadStream(source), fs.createWriteStream(temp));
        const handle = await fsp.open(temp, 'r+');
        await handle.sync().finally(() => handle.close());
        await fsp.rename(temp, target);
      } catch (err) {
        await fsp.rm(temp, { force: true });
        throw err;
      }
    }
    const stored = await digestFile(target, Number.MAX_SAFE_INTEGER);
    if (stored.bytes !== digest.bytes || stored.sha256 !== digest.sha256) throw new UploadVerificationError(`${target} does not hold what ${source} holds`);
    return { key, bytes: digest.bytes, sha256: digest.sha256, location: target };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stat = await fsp.stat(this.location(key));
      return stat.isFile() ? { key, bytes: stat.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.location(key);
    const handle = await fsp.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new ObjectNotFoundError(key) : err;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.location(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    // Walk only the directory the prefix names (or its parent, for a partial last segment).
    const base = prefix.endsWith('/') || prefix === '' ? prefix : path.posix.dirname(prefix) === '.' ? '' : `${path.posix.dirname(prefix)}/`;
    const found: ObjectInfo[] = [];
    const walk = async (dir: string, keyBase: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const entry of entries) {
        const key = `${keyBase}${entry.name}`;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${key}/`);
        else if (entry.isFile() && key.startsWith(prefix) && !entry.name.endsWith('.tmp')) {
          const stat = await fsp.stat(path.join(dir, entry.name));
          found.push({ key, bytes: stat.size, modifiedAt: stat.mtimeMs });
        }
      }
    };
    await walk(path.join(this.root, base), base);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }
}
