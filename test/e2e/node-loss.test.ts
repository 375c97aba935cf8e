/**
 * Nodes on one PostgreSQL: a real `calltape serve` process recording calls is killed with
 * SIGKILL. After its heartbeat lease runs out, the other node marks its open recordings
 * `lost`, with the reason, and sends their webhook: nothing stays `recording` forever. When
 * the killed node comes back on its spool, it recovers those recordings (`recovered`, with
 * their audio) and announces them again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLiveCalls } from '../helpers/live-calls.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { spawnCalltape } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { findRecordingDir, readMeta, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';

const LEASE_MS = 3000;
let postgres: TestPostgres;
let receiver: Receiver;
beforeAll(async () => {
  postgres = await startPostgres();
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await postgres?.stop();
});

const events = (streamSid: string) =>
  receiver.received.map((r) => JSON.parse(r.body) as { event: string; recording: { streamSid: string; status: string; error: string | null; node: string } }).filter((e) => e.recording.streamSid === streamSid);

describe('a node that never comes back', () => {
  it("has its open recordings marked lost by another node after its lease, and recovers them if it returns", async () => {
    const databaseUrl = await postgres.newDatabase();
    const env = { DATABASE_URL: databaseUrl, CALLTAPE_NODE_ID: 'node-a', CALLTAPE_NODE_LEASE_MS: String(LEASE_MS), CALLTAPE_WEBHOOK_URL: receiver.url, CALLTAPE_WEBHOOK_POLL_MS: '50' };
    const dataDirA = tempDataDir();
    const a = spawnCalltape(dataDirA, env);
    const calls = await openLiveCalls(`${(await a.url).replace('http', 'ws')}/streams/twilio`, 3, 2000);
    const b = await startTestServer({ databaseUrl, nodeId: 'node-b', nodeLeaseMs: LEASE_MS, webhookUrl: receiver.url, webhookPollMs: 50 });
    try {
      await waitFor(() => calls.every((c) => readMeta(findRecordingDir(dataDirA, c.call.streamSid)).status === 'recording'), 5000, 'the calls to be recording');
      // Starting node-b did not touch node-a's live recordings (its start-up recovery is for its own).
      for (const c of calls) expect((await b.catalog.repo.getByStreamSid(c.call.streamSid))?.status).toBe('recording');
      const killedAt = Date.now();
      a.child.kill('SIGKILL');
      await a.exited;
      for (const c of calls) {
        await waitFor(() => events(c.call.streamSid).some((e) => e.event === 'recording.lost'), 4 * LEASE_MS, 'the lost webhook');
        const row = await b.catalog.repo.getByStreamSid(c.call.streamSid);
        expect(row).toMatchObject({ status: 'lost', endReason: 'node-lost', node: 'node-a' });
        expect(row!.error).toMatch(/^CALLTAPE_ERR_NODE_LOST: node node-a stopped answering/);
      }
      // Not before the lease ran out (counted from its last heartbeat, up to a sixth of it before the kill).
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual((LEASE_MS * 5) / 6 - 100);
      const listed = (await (await fetch(`${b.url}/api/recordings?status=lost`)).json()) as { items: unknown[] };
      expect(listed.items).toHaveLength(3);

      // node-a comes back on its spool: the recordings are repaired and recovered after all.
      const back = spawnCalltape(dataDirA, env);
      try {
        await back.url;
        for (const c of calls) {
          await waitFor(() => events(c.call.streamSid).some((e) => e.event === 'recording.recovered'), 10_000, 'the recovered webhook');
          const row = await b.catalog.repo.getByStreamSid(c.call.streamSid);
          expect(row).toMatchObject({ status: 'recovered' });
          expect(row!.durationMs).toBeGreaterThan(0);
        }
      } finally {
        back.child.kill('SIGTERM');
        await back.exited;
      }
    } finally {
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
      await b.stop();
    }
  });
});
