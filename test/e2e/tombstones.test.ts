/**
 * Tombstones through the API of a real calltape: a deleted recording answers 410 with who
 * deleted it (as the API let the client in), when and why; retention leaves its own; the
 * list shows them newest first; the API cannot write one except by deleting.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionJob } from '../../src/catalog/retention.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

async function recordCall(): Promise<{ id: string; callSid: string; streamSid: string }> {
  const call = newTwilioCall();
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW))));
  const id = await server.finishedId(call.streamSid);
  await server.pipelineSettled();
  return { id, callSid: call.callSid, streamSid: call.streamSid };
}

describe('tombstones', () => {
  it('a deleted recording answers 410 with who, when and why; its sub-resources too', async () => {
    const { id, callSid, streamSid } = await recordCall();
    for (const query of ['?reason=', `?reason=${'x'.repeat(501)}`, '?why=gdpr', '?reason=a&reason=b']) {
      expect((await fetch(`${server.url}/api/recordings/${id}${query}`, { method: 'DELETE' })).status, query).toBe(400);
    }
    const before = Date.now();
    expect((await fetch(`${server.url}/api/recordings/${id}?reason=${encodeURIComponent('GDPR erasure request 77')}`, { method: 'DELETE' })).status).toBe(204);
    for (const path of ['', '/audio/inbound.wav', '/transcript', '/peaks', '/files/meta.json']) {
      const gone = await fetch(`${server.url}/api/recordings/${id}${path}`);
      expect(gone.status, path).toBe(410);
      const body = (await gone.json()) as { error: { code: string; message: string }; tombstone: Record<string, unknown> };
      expect(body.error.code).toBe('CALLTAPE_ERR_RECORDING_DELETED');
      expect(body.error.message).toContain('by local: GDPR erasure request 77');
      expect(body.tombstone).toMatchObject({ id, callSid, streamSid, deletedBy: 'local', reason: 'GDPR erasure request 77', manifestSha256: null, provider: 'twilio' });
      expect(Date.parse(body.tombstone.deletedAt as string)).toBeGreaterThanOrEqual(before - 1000);
    }
    // Deleting again: still 410, and one tombstone.
    expect((await fetch(`${server.url}/api/recordings/${id}`, { method: 'DELETE' })).status).toBe(410);
    const list = (await (await fetch(`${server.url}/api/tombstones`)).json()) as { items: Array<{ id: string }> };
    expect(list.items.filter((t) => t.id === id)).toHaveLength(1);
    // Nothing writes a tombstone but a deletion.
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await fetch(`${server.url}/api/tombstones`, { method })).status, method).toBe(404);
  });

  it('retention leaves its own tombstones, listed newest first and paged', async () => {
    const first = await recordCall();
    const second = await recordCall();
    await new RetentionJob(server.catalog, 0, 3_600_000, pino({ level: 'silent' })).runOnce(Date.now() + 60_000);
    const gone = (await (await fetch(`${server.url}/api/recordings/${second.id}`)).json()) as { tombstone: Record<string, unknown> };
    expect(gone.tombstone).toMatchObject({ deletedBy: 'retention', reason: 'older than 0 days (CALLTAPE_RETENTION_DAYS)' });
    const page = (await (await fetch(`${server.url}/api/tombstones?limit=2`)).json()) as { items: Array<{ id: string; deletedAt: string }> };
    expect(page.items).toHaveLength(2);
    expect(page.items.map((t) => t.id).sort()).toEqual([first.id, second.id].sort());
    const next = (await (await fetch(`${server.url}/api/tombstones?limit=2&before=${encodeURIComponent(page.items[1]!.deletedAt)}`)).json()) as { items: Array<{ deletedAt: string }> };
    for (const t of next.items) expect(Date.parse(t.deletedAt)).toBeLessThan(Date.parse(page.items[1]!.deletedAt));
    expect((await fetch(`${server.url}/api/tombstones?limit=0`)).status).toBe(400);
  });
});
