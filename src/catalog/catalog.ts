/**
 * Keeps the catalog in step with the recorder: a row in status `recording` when a stream
 * starts, its outcome, files and events when it finishes. Database work runs off the media
 * path (on the recorder's events), one chain per recording so a finish never overtakes its
 * own start.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { META_FILE, type RecordingMeta } from '../recording/meta.js';
import { findUnfinished, readMetaFile, recoverRecording } from '../recording/recover.js';
import type { Recorder } from '../recording/recorder.js';
import type { RecordingStarted } from '../recording/session.js';
import { recordingsRoot } from '../storage/local.js';
import type { WebhookNotifier } from '../webhooks/notifier.js';
import type { CatalogDb } from './db.js';
import { RecordingsRepo, type Recording } from './recordings.js';

export interface CatalogEvents {
  'recording.started': [Recording];
  'recording.finished': [Recording];
}

export class Catalog extends EventEmitter<CatalogEvents> {
  readonly repo: RecordingsRepo;
  private readonly ids = new Map<string, Promise<string | undefined>>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly db: CatalogDb,
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly notifier?: WebhookNotifier,
  ) {
    super();
    this.repo = new RecordingsRepo(db.db);
  }

  /** Subscribes to a recorder's start and finish events. */
  attach(recorder: Recorder): void {
    recorder.on('recording.started', (info) => this.onStarted(info));
    recorder.on('recording.finished', (meta) => this.onFinished(meta));
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

  /** Deletes a finished recording's files and rows. */
  async delete(recording: Recording): Promise<void> {
    const dir = path.dirname(this.filePath(recording, 'meta.json'));
    await fs.rm(dir, { recursive: true, force: true });
    await this.repo.remove(recording.id);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  private onStarted(info: RecordingStarted): void {
    const created = this.track(
      this.repo
        .create({
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
        })
        .then((recording) => {
          this.emit('recording.started', recording);
          return recording.id;
        })
        .catch((err: unknown) => {
          this.logger.error({ err, streamSid: info.streamSid }, 'catalog: could not record the start of a recording');
          return undefined;
        }),
    );
    this.ids.set(info.streamSid, created);
  }

  private onFinished(meta: RecordingMeta): void {
    const created = this.ids.get(meta.streamSid);
    this.ids.delete(meta.streamSid);
    if (!created) return;
    void this.track(
      created
        .then((id) => (id ? this.complete(id, meta) : undefined))
        .catch((err: unknown) => {
          this.logger.error({ err, streamSid: meta.streamSid }, 'catalog: could not record the end of a recording');
        }),
    );
  }

  /** Stores a recording's outcome and queues its webhooks, in one transaction. */
  private async complete(id: string, meta: RecordingMeta): Promise<void> {
    let queued = 0;
    const notifier = this.notifier;
    const recording = await this.repo.finish(
      id,
      meta,
      notifier ? { then: async (trx, finished) => void (queued = await notifier.enqueue(trx, finished)) } : {},
    );
    if (queued > 0) notifier?.outbox.nudge();
    this.emit('recording.finished', recording);
  }

  /**
   * Start-up repair after a crash: every recording the catalog or the disk still shows as
   * `recording` gets its files repaired, status `recovered`, and its webhook. Recordings
   * started on disk but missing from the catalog are added.
   */
  async recover(lookBackMs: number): Promise<{ recovered: number; failed: number }> {
    const dirs = new Set(await findUnfinished(recordingsRoot(this.dataDir), lookBackMs));
    const open: Recording[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.repo.list({ status: 'recording', limit: 500, ...(cursor ? { cursor } : {}) });
      open.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    for (const row of open) dirs.add(path.dirname(this.filePath(row, META_FILE)));
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
          if (known && known.status !== 'recording') continue;
        }
        const meta = (await recoverRecording(dir)) ?? (await readMetaFile(dir));
        if (!meta) {
          // The process died before any of the recording reached the disk.
          if (row) await this.repo.fail(row.id, 'CALLTAPE_ERR_WRITE_FAILED: process ended before the recording was written');
          failed++;
          continue;
        }
        const id =
          row?.id ??
          (await this.repo.getByStreamSid(meta.streamSid))?.id ??
          (
            await this.repo.create({
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
          })
          ).id;
        await this.complete(id, meta);
        recovered++;
      } catch (err) {
        failed++;
        this.logger.error({ err, dir }, 'recovery: could not repair a recording');
      }
    }
    if (dirs.size > 0) this.logger.info({ recovered, failed }, 'recovered recordings interrupted by a crash');
    return { recovered, failed };
  }
}
