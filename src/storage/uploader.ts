/**
 * Spool, then upload: with S3 storage a finished recording stays in the data dir (the
 * spool) until its files are durable in the bucket. The job is a row of `uploads`, written in
 * the transaction that completes the recording (so a finished recording always has either
 * its job or its upload), claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL),
 * retried with backoff until it succeeds, across restarts. Each file is verified in the store
 * (object-store.ts) before the catalog says where it is; only then is the completion webhook
 * queued (same transaction) and the local copy removed. Nothing here runs on the media path.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/catalog.js';
import type { PeaksStore } from '../catalog/peaks-store.js';
import type { Recording, RecordingFile } from '../catalog/recordings.js';
import type { CatalogDatabase } from '../catalog/schema.js';
import type { Dialect } from '../catalog/db.js';
import { UPLOAD_LEASE_MS, UPLOAD_RETRY_MAX_MS, UPLOADS_AT_ONCE } from '../limits.js';
import type { ObjectStore, StoredObject } from './object-store.js';
import { recordingKey, SPOOLED_FILE } from './recording-keys.js';

export interface UploaderOptions {
  readonly catalog: Catalog;
  readonly dialect: Dialect;
  readonly store: ObjectStore;
  readonly dataDir: string;
  readonly keepLocal: boolean;
  readonly peaks: PeaksStore;
  readonly logger: Logger;
  readonly retryBaseMs: number;
  readonly pollMs: number;
  /** Runs in the transaction that records the upload: queues the completion webhook. */
  readonly durable: (trx: Transaction<CatalogDatabase>, recording: Recording) => Promise<number>;
  /** After that transaction commits, with what `durable` queued. */
  readonly committed: (queued: number) => void;
}

/** This node's spool: the host and the data dir the files wait in. */
export function spoolId(dataDir: string): string {
  return `${os.hostname()}:${path.resolve(dataDir)}`;
}

export class Uploader {
  private readonly spool: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private stopped = false;
  /** Uploads that failed since the last success: /readyz and the metrics say so. */
  private failingSince: number | undefined;
  private lastError: string | undefined;
  uploaded = 0;
  failures = 0;

  constructor(private readonly opts: UploaderOptions) {
    this.spool = spoolId(opts.dataDir);
  }

  /** The finish hook's part: queues the recording's upload in the transaction that completes it. */
  async enqueue(trx: Transaction<CatalogDatabase>, recording: Recording): Promise<number> {
    const now = Date.now();
    await trx
      .insertInto('uploads')
      .values({ recording_id: recording.id, spool: this.spool, attempts: 0, created_at: now, next_attempt_at: now, locked_until: null, last_error: null })
      .onConflict((oc) => oc.column('recording_id').doUpdateSet({ next_attempt_at: now, locked_until: null }))
      .execute();
    return 1;
  }

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.opts.pollMs);
    this.timer.unref();
    this.nudge();
  }

  /** Looks for due uploads now (a recording just finished). */
  nudge(): void {
    if (this.stopped) return;
    this.again = true;
    this.running = this.running.then(async () => {
      while (this.again && !this.stopped) {
        this.again = false;
        await this.round();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Uploads waiting on this node, and why the last one failed, if the latest attempt did. */
  async status(): Promise<{ waiting: number; failingForMs?: number; lastError?: string }> {
    const row = await this.opts.catalog.db.db.selectFrom('uploads').select((eb) => eb.fn.countAll<number>().as('n')).where('spool', '=', this.spool).executeTakeFirst();
    const waiting = Number(row?.n ?? 0);
    return this.failingSince === undefined ? { waiting } : { waiting, failingForMs: Date.now() - this.failingSince, lastError: this.lastError! };
  }

  private async round(): Promise<void> {
    let claimed: string[];
    try {
      claimed = await this.claim();
    } catch (err) {
      this.opts.logger.error({ err }, 'uploads: could not claim uploads');
      return;
    }
    await Promise.all(claimed.map((id) => this.uploadOne(id)));
    if (claimed.length === UPLOADS_AT_ONCE) this.again = true;
  }

  private async claim(): Promise<string[]> {
    const { catalog, dialect } = this.opts;
    const now = Date.now();
    const rows = await catalog.db.db
      .updateTable('uploads')
      .set((eb) => ({ locked_until: now + UPLOAD_LEASE_MS, attempts: eb('attempts', '+', 1) }))
      .where('recording_id', 'in', (eb) =>
        eb
          .selectFrom('uploads')
          .select('recording_id')
          .where('spool', '=', this.spool)
          .where('next_attempt_at', '<=', now)
          .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
          .orderBy('next_attempt_at')
          .limit(UPLOADS_AT_ONCE)
          .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked()),
      )
      .returning(['recording_id', 'attempts'])
      .execute();
    return rows.map((row) => row.recording_id);
  }

  private async uploadOne(id: string): Promise<void> {
    const { catalog, logger } = this.opts;
    try {
      const recording = await catalog.repo.get(id);
      if (!recording || recording.storage === 's3') {
        // Deleted meanwhile, or uploaded already (the answer to the last attempt was lost).
        await catalog.db.db.deleteFrom('uploads').where('recording_id', '=', id).execute();
        return;
      }
      const stored = await this.putFiles(recording);
      let queued = 0;
      const files: RecordingFile[] = recording.files.map((f) => {
        const object = stored.get(f.file);
        if (!object) throw new Error(`${f.file} of ${recording.streamSid} is not in the spool`);
        return { ...f, location: object.location, sha256: object.sha256 };
      });
      const done = await catalog.repo.markUploaded(id, files, async (trx, uploaded) => void (queued = await this.opts.durable(trx, uploaded)));
      this.opts.committed(queued);
      this.uploaded++;
      this.failingSince = undefined;
      this.lastError = undefined;
      logger.info({ streamSid: done.streamSid, files: stored.size, bytes: [...stored.values()].reduce((n, o) => n + o.bytes, 0) }, 'uploads: recording stored in the bucket');
      if (!this.opts.keepLocal) await fsp.rm(catalog.recordingDir(recording), { recursive: true, force: true });
    } catch (err) {
      await this.retryLater(id, err);
    }
  }

  /** Every file of the recording in its spool directory, each put and verified. */
  private async putFiles(recording: Recording): Promise<Map<string, StoredObject>> {
    const dir = this.opts.catalog.recordingDir(recording);
    // Peaks go up with the audio: the page draws a recording in the bucket without its audio.
    if (recording.files.length > 0) {
      await this.opts.peaks.get(recording).catch((err: unknown) => this.opts.logger.warn({ err, streamSid: recording.streamSid }, 'uploads: could not compute peaks'));
    }
    const names = (await fsp.readdir(dir)).filter((name) => SPOOLED_FILE.test(name)).sort();
    const stored = new Map<string, StoredObject>();
    for (const name of names) {
      stored.set(name, await this.opts.store.put(recordingKey(this.opts.dataDir, dir, name), path.join(dir, name), name.endsWith('.wav') ? 'audio/wav' : 'application/json'));
    }
    return stored;
  }

  private async retryLater(id: string, err: unknown): Promise<void> {
    this.failures++;
    this.failingSince ??= Date.now();
    this.lastError = err instanceof Error ? err.message : String(err);
    try {
      const row = await this.opts.catalog.db.db.selectFrom('uploads').select('attempts').where('recording_id', '=', id).executeTakeFirst();
      const attempts = Number(row?.attempts ?? 1);
      const delay = Math.min(UPLOAD_RETRY_MAX_MS, this.opts.retryBaseMs * 2 ** Math.min(20, attempts - 1));
      await this.opts.catalog.db.db
        .updateTable('uploads')
        .set({ next_attempt_at: Date.now() + delay, locked_until: null, last_error: this.lastError.slice(0, 500) })
        .where('recording_id', '=', id)
        .execute();
      // The first failure and every tenth after are logged; all are counted.
      if (attempts === 1 || attempts % 10 === 0) {
        this.opts.logger.warn({ code: 'CALLTAPE_ERR_UPLOAD_FAILED', recordingId: id, attempts, retryInMs: delay, err: this.lastError }, 'uploads: could not store a recording in the bucket; it stays in the spool and is tried again');
      }
    } catch (dbErr) {
      this.opts.logger.error({ err: dbErr, recordingId: id }, 'uploads: could not schedule the retry (the lease will expire and it is tried again)');
    }
  }
}
