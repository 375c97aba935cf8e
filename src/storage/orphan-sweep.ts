/**
 * Objects in the bucket that no recording points at any more (a deletion that could not
 * remove them all, an upload that went on after its recording was deleted, a crash between
 * the two) are found and removed, so retention's promise holds for the bucket too. A key is
 * `YYYY/MM/DD/<streamId>/<file>`: it is an orphan when no catalog row has that stream id at
 * that place. Objects younger than the grace period are left alone (an upload may be putting
 * them for a recording whose row is being written).
 */
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/catalog.js';
import type { ObjectStore } from './object-store.js';
import { PeriodicJob } from '../periodic-job.js';

const KEY = /^(\d{4}\/\d{2}\/\d{2})\/([A-Za-z0-9][A-Za-z0-9_-]{0,127})\/[^/]+$/;

export interface OrphanSweepOptions {
  readonly catalog: Catalog;
  readonly store: ObjectStore;
  readonly logger: Logger;
  /** Objects written more recently than this are never removed. */
  readonly graceMs: number;
  readonly intervalMs: number;
}

export class OrphanSweep extends PeriodicJob {
  constructor(private readonly opts: OrphanSweepOptions) {
    super(opts.intervalMs, (now) => this.sweep(now));
  }

  private async sweep(now: number): Promise<number> {
    const { catalog, store, logger, graceMs } = this.opts;
    let removed = 0;
    // One lookup per recording directory, not per object.
    const known = new Map<string, boolean>();
    try {
      for await (const object of store.list('')) {
        const match = KEY.exec(object.key);
        if (!match) continue; // not a recording's: left alone
        if (object.modifiedAt === undefined || now - object.modifiedAt < graceMs) continue;
        const [, day, streamId] = match as unknown as [string, string, string];
        const place = `${day}/${streamId}`;
        let owned = known.get(place);
        if (owned === undefined) {
          const row = await catalog.repo.getByStreamSid(streamId);
          owned = row !== undefined && row.location.split(/[\\/]/).slice(-4).join('/') === place;
          known.set(place, owned);
        }
        if (owned) continue;
        await store.delete(object.key);
        removed++;
      }
    } catch (err) {
      logger.error({ err, removed }, 'orphan sweep: listing or deleting objects failed; the next sweep goes on');
    }
    if (removed > 0) logger.warn({ removed }, 'orphan sweep: removed objects in the bucket that no recording points at');
    return removed;
  }
}
