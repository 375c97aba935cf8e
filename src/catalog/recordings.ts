/**
 * The recordings repository: the only code that reads or writes the recordings tables.
 * Same queries on SQLite and PostgreSQL.
 */
import type { EncryptedFile } from '../custody/encryption-record.js';
import crypto from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { RecordingMeta } from '../recording/meta.js';
import { headerSize } from '../recording/wav-header.js';
import { TombstonesRepo, type Tombstone } from './tombstones.js';
import type { ArchiveFormat } from '../archive/formats.js';
import type { Dialect } from './db.js';
import { transcriptHas } from './transcript-search.js';
import type { CatalogDatabase, RecordingStatus, RecordingsTable } from './schema.js';

export interface RecordingStart {
  provider: string;
  callSid: string;
  streamSid: string;
  accountSid?: string | undefined;
  tracks: readonly string[];
  format: string;
  sampleRate: number;
  customParameters: Readonly<Record<string, string>>;
  startedAt: Date;
  /** Directory relative to the data dir. */
  location: string;
  /** The node recording it. */
  node?: string | undefined;
}

/** A compressed copy of one of a recording's WAVs (archive/), made after the call. */
export interface ArchiveFile {
  format: ArchiveFormat;
  file: string;
  bytes: number;
  sha256: string;
  durationMs: number;
  /** Once uploaded: where the object is. */
  location?: string;
}

export interface RecordingFile {
  name: 'inbound' | 'outbound' | 'stereo';
  /** The WAV's name (kept when the WAV itself was removed: the archives are named after it). */
  file: string;
  /** Bytes of audio in the WAV. */
  bytes: number;
  /** The WAV file's size, header included (absent in rows from before it was kept). */
  fileBytes?: number;
  durationMs: number;
  /** Where the object is once uploaded (s3://bucket/key); the content's SHA-256 (hex) once uploaded or archived. */
  location?: string;
  sha256?: string;
  /** Its archives, once written and read back. */
  archives?: ArchiveFile[];
  /** The WAV was removed once its archives were verified (CALLTAPE_KEEP_WAV=false). */
  wavRemoved?: boolean;
}

export interface RecordingEvent {
  kind: 'dtmf' | 'mark' | 'pause';
  atMs: number;
  endMs?: number;
  receivedAt: string;
  [field: string]: unknown;
}

export interface Recording {
  id: string;
  provider: string;
  callSid: string;
  streamSid: string;
  accountSid: string | null;
  status: RecordingStatus;
  declaredTracks: string[];
  format: string;
  sampleRate: number;
  customParameters: Record<string, string>;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  endReason: string | null;
  error: string | null;
  location: string;
  files: RecordingFile[];
  rejections: Record<string, number>;
  /** The node that recorded it (CALLTAPE_NODE_ID); null for rows from before nodes were named. */
  node: string | null;
  /** `s3` once its files were uploaded and verified (then each file has its location and SHA-256). */
  storage: 'local' | 's3';
  /** Under legal hold: never deleted, by hand or by retention, until released. */
  hold: LegalHold | null;
  /** Its content encrypted to its owner's age recipients (custody/encrypt-recording.ts); null: plaintext. */
  encryption: RecordingEncryption | null;
}

export interface RecordingEncryption {
  /** When it was encrypted (ISO 8601). */
  at: string;
  recipients: string[];
  files: EncryptedFile[];
}

export interface LegalHold {
  reason: string;
  /** When it was placed (ISO 8601). */
  since: string;
  /** Who placed it, as the API knew the client: `token:<name>`, `session:<name>` (the dashboard) or `local`. */
  by: string;
}

export interface RecordingFilter {
  callSid?: string;
  streamSid?: string;
  provider?: string;
  status?: RecordingStatus;
  /** started_at bounds, epoch ms, inclusive. */
  fromMs?: number;
  toMs?: number;
  minDurationMs?: number;
  params?: Record<string, string>;
  /** Words or quoted phrases its transcript must hold (transcript-search.ts). */
  terms?: string[];
  /** Bounds on its conversation analytics (a recording without them matches none). */
  analytics?: AnalyticsFilter;
  limit: number;
  cursor?: string;
}

/** Bounds on a recording's analytics: each one given must hold. */
export interface AnalyticsFilter {
  /** The agent's talk time over the caller's. */
  minTalkRatio?: number;
  maxTalkRatio?: number;
  /** Both speakers' together. */
  minInterruptions?: number;
  minSilenceMs?: number;
  maxSilenceMs?: number;
  minOverlapMs?: number;
}

export class InvalidCursorError extends Error {}

function encodeCursor(row: { started_at: number; id: string }): string {
  return Buffer.from(`${row.started_at}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: number; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const at = text.indexOf(':');
  const startedAt = Number(text.slice(0, at));
  const id = text.slice(at + 1);
  if (at <= 0 || !Number.isSafeInteger(startedAt) || id.length === 0) throw new InvalidCursorError('invalid cursor');
  return { startedAt, id };
}

function toRecording(row: Selectable<RecordingsTable>): Recording {
  return {
    id: row.id,
    provider: row.provider,
    callSid: row.call_sid,
    streamSid: row.stream_sid,
    accountSid: row.account_sid,
    status: row.status,
    declaredTracks: JSON.parse(row.tracks) as string[],
    format: row.format,
    sampleRate: Number(row.sample_rate),
    customParameters: JSON.parse(row.custom_parameters) as Record<string, string>,
    startedAt: new Date(Number(row.started_at)).toISOString(),
    endedAt: row.ended_at === null ? null : new Date(Number(row.ended_at)).toISOString(),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    endReason: row.end_reason,
    error: row.error,
    location: row.location,
    files: JSON.parse(row.files) as RecordingFile[],
    rejections: JSON.parse(row.rejections) as Record<string, number>,
    storage: row.storage,
    node: row.node_id,
    hold: row.hold ? (JSON.parse(row.hold) as LegalHold) : null,
    encryption: row.encryption ? (JSON.parse(row.encryption) as RecordingEncryption) : null,
  };
}

/** The files of a finished recording, from its meta.json. */
export function filesOf(meta: RecordingMeta): RecordingFile[] {
  const files: RecordingFile[] = [];
  // The file's size: the audio and calltape's header (meta.json from before fileFormat: unknown).
  const withHeader = (bytes: number) => (meta.fileFormat ? { fileBytes: bytes + headerSize(meta.fileFormat.format) } : {});
  for (const name of ['inbound', 'outbound'] as const) {
    const track = meta[name];
    if (track?.file) files.push({ name, file: track.file, bytes: track.bytes ?? 0, ...withHeader(track.bytes ?? 0), durationMs: track.durationMs });
  }
  if (meta.stereo) files.push({ name: 'stereo', file: meta.stereo.file, bytes: meta.stereo.bytes, ...withHeader(meta.stereo.bytes), durationMs: meta.stereo.durationMs });
  return files;
}

export class RecordingsRepo {
  constructor(
    private readonly db: Kysely<CatalogDatabase>,
    private readonly dialect: Dialect = 'sqlite',
  ) {}

  /**
   * A row in status `recording`, created when the stream starts. `id` is the caller's, so a
   * retry after a lost answer can find its own row by it (and never another stream's).
   */
  async create(start: RecordingStart, id: string = crypto.randomUUID()): Promise<Recording> {
    const row: Selectable<RecordingsTable> = {
      id,
      provider: start.provider,
      call_sid: start.callSid,
      stream_sid: start.streamSid,
      account_sid: start.accountSid ?? null,
      status: 'recording',
      tracks: JSON.stringify(start.tracks),
      format: start.format,
      sample_rate: start.sampleRate,
      custom_parameters: JSON.stringify(start.customParameters),
      started_at: start.startedAt.getTime(),
      ended_at: null,
      duration_ms: null,
      end_reason: null,
      error: null,
      location: start.location,
      files: '[]',
      rejections: '{}',
      storage: 'local',
      node_id: start.node ?? null,
      hold: null,
      encryption: null,
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('recordings').values(row).execute();
      const params = Object.entries(start.customParameters).map(([name, value]) => ({ recording_id: id, name, value }));
      if (params.length > 0) await trx.insertInto('recording_params').values(params).execute();
    });
    return toRecording(row);
  }

  /**
   * Records how a recording ended, its files and its events, and returns the recording as
   * stored. `then` runs in the same
   * transaction with the updated recording (the webhook outbox enqueues there, so a finished
   * recording and its notification are stored together or not at all).
   */
  async finish(
    id: string,
    meta: RecordingMeta,
    options: { status?: RecordingStatus; then?: (trx: Transaction<CatalogDatabase>, recording: Recording) => Promise<void> } = {},
  ): Promise<Recording> {
    const status = options.status ?? meta.status;
    if (status === 'recording') throw new Error('finish() needs a final status');
    const events: Array<{ kind: 'dtmf' | 'mark' | 'pause'; at_ms: number; end_ms: number | null; data: string; received_at: number }> = [
      ...meta.dtmf.map(({ atMs, receivedAt, ...rest }) => ({ kind: 'dtmf' as const, at_ms: atMs, end_ms: null, data: JSON.stringify(rest), received_at: Date.parse(receivedAt) })),
      ...meta.marks.map(({ atMs, receivedAt, ...rest }) => ({ kind: 'mark' as const, at_ms: atMs, end_ms: null, data: JSON.stringify(rest), received_at: Date.parse(receivedAt) })),
      ...(meta.pauses ?? []).map(({ atMs, endMs, receivedAt, ...rest }) => ({ kind: 'pause' as const, at_ms: atMs, end_ms: endMs, data: JSON.stringify(rest), received_at: Date.parse(receivedAt) })),
    ].sort((a, b) => a.at_ms - b.at_ms || a.received_at - b.received_at);
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('recordings')
        .set({
          status,
          ended_at: Date.parse(meta.endedAt),
          duration_ms: meta.durationMs,
          end_reason: meta.endReason ?? null,
          error: meta.error ? `${meta.error.code}: ${meta.error.message}` : null,
          files: JSON.stringify(filesOf(meta)),
          rejections: JSON.stringify(meta.rejections),
        })
        .where('id', '=', id)
        .execute();
      await trx.deleteFrom('recording_events').where('recording_id', '=', id).execute();
      if (events.length > 0) {
        // Chunked: one statement per few hundred events keeps under both dialects' parameter limits.
        for (let i = 0; i < events.length; i += 500) {
          await trx
            .insertInto('recording_events')
            .values(events.slice(i, i + 500).map((e, j) => ({ recording_id: id, seq: i + j, ...e })))
            .execute();
        }
      }
      const recording = toRecording(await trx.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
      await options.then?.(trx, recording);
      return recording;
    });
  }

  /** Marks a recording failed without files (nothing of it reached the disk). */
  async fail(id: string, error: string): Promise<void> {
    await this.db.updateTable('recordings').set({ status: 'failed', error, ended_at: Date.now(), duration_ms: 0, end_reason: 'crashed' }).where('id', '=', id).execute();
  }

  /** Marks a finished recording failed, keeping what it recorded (its files are gone, say). */
  async failFinished(id: string, error: string): Promise<void> {
    await this.db.updateTable('recordings').set({ status: 'failed', error }).where('id', '=', id).execute();
  }

  /** A query that touches the database and nothing else (readiness). */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** A recording by id (in `db`, a transaction say, when given). */
  async get(id: string, db: Kysely<CatalogDatabase> | Transaction<CatalogDatabase> = this.db): Promise<Recording | undefined> {
    const row = await db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecording(row);
  }

  async getByStreamSid(streamSid: string): Promise<Recording | undefined> {
    const row = await this.db.selectFrom('recordings').selectAll().where('stream_sid', '=', streamSid).executeTakeFirst();
    return row && toRecording(row);
  }

  async events(id: string): Promise<RecordingEvent[]> {
    const rows = await this.db.selectFrom('recording_events').selectAll().where('recording_id', '=', id).orderBy('at_ms').orderBy('seq').execute();
    return rows.map((row) => ({
      kind: row.kind,
      atMs: Number(row.at_ms),
      ...(row.end_ms !== null ? { endMs: Number(row.end_ms) } : {}),
      ...(JSON.parse(row.data) as Record<string, unknown>),
      receivedAt: new Date(Number(row.received_at)).toISOString(),
    }));
  }

  /** Newest first, keyset-paginated on (started_at, id). */
  async list(filter: RecordingFilter): Promise<{ items: Recording[]; nextCursor: string | null }> {
    let query = this.db.selectFrom('recordings').selectAll();
    if (filter.callSid) query = query.where('call_sid', '=', filter.callSid);
    if (filter.streamSid) query = query.where('stream_sid', '=', filter.streamSid);
    if (filter.provider) query = query.where('provider', '=', filter.provider);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.fromMs !== undefined) query = query.where('started_at', '>=', filter.fromMs);
    if (filter.toMs !== undefined) query = query.where('started_at', '<=', filter.toMs);
    if (filter.minDurationMs !== undefined) query = query.where('duration_ms', '>=', filter.minDurationMs);
    for (const [name, value] of Object.entries(filter.params ?? {})) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('recording_params')
            .select('recording_params.recording_id')
            .whereRef('recording_params.recording_id', '=', 'recordings.id')
            .where('recording_params.name', '=', name)
            .where('recording_params.value', '=', value),
        ),
      );
    }
    for (const term of filter.terms ?? []) query = query.where(transcriptHas(this.dialect, term));
    const bounds = filter.analytics;
    if (bounds) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('recording_analytics as a')
            .select('a.recording_id')
            .whereRef('a.recording_id', '=', 'recordings.id')
            .$if(bounds.minTalkRatio !== undefined, (q) => q.where('a.agent_talk_ratio', '>=', bounds.minTalkRatio!))
            .$if(bounds.maxTalkRatio !== undefined, (q) => q.where('a.agent_talk_ratio', '<=', bounds.maxTalkRatio!))
            .$if(bounds.minInterruptions !== undefined, (q) => q.where('a.interruptions', '>=', bounds.minInterruptions!))
            .$if(bounds.minSilenceMs !== undefined, (q) => q.where('a.silence_ms', '>=', bounds.minSilenceMs!))
            .$if(bounds.maxSilenceMs !== undefined, (q) => q.where('a.silence_ms', '<=', bounds.maxSilenceMs!))
            .$if(bounds.minOverlapMs !== undefined, (q) => q.where('a.overlap_ms', '>=', bounds.minOverlapMs!)),
        ),
      );
    }
    if (filter.cursor) {
      const { startedAt, id } = decodeCursor(filter.cursor);
      query = query.where(({ or, and, eb }) =>
        or([eb('started_at', '<', startedAt), and([eb('started_at', '=', startedAt), eb('id', '<', id)])]),
      );
    }
    const rows = await query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute();
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toRecording),
      nextCursor: rows.length > filter.limit && last ? encodeCursor({ started_at: Number(last.started_at), id: last.id }) : null,
    };
  }

  /**
   * Records, in the caller's transaction (the upload job's), that a recording's files are
   * durable in the object store, with each file's location and SHA-256.
   */
  async markUploaded(trx: Transaction<CatalogDatabase>, id: string, files: RecordingFile[]): Promise<void> {
    await trx.updateTable('recordings').set({ storage: 's3', files: JSON.stringify(files) }).where('id', '=', id).execute();
  }

  /** Places (or, with null, releases) a legal hold; false when there is no such recording. */
  async setHold(id: string, hold: LegalHold | null): Promise<boolean> {
    const result = await this.db.updateTable('recordings').set({ hold: hold ? JSON.stringify(hold) : null }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records a recording's files as a post-call step left them (its archives), in the step's transaction. */
  async setEncryption(trx: Transaction<CatalogDatabase>, id: string, encryption: RecordingEncryption): Promise<void> {
    await trx.updateTable('recordings').set({ encryption: JSON.stringify(encryption) }).where('id', '=', id).execute();
  }

  async setFiles(trx: Transaction<CatalogDatabase>, id: string, files: RecordingFile[]): Promise<void> {
    await trx.updateTable('recordings').set({ files: JSON.stringify(files) }).where('id', '=', id).execute();
  }

  /**
   * Marks `lost` the open recordings of nodes whose heartbeat is older than `cutoff`, each
   * with the reason; `then` runs per recording in the same transaction (its webhook). Rows
   * are locked as they are taken (SKIP LOCKED on PostgreSQL), so two nodes sweeping at once
   * mark each recording once. Returns the recordings marked.
   */
  async markLost(cutoff: number, now: number, then: (trx: Transaction<CatalogDatabase>, recording: Recording) => Promise<void>): Promise<Recording[]> {
    return this.db.transaction().execute(async (trx) => {
      const gone = await trx.selectFrom('nodes').selectAll().where('heartbeat_at', '<', cutoff).execute();
      const lost: Recording[] = [];
      for (const node of gone) {
        const rows = await trx
          .selectFrom('recordings')
          .select('id')
          .where('status', '=', 'recording')
          .where('node_id', '=', node.node_id)
          .$if(this.dialect === 'postgres', (q) => q.forUpdate().skipLocked())
          .execute();
        const why = `CALLTAPE_ERR_NODE_LOST: node ${node.node_id} stopped answering mid-call (last heartbeat ${new Date(Number(node.heartbeat_at)).toISOString()}); its spool may still hold the audio, and is recovered if the node comes back`;
        for (const { id } of rows) {
          await trx.updateTable('recordings').set({ status: 'lost', ended_at: now, end_reason: 'node-lost', error: why }).where('id', '=', id).where('status', '=', 'recording').execute();
          const recording = toRecording(await trx.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
          await then(trx, recording);
          lost.push(recording);
        }
        await trx.deleteFrom('nodes').where('node_id', '=', node.node_id).where('heartbeat_at', '<', cutoff).execute();
      }
      return lost;
    });
  }

  /** Removes the rows of a recording (its files are the caller's to delete), leaving `tombstone` in their place in one transaction. */
  /** Removes a recording's rows; its tombstone and anything else (`alongside`: its audit entry) in the same transaction. */
  async remove(id: string, tombstone?: Tombstone, alongside?: (trx: Transaction<CatalogDatabase>) => Promise<void>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      if (tombstone) await new TombstonesRepo(this.db).add(trx, tombstone);
      if (alongside) await alongside(trx);
      await trx.deleteFrom('recording_events').where('recording_id', '=', id).execute();
      await trx.deleteFrom('recording_params').where('recording_id', '=', id).execute();
      await trx.deleteFrom('jobs').where('recording_id', '=', id).execute();
      await trx.deleteFrom('transcript_segments').where('recording_id', '=', id).execute();
      await trx.deleteFrom('recording_analytics').where('recording_id', '=', id).execute();
      const result = await trx.deleteFrom('recordings').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  /** Finished recordings that started before `beforeMs`, oldest first. */
  async finishedBefore(beforeMs: number, limit: number): Promise<Recording[]> {
    const rows = await this.db
      .selectFrom('recordings')
      .selectAll()
      .where('started_at', '<', beforeMs)
      .where('status', '!=', 'recording')
      // Held recordings are kept past retention (and would otherwise fill every batch).
      .where('hold', 'is', null)
      .orderBy('started_at')
      .limit(limit)
      .execute();
    return rows.map(toRecording);
  }
}
