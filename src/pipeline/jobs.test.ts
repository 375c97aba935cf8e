/**
 * The claiming round first asks which kinds have a job due (one query), then claims only
 * those: the answer must be what claim() would take, kind by kind.
 */
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/helpers/recordings.js';
import { openCatalogDb } from '../catalog/db.js';
import { JobsRepo } from './jobs.js';

const SPOOL = 'host:/spool';

describe('JobsRepo.dueKinds', () => {
  it('names the kinds claim() would take now: not those waiting for their time, an earlier stage or a live lease', async () => {
    const catalog = await openCatalogDb({ dataDir: tempDataDir() });
    try {
      const jobs = new JobsRepo(catalog.db, catalog.dialect);
      const now = 1_000_000;
      await catalog.db.transaction().execute(async (trx) => {
        await jobs.enqueue(trx, 'ended', SPOOL, ['peaks', 'notify'], now);
        await jobs.enqueue(trx, 'ending', SPOOL, ['peaks', 'notify'], now, { peaks: 2000 });
        await jobs.enqueue(trx, 'elsewhere', 'other:/spool', ['archive'], now);
      });
      // The notify jobs wait for their recordings' peaks; the second call's peaks wait 2 s.
      expect(await jobs.dueKinds(SPOOL, now)).toEqual(new Set(['peaks']));
      expect(await jobs.dueKinds(SPOOL, now, now + 2000)).toEqual(new Set(['peaks']));

      const [claimed] = await jobs.claim(SPOOL, 'lease-a', 60_000, 1, now, 'peaks');
      expect(claimed).toMatchObject({ recordingId: 'ended', kind: 'peaks' });
      // Leased and running: not due again until its lease runs out.
      expect(await jobs.dueKinds(SPOOL, now + 1000)).toEqual(new Set());
      expect(await jobs.dueKinds(SPOOL, now + 60_001)).toEqual(new Set(['peaks']));

      await jobs.settle(catalog.db, claimed!, 'lease-a', 'done', null, now + 1500);
      expect(await jobs.dueKinds(SPOOL, now + 1500)).toEqual(new Set(['notify']));
      expect(await jobs.dueKinds(SPOOL, now + 2000)).toEqual(new Set(['peaks', 'notify']));
      for (const kind of ['peaks', 'notify'] as const) expect(await jobs.claim(SPOOL, 'lease-b', 60_000, 5, now + 2000, kind)).toHaveLength(1);
      expect(await jobs.dueKinds(SPOOL, now + 2000)).toEqual(new Set());
    } finally {
      await catalog.close();
    }
  });
});
