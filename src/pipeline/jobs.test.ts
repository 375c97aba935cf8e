/**
 * The claiming round first asks which kinds have a job due (one query), then claims only
 * those: the answer must be what claim() would take, kind by kind.
 */
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/helpers/recordings.js';
import { openCatalogDb, type CatalogDb } from '../catalog/db.js';
import { JobsRepo, WAITING_FOR_EARLIER_STAGE } from './jobs.js';

const SPOOL = 'host:/spool';

/** A fresh SQLite catalog's jobs, closed after `run` however it ends. */
async function withJobs(run: (jobs: JobsRepo, catalog: CatalogDb) => Promise<void>): Promise<void> {
  const catalog = await openCatalogDb({ dataDir: tempDataDir() });
  try {
    await run(new JobsRepo(catalog.db, catalog.dialect), catalog);
  } finally {
    await catalog.close();
  }
}

describe('JobsRepo.dueKinds', () => {
  it('names the kinds claim() would take now: not those waiting for their time, an earlier stage or a live lease', async () => {
    await withJobs(async (jobs, catalog) => {
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
    });
  });

  it('a job behind an unsettled earlier stage waits out of the due range, and is due once every earlier stage settled, done or failed', async () => {
    await withJobs(async (jobs, catalog) => {
    const now = 1_000_000;
    const nextAttempt = async (kind: string) =>
      Number((await catalog.db.selectFrom('jobs').select('next_attempt_at').where('recording_id', '=', 'call').where('kind', '=', kind).executeTakeFirstOrThrow()).next_attempt_at);
    // Queued out of stage order, as a caller may: the order of the stages decides.
    await catalog.db.transaction().execute((trx) => jobs.enqueue(trx, 'call', SPOOL, ['notify', 'analytics', 'peaks'], now));
    expect(await nextAttempt('peaks')).toBe(now);
    expect(await nextAttempt('analytics')).toBe(WAITING_FOR_EARLIER_STAGE);
    expect(await nextAttempt('notify')).toBe(WAITING_FOR_EARLIER_STAGE);
    expect(await jobs.dueKinds(SPOOL, now + 60_000)).toEqual(new Set(['peaks']));

    const [peaks] = await jobs.claim(SPOOL, 'lease', 60_000, 1, now, 'peaks');
    expect(await jobs.settle(catalog.db, peaks!, 'lease', 'failed', 'no audio', now + 10)).toBe(true);
    // A failed stage settles it too; the one after the next still waits.
    expect(await nextAttempt('analytics')).toBe(now + 10);
    expect(await nextAttempt('notify')).toBe(WAITING_FOR_EARLIER_STAGE);
    expect(await jobs.dueKinds(SPOOL, now + 10)).toEqual(new Set(['analytics']));

    const [analytics] = await jobs.claim(SPOOL, 'lease', 60_000, 1, now + 10, 'analytics');
    // A settle that no longer holds the job (another lease) promotes nothing.
    expect(await jobs.settle(catalog.db, analytics!, 'another lease', 'done', null, now + 15)).toBe(false);
    expect(await nextAttempt('notify')).toBe(WAITING_FOR_EARLIER_STAGE);
    expect(await jobs.settle(catalog.db, analytics!, 'lease', 'done', null, now + 20)).toBe(true);
    expect(await nextAttempt('notify')).toBe(now + 20);
    expect(await jobs.dueKinds(SPOOL, now + 20)).toEqual(new Set(['notify']));
    });
  });

  it('queues a later stage behind an earlier one already in the table, and not behind one that settled', async () => {
    await withJobs(async (jobs, catalog) => {
    const now = 1_000_000;
    await catalog.db.transaction().execute((trx) => jobs.enqueue(trx, 'a', SPOOL, ['peaks'], now, { peaks: 5000 }));
    await catalog.db.transaction().execute((trx) => jobs.enqueue(trx, 'b', SPOOL, ['peaks'], now));
    const [done] = await jobs.claim(SPOOL, 'lease', 60_000, 1, now, 'peaks');
    expect(done).toMatchObject({ recordingId: 'b' });
    await jobs.settle(catalog.db, done!, 'lease', 'done', null, now + 1);
    // By hand, later: 'a' still has its peaks to run, 'b' has none left.
    await jobs.enqueue(catalog.db, 'a', SPOOL, ['archive'], now + 2);
    await jobs.enqueue(catalog.db, 'b', SPOOL, ['archive'], now + 2);
    expect(await jobs.dueKinds(SPOOL, now + 2)).toEqual(new Set(['archive']));
    const [archive] = await jobs.claim(SPOOL, 'lease', 60_000, 5, now + 2, 'archive');
    expect(archive).toMatchObject({ recordingId: 'b' });
    expect(await jobs.dueKinds(SPOOL, now + 5000)).toEqual(new Set(['peaks']));
    });
  });

  it("the spool-wide pass makes due a waiting job whose earlier stages settled without promoting it (another node's race), in its own spool only", async () => {
    await withJobs(async (jobs, catalog) => {
    const now = 1_000_000;
    await catalog.db.transaction().execute(async (trx) => {
      await jobs.enqueue(trx, 'here', SPOOL, ['peaks', 'notify'], now);
      await jobs.enqueue(trx, 'there', 'other:/spool', ['peaks', 'notify'], now);
    });
    // Each peaks job settled behind the promotion's back (as a node that did not see the
    // notify job queued by another would leave it).
    await catalog.db.updateTable('jobs').set({ state: 'done' }).where('kind', '=', 'peaks').execute();
    expect(await jobs.dueKinds(SPOOL, now + 1)).toEqual(new Set());
    expect(await jobs.promoteWaiting(now + 1, { spool: SPOOL })).toBe(1);
    expect(await jobs.dueKinds(SPOOL, now + 1)).toEqual(new Set(['notify']));
    expect(await jobs.dueKinds('other:/spool', now + 1)).toEqual(new Set());
    });
  });
});
