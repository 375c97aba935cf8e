/**
 * Step `upload` (with S3 storage): every file of the recording's spool directory is put in
 * the bucket and verified there (storage/object-store.ts), after every other output was
 * made, so each travels with the audio. The catalog says where the files are in the job's
 * own transaction; only then is the local copy removed (unless CALLTAPE_KEEP_LOCAL). Retried
 * with backoff for as long as it takes: the spool keeps the files meanwhile.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording, RecordingFile } from '../../catalog/recordings.js';
import type { ObjectStore, StoredObject } from '../../storage/object-store.js';
import { recordingKey, SPOOLED_FILE } from '../../storage/recording-keys.js';
import type { Step } from '../runner.js';
import { UPLOAD_RETRY_MAX_MS } from '../../limits.js';
import { contentTypeOf } from '../../storage/content-types.js';
import { AGE_SUFFIX } from '../../custody/encryption-record.js';

export interface UploadStepOptions {
  readonly catalog: Catalog;
  readonly store: ObjectStore;
  readonly dataDir: string;
  readonly keepLocal: boolean;
  readonly retryBaseMs: number;
  readonly logger: Logger;
}

export function uploadStep(opts: UploadStepOptions): Step {
  const { catalog, logger } = opts;
  return {
    kind: 'upload',
    concurrency: 2,
    retryBaseMs: opts.retryBaseMs,
    retryMaxMs: UPLOAD_RETRY_MAX_MS,
    retryCode: 'CALLTAPE_ERR_UPLOAD_FAILED',
    async run(recording) {
      // Uploaded already (the answer to the last attempt was lost).
      if (recording.storage === 's3') return;
      const stored = await putFiles(opts, recording);
      // Held (now, not when the job was claimed): the bucket's own hold goes on the objects too.
      if ((await catalog.repo.get(recording.id))?.hold && opts.store.setLegalHold) {
        for (const object of stored.values()) await opts.store.setLegalHold(object.key, true);
      }
      const where = (file: string) => {
        const object = stored.get(file);
        if (!object) throw new Error(`${file} of ${recording.streamSid} is not in the spool`);
        return object;
      };
      // Encrypted, each file is in the bucket as its .age (its plaintext's hash stays the catalog's).
      const suffix = recording.encryption ? AGE_SUFFIX : '';
      const files: RecordingFile[] = recording.files.map((f) => {
        const archives = f.archives?.map((a) => ({ ...a, location: where(`${a.file}${suffix}`).location }));
        // A WAV its archives replaced (CALLTAPE_KEEP_WAV=false) is not uploaded.
        const wav = f.wavRemoved ? {} : recording.encryption ? { location: where(`${f.file}${suffix}`).location } : { location: where(f.file).location, sha256: where(f.file).sha256 };
        return { ...f, ...wav, ...(archives ? { archives } : {}) };
      });
      return {
        inTransaction: (trx) => catalog.repo.markUploaded(trx, recording.id, files),
        committed() {
          logger.info({ streamSid: recording.streamSid, files: stored.size, bytes: [...stored.values()].reduce((n, o) => n + o.bytes, 0) }, 'uploads: recording stored in the bucket');
          if (!opts.keepLocal) {
            fsp.rm(catalog.recordingDir(recording), { recursive: true, force: true }).catch((err: unknown) => logger.warn({ err, streamSid: recording.streamSid }, 'uploads: could not remove the spooled copy'));
          }
        },
      };
    },
  };
}

/** Every file of the recording in its spool directory, each put and verified. */
async function putFiles(opts: UploadStepOptions, recording: Recording): Promise<Map<string, StoredObject>> {
  const dir = opts.catalog.recordingDir(recording);
  // A WAV removed for its archives may still be on disk (a crash right after they were
  // recorded): it is not uploaded, and goes with the spool copy.
  const removed = new Set(recording.files.filter((f) => f.wavRemoved).map((f) => f.file));
  const names = (await fsp.readdir(dir)).filter((name) => SPOOLED_FILE.test(name) && !removed.has(name)).sort();
  const stored = new Map<string, StoredObject>();
  for (const name of names) {
    const type = contentTypeOf(name);
    stored.set(name, await opts.store.put(recordingKey(opts.dataDir, dir, name), path.join(dir, name), type));
  }
  for (const name of removed) await fsp.rm(path.join(dir, name), { force: true });
  return stored;
}
