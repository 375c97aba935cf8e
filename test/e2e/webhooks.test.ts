/**
 * Completion webhooks, end to end: a real receiver, real retries, a restart with a delivery
 * pending, and two real calltape processes draining one PostgreSQL outbox.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalogDb } from '../../src/catalog/db.js';
import { WebhookOutbox } from '../../src/webhooks/outbox.js';
import { verifyWebhook } from '../../src/webhooks/sign.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { spawnCalltape } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const SECRET = 'whsec_test_0123456789';
const FAST_RETRIES = { webhookSecret: SECRET, webhookRetryBaseMs: 20, webhookRetryMaxMs: 200, webhookPollMs: 50 };

function shortCall(params: Record<string, string> = {}) {
  const call = newTwilioCall();
  const frames = new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 8000)), { tracks: ['inbound'], customParameters: params });
  return { call, frames };
}

describe('completion webhooks', () => {
  it('retries 500s with backoff and records exactly one success, with valid signatures', async () => {
    const receiver = await startReceiver({ answers: [500, 500, 500] });
    const server = await startTestServer({ webhookUrl: receiver.url, ...FAST_RETRIES });
    try {
      const { call, frames } = shortCall({ ticket: 'T-1' });
      await streamSession(server.wsUrl(), frames);
      await waitFor(() => receiver.received.some((r) => r.answeredWith === 200), 10_000, 'a successful delivery');
      await new Promise((r) => setTimeout(r, 300)); // room for a wrong extra delivery to show up
      expect(receiver.received.map((r) => r.answeredWith)).toEqual([500, 500, 500, 200]);
      expect(new Set(receiver.received.map((r) => r.headers['x-calltape-delivery'])).size).toBe(1);
      for (const r of receiver.received) {
        expect(verifyWebhook(SECRET, r.headers['x-calltape-timestamp'] as string, r.body, r.headers['x-calltape-signature'] as string)).toBe(true);
      }
      const body = JSON.parse(receiver.received[3]!.body);
      expect(body).toMatchObject({
        event: 'recording.complete',
        recording: { callSid: call.callSid, streamSid: call.streamSid, status: 'complete', durationMs: 1000, customParameters: { ticket: 'T-1' } },
      });
      expect(body.recording.tracks[0].url).toMatch(/^\/api\/recordings\/[0-9a-f-]+\/audio\/inbound\.wav$/);
      const rows = await server.catalog.db.db.selectFrom('webhook_deliveries').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'delivered', attempts: 4, last_status: 200 });
      expect(server.outbox.stats()).toEqual({ delivered: 1, retried: 3, failed: 0 });
    } finally {
      await server.stop();
      await receiver.close();
    }
  });

  it('honours a stream statusCallback only on the allow-list, and gives up on a 4xx', async () => {
    const allowed = await startReceiver({ answers: [404] });
    const forbidden = await startReceiver();
    const server = await startTestServer({ webhookAllow: `127.0.0.1:${allowed.port}`, ...FAST_RETRIES });
    try {
      await streamSession(server.wsUrl(), shortCall({ statusCallback: allowed.url }).frames);
      await streamSession(server.wsUrl(), shortCall({ statusCallback: forbidden.url }).frames);
      await waitFor(() => server.outbox.stats().failed === 1, 10_000, 'the 404 to fail the delivery');
      await server.catalog.settled();
      await new Promise((r) => setTimeout(r, 200));
      expect(allowed.received).toHaveLength(1);
      expect(forbidden.received).toHaveLength(0);
      const rows = await server.catalog.db.db.selectFrom('webhook_deliveries').selectAll().execute();
      expect(rows.map((r) => [r.url, r.status, r.attempts])).toEqual([[allowed.url, 'failed', 1]]);
    } finally {
      await server.stop();
      await allowed.close();
      await forbidden.close();
    }
  });

  it('delivers after a restart what was still pending when calltape stopped', async () => {
    const dataDir = tempDataDir();
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close(); // nothing listens there now: deliveries fail with ECONNREFUSED
    const url = `http://127.0.0.1:${port}/hooks/calltape`;
    const first = await startTestServer({ dataDir, webhookUrl: url, ...FAST_RETRIES });
    const { call, frames } = shortCall();
    await streamSession(first.wsUrl(), frames);
    await waitFor(() => first.outbox.stats().retried >= 1, 10_000, 'a failed first attempt');
    await first.stop();
    const pending = await openCatalogDb({ dataDir });
    expect((await pending.db.selectFrom('webhook_deliveries').select('status').execute()).map((r) => r.status)).toEqual(['pending']);
    await pending.close();

    const receiver = await startReceiver({ port });
    const second = await startTestServer({ dataDir, webhookUrl: url, ...FAST_RETRIES });
    try {
      await waitFor(() => receiver.received.length === 1, 10_000, 'the pending delivery');
      expect(JSON.parse(receiver.received[0]!.body).recording.callSid).toBe(call.callSid);
    } finally {
      await second.stop();
      await receiver.close();
    }
  });
});

describe('two calltape processes on one PostgreSQL', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  const startNode = (databaseUrl: string) =>
    spawnCalltape(tempDataDir(), { DATABASE_URL: databaseUrl, CALLTAPE_WEBHOOK_SECRET: SECRET, CALLTAPE_WEBHOOK_POLL_MS: '20' });

  it('delivers each of 100 events exactly once', async () => {
    const databaseUrl = await postgres.newDatabase();
    const receiver = await startReceiver({ delayMs: 5 });
    const catalog = await openCatalogDb({ dataDir: tempDataDir(), databaseUrl });
    const outbox = new WebhookOutbox({ db: catalog.db, dialect: 'postgres', logger: pino({ level: 'silent' }), secret: SECRET, retryBaseMs: 20, retryMaxMs: 100, maxAgeMs: 60_000, timeoutMs: 5000, pollMs: 50 });
    for (let i = 0; i < 100; i++) {
      await outbox.enqueue(catalog.db, { recordingId: `rec-${i}`, event: 'recording.complete', url: receiver.url, body: JSON.stringify({ n: i }) });
    }
    const nodes = [startNode(databaseUrl), startNode(databaseUrl)];
    try {
      await Promise.all(nodes.map((n) => n.url));
      await waitFor(() => receiver.received.length >= 100, 30_000, '100 deliveries');
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive in this time
      const ids = receiver.received.map((r) => r.headers['x-calltape-delivery']);
      expect(receiver.received).toHaveLength(100);
      expect(new Set(ids).size).toBe(100);
      expect(new Set(receiver.received.map((r) => JSON.parse(r.body).n)).size).toBe(100);
      const delivered = await catalog.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'delivered').execute();
      expect(delivered).toHaveLength(100);
    } finally {
      for (const n of nodes) n.child.kill('SIGTERM');
      await Promise.all(nodes.map((n) => n.exited));
      await catalog.close();
      await receiver.close();
    }
  });
});

describe('webhook outbox under hostile receivers', () => {
  const outboxFor = (catalog: Awaited<ReturnType<typeof openCatalogDb>>, maxAgeMs = 60_000) =>
    new WebhookOutbox({ db: catalog.db, dialect: catalog.dialect, logger: pino({ level: 'silent' }), secret: SECRET, retryBaseMs: 20, retryMaxMs: 100, maxAgeMs, timeoutMs: 10_000, pollMs: 50 });

  it('a slow receiver does not hold back deliveries to others', async () => {
    const slow = await startReceiver({ delayMs: 8000 });
    const fast = await startReceiver();
    const catalog = await openCatalogDb({ dataDir: tempDataDir() });
    const outbox = outboxFor(catalog);
    try {
      for (let i = 0; i < 20; i++) await outbox.enqueue(catalog.db, { recordingId: `slow-${i}`, event: 'recording.complete', url: slow.url, body: '{}' });
      for (let i = 0; i < 20; i++) await outbox.enqueue(catalog.db, { recordingId: `fast-${i}`, event: 'recording.complete', url: fast.url, body: '{}' });
      const startedAt = performance.now();
      outbox.start();
      await waitFor(() => fast.received.length === 20, 6000, 'the fast receiver to get all 20 while the slow one holds its answers');
      // Before the slow receiver's first answer: nothing waited for it.
      expect(performance.now() - startedAt).toBeLessThan(8000);
      // The slow receiver holds at most its own share of places at once.
      expect(slow.received.length).toBeLessThanOrEqual(4);
    } finally {
      await outbox.stop();
      await catalog.close();
      await slow.close();
      await fast.close();
    }
  });

  it("a Retry-After past the delivery's max age fails it now, with the reason, instead of scheduling it years out", async () => {
    const receiver = await startReceiver({ answers: [503], retryAfter: '99999999' });
    const catalog = await openCatalogDb({ dataDir: tempDataDir() });
    const outbox = outboxFor(catalog, 5000);
    try {
      await outbox.enqueue(catalog.db, { recordingId: 'r-1', event: 'recording.complete', url: receiver.url, body: '{}' });
      outbox.start();
      await waitFor(() => outbox.stats().failed === 1, 3000, 'the delivery to fail');
      const [row] = await catalog.db.selectFrom('webhook_deliveries').selectAll().execute();
      expect(row).toMatchObject({ status: 'failed', attempts: 1, last_status: 503 });
      expect(row!.last_error).toContain('max age');
    } finally {
      await outbox.stop();
      await catalog.close();
      await receiver.close();
    }
  });

  it('a delivery whose max age ran out while nothing sent it fails at the next poll', async () => {
    const receiver = await startReceiver();
    const catalog = await openCatalogDb({ dataDir: tempDataDir() });
    const outbox = outboxFor(catalog, 1000);
    try {
      await outbox.enqueue(catalog.db, { recordingId: 'r-old', event: 'recording.complete', url: receiver.url, body: '{}' });
      // Pending, not due until long after its age ran out (as a Retry-After left it before this fix).
      await catalog.db.updateTable('webhook_deliveries').set({ created_at: Date.now() - 5000, next_attempt_at: Date.now() + 1e11 }).execute();
      outbox.start();
      await waitFor(() => outbox.stats().failed === 1, 3000, 'the expired delivery to fail');
      const [row] = await catalog.db.selectFrom('webhook_deliveries').selectAll().execute();
      expect(row).toMatchObject({ status: 'failed' });
      expect(receiver.received).toHaveLength(0);
    } finally {
      await outbox.stop();
      await catalog.close();
      await receiver.close();
    }
  });
});
