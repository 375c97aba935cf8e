/**
 * Scale-out as deployed: two real `calltape serve` processes on one PostgreSQL (embedded)
 * and one S3-protocol bucket (s3rver), behind Debian's nginx, round-robin with WebSocket
 * upgrade. Through nginx: calls land on both nodes; the live list shows both nodes' calls;
 * pause and resume work for calls on either node; every finished recording is listed once,
 * served sample-exact (also by range) from the bucket, with its spool gone. A node killed
 * mid-call and restarted recovers and uploads its call; a node stopped for good has its open
 * recording marked lost after the lease.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_TO_LINEAR } from '../../src/codec/g711.js';
import { freePort } from '../helpers/free-port.js';
import { openLiveCalls, type LiveCall } from '../helpers/live-calls.js';
import { startNginx, type TestNginx } from '../helpers/nginx.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { spawnCalltape, type CalltapeProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { interleaveStereo, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { sendAll } from '../helpers/ws-client.js';

const TOKEN = 'scale-out-token-91f3';
const auth = { authorization: `Bearer ${TOKEN}` };
const SENT_MS = 2000;
const LEASE_MS = 4000;

let postgres: TestPostgres;
let s3: TestS3;
let receiver: Receiver;
let nginx: TestNginx;
const nodes: Record<string, { dataDir: string; port: number; process: CalltapeProcess }> = {};
let env: Record<string, string>;

function startNode(name: string): Promise<string> {
  const node = nodes[name]!;
  node.process = spawnCalltape(node.dataDir, { ...env, CALLTAPE_NODE_ID: name }, node.port);
  return node.process.url;
}

beforeAll(async () => {
  [postgres, s3, receiver] = await Promise.all([startPostgres(), startTestS3(), startReceiver()]);
  env = {
    DATABASE_URL: await postgres.newDatabase(),
    CALLTAPE_STORAGE_URL: `s3://${s3.bucket}/scale-out`,
    CALLTAPE_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    CALLTAPE_API_TOKEN: TOKEN,
    CALLTAPE_NODE_LEASE_MS: String(LEASE_MS),
    CALLTAPE_UPLOAD_RETRY_BASE_MS: '100',
    CALLTAPE_WEBHOOK_URL: receiver.url,
    CALLTAPE_WEBHOOK_POLL_MS: '50',
    // nginx is the proxy: its X-Forwarded-For is believed.
    CALLTAPE_TRUST_PROXY: '127.0.0.1',
  };
  for (const name of ['node-a', 'node-b']) nodes[name] = { dataDir: tempDataDir(), port: await freePort(), process: undefined as unknown as CalltapeProcess };
  await Promise.all(['node-a', 'node-b'].map(startNode));
  nginx = await startNginx(Object.values(nodes).map((node) => node.port));
});

afterAll(async () => {
  for (const node of Object.values(nodes)) {
    if (node.process && node.process.child.exitCode === null && node.process.child.signalCode === null) {
      node.process.child.kill('SIGTERM');
      await node.process.exited;
    }
  }
  await nginx?.stop();
  await receiver?.close();
  await s3?.stop();
  await postgres?.stop();
});

const wsThroughNginx = () => `${nginx.url.replace('http', 'ws')}/streams/twilio`;
const api = async <T>(pathname: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${nginx.url}${pathname}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  return { status: response.status, body: (await response.json()) as T };
};
const webhooks = (streamSid: string) => receiver.received.map((r) => JSON.parse(r.body) as { event: string; recording: { streamSid: string; storage: string; node: string; tracks: Array<{ name: string; location?: string }> } }).filter((e) => e.recording.streamSid === streamSid);
const pcmOf = (mulaw: Buffer) => {
  const out = Buffer.alloc(mulaw.length * 2);
  for (let i = 0; i < mulaw.length; i++) out.writeInt16LE(MULAW_TO_LINEAR[mulaw[i]!]!, i * 2);
  return out;
};
async function hangUp(call: LiveCall): Promise<void> {
  await sendAll(call.ws, [new TwilioFrameWriter(call.call).stop()]);
  await call.closed;
}
async function nodeOf(streamSid: string): Promise<string> {
  const live = await api<{ items: Array<{ streamSid: string; node: string }> }>('/api/streams/live');
  return live.body.items.find((item) => item.streamSid === streamSid)!.node;
}
/** Recording directories with audio left in a node's spool. */
function spooled(dataDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (entry.name.endsWith('.wav')) found.push(path.join(dir, entry.name));
    }
  };
  if (fs.existsSync(path.join(dataDir, 'recordings'))) walk(path.join(dataDir, 'recordings'));
  return found;
}

describe('two nodes behind nginx, one PostgreSQL, one bucket', () => {
  it('spreads calls over both nodes; lists, pauses and resumes them through nginx; serves every recording once, exactly, from the bucket', async () => {
    const calls = await openLiveCalls(wsThroughNginx(), 4, SENT_MS);
    // Every frame read before the pauses below: a pause silences audio read after it, and a
    // node reads a stream's socket every 100 ms (direct-reads.ts), so frames sent just before
    // a pause may still wait in its kernel. Both tracks of every 20 ms of SENT_MS.
    const framesSent = (SENT_MS / 20) * 2;
    const live = await (async () => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const answer = await api<{ items: Array<{ streamSid: string; node: string; framesReceived: number }> }>('/api/streams/live');
        const allRead = answer.body.items.length === 4 && answer.body.items.every((item) => item.framesReceived >= framesSent);
        if (allRead || Date.now() > deadline) return answer.body.items;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    expect(live.map((item) => item.streamSid).sort()).toEqual(calls.map((c) => c.call.streamSid).sort());
    expect(new Set(live.map((item) => item.node))).toEqual(new Set(['node-a', 'node-b']));

    // Pause and resume through nginx reach the node recording the call, whichever answers.
    for (const node of ['node-a', 'node-b']) {
      const sid = live.find((item) => item.node === node)!.streamSid;
      for (let i = 0; i < 2; i++) {
        const paused = await api<{ paused: string }>(`/api/streams/${sid}/pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ behavior: 'silence' }) });
        expect(paused).toEqual({ status: 200, body: { streamSid: sid, paused: 'silence' } });
        const onItsNode = (await (await fetch(`http://127.0.0.1:${nodes[node]!.port}/api/streams/live?scope=node`, { headers: auth })).json()) as { items: Array<{ streamSid: string; paused: string | null }> };
        expect(onItsNode.items.find((item) => item.streamSid === sid)!.paused).toBe('silence');
        expect((await api(`/api/streams/${sid}/resume`, { method: 'POST' })).status).toBe(200);
      }
    }

    await Promise.all(calls.map(hangUp));
    for (const c of calls) await waitFor(() => webhooks(c.call.streamSid).some((e) => e.event === 'recording.complete'), 20_000, 'each recording to be uploaded');
    const listed = await api<{ items: Array<{ id: string; streamSid: string; storage: string; node: string }> }>('/api/recordings?limit=100');
    for (const c of calls) {
      const mine = listed.body.items.filter((item) => item.streamSid === c.call.streamSid);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.storage).toBe('s3');
      const inbound = pcmOf(c.inbound.subarray(0, SENT_MS * 8));
      const outbound = pcmOf(c.outbound.subarray(0, SENT_MS * 8));
      // Served through nginx by either node, from the bucket, sample for sample.
      for (let i = 0; i < 2; i++) {
        const stereo = Buffer.from(await (await fetch(`${nginx.url}/api/recordings/${mine[0]!.id}/audio/stereo.wav`, { headers: auth })).arrayBuffer());
        expect(stereo.subarray(44).equals(interleaveStereo(inbound, outbound))).toBe(true);
      }
      const ranged = await fetch(`${nginx.url}/api/recordings/${mine[0]!.id}/audio/inbound.wav`, { headers: { ...auth, range: 'bytes=44-4043' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(inbound.subarray(0, 4000))).toBe(true);
      expect(webhooks(c.call.streamSid)[0]!.recording.tracks.every((t) => t.location?.startsWith(`s3://${s3.bucket}/scale-out/`))).toBe(true);
    }
    for (const node of Object.values(nodes)) await waitFor(() => spooled(node.dataDir).length === 0, 5000, 'the spools to empty');
  });

  it('a node killed mid-call and restarted recovers and uploads its call; a node gone for good has its call marked lost', async () => {
    const calls = await openLiveCalls(wsThroughNginx(), 2, SENT_MS);
    const deadline = Date.now() + 10_000;
    let owners: string[] = [];
    while (Date.now() < deadline) {
      const live = await api<{ items: Array<{ streamSid: string; node: string }> }>('/api/streams/live');
      owners = calls.map((c) => live.body.items.find((item) => item.streamSid === c.call.streamSid)?.node ?? '');
      if (owners.every(Boolean)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(new Set(owners)).toEqual(new Set(['node-a', 'node-b']));
    const onA = calls[owners.indexOf('node-a')]!;
    const onB = calls[owners.indexOf('node-b')]!;
    expect(await nodeOf(onA.call.streamSid)).toBe('node-a');
    // Let one flush reach the disk, then pull node-a's plug, and bring it back on its spool.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    nodes['node-a']!.process.child.kill('SIGKILL');
    await nodes['node-a']!.process.exited;
    await startNode('node-a');
    await waitFor(() => webhooks(onA.call.streamSid).some((e) => e.event === 'recording.recovered' && e.recording.storage === 's3'), 20_000, "node-a's call to be recovered and uploaded");
    // The spool copy goes right after the upload's commit (the webhook may arrive first).
    await waitFor(() => spooled(nodes['node-a']!.dataDir).length === 0, 5000, "node-a's spool to empty");

    // node-b goes for good mid-call: after its lease node-a marks the call lost.
    nodes['node-b']!.process.child.kill('SIGKILL');
    await nodes['node-b']!.process.exited;
    const killedAt = Date.now();
    await waitFor(() => webhooks(onB.call.streamSid).some((e) => e.event === 'recording.lost'), 4 * LEASE_MS, "node-b's call to be marked lost");
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual((LEASE_MS * 5) / 6 - 100);
    const lost = await api<{ items: Array<{ streamSid: string; status: string; node: string; error: string }> }>(`/api/recordings?streamSid=${onB.call.streamSid}`);
    expect(lost.body.items[0]).toMatchObject({ status: 'lost', node: 'node-b' });
    expect(lost.body.items[0]!.error).toMatch(/^CALLTAPE_ERR_NODE_LOST/);
    // nginx keeps answering through the node that is left.
    expect((await api('/api/recordings?limit=1')).status).toBe(200);
  });
});
