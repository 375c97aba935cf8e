/**
 * A stream cannot overwrite another's recording (security round 2). With Twilio secured by
 * its auth token, an unauthenticated stream on an open route (Telnyx, no credential) that
 * claims a real call's stream id is refused with CALLTAPE_ERR_STREAM_EXISTS and touches
 * nothing of the real recording: not its catalog row, not its files, not its webhook, on one
 * node or on two sharing a catalog, before and after a restart, finished or still live.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter, type TwilioCall } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';
import type { RecordingMeta } from '../../src/recording/meta.js';

const TOKEN = 'squatting-test-auth-token';

function signed(server: TestServer) {
  return { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TOKEN, `${server.wsUrl().replace(/^ws:/, 'wss:')}`, {}) };
}

/** Opens a real, signed Twilio call and sends its start and the first second. */
async function openRealCall(server: TestServer) {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const ws = await openSocket(server.wsUrl(), { headers: signed(server) });
  const closed = whenClosed(ws);
  const frames = mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 16_000));
  await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...frames.slice(0, 50).map((f) => writer.media(f))]);
  return {
    call,
    closed,
    finish: async () => {
      await sendAll(ws, [...frames.slice(50).map((f) => writer.media(f)), writer.stop()]);
      return closed;
    },
  };
}

/** The next recording of `streamSid` by `provider` to finish (two streams may share the id here). */
function finishedBy(server: TestServer, provider: string, streamSid: string): Promise<RecordingMeta> {
  return new Promise((resolve) => {
    const onFinished = (meta: RecordingMeta) => {
      if (meta.provider !== provider || meta.streamSid !== streamSid) return;
      server.recorder.off('recording.finished', onFinished);
      resolve(meta);
    };
    server.recorder.on('recording.finished', onFinished);
  });
}

/**
 * An unauthenticated Telnyx stream claiming `call`'s stream id, with a second of audio:
 * how its socket was closed, once its recording is over.
 */
async function squat(server: TestServer, call: TwilioCall) {
  const over = finishedBy(server, 'telnyx', call.streamSid);
  const ws = await openSocket(server.wsUrl('telnyx'));
  const closed = whenClosed(ws);
  const payload = Buffer.alloc(160, 0x55).toString('base64');
  await sendAll(ws, [
    JSON.stringify({ event: 'connected', version: '1.0.0' }),
    JSON.stringify({ event: 'start', sequence_number: '1', start: { call_control_id: `v2:${crypto.randomBytes(12).toString('hex')}`, media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 } }, stream_id: call.streamSid }),
    ...Array.from({ length: 50 }, (_, i) => JSON.stringify({ event: 'media', sequence_number: String(i + 2), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload }, stream_id: call.streamSid })),
  ]).catch(() => undefined);
  const closing = await closed;
  // Bounded: a squatter whose recording never finishes fails here, not at the test's timeout.
  await Promise.race([over, new Promise((_, reject) => setTimeout(() => reject(new Error("the squatter's recording did not finish")), 10_000))]);
  return closing;
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((name) => [name, sha(path.join(dir, name))]));
}

async function rowOf(server: TestServer, streamSid: string) {
  await server.catalog.settled();
  // Its post-call jobs settled (their states are in the row's JSON).
  await server.pipelineSettled();
  const list = (await (await fetch(`${server.url}/api/recordings?streamSid=${streamSid}`)).json()) as { items: Array<Record<string, unknown>> };
  return list.items;
}

describe('a stream claiming another recording’s stream id', () => {
  it('is refused against a finished recording on this node, which keeps its row, files and meta.json, also after a restart', async () => {
    const dataDir = tempDataDir();
    let server = await startTestServer({ dataDir, twilioAuthToken: TOKEN });
    const real = await openRealCall(server);
    const done = server.finishedStream(real.call.streamSid);
    await real.finish();
    await done;
    const [before] = await rowOf(server, real.call.streamSid);
    expect(before).toMatchObject({ status: 'complete', durationMs: 2000 });
    const dir = findRecordingDir(dataDir, real.call.streamSid);
    const files = snapshot(dir);

    expect(await squat(server, real.call)).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_STREAM_EXISTS' });
    expect(await rowOf(server, real.call.streamSid)).toEqual([before]);
    expect(snapshot(dir)).toEqual(files);
    const audio = await fetch(`${server.url}/api/recordings/${String(before!.id)}/audio/inbound.wav`);
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer()).equals(fs.readFileSync(path.join(dir, 'inbound.wav')))).toBe(true);

    await server.stop();
    server = await startTestServer({ dataDir, twilioAuthToken: TOKEN });
    try {
      expect(await rowOf(server, real.call.streamSid)).toEqual([before]);
      expect(snapshot(dir)).toEqual(files);
      expect((await (await fetch(`${server.url}/api/recordings`)).json()) as { items: unknown[] }).toMatchObject({ items: [{ id: before!.id }] });
    } finally {
      await server.stop();
    }
  });

  it('is refused against a live call, whose completion is still written in full', async () => {
    const server = await startTestServer({ twilioAuthToken: TOKEN });
    try {
      const real = await openRealCall(server);
      // The squatter comes once the call is under way (its id is not known before): the
      // call's row and directory exist.
      const onDisk = () => {
        try {
          return fs.existsSync(path.join(findRecordingDir(server.dataDir, real.call.streamSid), 'meta.json'));
        } catch {
          return false;
        }
      };
      await waitFor(onDisk, 5000, 'the live call on disk');
      expect(await rowOf(server, real.call.streamSid)).toMatchObject([{ status: 'recording' }]);
      expect(await squat(server, real.call)).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_STREAM_EXISTS' });
      const done = finishedBy(server, 'twilio', real.call.streamSid);
      expect(await real.finish()).toMatchObject({ code: 1000 });
      expect(await done).toMatchObject({ status: 'complete', durationMs: 2000 });
      expect(await rowOf(server, real.call.streamSid)).toMatchObject([{ status: 'complete', durationMs: 2000, provider: 'twilio' }]);
    } finally {
      await server.stop();
    }
  });
});

describe('on two nodes sharing a catalog', () => {
  let nodes: TwoNodes;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    nodes = await startTwoNodes({ twilioAuthToken: TOKEN });
    ({ a, b } = nodes);
  });
  afterAll(async () => {
    await nodes?.stop();
  });

  it('a squatter on the other node (its own disk, so its files could be made) is refused by the catalog and leaves nothing', async () => {
    const real = await openRealCall(a);
    const done = a.finishedStream(real.call.streamSid);
    await real.finish();
    await done;
    const [before] = await rowOf(a, real.call.streamSid);
    expect(await squat(b, real.call)).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_STREAM_EXISTS' });
    expect(await rowOf(b, real.call.streamSid)).toEqual([before]);
    // The squatter's own directory on node-b is gone: no restart can take it for a recording.
    expect(fs.existsSync(path.join(b.dataDir, 'recordings')) ? fs.readdirSync(path.join(b.dataDir, 'recordings'), { recursive: true }).filter((f) => String(f).includes(real.call.streamSid)) : []).toEqual([]);
  });
});
