/** Two real calltape nodes (node-a, node-b) sharing one catalog on an embedded PostgreSQL, each with its own data dir. */
import type { RecorderOptions } from '../../src/recording/recorder.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { tempDataDir } from './recordings.js';
import { startTestServer, type TestServer } from './server.js';

export interface TwoNodes {
  readonly a: TestServer;
  readonly b: TestServer;
  stop(): Promise<void>;
}

/** `options` go to both nodes (a token, a credential). */
export async function startTwoNodes(options: RecorderOptions = {}): Promise<TwoNodes> {
  const postgres: TestPostgres = await startPostgres();
  const databaseUrl = await postgres.newDatabase();
  const a = await startTestServer({ ...options, databaseUrl, dataDir: tempDataDir(), nodeId: 'node-a' });
  const b = await startTestServer({ ...options, databaseUrl, dataDir: tempDataDir(), nodeId: 'node-b' });
  return {
    a,
    b,
    async stop() {
      await a.stop();
      await b.stop();
      await postgres.stop();
    },
  };
}
