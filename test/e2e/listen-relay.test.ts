/**
 * The listen relay between nodes holds no slot after its client goes (security round 2):
 * clients that drop right after node-b's 101, while node-b is still opening its relay to
 * node-a (the recording node), no longer leave relays holding all of the call's listener
 * slots on node-a: direct listeners on node-a get in at once.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTEN_MAX_PER_CALL } from '../../src/limits.js';
import { openLiveCalls } from '../helpers/live-calls.js';
import { waitFor } from '../helpers/recordings.js';
import type { TestServer } from '../helpers/server.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';

const TOKEN = 'listen-relay-test-token-0123456789';
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

/** Opens a listen socket and closes it the moment it is open (or answered otherwise). */
function dropRightAfterOpen(url: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: auth });
    ws.on('open', () => ws.terminate());
    ws.on('error', () => undefined);
    ws.on('close', () => resolve());
  });
}

describe('listen relays between nodes', () => {
  it('close with their client at every stage of opening: no slot of the call is left held', async () => {
    const [onA] = await openLiveCalls(a.wsUrl(), 1, 20_000);
    await waitFor(() => a.recorder.liveStreams().length === 1, 5000, 'the call to be live');
    await a.catalog.settled();
    const path = `/api/streams/${onA!.call.streamSid}/listen`;
    await Promise.all(Array.from({ length: 24 }, () => dropRightAfterOpen(`${b.url.replace('http', 'ws')}${path}`)));
    // The relays node-b was opening go with their clients (a moment for node-a to see them close).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const direct = await Promise.all(
      Array.from(
        { length: LISTEN_MAX_PER_CALL },
        () =>
          new Promise<{ heard: boolean; closed?: number }>((resolve) => {
            const ws = new WebSocket(`${a.url.replace('http', 'ws')}${path}`, { headers: auth });
            ws.on('message', () => {
              ws.close();
              resolve({ heard: true });
            });
            ws.on('close', (code) => resolve({ heard: false, closed: code }));
            ws.on('error', () => undefined);
            setTimeout(() => {
              ws.terminate();
              resolve({ heard: false });
            }, 5000);
          }),
      ),
    );
    // The call keeps talking while they listen.
    expect(direct.filter((d) => d.closed === 1013)).toEqual([]);
    onA!.ws.close();
    await onA!.closed;
  });
});
