/**
 * Retention: recordings (files and rows) older than CALLTAPE_RETENTION_DAYS are deleted by a
 * periodic job. Recordings still in progress are never touched.
 */
import type { Logger } from 'pino';
import type { Catalog } from './catalog.js';
import { RETENTION_BATCH } from '../limits.js';
import { CalltapeError } from '../errors.js';

const DAY_MS = 24 * 3600 * 1000;

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly days: number,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes everything past retention now; resolves with how many recordings went. */
  runOnce(now = Date.now()): Promise<number> {
    this.running ??= this.sweep(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(now: number): Promise<number> {
    const cutoff = now - this.days * DAY_MS;
    let deleted = 0;
    try {
      for (;;) {
        const expired = await this.catalog.repo.finishedBefore(cutoff, RETENTION_BATCH);
        let deletedNow = 0;
        for (const recording of expired) {
          try {
            await this.catalog.delete(recording);
            deletedNow++;
          } catch (err) {
            // Being uploaded right now: the next sweep takes it.
            if (!(err instanceof CalltapeError && err.code === 'CALLTAPE_ERR_UPLOAD_IN_PROGRESS')) throw err;
          }
        }
        deleted += deletedNow;
        // A batch of nothing but uploads in progress would come back as it is: wait for the next sweep.
        if (expired.length < RETENTION_BATCH || deletedNow === 0) break;
      }
    } catch (err) {
      this.logger.error({ err, deleted }, 'retention: deleting expired recordings failed');
    }
    if (deleted > 0) this.logger.info({ deleted, olderThan: new Date(cutoff).toISOString() }, 'retention: deleted expired recordings');
    return deleted;
  }
}
