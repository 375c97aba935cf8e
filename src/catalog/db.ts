/**
 * Opens the catalog: SQLite (a file in the data dir) by default, PostgreSQL when
 * DATABASE_URL is set, and brings its schema up to date.
 */
import { PG_POOL_MAX } from '../limits.js';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import type { CatalogDatabase } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface CatalogDb {
  readonly db: Kysely<CatalogDatabase>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

const PG_INT8 = 20;

/**
 * Whether a write failed on a unique key (a row with that key exists): SQLite's constraint
 * codes, PostgreSQL's unique_violation. Such a write can never succeed by retrying.
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

export async function openCatalogDb(opts: {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Errors of idle PostgreSQL connections (server restart, admin shutdown); the pool replaces them. */
  onConnectionError?: (err: Error) => void;
}): Promise<CatalogDb> {
  let db: Kysely<CatalogDatabase>;
  let dialect: Dialect;
  if (opts.databaseUrl) {
    dialect = 'postgres';
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: PG_POOL_MAX,
      // bigint columns hold epoch ms and durations: well inside a double's exact range.
      types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === PG_INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) } as pg.CustomTypesConfig,
    });
    // Without a listener, an idle connection dropped by the server would crash the process.
    pool.on('error', (err) => opts.onConnectionError?.(err));
    // The pool listens only to idle clients: one checked out when the server goes away
    // (a restart, an admin shutdown) emits its error with nobody listening, which would
    // crash the process too. Its query fails as well, and the catalog retries it.
    pool.on('connect', (client) => client.on('error', (err) => opts.onConnectionError?.(err)));
    db = new Kysely<CatalogDatabase>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const file = new Database(path.join(opts.dataDir, 'calltape.db'));
    // Exclusive locking before WAL: the WAL index lives in this process's memory instead of
    // a mmapped calltape.db-shm, so a -shm file that cannot be written (read-only, a full or
    // faulty disk) cannot kill the process with SIGBUS. The catalog file is this process's
    // alone (nodes share a catalog through PostgreSQL); a second process gets SQLITE_BUSY.
    file.pragma('locking_mode = EXCLUSIVE');
    file.pragma('journal_mode = WAL');
    // WAL's default (FULL) fsyncs on every commit, on the event loop that is also reading
    // every live call's frames (better-sqlite3 is synchronous): ~2 commits per call, each a
    // stall. NORMAL syncs at checkpoints: a power cut (not a process crash) may undo the last
    // commits but never corrupts the file; start-up recovery repairs rows left at recording.
    file.pragma('synchronous = NORMAL');
    file.pragma('foreign_keys = ON');
    file.pragma('busy_timeout = 5000');
    db = new Kysely<CatalogDatabase>({ dialect: new SqliteDialect({ database: keepingStatements(file) }) });
  }
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { db, dialect, close: () => db.destroy() };
}

/**
 * The SQLite file with its prepared statements kept: kysely's driver prepares every query
 * anew, and a call's two catalog transactions run the same eight statements each time.
 * Bounded, oldest dropped first (queries with a varying number of rows have varying text).
 * Safe to share because the driver runs one query at a time and calltape streams none.
 */
function keepingStatements(file: Database.Database, limit = 200): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => file.close(),
    prepare(sql: string) {
      // SQLite rolls a transaction back by itself when a write fails for want of space
      // (SQLITE_FULL); kysely's ROLLBACK after it would then fail with "no transaction is
      // active" and hide the real error. Rolling back only what is open keeps the real one.
      if (/^\s*rollback\s*$/i.test(sql)) {
        const rollback = file.prepare(sql);
        const onlyIfOpen: SqliteStatement = {
          reader: false,
          all: () => [],
          iterate: () => [][Symbol.iterator](),
          run: () => (file.inTransaction ? rollback.run() : { changes: 0, lastInsertRowid: 0 }),
        };
        return onlyIfOpen;
      }
      let statement = statements.get(sql);
      if (!statement) {
        statement = file.prepare(sql);
        if (statements.size >= limit) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
