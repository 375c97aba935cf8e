/**
 * Migrations, one list for both dialects, run at start-up. Append only: a released
 * migration is never edited.
 */
import { PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '001_recordings': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('recordings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('call_sid', 'text', (c) => c.notNull())
        .addColumn('stream_sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('tracks', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('sample_rate', 'integer', (c) => c.notNull())
        .addColumn('custom_parameters', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('end_reason', 'text')
        .addColumn('error', 'text')
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('files', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('rejections', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('recordings_started_idx').on('recordings').columns(['started_at', 'id']).execute();
      await db.schema.createIndex('recordings_call_idx').on('recordings').column('call_sid').execute();
      await db.schema.createIndex('recordings_status_idx').on('recordings').column('status').execute();
      await db.schema
        .createTable('recording_params')
        .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('recording_params_pk', ['recording_id', 'name'])
        .execute();
      await db.schema.createIndex('recording_params_lookup_idx').on('recording_params').columns(['name', 'value']).execute();
      await db.schema
        .createTable('recording_events')
        .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_ms', 'bigint')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('recording_events_pk', ['recording_id', 'seq'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('recording_events').execute();
      await db.schema.dropTable('recording_params').execute();
      await db.schema.dropTable('recordings').execute();
    },
  },
  '002_webhook_deliveries': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('recording_id', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'bigint')
        .execute();
      await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('webhook_deliveries').execute();
    },
  },
  '003_uploads': {
    async up(db: Kysely<unknown>) {
      // Where a finished recording's files are: `local` (the data dir) or `s3` (the bucket).
      await db.schema.alterTable('recordings').addColumn('storage', 'text', (c) => c.notNull().defaultTo('local')).execute();
      await db.schema
        .createTable('uploads')
        .addColumn('recording_id', 'text', (c) => c.primaryKey())
        // The spool the files wait in (host and data dir): only the node that has them uploads them.
        .addColumn('spool', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema.createIndex('uploads_due_idx').on('uploads').columns(['spool', 'next_attempt_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('uploads').execute();
      await db.schema.alterTable('recordings').dropColumn('storage').execute();
    },
  },
  '004_nodes': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('recordings').addColumn('node_id', 'text').execute();
      await db.schema
        .createTable('nodes')
        .addColumn('node_id', 'text', (c) => c.primaryKey())
        // Where the other nodes reach this one's API (live list, pause and resume).
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('nodes').execute();
      await db.schema.alterTable('recordings').dropColumn('node_id').execute();
    },
  },
  '005_revoked_sessions': {
    async up(db: Kysely<unknown>) {
      // Dashboard sessions signed out before they expire, checked on use by every node.
      await db.schema
        .createTable('revoked_sessions')
        .addColumn('signature', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('revoked_sessions').execute();
    },
  },
  '006_jobs_and_transcripts': {
    async up(db: Kysely<unknown>) {
      // The post-call pipeline (pipeline/): one row per step of a finished recording. The
      // uploads table was its first kind; its waiting rows become upload jobs, each followed
      // by the completion webhook it used to queue itself.
      await db.schema
        .createTable('jobs')
        .addColumn('recording_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        // A job runs once every job of its recording with a lower stage has settled.
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('spool', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        .addColumn('lease', 'text')
        .addColumn('last_error', 'text')
        .addColumn('finished_at', 'bigint')
        .addPrimaryKeyConstraint('jobs_pk', ['recording_id', 'kind'])
        .execute();
      await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['spool', 'state', 'next_attempt_at']).execute();
      await sql`insert into jobs (recording_id, kind, stage, spool, state, attempts, created_at, next_attempt_at, last_error)
        select recording_id, 'upload', 8, spool, 'pending', attempts, created_at, next_attempt_at, last_error from uploads`.execute(db);
      await sql`insert into jobs (recording_id, kind, stage, spool, state, attempts, created_at, next_attempt_at)
        select recording_id, 'notify', 9, spool, 'pending', 0, created_at, next_attempt_at from uploads`.execute(db);
      await db.schema.dropTable('uploads').execute();

      // Transcript text, one row per segment, searched with the database's own full-text index.
      await db.schema
        .createTable('transcript_segments')
        .addColumn('recording_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('track', 'text', (c) => c.notNull())
        .addColumn('speaker', 'text', (c) => c.notNull())
        .addColumn('start_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_ms', 'bigint', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('transcript_segments_pk', ['recording_id', 'seq'])
        .execute();
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        // English stemming ("charges" finds "charge"), kept in step with the text by PostgreSQL.
        await sql`alter table transcript_segments add column tsv tsvector generated always as (to_tsvector('english', text)) stored`.execute(db);
        await sql`create index transcript_segments_tsv_idx on transcript_segments using gin (tsv)`.execute(db);
      } else {
        // FTS5 over the segments' text (porter stemming), kept in step by triggers.
        await sql`create virtual table transcript_fts using fts5(text, content='transcript_segments', content_rowid='rowid', tokenize='porter unicode61')`.execute(db);
        await sql`create trigger transcript_segments_ai after insert on transcript_segments begin insert into transcript_fts(rowid, text) values (new.rowid, new.text); end`.execute(db);
        await sql`create trigger transcript_segments_ad after delete on transcript_segments begin insert into transcript_fts(transcript_fts, rowid, text) values ('delete', old.rowid, old.text); end`.execute(db);
      }
    },
    async down(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
        await sql`drop trigger if exists transcript_segments_ai`.execute(db);
        await sql`drop trigger if exists transcript_segments_ad`.execute(db);
        await sql`drop table if exists transcript_fts`.execute(db);
      }
      await db.schema.dropTable('transcript_segments').execute();
      await db.schema.dropTable('jobs').execute();
    },
  },
  '007_recording_analytics': {
    async up(db: Kysely<unknown>) {
      // Conversation analytics (analytics/), one row per analysed recording: the figures the
      // list API filters on as columns, the rest (without the speech intervals) as JSON.
      await db.schema
        .createTable('recording_analytics')
        .addColumn('recording_id', 'text', (c) => c.primaryKey())
        .addColumn('analyzed_ms', 'bigint', (c) => c.notNull())
        .addColumn('talk_ms_caller', 'bigint', (c) => c.notNull())
        .addColumn('talk_ms_agent', 'bigint', (c) => c.notNull())
        .addColumn('silence_ms', 'bigint', (c) => c.notNull())
        .addColumn('overlap_ms', 'bigint', (c) => c.notNull())
        .addColumn('interruptions', 'integer', (c) => c.notNull())
        // The agent's talk time over the caller's (null when the caller never spoke).
        .addColumn('agent_talk_ratio', 'double precision')
        .addColumn('metrics', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('recording_analytics').execute();
    },
  },
  '008_job_options': {
    async up(db: Kysely<unknown>) {
      // What a job queued by hand was asked for (the archive formats of `calltape archive
      // --formats`), as JSON; null: the node's own settings.
      await db.schema.alterTable('jobs').addColumn('options', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('jobs').dropColumn('options').execute();
    },
  },
  '009_legal_hold': {
    async up(db: Kysely<unknown>) {
      // A legal hold on a recording (JSON {reason, since, by}); null: none. A held recording
      // is never deleted, by hand or by retention.
      await db.schema.alterTable('recordings').addColumn('hold', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('recordings').dropColumn('hold').execute();
    },
  },
  '010_tombstones': {
    async up(db: Kysely<unknown>) {
      // What is left of a deleted recording: who deleted it, when, why, and the hash of its
      // signed manifest (custody/), so a deletion can be accounted for after the fact.
      await db.schema
        .createTable('tombstones')
        .addColumn('recording_id', 'text', (c) => c.primaryKey())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('call_sid', 'text', (c) => c.notNull())
        .addColumn('stream_sid', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('manifest_sha256', 'text')
        .execute();
      await db.schema.createIndex('tombstones_deleted_idx').on('tombstones').columns(['deleted_at', 'recording_id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('tombstones').execute();
    },
  },
  '011_audit_log': {
    async up(db: Kysely<unknown>) {
      // Who read or changed what (catalog/audit-log.ts): appended by the API, never updated
      // but for `relayed_to` (the node a request was passed to claims the entry as its own).
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'text')
        .addColumn('stream_sid', 'text')
        .addColumn('address', 'text')
        .addColumn('detail', 'text')
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('relayed_to', 'text')
        .execute();
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
      await db.schema.createIndex('audit_log_recording_idx').on('audit_log').columns(['recording_id', 'at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('audit_log').execute();
    },
  },
  '012_encryption': {
    async up(db: Kysely<unknown>) {
      // A recording's encryption to its owner's age recipients (JSON {at, recipients, files}),
      // null while (or if never) encrypted: custody/encrypt-recording.ts.
      await db.schema.alterTable('recordings').addColumn('encryption', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('recordings').dropColumn('encryption').execute();
    },
  },
  '013_jobs_due_by_kind': {
    async up(db: Kysely<unknown>) {
      // A claiming round asks, kind by kind, for the first due job (pipeline/jobs.ts
      // dueKinds, claim): with the kind ahead of the due time, each answer is the head of
      // that kind's range instead of a scan past every other kind's due jobs.
      await db.schema.createIndex('jobs_kind_due_idx').on('jobs').columns(['spool', 'kind', 'state', 'next_attempt_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('jobs_kind_due_idx').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
