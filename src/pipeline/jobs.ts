/**
 * The post-call jobs table (catalog/schema.ts JobsTable): the only code that reads or writes
 * it. Same queries on SQLite and PostgreSQL; claims take rows with FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so two nodes (or two processes) never run one job at once.
 */
import { CompiledQuery, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from '../catalog/db.js';
import type { CatalogDatabase, JobState } from '../catalog/schema.js';

/**
 * Every kind of step, with its stage: a job runs once every job of its recording with a
 * lower stage is done or failed. Peaks and the transcript need only the files; analytics
 * use the transcript's words (talk speed), the summary its text and the analytics; the
 * archives come after every step that reads the WAVs (which they may replace); the signed
 * encryption after every step that reads the plaintext; the signed manifest after every step that writes a file; the upload waits for every output (so each travels to the bucket); the webhook goes last.
 */
export const JOB_STAGES = { peaks: 1, transcript: 1, analytics: 2, summary: 3, archive: 4, encrypt: 5, manifest: 7, upload: 8, notify: 9 } as const;
export type JobKind = keyof typeof JOB_STAGES;
export const JOB_KINDS = Object.keys(JOB_STAGES) as JobKind[];
export const JOB_STATES: readonly JobState[] = ['pending', 'running', 'done', 'failed'];

/** A job as the API shows it in a recording's `jobs`. */
export interface JobView {
  kind: JobKind;
  state: JobState;
  attempts: number;
  error: string | null;
  /** When it settled (done or failed). */
  finishedAt: string | null;
  /** While it runs on the node answering: how far it is (e.g. "inbound 2/3, outbound 1/1 pieces"). */
  progress?: string;
}

/** What a job was asked for when queued by hand; unset: the node's settings. */
export interface JobOptions {
  /** The archive step's formats (`calltape archive --formats`). */
  readonly formats?: readonly string[];
}

export interface ClaimedJob {
  readonly recordingId: string;
  readonly kind: JobKind;
  readonly attempts: number;
  readonly createdAt: number;
  readonly options?: JobOptions;
}

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/**
 * The due time of a job queued behind an earlier stage of its recording that has not settled:
 * never, until that stage settles and settle() brings it forward (promoteWaiting). Without
 * it such a job was due at once and every claiming round scanned it only to find it blocked:
 * with 1,000 recordings' peaks still to run behind a burst of call endings, each round took
 * 1-2 ms of the event loop, growing with the backlog. The blocked check in due() stays, so
 * this is only about which rows a round looks at. (The largest time a Date can hold.)
 */
export const WAITING_FOR_EARLIER_STAGE = 8_640_000_000_000_000;
const UNSETTLED: JobState[] = ['pending', 'running'];

/**
 * No job of the row's recording with an earlier stage is still to settle; `row` is the name
 * the outer query gives the jobs table.
 */
function noEarlierStageUnsettled(row: 'due' | 'jobs') {
  // The outer table's name is a string here: Kysely types a correlated reference only in
  // the builder that declared it.
  return ({ not, exists, selectFrom }: ExpressionBuilder<CatalogDatabase & { due: CatalogDatabase['jobs'] }, 'due' | 'jobs'>) =>
    not(
      exists(
        selectFrom('jobs as before')
          .select('before.kind')
          .whereRef('before.recording_id', '=', `${row}.recording_id`)
          .whereRef('before.stage', '<', `${row}.stage`)
          .where('before.state', 'in', UNSETTLED),
      ),
    );
}

/** Stand-ins for the times in a query compiled once (no real time is negative). */
const NOW_MARK = -1_000_001;
const DUE_BY_MARK = -1_000_002;

export class JobsRepo {
  /** firstDueQuery's queries, by kind and spool (a node has one spool). */
  private readonly firstDue = new Map<string, CompiledQuery>();

  constructor(
    private readonly db: Kysely<CatalogDatabase>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Queues `kinds` for a recording (again, from the start, if they ran before), each due
   * `delayMs` from now (0 unless given).
   */
  async enqueue(
    trx: Db,
    recordingId: string,
    spool: string,
    kinds: readonly JobKind[],
    now = Date.now(),
    delayMs: Partial<Record<JobKind, number>> = {},
    options: Partial<Record<JobKind, JobOptions>> = {},
  ): Promise<void> {
    // The earliest stage of this recording still to settle, counting the kinds queued here
    // (in stage order) as they go in.
    const unsettled = await trx
      .selectFrom('jobs')
      .select((eb) => eb.fn.min<number>('stage').as('stage'))
      .where('recording_id', '=', recordingId)
      .where('state', 'in', UNSETTLED)
      .executeTakeFirst();
    let earliestUnsettled = unsettled?.stage === null || unsettled?.stage === undefined ? Infinity : Number(unsettled.stage);
    for (const kind of [...kinds].sort((a, b) => JOB_STAGES[a] - JOB_STAGES[b])) {
      const due = earliestUnsettled < JOB_STAGES[kind] ? WAITING_FOR_EARLIER_STAGE : now + (delayMs[kind] ?? 0);
      earliestUnsettled = Math.min(earliestUnsettled, JOB_STAGES[kind]);
      const asked = options[kind] ? JSON.stringify(options[kind]) : null;
      await trx
        .insertInto('jobs')
        .values({ recording_id: recordingId, kind, stage: JOB_STAGES[kind], spool, state: 'pending', attempts: 0, created_at: now, next_attempt_at: due, locked_until: null, lease: null, last_error: null, finished_at: null, options: asked })
        .onConflict((oc) =>
          oc.columns(['recording_id', 'kind']).doUpdateSet({ state: 'pending', spool, attempts: 0, created_at: now, next_attempt_at: due, locked_until: null, lease: null, last_error: null, finished_at: null, options: asked }),
        )
        .execute();
    }
  }

  /**
   * Takes up to `limit` due jobs of this spool whose earlier stages have settled, leased to
   * `lease` until `now + leaseMs`. A running job whose lease ran out (its process died) is due.
   */
  async claim(spool: string, lease: string, leaseMs: number, limit: number, now = Date.now(), kind?: JobKind, dueBy = now): Promise<ClaimedJob[]> {
    return this.db.transaction().execute(async (trx) => {
      const due = await this.due(trx, spool, now, dueBy)
        .select(['due.recording_id', 'due.kind'])
        .$if(kind !== undefined, (q) => q.where('due.kind', '=', kind!))
        .orderBy('due.next_attempt_at')
        .limit(limit)
        .$if(this.dialect === 'postgres', (q) => q.forUpdate().skipLocked())
        .execute();
      const claimed: ClaimedJob[] = [];
      for (const row of due) {
        const taken = await trx
          .updateTable('jobs')
          .set((eb) => ({ state: 'running', lease, locked_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
          .where('recording_id', '=', row.recording_id)
          .where('kind', '=', row.kind)
          // Still free (the row lock already says so on PostgreSQL; this holds without it too).
          .where('state', 'in', UNSETTLED)
          .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
          .returning(['attempts', 'created_at', 'options'])
          .executeTakeFirst();
        if (taken) {
          claimed.push({
            recordingId: row.recording_id,
            kind: row.kind as JobKind,
            attempts: Number(taken.attempts),
            createdAt: Number(taken.created_at),
            ...(taken.options ? { options: JSON.parse(taken.options) as JobOptions } : {}),
          });
        }
      }
      return claimed;
    });
  }

  /**
   * Which of `kinds` claim() would find a job of now: a claiming round asks this first,
   * instead of a transaction per kind when (as through every call) nothing is due. One
   * query per kind, each stopping at the first due job (jobs_kind_due_idx): a single
   * DISTINCT over every due job read them all, 9-18 ms of the event loop with 12,000 jobs
   * queued behind a burst of call endings.
   */
  async dueKinds(spool: string, now = Date.now(), dueBy = now, kinds: readonly JobKind[] = JOB_KINDS): Promise<Set<JobKind>> {
    const due = new Set<JobKind>();
    for (const kind of kinds) {
      const query = this.firstDueQuery(spool, kind);
      const parameters = query.parameters.map((p) => (p === DUE_BY_MARK ? dueBy : p === NOW_MARK ? now : p));
      if ((await this.db.executeQuery(CompiledQuery.raw(query.sql, parameters))).rows.length > 0) due.add(kind);
    }
    return due;
  }

  /**
   * The query for one kind's first due job, built once per spool and kind with marks where
   * the times go: building a query this size took Kysely 150 µs, three times what running
   * it takes, and a round asks it for every step.
   */
  private firstDueQuery(spool: string, kind: JobKind): CompiledQuery {
    const key = `${kind}\n${spool}`;
    let query = this.firstDue.get(key);
    if (!query) {
      query = this.due(this.db, spool, NOW_MARK, DUE_BY_MARK).select('due.kind').where('due.kind', '=', kind).limit(1).compile();
      this.firstDue.set(key, query);
    }
    return query;
  }

  /**
   * Jobs of this spool that are due by `dueBy`, free (unleased, or their lease ran out by
   * `now`), and whose recording has no earlier stage still to settle.
   */
  private due(db: Db, spool: string, now: number, dueBy: number) {
    return db
      .selectFrom('jobs as due')
      .where('due.spool', '=', spool)
      .where('due.state', 'in', UNSETTLED)
      .where('due.next_attempt_at', '<=', dueBy)
      .where((w) => w.or([w('due.locked_until', 'is', null), w('due.locked_until', '<', now)]))
      .where(noEarlierStageUnsettled('due'));
  }

  /** Extends the leases this process holds (its jobs are still running). */
  async renew(lease: string, until: number): Promise<void> {
    await this.db.updateTable('jobs').set({ locked_until: until }).where('lease', '=', lease).where('state', '=', 'running').execute();
  }

  /**
   * Settles a job this process holds, in the caller's transaction. False when it no longer
   * holds it (the recording was deleted, or its lease ran out and another took it): the
   * caller's transaction must then be rolled back.
   */
  async settle(trx: Db, job: Pick<ClaimedJob, 'recordingId' | 'kind'>, lease: string, state: 'done' | 'failed', error: string | null, now = Date.now()): Promise<boolean> {
    const result = await trx
      .updateTable('jobs')
      .set({ state, lease: null, locked_until: null, last_error: error, finished_at: now })
      .where('recording_id', '=', job.recordingId)
      .where('kind', '=', job.kind)
      .where('lease', '=', lease)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await this.promoteWaiting(now, { recordingId: job.recordingId }, trx);
    return true;
  }

  /**
   * Makes due, at `now`, the waiting jobs (WAITING_FOR_EARLIER_STAGE) whose earlier stages
   * have all settled: those of one recording after one of its jobs settled, or, without a
   * recording, every such job of the spool. The spool-wide pass is the runner's safety net
   * (claimRound, every PROMOTE_SWEEP_MS): on PostgreSQL a job queued by another node while
   * this one settled the stage before it could miss both promotions.
   */
  async promoteWaiting(now: number, scope: { readonly recordingId: string } | { readonly spool: string }, db: Db = this.db): Promise<number> {
    const result = await db
      .updateTable('jobs')
      .set({ next_attempt_at: now })
      .$if('recordingId' in scope, (q) => q.where('recording_id', '=', (scope as { recordingId: string }).recordingId))
      .$if('spool' in scope, (q) => q.where('spool', '=', (scope as { spool: string }).spool))
      .where('state', '=', 'pending')
      .where('next_attempt_at', '=', WAITING_FOR_EARLIER_STAGE)
      .where(noEarlierStageUnsettled('jobs'))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Puts a job this process holds back in the queue, due at `nextAt`, with why it failed. */
  async retryAt(job: Pick<ClaimedJob, 'recordingId' | 'kind'>, lease: string, nextAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ state: 'pending', lease: null, locked_until: null, next_attempt_at: nextAt, last_error: error })
      .where('recording_id', '=', job.recordingId)
      .where('kind', '=', job.kind)
      .where('lease', '=', lease)
      .execute();
  }

  /** At start: the leases a previous process on this spool held are void (one process per spool). */
  async releaseSpool(spool: string): Promise<number> {
    const result = await this.db.updateTable('jobs').set({ state: 'pending', lease: null, locked_until: null }).where('spool', '=', spool).where('state', '=', 'running').executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async forRecording(recordingId: string, db: Db = this.db): Promise<JobView[]> {
    return (await this.forRecordings([recordingId], db)).get(recordingId) ?? [];
  }

  /** The jobs of each recording, in stage order. */
  async forRecordings(ids: readonly string[], db: Db = this.db): Promise<Map<string, JobView[]>> {
    const out = new Map<string, JobView[]>();
    if (ids.length === 0) return out;
    const rows = await db.selectFrom('jobs').selectAll().where('recording_id', 'in', [...ids]).orderBy('stage').orderBy('kind').execute();
    for (const row of rows) {
      const list = out.get(row.recording_id) ?? [];
      list.push({
        kind: row.kind as JobKind,
        state: row.state,
        attempts: Number(row.attempts),
        error: row.last_error,
        finishedAt: row.finished_at === null ? null : new Date(Number(row.finished_at)).toISOString(),
      });
      out.set(row.recording_id, list);
    }
    return out;
  }

  /** Jobs by kind and state (all spools: the metrics of the catalog). */
  async counts(spool?: string): Promise<Array<{ kind: string; state: JobState; n: number }>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .$if(spool !== undefined, (q) => q.where('spool', '=', spool!))
      .groupBy(['kind', 'state'])
      .execute();
    return rows.map((row) => ({ kind: row.kind, state: row.state, n: Number(row.n) }));
  }

  /** The due job of this spool that has waited longest, and since when (undefined: none waits). */
  async oldestDue(spool: string, now = Date.now()): Promise<{ kind: string; since: number; error: string | null } | undefined> {
    const row = await this.db
      .selectFrom('jobs')
      .select(['kind', 'next_attempt_at', 'created_at', 'last_error'])
      .where('spool', '=', spool)
      .where('state', 'in', UNSETTLED)
      .where('next_attempt_at', '<=', now)
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    return row ? { kind: row.kind, since: Number(row.created_at), error: row.last_error } : undefined;
  }

  /**
   * Cancels a recording's jobs before it is deleted. An upload running now is not cancelled
   * (false: the deletion must wait for it); any other running step is cancelled, and its
   * result is dropped when it tries to settle (settle() finds no row).
   */
  async cancel(recordingId: string, now = Date.now()): Promise<boolean> {
    await this.db
      .deleteFrom('jobs')
      .where('recording_id', '=', recordingId)
      .where((w) => w.or([w('kind', '!=', 'upload'), w('state', '!=', 'running'), w('locked_until', 'is', null), w('locked_until', '<', now)]))
      .execute();
    return (await this.db.selectFrom('jobs').select('kind').where('recording_id', '=', recordingId).executeTakeFirst()) === undefined;
  }
}
