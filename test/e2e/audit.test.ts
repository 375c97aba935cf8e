/**
 * The access audit trail through a real calltape with named API credentials: each read of
 * content (audio, files, meta, transcript, summary, analytics), each listen-in, pause,
 * resume, hold and delete gives exactly one entry naming the credential (a bearer token or
 * the dashboard session signed in with it), the client's address and what; a player's
 * further ranges belong to its read; retention writes its own; the log cannot be written
 * through the API; a trail that cannot be written refuses the read.
 */
import crypto from 'node:crypto';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionJob } from '../../src/catalog/retention.js';
import type { AuditEntry } from '../../src/catalog/audit-log.js';
import { startChatServer, type ChatServer } from '../helpers/chat-server.js';
import { waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { REFUND_CALL, streamToneCall } from '../helpers/tone-call.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const ALICE = 'alice-token-5b2f9c0e7d1a4b36';
const BOB = 'bob-token-8e41d2a7c9f05b13';
const alice = { authorization: `Bearer ${ALICE}` };
let server: TestServer;
let stt: SttServer;
let chat: ChatServer;

beforeAll(async () => {
  stt = await startSttServer('whispercpp');
  chat = await startChatServer('ollama');
  server = await startTestServer({ apiTokens: `alice:${ALICE}, bob:${BOB}`, transcribeUrl: stt.url, summaryUrl: chat.url, pipelineRetryBaseMs: 100 });
});

afterAll(async () => {
  await server?.stop();
  await stt?.close();
  await chat?.close();
});

async function trail(query: string, headers: Record<string, string> = alice): Promise<AuditEntry[]> {
  const response = await fetch(`${server.url}/api/audit${query}`, { headers });
  expect(response.status, query).toBe(200);
  return ((await response.json()) as { items: AuditEntry[] }).items;
}

async function recordToneCall(): Promise<string> {
  const call = await streamToneCall(server.wsUrl(), REFUND_CALL);
  const id = await server.finishedId(call.streamSid);
  expect((await server.jobSettled(id, 'notify', 30_000)).state).toBe('done');
  return id;
}

describe('the access audit trail', () => {
  let id: string;
  beforeAll(async () => {
    id = await recordToneCall();
  });

  it('logs each read of content once, with the credential that read it and from where; listing it is not logged', async () => {
    const reads: Array<[string, string, string]> = [
      ['/audio/inbound.wav', 'audio.read', 'inbound.wav'],
      ['/files/meta.json', 'file.read', 'meta.json'],
      ['/meta.json', 'file.read', 'meta.json'],
      ['/transcript?format=srt', 'transcript.read', 'transcript.json as srt'],
      ['/summary', 'summary.read', 'summary.json'],
      ['/analytics', 'analytics.read', 'analytics.json'],
    ];
    for (const [path, action, detail] of reads) {
      const before = await trail(`?recording=${id}`);
      const response = await fetch(`${server.url}/api/recordings/${id}${path}`, { headers: { authorization: `Bearer ${BOB}` } });
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
      const after = await trail(`?recording=${id}`);
      expect(after.length - before.length, path).toBe(1);
      expect(after[0]).toMatchObject({ actor: 'token:bob', action, recordingId: id, address: '127.0.0.1', detail, relayedTo: null });
    }
    // What is not content (the recording's JSON, its peaks, HEAD) and the trail itself write nothing.
    const count = (await trail(`?recording=${id}`)).length;
    await (await fetch(`${server.url}/api/recordings/${id}`, { headers: alice })).arrayBuffer();
    await (await fetch(`${server.url}/api/recordings/${id}/peaks`, { headers: alice })).arrayBuffer();
    expect((await fetch(`${server.url}/api/recordings/${id}/audio/inbound.wav`, { method: 'HEAD', headers: alice })).status).toBe(200);
    expect(await trail(`?recording=${id}`)).toHaveLength(count);
  });

  it("a player's ranges are one read: from byte 0 it is logged, a later range of the same file joins it, a range alone is logged", async () => {
    const url = `${server.url}/api/recordings/${id}/audio/outbound.wav`;
    const count = () => trail(`?recording=${id}&action=audio.read&actor=token:alice`).then((items) => items.filter((e) => e.detail?.startsWith('outbound.wav')).length);
    const ranged = async (range: string, headers = alice) => {
      const response = await fetch(url, { headers: { ...headers, range } });
      expect(response.status).toBe(206);
      await response.arrayBuffer();
    };
    const start = await count();
    // Seeking first: no read began, so it is one of its own.
    await ranged('bytes=5000-');
    expect(await count()).toBe(start + 1);
    await ranged('bytes=0-');
    await ranged('bytes=1000-1999');
    await ranged('bytes=9000-');
    expect(await count()).toBe(start + 2);
    // Another credential's range is not alice's read.
    await ranged('bytes=1000-1999', { authorization: `Bearer ${BOB}` });
    expect(await count()).toBe(start + 2);
    expect((await trail(`?recording=${id}&actor=token:bob&action=audio.read`))[0]!.detail).toBe('outbound.wav bytes=1000-1999');
  });

  it('names the dashboard session by the credential it signed in with', async () => {
    const signIn = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: BOB }) });
    expect(signIn.status).toBe(204);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${server.url}/api/recordings/${id}/summary`, { headers: { cookie } })).status).toBe(200);
    expect((await trail(`?recording=${id}&action=summary.read`))[0]).toMatchObject({ actor: 'session:bob' });
    expect((await (await fetch(`${server.url}/api/session`, { headers: { cookie } })).json()) as unknown).toMatchObject({ access: 'token', name: 'bob' });
  });

  it('logs hold, release and delete once each with the actor, and the deletion stays after the recording is gone', async () => {
    const other = await recordToneCall();
    const hold = await fetch(`${server.url}/api/recordings/${other}/hold`, { method: 'PUT', headers: { ...alice, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'matter 12' }) });
    expect(hold.status).toBe(200);
    expect(((await hold.json()) as { hold: { by: string } }).hold.by).toBe('token:alice');
    expect((await fetch(`${server.url}/api/recordings/${other}/hold`, { method: 'DELETE', headers: alice })).status).toBe(200);
    expect((await fetch(`${server.url}/api/recordings/${other}?reason=done`, { method: 'DELETE', headers: { authorization: `Bearer ${BOB}` } })).status).toBe(204);
    const entries = await trail(`?recording=${other}`);
    expect(entries.map((e) => [e.action, e.actor, e.detail])).toEqual([
      ['delete', 'token:bob', 'done'],
      ['hold.release', 'token:alice', 'matter 12'],
      ['hold.place', 'token:alice', 'matter 12'],
    ]);
    const gone = (await (await fetch(`${server.url}/api/recordings/${other}`, { headers: alice })).json()) as { tombstone: { deletedBy: string } };
    expect(gone.tombstone.deletedBy).toBe('token:bob');
  });

  it('logs listen-in, pause and resume of a live call once each', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const frames = interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW));
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.connected(), writer.start(), ...frames.slice(0, 20).map((f) => writer.media(f))]);
    await waitFor(() => server.recorder.liveStreams().some((live) => live.streamSid === call.streamSid), 5000, 'the call to be live');
    const listener = new WebSocket(`${server.url.replace('http', 'ws')}/api/streams/${call.streamSid}/listen`, { headers: alice });
    await new Promise((resolve, reject) => listener.once('open', resolve).once('error', reject));
    const post = (what: string) => fetch(`${server.url}/api/streams/${call.streamSid}/${what}`, { method: 'POST', headers: { authorization: `Bearer ${BOB}` } });
    expect((await post('pause')).status).toBe(200);
    expect((await post('resume')).status).toBe(200);
    // A forged relay claim (an id nobody wrote) is no claim: the request is logged here.
    const forged = await fetch(`${server.url}/api/streams/${call.streamSid}/pause`, { method: 'POST', headers: { authorization: `Bearer ${BOB}`, 'x-calltape-forwarded': '1', 'x-calltape-audit-entry': '00000000-0000-4000-8000-000000000000' } });
    expect(forged.status).toBe(200);
    // A fresh entry another node wrote for this call (as a relay would), its id read from the
    // log: bob's credential is not the one nodes relay with, so his resume cannot claim it and
    // is logged; the relay credential (alice's, the first configured) claims it.
    const relayed = async () => {
      const id = crypto.randomUUID();
      await server.catalog.db.db.insertInto('audit_log').values({ id, at: Date.now(), actor: 'token:carol', action: 'resume', recording_id: null, stream_sid: call.streamSid, address: '10.0.0.9', detail: 'relayed to node vm', node: 'node-x', relayed_to: null }).execute();
      return id;
    };
    const stolen = await relayed();
    const asBob = await fetch(`${server.url}/api/streams/${call.streamSid}/resume`, { method: 'POST', headers: { authorization: `Bearer ${BOB}`, 'x-calltape-forwarded': '1', 'x-calltape-audit-entry': stolen } });
    expect(asBob.status).toBe(200);
    const genuine = await relayed();
    const asRelay = await fetch(`${server.url}/api/streams/${call.streamSid}/resume`, { method: 'POST', headers: { authorization: `Bearer ${ALICE}`, 'x-calltape-forwarded': '1', 'x-calltape-audit-entry': genuine } });
    expect(asRelay.status).toBe(200);
    const done = server.finishedStream(call.streamSid);
    await sendAll(ws, [...frames.slice(20).map((f) => writer.media(f)), writer.stop()]);
    await whenClosed(ws);
    await done;
    listener.close();
    const recordingId = (await server.catalog.repo.getByStreamSid(call.streamSid))!.id;
    const entries = (await trail(`?limit=50`)).filter((e) => e.streamSid === call.streamSid);
    expect(entries.find((e) => e.id === stolen)?.relayedTo).toBeNull();
    expect(entries.find((e) => e.id === genuine)?.relayedTo).toBe(server.catalog.nodeId);
    expect(entries.filter((e) => e.node !== 'node-x').map((e) => [e.action, e.actor, e.detail, e.recordingId])).toEqual([
      ['resume', 'token:bob', null, recordingId],
      ['pause', 'token:bob', 'silence', recordingId],
      ['resume', 'token:bob', null, recordingId],
      ['pause', 'token:bob', 'silence', recordingId],
      ['listen', 'token:alice', null, recordingId],
    ]);
  });

  it('cannot be written, edited or erased through the API, and is refused to clients without a credential', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const response = await fetch(`${server.url}/api/audit`, { method, headers: { ...alice, 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : JSON.stringify({ actor: 'nobody', action: 'delete' }) });
      expect(response.status, method).toBe(404);
    }
    expect((await fetch(`${server.url}/api/audit`)).status).toBe(401);
    for (const query of ['?action=read', '?limit=0', '?limit=1001', '?before=soon', '?who=me', '?recording=a&recording=b']) {
      expect((await fetch(`${server.url}/api/audit${query}`, { headers: alice })).status, query).toBe(400);
    }
  });

  it('refuses to serve a read it cannot log (503), and serves it again once it can', async () => {
    const original = server.catalog.audit.append.bind(server.catalog.audit);
    server.catalog.audit.append = async () => {
      throw new Error('disk I/O error');
    };
    try {
      const refused = await fetch(`${server.url}/api/recordings/${id}/audio/inbound.wav`, { headers: alice });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CALLTAPE_ERR_AUDIT_UNAVAILABLE');
      expect((await fetch(`${server.url}/api/recordings/${id}/transcript`, { headers: alice })).status).toBe(503);
    } finally {
      server.catalog.audit.append = original;
    }
    expect((await fetch(`${server.url}/api/recordings/${id}/audio/inbound.wav`, { headers: alice })).status).toBe(200);
  });

  // Last: retention takes every recording with it.
  it('logs a retention deletion as retention', async () => {
    const old = await recordToneCall();
    await new RetentionJob(server.catalog, 0, 3_600_000, pino({ level: 'silent' })).runOnce(Date.now() + 60_000);
    expect((await trail(`?recording=${old}`)).map((e) => [e.action, e.actor, e.address])).toEqual([['delete', 'retention', null]]);
  });
});
