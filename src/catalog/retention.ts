/**
 * Retention: recordings (files and rows) older than CALLTAPE_RETENTION_DAYS are deleted by a
 * periodic job. Recordings still in progress, and recordings under legal hold, are never touched.
 */
import type { Logger } from 'pino';
import type { Catalog } from './catalog.js';
import { RETENTION_BATCH } from '../limits.js';
import { CalltapeError } from '../errors.js';
import { PeriodicJob } from '../periodic-job.js';

const DAY_MS = 24 * 3600 * 1000;

export class RetentionJob extends PeriodicJob {
  constructor(
    private readonly catalog: Catalog,
    private readonly days: number,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    super(intervalMs, (now) => this.sweep(now));
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
            await this.catalog.delete(recording, { by: 'retention', reason: `older than ${this.days} days (CALLTAPE_RETENTION_DAYS)` });
            deletedNow++;
          } catch (err) {
            // Being uploaded right now: the next sweep takes it. Held since the batch was read: kept.
            if (!(err instanceof CalltapeError && (err.code === 'CALLTAPE_ERR_UPLOAD_IN_PROGRESS' || err.code === 'CALLTAPE_ERR_LEGAL_HOLD'))) throw err;
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
