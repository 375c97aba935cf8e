/**
 * Step `archive` (CALLTAPE_ARCHIVE_FORMATS): every WAV of a finished recording made into
 * FLAC, Ogg Opus and/or MP3 in the worker threads (archive/), after the steps that read the
 * WAVs and before the upload, so the archives travel to the bucket with them. Each archive
 * is read back before it counts; the catalog lists them (with sizes and SHA-256) in the job's
 * own transaction, and meta.json lists every file. With CALLTAPE_KEEP_WAV=false the WAVs are
 * removed only after that transaction commits: a crash before leaves them (the step runs
 * again), a crash after leaves the catalog saying they are gone and a WAV still on disk, which
 * the next run of the step or the upload removes. Never run on the media path.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording, RecordingFile } from '../../catalog/recordings.js';
import type { ArchivedWav } from '../../archive/archive-file.js';
import { AUDIO_CONTENT_TYPES, isArchiveFormat, type ArchiveFormat } from '../../archive/formats.js';
import { META_FILE, type RecordingMeta } from '../../recording/meta.js';
import { readMetaFile } from '../../recording/recover.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';
import { recordingKey } from '../../storage/recording-keys.js';
import { PermanentStepError, type Step } from '../runner.js';
import type { WorkerPool } from '../worker-pool.js';
import { withRecordingFiles } from './step-files.js';

export interface ArchiveStepOptions {
  readonly catalog: Catalog;
  readonly dataDir: string;
  /** After every call (CALLTAPE_ARCHIVE_FORMATS); none: the step runs only when asked, with the formats asked for. */
  readonly formats: readonly ArchiveFormat[];
  readonly keepWav: boolean;
  readonly pool: WorkerPool;
  readonly logger: Logger;
}

/** Errors no retry mends: a rate a format cannot carry, an archive that does not read back as its WAV. */
const PERMANENT = new Set(['UnsupportedRateError', 'ArchiveMismatchError']);

export function archiveStep(opts: ArchiveStepOptions): Step {
  const { catalog, logger } = opts;
  return {
    kind: 'archive',
    automatic: opts.formats.length > 0,
    concurrency: 1,
    maxAttempts: 5,
    retryBaseMs: 5000,
    retryCode: 'CALLTAPE_ERR_ARCHIVE_FAILED',
    async run(recording, job, _signal, report) {
      const asked = job.options?.formats?.filter(isArchiveFormat);
      const formats = asked && asked.length > 0 ? asked : opts.formats;
      if (formats.length === 0) throw new PermanentStepError('no archive format was asked for, and CALLTAPE_ARCHIVE_FORMATS is not set');
      if (recording.encryption) throw new PermanentStepError('the recording is encrypted to its owner’s key: there is no WAV to encode');
      const wavs = recording.files.filter((f) => !f.wavRemoved);
      // Done before, and the WAVs removed since: nothing left to encode from.
      if (wavs.length === 0) return;
      return withRecordingFiles(catalog, opts.dataDir, recording, 'archive', [], async (dir) => {
        let done = 0;
        report(`0/${wavs.length} files`);
        let results: Map<string, ArchivedWav>;
        try {
          // The files in parallel across the pool's threads; a thread encodes one file's formats in turn.
          const archived = await Promise.all(
            wavs.map(async (f) => {
              const result = await opts.pool.run({ kind: 'archive', wav: path.join(dir, f.file), formats });
              report(`${++done}/${wavs.length} files`);
              return [f.file, result] as const;
            }),
          );
          results = new Map(archived);
        } catch (err) {
          if (err instanceof Error && PERMANENT.has(err.name)) throw new PermanentStepError(err.message);
          throw err;
        }
        // Under legal hold the WAVs stay whatever CALLTAPE_KEEP_WAV says: a hold keeps every
        // file as it was recorded, and an archive may be lossy (asked now, not at the claim).
        const held = (await catalog.repo.get(recording.id))?.hold ?? null;
        const keepWav = opts.keepWav || held !== null;
        const files: RecordingFile[] = recording.files.map((f) => {
          const result = results.get(f.file);
          if (!result) return f;
          // Archives made before in other formats stay listed (their files are still there).
          const kept = (f.archives ?? []).filter((a) => !formats.includes(a.format));
          return { ...f, sha256: f.sha256 ?? result.wavSha256, fileBytes: result.wavBytes, archives: [...kept, ...result.archives.map((a) => ({ ...a }))], ...(keepWav ? {} : { wavRemoved: true }) };
        });
        await writeFileList(dir, files);
        if (recording.storage === 's3') await putArchives(opts, recording, dir, files);
        return {
          inTransaction: (trx) => catalog.repo.setFiles(trx, recording.id, files),
          committed() {
            const bytes = (list: readonly { bytes: number }[]) => list.reduce((n, f) => n + f.bytes, 0);
            logger.info(
              { streamSid: recording.streamSid, formats, wavBytes: bytes(wavs), archiveBytes: bytes(files.flatMap((f) => f.archives ?? [])), keepWav, ...(held ? { heldWavsKept: true } : {}) },
              'archive: recording archived',
            );
            if (!keepWav) void removeWavs(opts, recording, files);
          },
        };
      });
    },
  };
}

/** meta.json lists every audio file with its size and SHA-256. */
async function writeFileList(dir: string, files: readonly RecordingFile[]): Promise<void> {
  const meta = await readMetaFile(dir);
  if (!meta) throw new PermanentStepError('meta.json cannot be read: the recording is not on this node');
  const list: NonNullable<RecordingMeta['files']> = [];
  for (const f of files) {
    if (!f.wavRemoved && f.sha256) list.push({ track: f.name, format: 'wav', file: f.file, bytes: f.fileBytes ?? f.bytes, sha256: f.sha256 });
    for (const a of f.archives ?? []) list.push({ track: f.name, format: a.format, file: a.file, bytes: a.bytes, sha256: a.sha256 });
  }
  await writeFileAtomic(path.join(dir, META_FILE), `${JSON.stringify({ ...meta, files: list }, null, 2)}\n`);
}

/** Made again for a recording already in the bucket (`calltape archive`): the archives and meta.json join it there. */
async function putArchives(opts: ArchiveStepOptions, recording: Recording, dir: string, files: RecordingFile[]): Promise<void> {
  const store = opts.catalog.objectStore;
  if (!store) throw new Error('the recording is in the bucket, and this node has no object store configured');
  const keyDir = opts.catalog.recordingDir(recording);
  for (const f of files) {
    for (const a of f.archives ?? []) {
      const stored = await store.put(recordingKey(opts.dataDir, keyDir, a.file), path.join(dir, a.file), AUDIO_CONTENT_TYPES[a.format]);
      a.location = stored.location;
    }
  }
  await store.put(recordingKey(opts.dataDir, keyDir, META_FILE), path.join(dir, META_FILE), 'application/json');
}

/** After the catalog says so: the WAVs go, from this disk and from the bucket. */
async function removeWavs(opts: ArchiveStepOptions, recording: Recording, files: readonly RecordingFile[]): Promise<void> {
  const dir = opts.catalog.recordingDir(recording);
  for (const f of files) {
    if (!f.wavRemoved) continue;
    try {
      await fsp.rm(path.join(dir, f.file), { force: true });
      if (recording.storage === 's3' && opts.catalog.objectStore) await opts.catalog.objectStore.delete(recordingKey(opts.dataDir, dir, f.file));
    } catch (err) {
      opts.logger.warn({ err, streamSid: recording.streamSid, file: f.file }, 'archive: could not remove a WAV its archives replace; the next upload or archive run removes it');
    }
  }
}
