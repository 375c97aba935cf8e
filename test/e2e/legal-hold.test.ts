/**
 * Legal hold through the API of a real calltape: a hold needs a reason, shows in the
 * recording's JSON, refuses deletion by hand and by retention (409 CALLTAPE_ERR_LEGAL_HOLD)
 * with the files on disk and in the bucket untouched, and once released both proceed. The
 * bucket here (s3rver) has no S3 Object Lock: the answer says so (`bucketHold: false`) and
 * calltape's own hold is what keeps the objects.
 */
import fs from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionJob } from '../../src/catalog/retention.js';
import { findRecordingDir, tempDataDir } from '../helpers/recordings.js';
import { startTestS3, useS3Credentials, type TestS3 } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let s3: TestS3;
let server: TestServer;

beforeAll(async () => {
  s3 = await startTestS3();
  useS3Credentials(s3);
  server = await startTestServer({ dataDir: tempDataDir(), storageUrl: `s3://${s3.bucket}/held`, s3Endpoint: s3.endpoint, uploadRetryBaseMs: 100, keepLocal: true });
});

afterAll(async () => {
  await server?.stop();
  await s3?.stop();
});

async function recordCall(): Promise<{ id: string; dir: string; streamSid: string }> {
  const call = newTwilioCall();
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW))));
  const id = await server.finishedId(call.streamSid);
  expect(await server.jobSettled(id, 'upload', 30_000)).toMatchObject({ state: 'done' });
  return { id, dir: findRecordingDir(server.dataDir, call.streamSid), streamSid: call.streamSid };
}

const request = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });

async function objectsOf(streamSid: string): Promise<number> {
  let n = 0;
  for await (const object of server.catalog.objectStore!.list('')) if (object.key.includes(streamSid)) n++;
  return n;
}

describe('legal hold', () => {
  it('needs a reason, shows on the recording, and refuses deletion until released', async () => {
    const { id, dir, streamSid } = await recordCall();
    for (const body of [undefined, {}, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'ok', until: 'never' }]) {
      const refused = await request('PUT', `/api/recordings/${id}/hold`, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    const placed = await request('PUT', `/api/recordings/${id}/hold`, { reason: 'Matter 2026-114: litigation hold' });
    expect(placed.status).toBe(200);
    const answer = (await placed.json()) as { hold: { reason: string; since: string; by: string }; bucketHold: boolean };
    expect(answer).toMatchObject({ hold: { reason: 'Matter 2026-114: litigation hold', by: 'local' }, bucketHold: false });
    const shown = (await (await request('GET', `/api/recordings/${id}`)).json()) as { hold: unknown };
    expect(shown.hold).toEqual(answer.hold);
    const objects = await objectsOf(streamSid);
    expect(objects).toBeGreaterThan(3);

    const refused = await request('DELETE', `/api/recordings/${id}`);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_LEGAL_HOLD', message: expect.stringContaining('Matter 2026-114') } });
    expect(fs.existsSync(dir)).toBe(true);
    expect(await objectsOf(streamSid)).toBe(objects);
    // Placing it again keeps when and by whom; the reason may be corrected.
    const again = (await (await request('PUT', `/api/recordings/${id}/hold`, { reason: 'Matter 2026-114' })).json()) as { hold: { since: string; reason: string } };
    expect(again.hold).toMatchObject({ since: answer.hold.since, reason: 'Matter 2026-114' });

    expect(await (await request('DELETE', `/api/recordings/${id}/hold`)).json()).toEqual({ hold: null, bucketHold: false });
    expect((await request('DELETE', `/api/recordings/${id}`)).status).toBe(204);
    expect(fs.existsSync(dir)).toBe(false);
    expect(await objectsOf(streamSid)).toBe(0);
    expect((await request('PUT', `/api/recordings/${id}/hold`, { reason: 'too late' })).status).toBe(410);
  });

  it('keeps a held recording past retention, with every file, and lets retention take it once released', async () => {
    const held = await recordCall();
    const free = await recordCall();
    expect((await request('PUT', `/api/recordings/${held.id}/hold`, { reason: 'audit 7' })).status).toBe(200);
    // Everything is past a retention of 0 days a minute from now.
    const retention = new RetentionJob(server.catalog, 0, 3_600_000, pino({ level: 'silent' }));
    await retention.runOnce(Date.now() + 60_000);
    expect((await request('GET', `/api/recordings/${free.id}`)).status).toBe(410);
    expect((await request('GET', `/api/recordings/${held.id}`)).status).toBe(200);
    expect(fs.existsSync(held.dir)).toBe(true);
    expect(await objectsOf(held.streamSid)).toBeGreaterThan(3);
    await request('DELETE', `/api/recordings/${held.id}/hold`);
    await retention.runOnce(Date.now() + 60_000);
    expect((await request('GET', `/api/recordings/${held.id}`)).status).toBe(410);
    expect(await objectsOf(held.streamSid)).toBe(0);
  });
});
