/**
 * Recordings starting and finishing anywhere in the cluster, through PostgreSQL itself
 * (LISTEN/NOTIFY, no broker): each node announces its own catalog events on one channel, and
 * hands the other nodes' to its own event stream (/api/events) as if they were local. The
 * notification carries only the recording's id; the listener reads the row. A dropped
 * listening connection is opened again with backoff; events in between are not replayed
 * (clients of the event stream re-read the list when they reconnect, as after any gap).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Catalog } from './catalog.js';
import type { Recording } from './recordings.js';

const CHANNEL = 'calltape_recordings';
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 10_000;

type Kind = 'recording.started' | 'recording.finished';

export class ClusterEvents {
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectMs = RECONNECT_MIN_MS;
  /** Recordings this node re-emitted for another node: not announced again. */
  private readonly fromElsewhere = new WeakSet<Recording>();

  constructor(
    private readonly opts: { readonly databaseUrl: string; readonly catalog: Catalog; readonly logger: Logger },
  ) {}

  async start(): Promise<void> {
    const { catalog } = this.opts;
    catalog.on('recording.started', (recording) => this.announce('recording.started', recording));
    catalog.on('recording.finished', (recording) => this.announce('recording.finished', recording));
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private announce(kind: Kind, recording: Recording): void {
    if (this.fromElsewhere.has(recording) || this.stopped) return;
    const payload = JSON.stringify({ kind, id: recording.id, node: this.opts.catalog.nodeId });
    void this.opts.catalog.db.db
      .selectNoFrom((eb) => eb.fn<string>('pg_notify', [eb.val(CHANNEL), eb.val(payload)]).as('sent'))
      .execute()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'cluster events: could not announce a recording event'));
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.databaseUrl });
    client.on('error', (err) => {
      this.opts.logger.warn({ err }, 'cluster events: the listening connection failed; opening another');
      this.reopen(client);
    });
    client.on('end', () => this.reopen(client));
    client.on('notification', (message) => void this.received(message.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      this.reconnectMs = RECONNECT_MIN_MS;
    } catch (err) {
      this.opts.logger.warn({ err }, 'cluster events: could not listen; trying again');
      this.reopen(client);
    }
  }

  private reopen(client: pg.Client): void {
    if (this.stopped || (this.client !== client && this.client !== undefined)) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    const wait = this.reconnectMs;
    this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2);
    setTimeout(() => {
      if (!this.stopped && this.client === undefined) void this.listen();
    }, wait).unref();
  }

  private async received(payload: string | undefined): Promise<void> {
    try {
      const { kind, id, node } = JSON.parse(payload ?? '{}') as { kind?: Kind; id?: string; node?: string };
      if (!id || node === this.opts.catalog.nodeId || (kind !== 'recording.started' && kind !== 'recording.finished')) return;
      const recording = await this.opts.catalog.repo.get(id);
      if (!recording) return;
      this.fromElsewhere.add(recording);
      this.opts.catalog.emit(kind, recording);
    } catch (err) {
      this.opts.logger.warn({ err }, 'cluster events: could not read an announced recording');
    }
  }
}
