/**
 * Recordings in an S3-compatible bucket (a real s3rver over a socket): a call is spooled in
 * the data dir as always, then uploaded and verified; only then is its webhook sent (with
 * the objects' locations and checksums) and its spool removed. The API serves its audio from
 * the bucket, whole and by range, sample for sample. A bucket that is down delays uploads
 * (the spool keeps every file, /readyz and /metrics say so, no webhook goes out), across a
 * restart too, and nothing is lost when it comes back. Deleting removes the objects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { startPostgres } from '../helpers/postgres.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { findRecordingDir, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestS3, useS3Credentials, type TestS3 } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let s3: TestS3;
let receiver: Receiver;
const servers: TestServer[] = [];
beforeAll(async () => {
  s3 = await startTestS3();
  useS3Credentials(s3);
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  await receiver?.close();
});
afterAll(async () => {
  await s3?.stop();
});

async function start(dataDir: string, extra: Record<string, unknown> = {}): Promise<TestServer> {
  const server = await startTestServer({
    dataDir,
    storageUrl: `s3://${s3.bucket}/recordings-test`,
    s3Endpoint: s3.endpoint,
    uploadRetryBaseMs: 100,
    webhookUrl: receiver.url,
    webhookRetryBaseMs: 50,
    ...extra,
  });
  servers.push(server);
  return server;
}

async function recordCall(server: TestServer): Promise<{ streamSid: string; callSid: string; dir: string }> {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const done = server.finishedStream(call.streamSid);
  await streamSession(server.wsUrl(), writer.session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW))));
  await done;
  return { ...call, dir: findRecordingDir(server.dataDir, call.streamSid) };
}

async function recordingOf(server: TestServer, callSid: string) {
  const page = (await (await fetch(`${server.url}/api/recordings?callSid=${callSid}`)).json()) as {
    items: Array<{ id: string; storage: string; tracks: Array<{ name: string; location?: string; sha256?: string }> }>;
  };
  return page.items[0];
}

const webhooksFor = (callSid: string) => receiver.received.filter((r) => r.body.includes(callSid));

describe('recordings in an S3-compatible bucket', () => {
  it('uploads a finished call, verified, then sends its webhook with the object locations and removes the spool', async () => {
    receiver = await startReceiver();
    const server = await start(tempDataDir());
    const call = await recordCall(server);
    const localFiles = Object.fromEntries(['inbound.wav', 'outbound.wav', 'stereo.wav'].map((f) => [f, fs.readFileSync(path.join(call.dir, f))]));
    await waitFor(() => webhooksFor(call.callSid).length === 1, 15_000, 'the webhook after the upload');
    const body = JSON.parse(webhooksFor(call.callSid)[0]!.body) as { event: string; recording: { storage: string; tracks: Array<{ name: string; location: string; sha256: string }> } };
    expect(body.event).toBe('recording.complete');
    expect(body.recording.storage).toBe('s3');
    for (const track of body.recording.tracks) {
      expect(track.location).toMatch(new RegExp(`^s3://${s3.bucket}/recordings-test/\\d{4}/\\d{2}/\\d{2}/${call.streamSid}/${track.name}\\.wav$`));
      expect(track.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // The spool is gone; the API serves the audio from the bucket, exactly as recorded.
    await waitFor(() => !fs.existsSync(call.dir), 5000, 'the spool to be removed');
    const recording = (await recordingOf(server, call.callSid))!;
    expect(recording.storage).toBe('s3');
    for (const [file, bytes] of Object.entries(localFiles)) {
      const whole = Buffer.from(await (await fetch(`${server.url}/api/recordings/${recording.id}/audio/${file}`)).arrayBuffer());
      expect(whole.equals(bytes), file).toBe(true);
    }
    const ranged = await fetch(`${server.url}/api/recordings/${recording.id}/audio/inbound.wav`, { headers: { range: 'bytes=44-1043' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 44-1043/${localFiles['inbound.wav']!.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(SPEECH_IN_PCM.subarray(0, 1000))).toBe(true);
    // HEAD comes from the object's metadata: the bucket gets a HEAD, never a GET.
    const getsBefore = s3.requests.filter((r) => r.startsWith('GET')).length;
    const head = await fetch(`${server.url}/api/recordings/${recording.id}/audio/stereo.wav`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(localFiles['stereo.wav']!.length);
    expect(s3.requests.filter((r) => r.startsWith('GET')).length).toBe(getsBefore);
    // ?redirect=1: a short-lived presigned URL that fetches the object without credentials.
    const redirect = await fetch(`${server.url}/api/recordings/${recording.id}/audio/stereo.wav?redirect=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toMatch(/X-Amz-Expires=300/);
    expect(Buffer.from(await (await fetch(location)).arrayBuffer()).equals(localFiles['stereo.wav']!)).toBe(true);
    // Its peaks and meta.json went up with it.
    expect((await fetch(`${server.url}/api/recordings/${recording.id}/peaks`)).status).toBe(200);
    expect(((await (await fetch(`${server.url}/api/recordings/${recording.id}/meta.json`)).json()) as { streamSid: string }).streamSid).toBe(call.streamSid);
    // Deleting it removes the objects too.
    expect((await fetch(`${server.url}/api/recordings/${recording.id}`, { method: 'DELETE' })).status).toBe(204);
    const left = await server.catalog.objectStore!.head(`${path.relative(path.join(server.dataDir, 'recordings'), call.dir)}/stereo.wav`);
    expect(left).toBeUndefined();
  });

  it('keeps every file in the spool while the bucket is down, says so, and uploads them when it is back, across a restart', async () => {
    receiver = await startReceiver();
    const dataDir = tempDataDir();
    let server = await start(dataDir);
    s3.down = true;
    let call: Awaited<ReturnType<typeof recordCall>>;
    try {
      call = await recordCall(server);
      await waitFor(() => server.pipeline.statsOf('upload').retried >= 2, 10_000, 'upload attempts to fail');
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string; checks: Record<string, string> };
      expect(ready.checks.uploads).toBe('delayed: 1 waiting');
      // Recording goes on: the node stays ready.
      expect(ready.status).toBe('ready');
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/calltape_uploads_waiting 1/);
      expect(metrics).toMatch(/calltape_uploads_total\{outcome="failed"\} [1-9]/);
      expect(webhooksFor(call.callSid)).toEqual([]);
      expect(fs.readdirSync(call.dir).sort()).toEqual(['analytics.json', 'inbound.wav', 'meta.json', 'outbound.wav', 'peaks.bin', 'stereo.wav']);
      expect((await recordingOf(server, call.callSid))!.storage).toBe('local');
      // The node stops with the upload still owed; the next start takes it up.
      await server.stop();
      servers.splice(servers.indexOf(server), 1);
    } finally {
      s3.down = false;
    }
    server = await start(dataDir);
    await waitFor(() => webhooksFor(call.callSid).length === 1, 15_000, 'the upload after the restart');
    await waitFor(() => !fs.existsSync(call.dir), 5000, 'the spool to be removed');
    const recording = (await recordingOf(server, call.callSid))!;
    expect(recording.storage).toBe('s3');
    const stereo = Buffer.from(await (await fetch(`${server.url}/api/recordings/${recording.id}/audio/stereo.wav`)).arrayBuffer());
    expect(stereo.length).toBe(44 + SPEECH_IN_PCM.length * 2);
    expect(((await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, string> }).checks.uploads).toBe('ok');
  });

  it('retention deletes the objects of expired recordings, not only their rows', async () => {
    receiver = await startReceiver();
    // One second of retention, checked every second.
    const server = await start(tempDataDir(), { retentionDays: 1 / 86_400, retentionIntervalMs: 1000 });
    const call = await recordCall(server);
    await waitFor(() => webhooksFor(call.callSid).length === 1, 15_000, 'the upload');
    const key = `${path.relative(path.join(server.dataDir, 'recordings'), call.dir).split(path.sep).join('/')}/stereo.wav`;
    expect(await server.catalog.objectStore!.head(key)).toBeDefined();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await server.catalog.repo.getByStreamSid(call.streamSid))) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await server.catalog.repo.getByStreamSid(call.streamSid)).toBeUndefined();
    expect(await server.catalog.objectStore!.head(key)).toBeUndefined();
  });

  it('keeps the local copy with CALLTAPE_KEEP_LOCAL, and the start-up check leaves uploaded recordings alone', async () => {
    receiver = await startReceiver();
    const dataDir = tempDataDir();
    let server = await start(dataDir, { keepLocal: true });
    const call = await recordCall(server);
    await waitFor(() => webhooksFor(call.callSid).length === 1, 15_000, 'the upload');
    expect(fs.existsSync(path.join(call.dir, 'stereo.wav'))).toBe(true);
    await server.stop();
    servers.splice(0);
    // A spool removed by hand (or by a lost disk) is no loss once the bucket has it.
    fs.rmSync(call.dir, { recursive: true });
    server = await start(dataDir);
    const recording = (await recordingOf(server, call.callSid))!;
    expect((await (await fetch(`${server.url}/api/recordings/${recording.id}`)).json()) as { status: string }).toMatchObject({ status: 'complete' });
    const audio = await fetch(`${server.url}/api/recordings/${recording.id}/audio/inbound.wav`);
    expect(audio.status).toBe(200);
    expect((await audio.arrayBuffer()).byteLength).toBe(44 + SPEECH_IN_PCM.length);
  });

  it('on PostgreSQL, two nodes with their own spools share one catalog: each uploads its own calls, every call once', async () => {
    receiver = await startReceiver();
    const postgres = await startPostgres();
    try {
      const databaseUrl = await postgres.newDatabase();
      const a = await start(tempDataDir(), { databaseUrl });
      const b = await start(tempDataDir(), { databaseUrl });
      const calls = await Promise.all([recordCall(a), recordCall(b), recordCall(a), recordCall(b)]);
      await waitFor(() => calls.every((call) => webhooksFor(call.callSid).length === 1), 20_000, 'every upload');
      for (const call of calls) {
        await waitFor(() => !fs.existsSync(call.dir), 5000, 'the spools to be removed');
        const recording = (await recordingOf(a, call.callSid))!;
        expect(recording.storage).toBe('s3');
        // Either node serves it, from the bucket.
        for (const node of [a, b]) {
          const stereo = await fetch(`${node.url}/api/recordings/${recording.id}/audio/stereo.wav`);
          expect(stereo.status).toBe(200);
          expect((await stereo.arrayBuffer()).byteLength).toBe(44 + SPEECH_IN_PCM.length * 2);
        }
      }
      expect(a.pipeline.statsOf('upload').done).toBe(2);
      expect(b.pipeline.statsOf('upload').done).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(calls.map((call) => webhooksFor(call.callSid).length)).toEqual([1, 1, 1, 1]);
    } finally {
      for (const server of servers.splice(0)) await server.stop();
      await postgres.stop();
    }
  });
});
