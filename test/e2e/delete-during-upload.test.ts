/**
 * A deleted call leaves nothing behind in the bucket (security round 2). Over a slow link to a
 * real s3rver, DELETE during the upload is refused 409 CALLTAPE_ERR_UPLOAD_IN_PROGRESS (it
 * used to answer 204 while the uploader went on putting files no row pointed at); once the
 * upload settles the delete removes every object. Objects no recording points at (older than
 * the grace period) are found and removed by the orphan sweep; a recording's own are kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { tempDataDir } from '../helpers/recordings.js';
import { startTestS3, useS3Credentials, type TestS3 } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const PREFIX = 'orphans-test';
let s3: TestS3;
let server: TestServer;
let bucket: S3ObjectStore;

beforeAll(async () => {
  s3 = await startTestS3();
  useS3Credentials(s3);
  server = await startTestServer({ dataDir: tempDataDir(), storageUrl: `s3://${s3.bucket}/${PREFIX}`, s3Endpoint: s3.endpoint, uploadRetryBaseMs: 100 });
  bucket = new S3ObjectStore({ bucket: s3.bucket, prefix: PREFIX, endpoint: s3.endpoint, client: { credentials: s3.credentials, maxAttempts: 2 } });
});
afterAll(async () => {
  s3.uploadBytesPerSecond = undefined;
  await server?.stop();
  await s3?.stop();
});

async function recordCall(): Promise<{ id: string; streamSid: string }> {
  const call = newTwilioCall();
  const done = server.finishedStream(call.streamSid);
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW))));
  await done;
  await server.catalog.settled();
  return { id: (await server.catalog.repo.getByStreamSid(call.streamSid))!.id, streamSid: call.streamSid };
}

async function objectsOf(streamSid: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of bucket.list('')) if (object.key.includes(`/${streamSid}/`)) keys.push(object.key);
  return keys.sort();
}

const uploadState = async (id: string) => server.catalog.db.db.selectFrom('jobs').select(['locked_until']).where('recording_id', '=', id).where('kind', '=', 'upload').executeTakeFirst();

describe('deleting a recording while it is uploaded', () => {
  it('is refused until the upload settles, then removes every object', async () => {
    s3.uploadBytesPerSecond = 40 * 1024;
    const { id, streamSid } = await recordCall();
    // The uploader holds the job: its files are going up the slow link now.
    let leased = false;
    for (let i = 0; i < 100 && !leased; i++) {
      leased = ((await uploadState(id))?.locked_until ?? 0) > Date.now();
      if (!leased) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(leased).toBe(true);
    const refused = await fetch(`${server.url}/api/recordings/${id}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CALLTAPE_ERR_UPLOAD_IN_PROGRESS');
    expect(await server.catalog.repo.get(id)).toBeDefined();

    s3.uploadBytesPerSecond = undefined;
    for (let i = 0; i < 200 && (await server.catalog.repo.get(id))?.storage !== 's3'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await server.catalog.repo.get(id))?.storage).toBe('s3');
    expect(await objectsOf(streamSid)).toHaveLength(6); // three WAVs, meta.json, peaks.bin, analytics.json
    expect((await fetch(`${server.url}/api/recordings/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await objectsOf(streamSid)).toEqual([]);
  }, 120_000);

  it('the orphan sweep removes objects no recording points at, past the grace period, and keeps a recording’s own', async () => {
    const kept = await recordCall();
    for (let i = 0; i < 200 && (await server.catalog.repo.get(kept.id))?.storage !== 's3'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const keptObjects = await objectsOf(kept.streamSid);
    expect(keptObjects.length).toBeGreaterThan(0);
    // What a crash between an upload and a deletion leaves: objects of a recording with no row.
    const stray = 'MZ00000000000000000000000000000dead';
    const source = new URL(import.meta.url).pathname;
    await bucket.put(`2026/12/01/${stray}/inbound.wav`, source);
    await bucket.put(`2026/12/01/${stray}/meta.json`, source);
    // Not past the grace period: an upload may still be writing them.
    expect(await server.orphans!.runOnce(Date.now())).toBe(0);
    expect(await objectsOf(stray)).toHaveLength(2);
    expect(await server.orphans!.runOnce(Date.now() + 2 * 3600 * 1000)).toBe(2);
    expect(await objectsOf(stray)).toEqual([]);
    expect(await objectsOf(kept.streamSid)).toEqual(keptObjects);
  });
});
