/**
 * Migrations, one list for both dialects, run at start-up. Append only: a released
 * migration is never edited.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

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
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
