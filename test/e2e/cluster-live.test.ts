/**
 * Two nodes on one PostgreSQL, each recording a live call: the live list asked of either
 * node shows both calls with their node, and pause/resume sent to either node reach the node
 * that records the call (through its API, with the shared token). Listening through either
 * node works (the other relays); the audio of a call still recording is the recording node's,
 * and without a bucket so are a finished call's files: the other node names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLiveCalls } from '../helpers/live-calls.js';
import { waitFor } from '../helpers/recordings.js';
import type { TestServer } from '../helpers/server.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { mediaFrames, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll } from '../helpers/ws-client.js';

const TOKEN = 'cluster-test-token-7d1e';
const auth = { authorization: `Bearer ${TOKEN}` };
let nodes: TwoNodes;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  nodes = await startTwoNodes({ apiToken: TOKEN });
  ({ a, b } = nodes);
});
afterAll(async () => {
  await nodes?.stop();
});

/** Reads a node's event stream into `events` until aborted. */
function followEvents(url: string, events: Array<{ event: string; streamSid: string }>, signal: AbortSignal): void {
  void (async () => {
    try {
      const response = await fetch(`${url}/api/events`, { headers: auth, signal });
      let pending = '';
      for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
        pending += Buffer.from(chunk).toString('utf8');
        let end;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const event = /^event: (\w+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, streamSid: (JSON.parse(data) as { streamSid: string }).streamSid });
        }
      }
    } catch {
      // aborted
    }
  })();
}

describe('live calls across nodes', () => {
  it("one node's event stream tells of recordings starting and finishing on the other (LISTEN/NOTIFY)", async () => {
    const seenOnA: Array<{ event: string; streamSid: string }> = [];
    const stop = new AbortController();
    followEvents(a.url, seenOnA, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [onB] = await openLiveCalls(b.wsUrl(), 1, 500);
    await waitFor(() => seenOnA.some((e) => e.event === 'started' && e.streamSid === onB!.call.streamSid), 5000, "node-a to hear of node-b's call starting");
    onB!.ws.close();
    await onB!.closed;
    await waitFor(() => seenOnA.some((e) => e.event === 'finished' && e.streamSid === onB!.call.streamSid), 5000, "node-a to hear of node-b's call finishing");
    stop.abort();
    // Each once: the re-emitted events are not announced back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seenOnA.filter((e) => e.streamSid === onB!.call.streamSid).map((e) => e.event)).toEqual(['started', 'finished']);
  });

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
    // One audit entry each, written by node-a (which the client reached, naming it) and
    // claimed by node-b, which therefore wrote none of its own.
    const trail = (await (await fetch(`${b.url}/api/audit?limit=20`, { headers: auth })).json()) as { items: Array<{ action: string; actor: string; node: string; relayedTo: string | null; streamSid: string }> };
    expect(trail.items.filter((e) => e.streamSid === onB!.call.streamSid).map((e) => [e.action, e.actor, e.node, e.relayedTo])).toEqual([
      ['resume', 'token:api-token', 'node-a', 'node-b'],
      ['pause', 'token:api-token', 'node-a', 'node-b'],
    ]);

    // A call no node records is still not found, and is not bounced between nodes.
    expect((await fetch(`${a.url}/api/streams/MZ00000000000000000000000000000000/pause`, { method: 'POST', headers: auth })).status).toBe(404);

    // Listening through node-a to node-b's call: node-a relays node-b's listen socket.
    const relayed = await openSocket(`${a.url.replace('http', 'ws')}/api/streams/${onB!.call.streamSid}/listen`, { headers: auth });
    const heard: Buffer[] = [];
    relayed.on('message', (data: Buffer) => heard.push(Buffer.from(data)));
    // The relay to node-b opens just after this socket does: keep the call talking until it is heard.
    const writer = new TwilioFrameWriter(onB!.call);
    for (let ms = 1000; ms < 6000 && heard.length === 0; ms += 100) {
      await sendAll(onB!.ws, mediaFrames('inbound', SPEECH_IN_ULAW.subarray(ms * 8, (ms + 100) * 8), { startMs: ms }).map((f) => writer.media(f)));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await waitFor(() => heard.some((m) => m[0] === 0 && m.readUInt32LE(1) >= 8000), 5000, 'relayed audio');
    relayed.close();
    const listens = (await (await fetch(`${a.url}/api/audit?action=listen`, { headers: auth })).json()) as { items: Array<{ node: string; relayedTo: string | null; streamSid: string }> };
    expect(listens.items.filter((e) => e.streamSid === onB!.call.streamSid).map((e) => [e.node, e.relayedTo])).toEqual([['node-a', 'node-b']]);
    // Its growing audio is on node-b's disk: node-a says where it is.
    const recordingOnB = (await (await fetch(`${a.url}/api/recordings?streamSid=${onB!.call.streamSid}`, { headers: auth })).json()) as { items: Array<{ id: string }> };
    const audio = await fetch(`${a.url}/api/recordings/${recordingOnB.items[0]!.id}/audio/inbound.wav`, { headers: auth });
    expect(audio.status).toBe(409);
    expect(((await audio.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'CALLTAPE_ERR_ON_ANOTHER_NODE', message: expect.stringContaining('node-b') });
    const onItsNode = await fetch(`${b.url}/api/recordings/${recordingOnB.items[0]!.id}/audio/inbound.wav`, { headers: auth });
    expect(onItsNode.status).toBe(200);
    // What is on its disk so far: a WAV file (its audio may still be in the write batch).
    expect(Buffer.from(await onItsNode.arrayBuffer()).subarray(0, 4).toString('latin1')).toBe('RIFF');
    const listening = await openSocket(`${b.url.replace('http', 'ws')}/api/streams/${onB!.call.streamSid}/listen`, { headers: auth });
    listening.close();
    onA!.ws.close();
    onB!.ws.close();
    await Promise.all([onA!.closed, onB!.closed]);
    // Finished, and with no bucket between the nodes, its files stay on node-b's disk: node-a
    // names that node for the audio, meta.json and the peaks, rather than answering 404.
    const id = recordingOnB.items[0]!.id;
    for (let tries = 0; tries < 50; tries++) {
      const { status } = (await (await fetch(`${a.url}/api/recordings/${id}`, { headers: auth })).json()) as { status: string };
      if (status === 'complete') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const path of ['audio/inbound.wav', 'meta.json', 'peaks']) {
      const answer = await fetch(`${a.url}/api/recordings/${id}/${path}`, { headers: auth });
      expect(answer.status, path).toBe(409);
      const { error } = (await answer.json()) as { error: { code: string; message: string } };
      expect(error.code, path).toBe('CALLTAPE_ERR_ON_ANOTHER_NODE');
      expect(error.message, path).toMatch(/on node node-b's disk \(nodes share recordings only through a bucket, CALLTAPE_STORAGE_URL\)/);
    }
    expect((await fetch(`${b.url}/api/recordings/${id}/meta.json`, { headers: auth })).status).toBe(200);
  });
});
