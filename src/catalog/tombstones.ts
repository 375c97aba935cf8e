/**
 * Tombstones: what the catalog keeps of a deleted recording (its ids, when, by whom, why, and
 * the SHA-256 of its signed manifest), written in the transaction that removes its rows, so
 * `GET /api/recordings/:id` answers 410 with it and every deletion stays accountable.
 */
import type { Kysely, Transaction } from 'kysely';
import type { CatalogDatabase } from './schema.js';

export interface Tombstone {
  id: string;
  provider: string;
  callSid: string;
  streamSid: string;
  startedAt: string;
  deletedAt: string;
  /** `token:<name>`, `session:<name>` or `local` (the API client that deleted it), or `retention`. */
  deletedBy: string;
  reason: string | null;
  manifestSha256: string | null;
}

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

export class TombstonesRepo {
  constructor(private readonly db: Kysely<CatalogDatabase>) {}

  async add(trx: Db, tombstone: Tombstone): Promise<void> {
    await trx
      .insertInto('tombstones')
      .values({
        recording_id: tombstone.id,
        provider: tombstone.provider,
        call_sid: tombstone.callSid,
        stream_sid: tombstone.streamSid,
        started_at: Date.parse(tombstone.startedAt),
        deleted_at: Date.parse(tombstone.deletedAt),
        deleted_by: tombstone.deletedBy,
        reason: tombstone.reason,
        manifest_sha256: tombstone.manifestSha256,
      })
      .onConflict((oc) => oc.column('recording_id').doNothing())
      .execute();
  }

  async get(id: string): Promise<Tombstone | undefined> {
    const row = await this.db.selectFrom('tombstones').selectAll().where('recording_id', '=', id).executeTakeFirst();
    return row ? toTombstone(row) : undefined;
  }

  /** Newest deletions first; `before`: only those deleted before this time (epoch ms), for paging. */
  async list(limit: number, before?: number): Promise<Tombstone[]> {
    const rows = await this.db
      .selectFrom('tombstones')
      .selectAll()
      .$if(before !== undefined, (q) => q.where('deleted_at', '<', before!))
      .orderBy('deleted_at', 'desc')
      .orderBy('recording_id')
      .limit(limit)
      .execute();
    return rows.map(toTombstone);
  }
}

function toTombstone(row: { recording_id: string; provider: string; call_sid: string; stream_sid: string; started_at: number; deleted_at: number; deleted_by: string; reason: string | null; manifest_sha256: string | null }): Tombstone {
  return {
    id: row.recording_id,
    provider: row.provider,
    callSid: row.call_sid,
    streamSid: row.stream_sid,
    startedAt: new Date(Number(row.started_at)).toISOString(),
    deletedAt: new Date(Number(row.deleted_at)).toISOString(),
    deletedBy: row.deleted_by,
    reason: row.reason,
    manifestSha256: row.manifest_sha256,
  };
}
