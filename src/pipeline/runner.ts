/**
 * The post-call pipeline: runs the jobs of finished recordings (jobs.ts) on the node that
 * holds their spool. Each job is claimed with a lease (renewed while it runs), runs its step,
 * and is settled in a transaction together with what the step records (the transcript's
 * search rows, the upload's locations, the completion webhook): a job is done exactly when
 * its outputs are in the catalog. A failed attempt is retried with backoff (longer when the
 * step's service asks with Retry-After) until the step's attempts or age run out; then the
 * job is failed with the reason, which the recording's JSON shows. Nothing here runs on the
 * media path, and CPU-heavy work goes to the worker threads (worker-pool.ts).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/catalog.js';
import type { Recording } from '../catalog/recordings.js';
import type { CatalogDatabase } from '../catalog/schema.js';
import type { ErrorCode } from '../errors.js';
import { JOB_LEASE_MS, JOB_LEASE_RENEW_MS, JOB_RETRY_MAX_MS, NUDGE_COALESCE_MS, PROMOTE_SWEEP_MS } from '../limits.js';
import type { ServiceError } from '../openai/http.js';
import { JOB_KINDS, type ClaimedJob, type JobKind, type JobOptions, type JobsRepo } from './jobs.js';

/** What a step leaves to record with its job's completion. */
export interface StepOutcome {
  /** Runs in the transaction that marks the job done. */
  inTransaction?(trx: Transaction<CatalogDatabase>, recording: Recording): Promise<void>;
  /** After that transaction commits. */
  committed?(): void;
}

export interface Step {
  readonly kind: JobKind;
  /** Jobs of this kind running at once on this node. */
  readonly concurrency: number;
  /** Quick and local (peaks, the webhook): still run while the node shuts down, within its bound. */
  readonly drain?: boolean;
  /** false: queued only by hand (POST, the CLI), not after every call. */
  readonly automatic?: boolean;
  /** Attempts before the job fails for good; unset: until maxAgeMs. */
  readonly maxAttempts?: number;
  /** Age (since the recording finished) past which it fails for good; unset: never (the upload). */
  readonly maxAgeMs?: number;
  readonly retryBaseMs?: number;
  /** Longest wait between attempts (default JOB_RETRY_MAX_MS). */
  readonly retryMaxMs?: number;
  /** The code a failed attempt is logged with. */
  readonly retryCode?: ErrorCode;
  /** `report` says how far it is (shown in the recording's JSON while it runs). */
  run(recording: Recording, job: ClaimedJob, signal: AbortSignal, report: (progress: string) => void): Promise<StepOutcome | void>;
}

/** A failure no retry can mend (a refused credential, a file that is not audio). */
export class PermanentStepError extends Error {}

/** A failure whose cause asked to be left alone for a while (Retry-After). */
export interface RetryAfter {
  readonly retryAfterMs?: number | undefined;
}

/**
 * A failed request to an outside service as a step's failure: tried again (when its
 * Retry-After says) if trying again can help, else failed at once with the server's words.
 */
export function serviceFailure(err: ServiceError): Error & RetryAfter {
  return Object.assign(err.retryable ? new Error(err.message) : new PermanentStepError(err.message), { retryAfterMs: err.retryAfterMs });
}

/** This node's spool: the host and the data dir the files wait in. */
export function spoolId(dataDir: string): string {
  return `${os.hostname()}:${path.resolve(dataDir)}`;
}

export interface PipelineOptions {
  readonly catalog: Catalog;
  readonly jobs: JobsRepo;
  readonly dataDir: string;
  readonly steps: readonly Step[];
  readonly logger: Logger;
  readonly retryBaseMs: number;
  readonly pollMs: number;
  /** How long after a call its first steps wait (CALLTAPE_PIPELINE_START_DELAY_MS). */
  readonly startDelayMs?: number;
}

export interface KindStats {
  done: number;
  failed: number;
  retried: number;
  /** Since when attempts of this kind have been failing (cleared by a success). */
  failingSince?: number;
  lastError?: string;
}

class Cancelled extends Error {}

export class Pipeline {
  readonly spool: string;
  /** This process's leases: a restarted process holds none of the old ones. */
  private readonly lease = crypto.randomUUID();
  private readonly steps = new Map<JobKind, Step>();
  private readonly running = new Map<string, { kind: JobKind; abort: AbortController; done: Promise<void>; progress?: string }>();
  private readonly stats = new Map<JobKind, KindStats>();
  private timer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> = Promise.resolve();
  private again = false;
  private nudgeTimer: NodeJS.Timeout | undefined;
  /** Claims start with start(): recordings repaired at start-up queue their jobs before it. */
  private started = false;
  private stopped = false;
  /** Shutting down: only steps that drain are claimed. */
  private draining = false;
  /** When claimRound last made due the spool's waiting jobs whose earlier stages settled. */
  private lastPromoteSweep = 0;

  constructor(private readonly opts: PipelineOptions) {
    this.spool = spoolId(opts.dataDir);
    for (const step of opts.steps) this.steps.set(step.kind, step);
    for (const kind of JOB_KINDS) this.stats.set(kind, { done: 0, failed: 0, retried: 0 });
  }

  /** The kinds a finished recording gets, in the order they run. */
  kindsFor(recording: Recording): JobKind[] {
    const kinds = JOB_KINDS.filter((kind) => this.steps.has(kind) && this.steps.get(kind)!.automatic !== false && kind !== 'notify');
    return [...(recording.files.length > 0 ? kinds : []), 'notify'];
  }

  /**
   * The finish hook's part: queues the recording's jobs in the transaction that completes it.
   * The CPU-heavy first steps wait `startDelayMs`: calls often end together (a campaign, a
   * shutdown, a burst), and their files are finalized first rather than beside their peaks.
   */
  async enqueue(trx: Transaction<CatalogDatabase>, recording: Recording): Promise<number> {
    const delay = this.opts.startDelayMs ?? 0;
    await this.opts.jobs.enqueue(trx, recording.id, this.spool, this.kindsFor(recording), Date.now(), { peaks: delay, transcript: delay });
    return 1;
  }

  /** Queues `kinds` again for a recording (run by hand: `calltape transcribe`), with what each was asked for. */
  async requeue(recordingId: string, kinds: readonly JobKind[], options: Partial<Record<JobKind, JobOptions>> = {}): Promise<void> {
    await this.opts.jobs.enqueue(this.opts.catalog.db.db, recordingId, this.spool, kinds, Date.now(), {}, options);
    this.nudge();
  }

  has(kind: JobKind): boolean {
    return this.steps.has(kind);
  }

  /** Whether `kind` is queued after every call (not only by hand). */
  runsAfterEveryCall(kind: JobKind): boolean {
    return this.steps.get(kind)?.automatic !== false && this.steps.has(kind);
  }

  /**
   * Before a recording is deleted (its jobs already cancelled): asks this node's running
   * steps of it to stop and waits, up to `withinMs`, for them to end, so none writes into its
   * directory while it is removed. Their results are dropped when they settle.
   */
  async quiesce(recordingId: string, withinMs = 5000): Promise<void> {
    const jobs = [...this.running.entries()].filter(([key]) => key.startsWith(`${recordingId}/`)).map(([, job]) => job);
    if (jobs.length === 0) return;
    for (const job of jobs) job.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(jobs.map((job) => job.done)), new Promise((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
  }

  /** How far a job running on this node is, as its step last said. */
  progressOf(recordingId: string, kind: JobKind): string | undefined {
    return this.running.get(`${recordingId}/${kind}`)?.progress;
  }

  statsOf(kind: JobKind): KindStats {
    return this.stats.get(kind)!;
  }

  async start(): Promise<void> {
    // One process per spool: jobs a previous process left running are this one's now.
    const released = await this.opts.jobs.releaseSpool(this.spool);
    if (released > 0) this.opts.logger.info({ jobs: released }, 'pipeline: resuming post-call jobs a previous run left unfinished');
    this.started = true;
    this.timer = setInterval(() => this.nudge(), this.opts.pollMs);
    this.timer.unref();
    this.renewTimer = setInterval(() => {
      if (this.running.size === 0) return;
      this.opts.jobs.renew(this.lease, Date.now() + JOB_LEASE_MS).catch((err: unknown) => this.opts.logger.warn({ err }, 'pipeline: could not renew the leases of running jobs'));
    }, JOB_LEASE_RENEW_MS);
    this.renewTimer.unref();
    this.nudge();
  }

  /**
   * Looks for due jobs shortly (a recording just finished, or a job settled). Nudges within
   * NUDGE_COALESCE_MS make one round: when hundreds of calls end at once, their jobs are
   * claimed in a few queries, not a few per call on the thread that is finishing them.
   */
  nudge(): void {
    if (this.stopped || !this.started) return;
    this.again = true;
    if (this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      this.claiming = this.claiming.then(async () => {
        while (this.again && !this.stopped) {
          this.again = false;
          await this.claimRound();
        }
      });
    }, NUDGE_COALESCE_MS);
  }

  /**
   * Shutdown, within `withinMs`: the quick steps (peaks, then the completion webhook) of the
   * calls that just ended still run, so their webhooks are queued before the outbox flushes;
   * long steps are asked to stop (their jobs go back to the queue, for the next start),
   * except uploads, which finish. Whatever is left waits in the catalog for the next start.
   */
  async stop(withinMs = 5000): Promise<void> {
    const deadline = Date.now() + withinMs;
    // Referenced timers (bounded by the deadline): when nothing else holds the event loop (a
    // server that failed to listen), an unreferenced one would let the process end mid-stop.
    const until = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
    this.draining = true;
    for (const job of this.running.values()) if (job.kind !== 'upload' && !this.steps.get(job.kind)?.drain) job.abort.abort();
    while (!this.stopped && Date.now() < deadline) {
      this.nudge();
      await until(NUDGE_COALESCE_MS * 2);
      await this.claiming;
      // Done when nothing runs, nothing was claimed and no job that just settled asks for a round.
      if (this.running.size === 0 && !this.nudgeTimer && !this.again) break;
      await Promise.race([Promise.allSettled([...this.running.values()].map((job) => job.done)), until(deadline - Date.now())]);
    }
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.renewTimer);
    clearTimeout(this.nudgeTimer);
    await this.claiming;
    const all = Promise.allSettled([...this.running.values()].map((job) => job.done));
    await Promise.race([all, until(deadline - Date.now())]);
  }

  /** Jobs waiting or running on this node, and the one due longest, for /readyz. */
  async status(now = Date.now()): Promise<{ oldestDue?: { kind: string; waitedMs: number; error: string | null } }> {
    const oldest = await this.opts.jobs.oldestDue(this.spool, now);
    return oldest ? { oldestDue: { kind: oldest.kind, waitedMs: now - oldest.since, error: oldest.error } } : {};
  }

  private async claimRound(): Promise<void> {
    // Draining at shutdown, the delay after a call is not waited out.
    const now = Date.now();
    const dueBy = this.draining ? now + (this.opts.startDelayMs ?? 0) : now;
    // Only the steps that could take a job now are asked about.
    const open = new Map<JobKind, { step: Step; free: number }>();
    for (const step of this.steps.values()) {
      if (this.draining && !step.drain) continue;
      let busy = 0;
      for (const job of this.running.values()) if (job.kind === step.kind) busy++;
      if (step.concurrency - busy > 0) open.set(step.kind, { step, free: step.concurrency - busy });
    }
    let dueKinds: Set<JobKind>;
    try {
      if (now - this.lastPromoteSweep >= PROMOTE_SWEEP_MS) {
        this.lastPromoteSweep = now;
        await this.opts.jobs.promoteWaiting(now, { spool: this.spool });
      }
      dueKinds = open.size > 0 ? await this.opts.jobs.dueKinds(this.spool, now, dueBy, [...open.keys()]) : new Set();
    } catch (err) {
      this.opts.logger.error({ err }, 'pipeline: could not look for due jobs');
      return;
    }
    for (const { step, free } of open.values()) {
      if (!dueKinds.has(step.kind)) continue;
      let claimed: ClaimedJob[];
      try {
        claimed = await this.opts.jobs.claim(this.spool, this.lease, JOB_LEASE_MS, free, now, step.kind, dueBy);
      } catch (err) {
        this.opts.logger.error({ err, kind: step.kind }, 'pipeline: could not claim jobs');
        continue;
      }
      for (const job of claimed) this.launch(step, job);
      if (claimed.length === free) this.again = true;
    }
  }

  private launch(step: Step, job: ClaimedJob): void {
    const key = `${job.recordingId}/${job.kind}`;
    const abort = new AbortController();
    const report = (progress: string) => {
      const entry = this.running.get(key);
      if (entry) entry.progress = progress;
    };
    const done = this.runOne(step, job, abort.signal, report).finally(() => {
      this.running.delete(key);
      // A job settled: the next stage of its recording (or another job) may be due.
      this.nudge();
    });
    this.running.set(key, { kind: job.kind, abort, done });
  }

  private async runOne(step: Step, job: ClaimedJob, signal: AbortSignal, report: (progress: string) => void): Promise<void> {
    const { catalog, jobs, logger } = this.opts;
    const stats = this.stats.get(job.kind)!;
    let recording: Recording | undefined;
    try {
      recording = await catalog.repo.get(job.recordingId);
      if (!recording) {
        // Deleted meanwhile: nothing to do, and nothing to keep. A later job of it left behind
        // becomes due, to be dropped the same way.
        await catalog.db.db.deleteFrom('jobs').where('recording_id', '=', job.recordingId).where('kind', '=', job.kind).execute();
        await jobs.promoteWaiting(Date.now(), { recordingId: job.recordingId });
        return;
      }
      const outcome = (await step.run(recording, job, signal, report)) ?? {};
      const found = recording;
      await catalog.db.db.transaction().execute(async (trx) => {
        if (!(await jobs.settle(trx, job, this.lease, 'done', null))) throw new Cancelled();
        await outcome.inTransaction?.(trx, found);
      });
      outcome.committed?.();
      stats.done++;
      delete stats.failingSince;
      delete stats.lastError;
    } catch (err) {
      if (err instanceof Cancelled) {
        logger.info({ recordingId: job.recordingId, kind: job.kind }, 'pipeline: a job was cancelled while it ran (its recording was deleted); its result is dropped');
        return;
      }
      if (signal.aborted && this.draining) {
        // Shutdown: back in the queue for the next start, without counting as a failure.
        await jobs.retryAt(job, this.lease, Date.now(), 'interrupted by a shutdown').catch(() => undefined);
        return;
      }
      if (signal.aborted) {
        // Stopped because its recording is being deleted (quiesce): nothing to retry or count.
        logger.info({ recordingId: job.recordingId, kind: job.kind }, 'pipeline: a job was stopped because its recording is being deleted');
        return;
      }
      await this.failed(step, job, recording, err);
    }
  }

  private async failed(step: Step, job: ClaimedJob, recording: Recording | undefined, err: unknown): Promise<void> {
    const { jobs, logger } = this.opts;
    const stats = this.stats.get(job.kind)!;
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    stats.failingSince ??= Date.now();
    stats.lastError = message;
    const now = Date.now();
    const base = step.retryBaseMs ?? this.opts.retryBaseMs;
    const delay = Math.max(Math.min(step.retryMaxMs ?? JOB_RETRY_MAX_MS, base * 2 ** Math.min(20, job.attempts - 1)), (err as RetryAfter).retryAfterMs ?? 0);
    const tooOld = step.maxAgeMs !== undefined && now + delay > job.createdAt + step.maxAgeMs;
    const tooMany = step.maxAttempts !== undefined && job.attempts >= step.maxAttempts;
    const context = { recordingId: job.recordingId, streamSid: recording?.streamSid, kind: job.kind, attempts: job.attempts };
    try {
      if (err instanceof PermanentStepError || tooOld || tooMany) {
        const why = err instanceof PermanentStepError ? message : `${message} (given up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'})`;
        await catalogTransaction(this.opts.catalog, (trx) => jobs.settle(trx, job, this.lease, 'failed', why));
        stats.failed++;
        logger.error({ code: 'CALLTAPE_ERR_JOB_FAILED', ...context, err: why }, `pipeline: the ${job.kind} step failed for good`);
        return;
      }
      await jobs.retryAt(job, this.lease, now + delay, message);
      stats.retried++;
      if (job.attempts === 1 || job.attempts % 10 === 0) {
        logger.warn({ code: step.retryCode ?? 'CALLTAPE_ERR_JOB_FAILED', ...context, retryInMs: delay, err: message }, `pipeline: the ${job.kind} step failed; it is tried again`);
      }
    } catch (dbErr) {
      logger.error({ err: dbErr, ...context }, 'pipeline: could not record a failed attempt (the lease will expire and it is tried again)');
    }
  }
}

async function catalogTransaction(catalog: Catalog, work: (trx: Transaction<CatalogDatabase>) => Promise<unknown>): Promise<void> {
  await catalog.db.db.transaction().execute(async (trx) => void (await work(trx)));
}
