/**
 * Two nodes on one PostgreSQL, each recording a live call: the live list asked of either
 * node shows both calls with their node, and pause/resume sent to either node reach the node
 * that records the call (through its API, with the shared token). Listening is answered by
 * the recording node only: elsewhere a 409 names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLiveCalls } from '../helpers/live-calls.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket } from '../helpers/ws-client.js';

const TOKEN = 'cluster-test-token-7d1e';
const auth = { authorization: `Bearer ${TOKEN}` };
let postgres: TestPostgres;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  postgres = await startPostgres();
  const databaseUrl = await postgres.newDatabase();
  a = await startTestServer({ databaseUrl, dataDir: tempDataDir(), nodeId: 'node-a', apiToken: TOKEN });
  b = await startTestServer({ databaseUrl, dataDir: tempDataDir(), nodeId: 'node-b', apiToken: TOKEN });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await postgres?.stop();
});

describe('live calls across nodes', () => {
  it('lists every node’s calls, and pauses and resumes a call through the node that does not record it', async () => {
    const [onA] = await openLiveCalls(a.wsUrl(), 1, 1000);
    const [onB] = await openLiveCalls(b.wsUrl(), 1, 1000);
    await waitFor(() => a.recorder.liveStreams().length === 1 && b.recorder.liveStreams().length === 1, 5000, 'both calls to be live');
    await a.catalog.settled();
    await b.catalog.settled();
    for (const node of [a, b]) {
      const live = (await (await fetch(`${node.url}/api/streams/live`, { headers: auth })).json()) as { items: Array<{ streamSid: string; node: string }> };
      expect(live.items.map((item) => [item.streamSid, item.node]).sort()).toEqual(
        [
          [onA!.call.streamSid, 'node-a'],
          [onB!.call.streamSid, 'node-b'],
        ].sort(),
      );
    }
    // Only this node's, when asked so.
    const own = (await (await fetch(`${a.url}/api/streams/live?scope=node`, { headers: auth })).json()) as { items: unknown[] };
    expect(own.items).toHaveLength(1);

    const paused = await fetch(`${a.url}/api/streams/${onB!.call.streamSid}/pause`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ behavior: 'skip' }) });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toEqual({ streamSid: onB!.call.streamSid, paused: 'skip' });
    expect(b.recorder.liveStreams()[0]!.paused).toBe('skip');
    const resumed = await fetch(`${a.url}/api/streams/${onB!.call.streamSid}/resume`, { method: 'POST', headers: auth });
    expect(resumed.status).toBe(200);
    expect(b.recorder.liveStreams()[0]!.paused).toBeNull();

    // A call no node records is still not found, and is not bounced between nodes.
    expect((await fetch(`${a.url}/api/streams/MZ00000000000000000000000000000000/pause`, { method: 'POST', headers: auth })).status).toBe(404);

    await expect(openSocket(`${a.url.replace('http', 'ws')}/api/streams/${onB!.call.streamSid}/listen`, { headers: auth })).rejects.toThrow('HTTP 409');
    // Its growing audio is on node-b's disk: node-a says where it is.
    const recordingOnB = (await (await fetch(`${a.url}/api/recordings?streamSid=${onB!.call.streamSid}`, { headers: auth })).json()) as { items: Array<{ id: string }> };
    const audio = await fetch(`${a.url}/api/recordings/${recordingOnB.items[0]!.id}/audio/inbound.wav`, { headers: auth });
    expect(audio.status).toBe(409);
    expect(((await audio.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'CALLTAPE_ERR_ON_ANOTHER_NODE', message: expect.stringContaining('node-b') });
    const onItsNode = await fetch(`${b.url}/api/recordings/${recordingOnB.items[0]!.id}/audio/inbound.wav`, { headers: auth });
    expect(onItsNode.status).toBe(200);
    expect((await onItsNode.arrayBuffer()).byteLength).toBeGreaterThan(44);
    const listening = await openSocket(`${b.url.replace('http', 'ws')}/api/streams/${onB!.call.streamSid}/listen`, { headers: auth });
    listening.close();
    onA!.ws.close();
    onB!.ws.close();
    await Promise.all([onA!.closed, onB!.closed]);
  });
});
