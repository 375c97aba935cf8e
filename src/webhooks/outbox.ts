/**
 * The webhook outbox. Events are rows in webhook_deliveries, written in the same transaction
 * as the recording they describe; a drainer claims due rows, POSTs them signed, and retries
 * network errors, 408, 429 and 5xx with exponential backoff and jitter until a configured
 * horizon, after which the delivery is marked failed. Rows survive restarts.
 *
 * Several calltape nodes may drain one PostgreSQL outbox: a claim is an UPDATE of rows
 * selected FOR UPDATE SKIP LOCKED that sets a lease (locked_until), so two nodes never hold
 * the same row, and a node that dies mid-delivery only delays it until the lease runs out.
 */
import { redactUrl, redactUrlsIn } from '../redact.js';
import { WEBHOOK_MAX_IN_FLIGHT, WEBHOOK_MAX_IN_FLIGHT_PER_URL } from '../limits.js';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Dialect } from '../catalog/db.js';
import type { CatalogDatabase, WebhookDeliveriesTable } from '../catalog/schema.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './sign.js';

export type Delivery = Selectable<WebhookDeliveriesTable>;

export interface OutboxOptions {
  readonly db: Kysely<CatalogDatabase>;
  readonly dialect: Dialect;
  readonly logger: Logger;
  readonly secret?: string | undefined;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** Deliveries in flight at once, all receivers together (default WEBHOOK_MAX_IN_FLIGHT). */
  readonly maxInFlight?: number;
  /** Deliveries in flight at once to one URL (default WEBHOOK_MAX_IN_FLIGHT_PER_URL). */
  readonly maxInFlightPerUrl?: number;
}

export interface OutboxEvents {
  delivered: [Delivery];
  retry: [Delivery, string];
  failed: [Delivery, string];
}

export interface OutboxStats {
  delivered: number;
  retried: number;
  failed: number;
}

const USER_AGENT = 'calltape-webhooks/1';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Retry-After as seconds or an HTTP date, in ms from now (0 when absent or unreadable). */
export function parseRetryAfter(value: string | null, nowMs: number): number {
  if (!value) return 0;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), 1e9) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : 0;
}

function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class WebhookOutbox extends EventEmitter<OutboxEvents> {
  private readonly opts: OutboxOptions;
  private readonly maxInFlight: number;
  private readonly maxPerUrl: number;
  /** Deliveries under way, and how many of them go to each URL. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perUrl = new Map<string, number>();
  private expiredAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly counts: OutboxStats = { delivered: 0, retried: 0, failed: 0 };

  constructor(opts: OutboxOptions) {
    super();
    this.opts = opts;
    this.maxInFlight = opts.maxInFlight ?? WEBHOOK_MAX_IN_FLIGHT;
    this.maxPerUrl = opts.maxInFlightPerUrl ?? WEBHOOK_MAX_IN_FLIGHT_PER_URL;
  }

  stats(): OutboxStats {
    return { ...this.counts };
  }

  /** Stores a delivery (inside the caller's transaction when given one). */
  async enqueue(
    trx: Kysely<CatalogDatabase> | Transaction<CatalogDatabase>,
    delivery: { recordingId: string; event: string; url: string; body: string },
  ): Promise<void> {
    const now = Date.now();
    await trx
      .insertInto('webhook_deliveries')
      .values({
        id: crypto.randomUUID(),
        recording_id: delivery.recordingId,
        event: delivery.event,
        url: delivery.url,
        body: delivery.body,
        status: 'pending',
        attempts: 0,
        created_at: now,
        next_attempt_at: now,
        locked_until: null,
        last_status: null,
        last_error: null,
        delivered_at: null,
      })
      .execute();
  }

  /** Starts draining: now, then every pollMs, and whenever nudged. */
  start(): void {
    this.stopped = false;
    this.nudge();
  }

  /** Looks for due deliveries now (after an enqueue, say) instead of at the next poll. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.nudge();
      } else {
        this.timer = setTimeout(() => this.nudge(), this.opts.pollMs);
        this.timer.unref();
      }
    });
  }

  /** Stops polling and waits for deliveries in flight. Pending rows stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Delivers everything due right now (used at shutdown), within `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.running;
    while (Date.now() < deadline) {
      let started: number;
      try {
        started = await this.startDue();
      } catch (err) {
        // The database refuses (it is down, say): what is pending stays for the next start.
        this.opts.logger.error({ err }, 'webhook outbox: claiming deliveries at shutdown failed');
        return;
      }
      if (started === 0 && this.inFlight.size === 0) return;
      await Promise.race([Promise.race([...this.inFlight]), sleep(Math.max(1, Math.min(100, deadline - Date.now())))]);
    }
  }

  private async round(): Promise<void> {
    try {
      // Expiry is a sweep over the table: once per poll interval, not after every delivery.
      if (Date.now() - this.expiredAt >= this.opts.pollMs) {
        this.expiredAt = Date.now();
        await this.expire();
      }
      await this.startDue();
    } catch (err) {
      this.opts.logger.error({ err }, 'webhook outbox: claiming deliveries failed');
    }
  }

  /**
   * Claims as many due rows as there are free places and starts each delivery on its own:
   * none waits for another, and URLs that already have maxInFlightPerUrl deliveries under way
   * are not claimed from, so one slow receiver holds only its own places. A finished delivery
   * looks for more. Returns how many it started.
   */
  private async startDue(): Promise<number> {
    let started = 0;
    for (;;) {
      const free = this.maxInFlight - this.inFlight.size;
      if (free <= 0) break;
      const saturated = [...this.perUrl].filter(([, n]) => n >= this.maxPerUrl).map(([url]) => url);
      // At most one URL's share per claim, so a batch cannot overfill one URL by much; rows
      // that would still go past its share are given back unattempted.
      const wanted = Math.min(free, this.maxPerUrl);
      const claimed = await this.claim(wanted, saturated);
      const over: Delivery[] = [];
      for (const delivery of claimed) {
        if ((this.perUrl.get(delivery.url) ?? 0) >= this.maxPerUrl) over.push(delivery);
        else this.launch(delivery);
      }
      if (over.length > 0) await this.release(over);
      started += claimed.length - over.length;
      if (claimed.length < wanted) break;
    }
    return started;
  }

  private launch(delivery: Delivery): void {
    this.perUrl.set(delivery.url, (this.perUrl.get(delivery.url) ?? 0) + 1);
    const work = this.deliver(delivery)
      .catch((err: unknown) => this.opts.logger.error({ err, delivery: delivery.id }, 'webhook outbox: recording a delivery failed'))
      .finally(() => {
        this.inFlight.delete(work);
        const left = (this.perUrl.get(delivery.url) ?? 1) - 1;
        if (left > 0) this.perUrl.set(delivery.url, left);
        else this.perUrl.delete(delivery.url);
        this.nudge();
      });
    this.inFlight.add(work);
  }

  private async release(deliveries: Delivery[]): Promise<void> {
    await this.opts.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ locked_until: null, attempts: eb('attempts', '-', 1) }))
      .where('id', 'in', deliveries.map((d) => d.id))
      .execute();
  }

  /** Deliveries whose max age ran out while pending (the process was down, say) fail now. */
  private async expire(): Promise<void> {
    const cutoff = Date.now() - this.opts.maxAgeMs;
    const expired = await this.opts.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', locked_until: null, last_error: 'max age reached before a successful attempt' })
      .where('status', '=', 'pending')
      .where('created_at', '<', cutoff)
      .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', Date.now())]))
      .returning(['id', 'url'])
      .execute();
    for (const row of expired) {
      this.counts.failed++;
      this.opts.logger.error({ delivery: row.id, url: redactUrl(row.url) }, 'webhook delivery failed for good: max age reached');
    }
  }

  private async claim(limit: number, skipUrls: string[]): Promise<Delivery[]> {
    const { db, dialect, timeoutMs } = this.opts;
    const now = Date.now();
    return db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ locked_until: now + timeoutMs * 2 + 1000, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .where((w) => w.or([w('locked_until', 'is', null), w('locked_until', '<', now)]))
          .$if(skipUrls.length > 0, (q) => q.where('url', 'not in', skipUrls))
          .orderBy('next_attempt_at')
          .limit(limit)
          .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked()),
      )
      .returningAll()
      .execute();
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-calltape-event': delivery.event,
      'x-calltape-delivery': delivery.id,
      [TIMESTAMP_HEADER]: String(timestamp),
    };
    if (this.opts.secret) headers[SIGNATURE_HEADER] = signWebhook(this.opts.secret, timestamp, delivery.body);
    // fetch refuses a URL with credentials in it: they go as HTTP Basic, as a browser sends them.
    const { url: target, authorization } = splitCredentials(delivery.url);
    if (authorization) headers.authorization = authorization;
    let status: number | undefined;
    let problem: string | undefined;
    let retryAfterMs = 0;
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers,
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      await res.body?.cancel();
      if (status >= 200 && status < 300) {
        await this.markDelivered(delivery, status);
        return;
      }
      problem = `HTTP ${status}`;
    } catch (err) {
      // An error's text may quote the URL: what is stored and logged is redacted.
      problem = redactUrlsIn(err instanceof Error ? `${err.name}: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? err.message}` : String(err));
    }
    const retryable = status === undefined || isRetryable(status);
    const now = Date.now();
    const expiresAt = Number(delivery.created_at) + this.opts.maxAgeMs;
    const exponential = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(30, Number(delivery.attempts) - 1));
    // Equal jitter: at least half the backoff, so retries spread out but never bunch at zero.
    const delay = Math.max(exponential / 2 + Math.random() * (exponential / 2), retryAfterMs);
    // A receiver's Retry-After never keeps a delivery past its max age: one that would be due
    // only after that fails now, with the reason.
    if (!retryable || now + delay > expiresAt) {
      const why = !retryable ? problem! : `gave up after ${delivery.attempts} attempts (max age would pass before the next): ${problem}`;
      await this.markFailed(delivery, status, why);
      return;
    }
    await this.opts.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: Math.round(now + delay), locked_until: null, last_status: status ?? null, last_error: problem ?? null })
      .where('id', '=', delivery.id)
      .execute();
    this.counts.retried++;
    this.opts.logger.warn({ delivery: delivery.id, url: redactUrl(delivery.url), attempt: delivery.attempts, problem, retryInMs: Math.round(delay) }, 'webhook delivery failed; will retry');
    this.emit('retry', delivery, problem!);
    // Poll sooner than usual if the retry is due before the next poll.
    if (delay < this.opts.pollMs && !this.stopped) setTimeout(() => this.nudge(), delay).unref();
  }

  private async markDelivered(delivery: Delivery, status: number): Promise<void> {
    await this.opts.db
      .updateTable('webhook_deliveries')
      .set({ status: 'delivered', delivered_at: Date.now(), locked_until: null, last_status: status, last_error: null })
      .where('id', '=', delivery.id)
      .execute();
    this.counts.delivered++;
    this.opts.logger.info({ delivery: delivery.id, url: redactUrl(delivery.url), attempts: delivery.attempts, status }, 'webhook delivered');
    this.emit('delivered', delivery);
  }

  private async markFailed(delivery: Delivery, status: number | undefined, reason: string): Promise<void> {
    await this.opts.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', locked_until: null, last_status: status ?? null, last_error: reason })
      .where('id', '=', delivery.id)
      .execute();
    this.counts.failed++;
    this.opts.logger.error({ delivery: delivery.id, url: redactUrl(delivery.url), attempts: delivery.attempts, reason }, 'webhook delivery failed for good');
    this.emit('failed', delivery, reason);
  }
}

/** The URL without its userinfo, and that userinfo as an HTTP Basic Authorization value. */
function splitCredentials(raw: string): { url: string; authorization?: string } {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url: raw };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}
