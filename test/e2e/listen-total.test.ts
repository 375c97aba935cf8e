/**
 * Live listeners are bounded per node, not only per call (security round 2, weighed): each
 * costs a PCM copy of its call's every frame, so 17 calls' worth of 16 listeners stops at
 * LISTEN_MAX_TOTAL, the next closed with 1013; one that leaves frees its place.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTEN_MAX_PER_CALL, LISTEN_MAX_TOTAL } from '../../src/limits.js';
import { openLiveCalls } from '../helpers/live-calls.js';
import { waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ maxStreams: 100 });
});
afterAll(async () => {
  await server?.stop();
});

/** Opens a listener; resolves with it once open, or with the close code it got instead. */
function listen(url: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    // The server closes a refused listener right after its 101: wait a moment for that.
    ws.on('open', () => setTimeout(() => resolve(ws.readyState === ws.OPEN ? ws : 0), 200));
    ws.on('close', (code) => resolve(code));
  });
}

describe('live listeners per node', () => {
  it(`stop at ${LISTEN_MAX_TOTAL} across all calls`, async () => {
    const calls = await openLiveCalls(server.wsUrl(), Math.ceil(LISTEN_MAX_TOTAL / LISTEN_MAX_PER_CALL) + 1, 20_000);
    await waitFor(() => server.recorder.liveStreams().length === calls.length, 10_000, 'the calls to be live');
    const base = server.url.replace('http', 'ws');
    const open: WebSocket[] = [];
    for (const call of calls.slice(0, LISTEN_MAX_TOTAL / LISTEN_MAX_PER_CALL)) {
      const got = await Promise.all(Array.from({ length: LISTEN_MAX_PER_CALL }, () => listen(`${base}/api/streams/${call.call.streamSid}/listen`)));
      for (const one of got) {
        expect(one).toBeInstanceOf(WebSocket);
        open.push(one as WebSocket);
      }
    }
    const spare = calls.at(-1)!.call.streamSid;
    expect(await listen(`${base}/api/streams/${spare}/listen`)).toBe(1013);
    open.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await listen(`${base}/api/streams/${spare}/listen`);
    expect(after).toBeInstanceOf(WebSocket);
    (after as WebSocket).close();
    for (const ws of open) ws.close();
    for (const call of calls) call.ws.close();
    await Promise.all(calls.map((call) => call.closed));
  });
});
