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
