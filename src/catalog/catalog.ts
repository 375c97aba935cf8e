/**
 * Keeps the catalog in step with the recorder: a row in status `recording` when a stream
 * starts, its outcome, files and events when it finishes. Database work runs off the media
 * path (on the recorder's events), one chain per recording so a finish never overtakes its
 * own start.
 */
import { CATALOG_RETRY_BASE_MS, CATALOG_RETRY_MAX_MS } from '../limits.js';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { META_FILE, type RecordingMeta } from '../recording/meta.js';
import { CalltapeError, ERRORS } from '../errors.js';
import { findRecordings, findUnfinished, readMetaFile, recoverRecording } from '../recording/recover.js';
import type { Recorder } from '../recording/recorder.js';
import type { RecordingStarted } from '../recording/session.js';
import { recordingsRoot } from '../storage/local.js';
import type { ByteRange, ObjectStore } from '../storage/object-store.js';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { recordingKey } from '../storage/recording-keys.js';
import { LEGACY_PEAKS_FILE, PEAKS_FILE } from '../recording/peaks.js';
import type { Transaction } from 'kysely';
import type { CatalogDatabase } from './schema.js';
import { isUniqueViolation, type CatalogDb } from './db.js';
import { RecordingsRepo, type Recording, type RecordingStart } from './recordings.js';
import { RevokedSessions } from './revoked-sessions.js';
import { JobsRepo } from '../pipeline/jobs.js';
import { AnalyticsRepo } from './analytics-store.js';
import type { Pipeline } from '../pipeline/runner.js';
import { TRANSCRIPT_FILE } from '../transcribe/transcript.js';
import { ANALYTICS_FILE } from '../analytics/analyze-recording.js';
import { SUMMARY_FILE } from '../summarize/summary.js';
import { AUDIO_EXTENSIONS } from '../archive/formats.js';
import { TombstonesRepo } from './tombstones.js';
import { AuditLog } from './audit-log.js';
import { AGE_SUFFIX, CONTENT_FILE, ENCRYPTION_FILE } from '../custody/encryption-record.js';
import { MANIFEST_FILE, MANIFEST_SIGNATURE_FILE } from '../custody/manifest.js';

/** Waits `ms`; false if `signal` ended the wait first. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function exists(target: string): Promise<boolean> {
  try {
    await fs.access(target);
    return true;
  } catch {
    return false;
  }
}

/** A recording's file as the API serves it: its size, and its bytes (or a range) as a stream. */
export interface RecordingFileSource {
  readonly size: number;
  open(range?: ByteRange): Promise<Readable>;
}

export interface CatalogEvents {
  'recording.started': [Recording];
  'recording.finished': [Recording];
}


/**
 * What runs when a recording is finished: inside the transaction that stores its outcome (the
 * webhook outbox enqueues there, so a finished recording and its notification are stored
 * together or not at all), and after it commits. The composition root wires the notifier in.
 */
export interface FinishHook {
  /** Returns how many deliveries it queued. */
  inTransaction(trx: Transaction<CatalogDatabase>, recording: Recording): Promise<number>;
  committed(queued: number): void;
}

export class Catalog extends EventEmitter<CatalogEvents> {
  readonly repo: RecordingsRepo;
  /** Dashboard sessions signed out before they expire, shared by every node. */
  readonly revokedSessions: RevokedSessions;
  /** The post-call jobs of every recording. */
  readonly jobs: JobsRepo;
  /** The conversation analytics of every analysed recording. */
  readonly analytics: AnalyticsRepo;
  readonly tombstones: TombstonesRepo;
  /** Who read or changed what (the access audit trail). */
  readonly audit: AuditLog;
  /** This node's post-call pipeline, once the server made one (the API queues steps again through it). */
  pipeline: Pipeline | undefined;
  /** The node whose recordings this catalog writes (CALLTAPE_NODE_ID, or host and port once listening). */
  nodeId: string | undefined;
  /** Per stream session (RecordingStarted.session): its row's id, once written (undefined: it has none). */
  private readonly ids = new Map<number, Promise<string | undefined>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Writes that failed and are waiting to be tried again. */
  private retrying = 0;
  /** Cancels the waits between retries at shutdown (start-up reconciliation takes over). */
  private readonly stopping = new AbortController();

  constructor(
    readonly db: CatalogDb,
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly onFinish?: FinishHook,
    /** Where uploaded recordings are (S3 storage); unset when recordings stay in the data dir. */
    readonly objectStore?: ObjectStore,
  ) {
    super();
    this.repo = new RecordingsRepo(db.db, db.dialect);
    this.revokedSessions = new RevokedSessions(db.db);
    this.jobs = new JobsRepo(db.db, db.dialect);
    this.analytics = new AnalyticsRepo(db.db);
    this.tombstones = new TombstonesRepo(db.db);
    this.audit = new AuditLog(db.db, () => this.nodeId ?? 'local');
  }

  /** Subscribes to a recorder's start and finish events. */
  attach(recorder: Recorder): void {
    recorder.on('recording.started', (info) => this.onStarted(info));
    recorder.on('recording.finished', (meta, session) => this.onFinished(meta, session));
  }

  /** True while a catalog write is failing and being retried (the database is down, say). */
  get writesFailing(): boolean {
    return this.retrying > 0;
  }

  /** Answers when the database does (readiness). */
  async ping(): Promise<void> {
    await this.repo.ping();
  }

  /**
   * Stops retrying failed writes (shutdown): what is still not written is taken up by the
   * next start's reconciliation of disk and catalog.
   */
  stopRetrying(): void {
    this.stopping.abort();
  }

  /**
   * Runs a catalog write until it succeeds, waiting longer after each failure, off the media
   * path: a database that is down for a while delays rows, it does not lose them. `again`
   * runs instead on retries, to find out whether a write whose answer was lost did land.
   */
  private async persist<T>(what: string, streamSid: string, write: () => Promise<T>, again: () => Promise<T | undefined>): Promise<T | undefined> {
    let delay = CATALOG_RETRY_BASE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = attempt === 1 ? await write() : ((await again()) ?? (await write()));
        if (attempt > 1) {
          this.retrying--;
          this.logger.info({ streamSid, attempts: attempt }, `catalog: ${what} written after the database recovered`);
        }
        return result;
      } catch (err) {
        if (attempt === 1) this.retrying++;
        if (attempt === 1 || attempt % 10 === 0) this.logger.error({ err, streamSid, attempt }, `catalog: could not ${what}; retrying`);
        if (this.stopping.signal.aborted || !(await wait(delay, this.stopping.signal))) {
          this.retrying--;
          this.logger.error({ streamSid }, `catalog: gave up retrying to ${what} at shutdown; the next start reconciles it from meta.json`);
          return undefined;
        }
        delay = Math.min(CATALOG_RETRY_MAX_MS, delay * 2);
      }
    }
  }

  /** Resolves when every catalog write started so far has finished. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Absolute path of a file of a recording, checked to lie inside the recordings root. */
  filePath(recording: Recording, file: string): string {
    const root = recordingsRoot(this.dataDir);
    const full = path.resolve(this.dataDir, recording.location, file);
    if (!full.startsWith(root + path.sep)) throw new Error(`recording location escapes the data dir: ${recording.location}`);
    return full;
  }

  /**
   * A file of a finished recording, wherever it is: in the data dir (recorded here, or kept
   * after upload), else in the object store. Undefined when it is in neither.
   */
  async openFile(recording: Recording, file: string): Promise<RecordingFileSource | undefined> {
    const local = this.filePath(recording, file);
    try {
      const stat = await fs.stat(local);
      if (stat.isFile()) return { size: stat.size, open: async (range) => createReadStream(local, range ? { start: range.start, end: range.end } : {}) };
    } catch {
      // not in the data dir
    }
    const store = this.objectStore;
    if (recording.storage !== 's3' || !store) return undefined;
    const key = recordingKey(this.dataDir, this.recordingDir(recording), file);
    const info = await store.head(key);
    return info ? { size: info.bytes, open: (range) => store.get(key, range) } : undefined;
  }

  /** A short-lived URL of an uploaded recording's file in the bucket, if the store makes them. */
  async presignedUrl(recording: Recording, file: string, seconds: number): Promise<string | undefined> {
    const store = this.objectStore;
    if (recording.storage !== 's3' || !store?.presign) return undefined;
    return store.presign(recordingKey(this.dataDir, this.recordingDir(recording), file), seconds);
  }

  /** The recording's directory in the data dir (its spool, when its files go to a bucket). */
  recordingDir(recording: Recording): string {
    return path.dirname(this.filePath(recording, META_FILE));
  }

  /**
   * Deletes a finished recording's rows and files (in the data dir and in the object store).
   * Ordered against its upload: refused (CALLTAPE_ERR_UPLOAD_IN_PROGRESS) while a node is
   * putting its files in the bucket; a queued upload is cancelled with the rows, and whatever
   * an earlier attempt of it put in the bucket is removed too.
   */
  async delete(recording: Recording, deletion: Deletion): Promise<void> {
    const dir = this.recordingDir(recording);
    // Its hold as the catalog has it now, not as the caller read it (a list minutes old).
    const current = await this.repo.get(recording.id);
    if (current?.hold) throw new CalltapeError('CALLTAPE_ERR_LEGAL_HOLD', `held since ${current.hold.since}: ${current.hold.reason} (release the hold first: DELETE /api/recordings/${recording.id}/hold)`);
    // The jobs first: cancelled if queued (no node can claim them after this), the deletion
    // refused while an upload runs; another step running now has its result dropped.
    // The signed manifest's hash, for the tombstone, before the files go.
    const manifestSha256 = await this.fileSha256(recording, MANIFEST_FILE);
    if (!(await this.jobs.cancel(recording.id))) {
      throw new CalltapeError('CALLTAPE_ERR_UPLOAD_IN_PROGRESS', 'its files are being put in the bucket now: delete it once the upload settles (seconds, unless the bucket is failing)');
    }
    // A step of it running on this node now (peaks, analytics) ends before its files go.
    await this.pipeline?.quiesce(recording.id);
    if (this.objectStore) {
      for (const name of objectNamesOf(recording)) await this.objectStore.delete(recordingKey(this.dataDir, dir, name));
    }
    // A step that was running when its job was cancelled (peaks, analytics) may still write a
    // file into the directory while it is removed: rm retries what that makes it fail with
    // (ENOTEMPTY), and the step's later writes fail for want of the directory.
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    // The rows last: once a recording is gone from the catalog, its files are gone too. Its
    // tombstone is written in the same transaction.
    await this.repo.remove(recording.id, {
      id: recording.id,
      provider: recording.provider,
      callSid: recording.callSid,
      streamSid: recording.streamSid,
      startedAt: recording.startedAt,
      deletedAt: new Date().toISOString(),
      deletedBy: deletion.by,
      reason: deletion.reason,
      manifestSha256,
    }, (trx) => this.audit.append({ actor: deletion.by, action: 'delete', recordingId: recording.id, streamSid: recording.streamSid, address: deletion.address ?? null, detail: deletion.reason }, trx).then(() => undefined));
  }

  /** SHA-256 of one of a recording's files, wherever it is; undefined when it has none. */
  private async fileSha256(recording: Recording, name: string): Promise<string | null> {
    const source = await this.openFile(recording, name).catch(() => undefined);
    if (!source) return null;
    const hash = crypto.createHash('sha256');
    for await (const chunk of await source.open()) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  /**
   * Mirrors a legal hold on the recording's objects in the bucket (S3 Object Lock). True when
   * the bucket took it; false when the recording is not in a bucket or the bucket has no
   * Object Lock (then calltape's own hold is what keeps the files).
   */
  async holdObjects(recording: Recording, on: boolean): Promise<boolean> {
    const store = this.objectStore;
    if (recording.storage !== 's3' || !store?.setLegalHold) return false;
    const dir = this.recordingDir(recording);
    let held = false;
    for (const name of objectNamesOf(recording)) if (await store.setLegalHold(recordingKey(this.dataDir, dir, name), on)) held = true;
    return held;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  private onStarted(info: RecordingStarted): void {
    const start = {
      provider: info.provider,
      callSid: info.callSid,
      streamSid: info.streamSid,
      accountSid: info.accountSid,
      tracks: info.tracks,
      format: info.format,
      sampleRate: info.sampleRate,
      customParameters: info.customParameters,
      startedAt: info.startedAt,
      location: path.relative(path.resolve(this.dataDir), info.dir),
      node: this.nodeId,
    };
    // The stream's own identity in the catalog from its first write: a retry after a lost
    // answer looks for this id, never for the stream id, which another stream may hold.
    const id = crypto.randomUUID();
    const taken = Symbol('stream id taken');
    const create = async () => {
      try {
        return await this.repo.create(start, id);
      } catch (err) {
        if (isUniqueViolation(err) && (await this.repo.get(id)) === undefined) return taken;
        throw err;
      }
    };
    const created = this.track(
      this.persist('record the start of a recording', info.streamSid, create, () => this.repo.get(id)).then((recording) => {
        if (recording === taken) {
          // Another recording has this stream id: the newcomer is refused, and only it.
          this.logger.warn({ streamSid: info.streamSid, provider: info.provider }, 'a stream started with the stream id of another recording: refused; the other recording is untouched');
          info.refuse('CALLTAPE_ERR_STREAM_EXISTS');
          return undefined;
        }
        if (!recording) return undefined;
        this.emit('recording.started', recording);
        return recording.id;
      }),
    );
    this.ids.set(info.session, created);
  }

  private onFinished(meta: RecordingMeta, session: number): void {
    const created = this.ids.get(session);
    this.ids.delete(session);
    if (!created) return;
    void this.track(
      created.then((id) =>
        id
          ? this.persist(
              'record the end of a recording',
              meta.streamSid,
              () => this.complete(id, meta),
              // Finished already (the commit landed, its answer did not): nothing to do again.
              async () => ((await this.repo.get(id))?.status === 'recording' ? undefined : true),
            )
          : undefined,
      ),
    );
  }

  /** Stores a recording's outcome and queues its webhooks, in one transaction. */
  private async complete(id: string, meta: RecordingMeta): Promise<true> {
    let queued = 0;
    const hook = this.onFinish;
    const recording = await this.repo.finish(id, meta, hook ? { then: async (trx, finished) => void (queued = await hook.inTransaction(trx, finished)) } : {});
    if (queued > 0) hook?.committed(queued);
    this.emit('recording.finished', recording);
    return true;
  }

  /**
   * Start-up repair after a crash: every recording the catalog or the disk still shows as
   * `recording` gets its files repaired, status `recovered`, and its webhook. Recordings
   * started on disk but missing from the catalog are added.
   */
  async recover(lookBackMs: number): Promise<{ recovered: number; failed: number; catalogued: number; missing: number }> {
    const dirs = new Set(await findUnfinished(recordingsRoot(this.dataDir), lookBackMs));
    const open: Recording[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.repo.list({ status: 'recording', limit: 500, ...(cursor ? { cursor } : {}) });
      open.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // Rows of other nodes sharing the catalog are theirs (live calls, or lost: node-registry.ts);
    // only a directory of theirs found on this disk is recovered here.
    for (const row of open) if (row.node === null || row.node === this.nodeId) dirs.add(path.dirname(this.filePath(row, META_FILE)));
    let recovered = 0;
    let failed = 0;
    for (const dir of dirs) {
      try {
        const row = open.find((r) => path.resolve(this.dataDir, r.location) === dir);
        if (!row) {
          // meta.json says recording but the catalog already has the outcome (e.g. the disk
          // was full when the final meta.json was due): the catalog is right. A recording the
          // disk failed still gets its files' headers repaired and its meta.json set to failed.
          const onDisk = await readMetaFile(dir);
          const known = onDisk && (await this.repo.getByStreamSid(onDisk.streamSid));
          if (known && known.status === 'failed') await recoverRecording(dir, new Date(), { message: known.error ?? 'failed' });
          // `lost`: another node gave this one up while it was down; its spool is here after
          // all, so it is recovered like any interrupted recording.
          if (known && known.status !== 'recording' && known.status !== 'lost') continue;
        }
        const meta = (await recoverRecording(dir)) ?? (await readMetaFile(dir));
        if (!meta) {
          // The process died before any of the recording reached the disk.
          if (row) await this.repo.fail(row.id, 'CALLTAPE_ERR_WRITE_FAILED: process ended before the recording was written');
          failed++;
          continue;
        }
        const byStream = row ? undefined : await this.repo.getByStreamSid(meta.streamSid);
        if (byStream && path.resolve(this.dataDir, byStream.location) !== dir) {
          // Another recording holds this stream id: this directory is not its, nor a row's.
          this.logger.warn({ dir, streamSid: meta.streamSid }, 'recovery: a directory whose stream id belongs to another recording is left alone');
          continue;
        }
        const id = row?.id ?? byStream?.id ?? (await this.repo.create(this.startFromMeta(meta, dir))).id;
        await this.complete(id, meta);
        recovered++;
      } catch (err) {
        failed++;
        this.logger.error({ err, dir }, 'recovery: could not repair a recording');
      }
    }
    if (dirs.size > 0) this.logger.info({ recovered, failed }, 'recovered recordings interrupted by a crash');
    const reconciled = await this.reconcile(lookBackMs);
    return { recovered, failed, ...reconciled };
  }

  /** A recording's start as its meta.json tells it (for rows made after the fact). */
  private startFromMeta(meta: RecordingMeta, dir: string): RecordingStart {
    return {
      provider: meta.provider,
      callSid: meta.callSid,
      streamSid: meta.streamSid,
      accountSid: meta.accountSid,
      tracks: meta.tracks,
      format: meta.fileFormat.format,
      sampleRate: meta.fileFormat.sampleRate,
      customParameters: meta.customParameters,
      startedAt: new Date(meta.startedAt),
      location: path.relative(path.resolve(this.dataDir), dir),
      node: this.nodeId,
    };
  }

  /**
   * Start-up reconciliation of disk and catalog over the days a recent recording could be on:
   * a finished recording whose meta.json has no row (its catalog writes failed until the
   * process stopped) is catalogued and announced; a finished row whose files are gone from
   * disk is marked failed with the reason, rather than listing audio that cannot be served.
   */
  private async reconcile(lookBackMs: number): Promise<{ catalogued: number; missing: number }> {
    const since = Date.now() - lookBackMs - 24 * 3600 * 1000;
    const rows = new Map<string, Recording>();
    let cursor: string | undefined;
    do {
      const page = await this.repo.list({ fromMs: since, limit: 500, ...(cursor ? { cursor } : {}) });
      for (const row of page.items) rows.set(row.streamSid, row);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    let catalogued = 0;
    for (const { dir, meta } of await findRecordings(recordingsRoot(this.dataDir), lookBackMs)) {
      if (meta.status === 'recording' || rows.has(meta.streamSid)) continue;
      let created: Recording;
      try {
        created = await this.repo.create(this.startFromMeta(meta, dir));
      } catch (err) {
        // An older recording holds the stream id: this directory is not to be catalogued over it.
        if (!isUniqueViolation(err)) throw err;
        this.logger.warn({ dir, streamSid: meta.streamSid }, 'reconciliation: a directory whose stream id belongs to another recording is left alone');
        continue;
      }
      await this.complete(created.id, meta);
      catalogued++;
    }
    let missing = 0;
    for (const row of rows.values()) {
      // Uploaded recordings are in the bucket: their spool is gone on purpose.
      if (row.status === 'recording' || row.status === 'failed' || row.storage === 's3') continue;
      const dir = path.dirname(this.filePath(row, META_FILE));
      if (await exists(dir)) continue;
      await this.repo.failFinished(row.id, `CALLTAPE_ERR_FILES_MISSING: ${ERRORS.CALLTAPE_ERR_FILES_MISSING.message}`);
      missing++;
    }
    if (catalogued + missing > 0) this.logger.warn({ catalogued, missing }, 'reconciled the catalog with the recordings on disk');
    return { catalogued, missing };
  }
}

/** Every file a recording can have in the bucket: uploaded, or left by an attempt that failed midway. */
function objectNamesOf(recording: Recording): Set<string> {
  const archives = recording.files.flatMap((f) => [f.file, ...AUDIO_EXTENSIONS.map((ext) => f.file.replace(/\.wav$/, `.${ext}`))]);
  const plain = [...archives, 'inbound.wav', 'outbound.wav', 'stereo.wav', META_FILE, PEAKS_FILE, LEGACY_PEAKS_FILE, TRANSCRIPT_FILE, ANALYTICS_FILE, SUMMARY_FILE, MANIFEST_FILE, MANIFEST_SIGNATURE_FILE, ENCRYPTION_FILE];
  // Encrypted, each content file is its .age (custody/encrypt-recording.ts).
  const encrypted = plain.filter((name) => CONTENT_FILE.test(name)).map((name) => `${name}${AGE_SUFFIX}`);
  return new Set([...plain, ...encrypted]);
}

/** Who deletes a recording and why, for its tombstone. */
export interface Deletion {
  /** `token:<name>`, `session:<name>` or `local` (the API client), or `retention`. */
  readonly by: string;
  readonly reason: string | null;
  /** The client's address, for the audit trail (none for retention). */
  readonly address?: string | null;
}
