/**
 * The access audit trail: who read or changed what, when, from where. Entries are appended
 * by the API (http/audit.ts) and by retention, and are never edited or removed through it
 * (the only update is a relayed request's claim, below); they outlive the recording they
 * name, as its tombstone does.
 */
import crypto from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AuditLogTable, CatalogDatabase } from './schema.js';

/** What an entry says was done. */
export const AUDIT_ACTIONS = [
  'audio.read',
  'file.read',
  'transcript.read',
  'summary.read',
  'analytics.read',
  'listen',
  'pause',
  'resume',
  'hold.place',
  'hold.release',
  'delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface NewAuditEntry {
  readonly actor: string;
  readonly action: AuditAction;
  readonly recordingId?: string | null | undefined;
  readonly streamSid?: string | null | undefined;
  readonly address?: string | null | undefined;
  readonly detail?: string | null | undefined;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  recordingId: string | null;
  streamSid: string | null;
  address: string | null;
  detail: string | null;
  node: string;
  relayedTo: string | null;
}

export interface AuditQuery {
  recordingId?: string | undefined;
  actor?: string | undefined;
  action?: AuditAction | undefined;
  /** Only entries before this time (epoch ms), for paging. */
  before?: number | undefined;
  limit: number;
}

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

export class AuditLog {
  constructor(
    private readonly db: Kysely<CatalogDatabase>,
    /** The node writing (its id once it has one; it is given when the server listens). */
    private readonly nodeOf: () => string,
  ) {}

  private get node(): string {
    return this.nodeOf();
  }

  /** Appends an entry (inside `trx` when given, e.g. a deletion's own transaction); its id. */
  async append(entry: NewAuditEntry, trx: Db = this.db, now = Date.now()): Promise<string> {
    const id = crypto.randomUUID();
    await trx
      .insertInto('audit_log')
      .values({
        id,
        at: now,
        actor: entry.actor,
        action: entry.action,
        recording_id: entry.recordingId ?? null,
        stream_sid: entry.streamSid ?? null,
        address: entry.address ?? null,
        detail: entry.detail ?? null,
        node: this.node,
        relayed_to: null,
      })
      .execute();
    return id;
  }

  /**
   * A request one node passed to another (pause, resume, listen of a call the other records)
   * is logged once, by the node the client reached, with the client's own identity. The
   * receiving node claims that entry instead of writing its own: only a fresh entry of the
   * same action on the same call, not yet claimed. Anything else (a forged or stale id, an
   * old entry read from the log) is no claim, and the receiver logs the request itself.
   */
  async claim(id: string, action: AuditAction, streamSid: string, maxAgeMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('audit_log')
      .set({ relayed_to: this.node })
      .where('id', '=', id)
      .where('action', '=', action)
      .where('stream_sid', '=', streamSid)
      .where('relayed_to', 'is', null)
      .where('node', '!=', this.node)
      .where('at', '>', now - maxAgeMs)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Newest first. */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .$if(query.recordingId !== undefined, (q) => q.where('recording_id', '=', query.recordingId!))
      .$if(query.actor !== undefined, (q) => q.where('actor', '=', query.actor!))
      .$if(query.action !== undefined, (q) => q.where('action', '=', query.action!))
      .$if(query.before !== undefined, (q) => q.where('at', '<', query.before!))
      .orderBy('at', 'desc')
      .orderBy('id')
      .limit(query.limit)
      .execute();
    return rows.map(toEntry);
  }
}

function toEntry(row: AuditLogTable): AuditEntry {
  return {
    id: row.id,
    at: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    action: row.action,
    recordingId: row.recording_id,
    streamSid: row.stream_sid,
    address: row.address,
    detail: row.detail,
    node: row.node,
    relayedTo: row.relayed_to,
  };
}
