import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../../test/helpers/recordings.js';
import { directReadsAvailable, FAST_SENDER_BYTES, listenToMessages, ReadBatch, SenderPace, type DirectReads } from './direct-reads.js';

interface Accepted {
  readonly ws: WebSocket;
  readonly reads: DirectReads | undefined;
  readonly messages: { text: string; isBinary: boolean }[];
}

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A real ws server on 127.0.0.1 whose sockets are read as calltape's stream routes read them. */
async function serve(batch: ReadBatch | undefined, onAccepted: (accepted: Accepted) => void = () => undefined): Promise<{ url: string; accepted: Accepted[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 });
  servers.push(server);
  const accepted: Accepted[] = [];
  server.on('connection', (ws) => {
    const messages: Accepted['messages'] = [];
    // What ws refuses it reports here (calltape's route counts it); the test reads the close codes.
    ws.on('error', () => undefined);
    const reads = listenToMessages(ws, (data, isBinary) => messages.push({ text: data.toString(isBinary ? 'hex' : 'utf8'), isBinary }), { maxPayload: 64 * 1024, batch });
    const entry = { ws, reads, messages };
    accepted.push(entry);
    onAccepted(entry);
  });
  await new Promise((resolve) => server.on('listening', resolve));
  return { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, accepted };
}

async function connect(url: string): Promise<WebSocket> {
  const client = new WebSocket(url);
  await new Promise((resolve, reject) => client.on('open', resolve).on('error', reject));
  return client;
}

const closed = (client: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => client.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('direct reads', () => {
  it('are available on this Node (a Node that drops them would fall back to ws silently, at a higher CPU cost)', () => {
    expect(directReadsAvailable()).toBe(true);
  });

  it('deliver every message in order, byte-exact, answer pings and close cleanly', async () => {
    const { url, accepted } = await serve(new ReadBatch(50));
    const client = await connect(url);
    const sent: { text: string; isBinary: boolean }[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) {
        const bytes = Buffer.alloc(1 + (i % 700), i);
        client.send(bytes);
        sent.push({ text: bytes.toString('hex'), isBinary: true });
      } else {
        const text = JSON.stringify({ event: 'media', n: i, note: 'é€😀'.repeat(i % 5) });
        client.send(text);
        sent.push({ text, isBinary: false });
      }
      if (i % 50 === 0) await sleep(5);
    }
    const pong = new Promise<string>((resolve) => client.once('pong', (data) => resolve(data.toString())));
    client.ping('still there?');
    expect(await pong).toBe('still there?');
    await waitFor(() => accepted[0]!.messages.length === 300, 5000, 'all messages');
    expect(accepted[0]!.reads).toBeDefined();
    expect(accepted[0]!.messages).toEqual(sent);
    const done = closed(client);
    client.close(1000, 'bye');
    expect(await done).toEqual({ code: 1000, reason: 'bye' });
  });

  /** Reads the server made of `count` small frames sent `gapMs` apart, all delivered. */
  async function readsOfPaced(batch: ReadBatch | undefined, count: number, gapMs: number): Promise<number> {
    const { url, accepted } = await serve(batch);
    const client = await connect(url);
    for (let i = 0; i < count; i++) {
      client.send(JSON.stringify({ event: 'media', n: i }));
      await sleep(gapMs);
    }
    await waitFor(() => accepted[0]!.messages.length === count, 5000, 'all messages');
    client.close();
    return accepted[0]!.reads!.reads;
  }

  it('read a realtime sender in bunches: one read per tick, not one per frame', async () => {
    // 120 frames over about 600 ms (timers make it longer, never shorter): the first 100 ms
    // read as data comes (the sender's pace is not known yet, at most ~20 reads), then one
    // read per 100 ms tick.
    expect(await readsOfPaced(new ReadBatch(100), 120, 5)).toBeLessThan(35);
  });

  it('read as data comes without a batch (CALLTAPE_READ_INTERVAL_MS=0)', async () => {
    // Each frame its own read, but for a timer late enough to let two arrive together.
    expect(await readsOfPaced(undefined, 20, 20)).toBeGreaterThanOrEqual(12);
  });

  it('read a sender replaying faster than real time without waiting for ticks', async () => {
    const { url, accepted } = await serve(new ReadBatch(1000));
    const client = await connect(url);
    const frame = JSON.stringify({ event: 'media', payload: 'x'.repeat(400) });
    // 6 MB: at one 64 KiB read per 1 s tick this would take over a minute and a half.
    for (let i = 0; i < 15_000; i++) client.send(frame);
    await waitFor(() => accepted[0]!.messages.length === 15_000, 20_000, 'all messages');
    client.close();
  });

  it("read the message that follows a fast replay when it comes, not at the next tick (the replay's stop)", async () => {
    const batch = new ReadBatch(1000);
    const { url, accepted } = await serve(batch);
    const client = await connect(url);
    const frame = JSON.stringify({ event: 'media', payload: 'x'.repeat(400) });
    for (let i = 0; i < 5000; i++) client.send(frame);
    await waitFor(() => accepted[0]!.messages.length === 5000, 20_000, 'all media');
    // Made to wait after its last read, the socket would hold the stop for up to a second.
    expect(batch.waitingSockets).toBe(0);
    await sleep(200);
    client.send('stop');
    await waitFor(() => accepted[0]!.messages.length === 5001, 500, 'the stop, well before the 1 s tick');
    client.close();
  });

  it('stop reading while the owner has paused the socket, ticks or not, and read on when it resumes', async () => {
    const { url, accepted } = await serve(new ReadBatch(20));
    const client = await connect(url);
    client.send('first');
    await waitFor(() => accepted[0]?.messages.length === 1, 2000, 'first message');
    accepted[0]!.ws.pause();
    for (let i = 0; i < 20; i++) client.send(`held ${i}`);
    await sleep(300);
    expect(accepted[0]!.messages).toHaveLength(1);
    accepted[0]!.ws.resume();
    await waitFor(() => accepted[0]!.messages.length === 21, 2000, 'held messages');
    client.close();
  });

  it("leave a message over the limit, invalid UTF-8 and a fragmented message to ws: refused with ws's close codes, or delivered whole", async () => {
    const { url, accepted } = await serve(new ReadBatch(20));
    const big = await connect(url);
    const bigClosed = closed(big);
    big.send(Buffer.alloc(64 * 1024 + 1));
    expect((await bigClosed).code).toBe(1009);

    const fragmented = await connect(url);
    fragmented.send('{"part":', { fin: false });
    fragmented.send('1}', { fin: true });
    fragmented.send('after');
    await waitFor(() => accepted[1]?.messages.length === 2, 2000, 'fragmented message');
    expect(accepted[1]!.messages.map((m) => m.text)).toEqual(['{"part":1}', 'after']);
    fragmented.close();

    // Raw bytes: a masked text frame whose payload is not UTF-8, after a good one.
    const raw = await connect(url);
    const rawClosed = closed(raw);
    const socket = (raw as unknown as { _socket: net.Socket })._socket;
    const bad = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]);
    socket.write(Buffer.concat([Buffer.from([0x81, 0x82, 0, 0, 0, 0]), Buffer.from('ok'), bad]));
    expect((await rawClosed).code).toBe(1007);
    expect(accepted[2]!.messages.map((m) => m.text)).toEqual(['ok']);
  });

  it('take over frames that came with the upgrade, before the server had the socket', async () => {
    const { url, accepted } = await serve(new ReadBatch(20));
    const port = new URL(url).port;
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.on('connect', resolve));
    const upgrade = ['GET / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n');
    const masked = (text: string) => Buffer.concat([Buffer.from([0x81, 0x80 | text.length, 0, 0, 0, 0]), Buffer.from(text)]);
    socket.write(Buffer.concat([Buffer.from(upgrade), masked('one'), masked('two')]));
    await waitFor(() => accepted[0]?.messages.length === 2, 2000, 'messages sent with the upgrade');
    expect(accepted[0]!.messages.map((m) => m.text)).toEqual(['one', 'two']);
    expect(accepted[0]!.reads).toBeDefined();
    socket.destroy();
  });
});

describe('SenderPace', () => {
  const interval = 100;
  const paced = () => {
    let now = 0;
    const pace = new SenderPace(interval, () => now);
    return { pace, advance: (ms: number) => (now += ms) };
  };

  it('lets a realtime sender wait between reads once its first interval has shown its pace', () => {
    const { pace, advance } = paced();
    // The first interval: pace unknown, read as data comes.
    expect(pace.mayWait(400)).toBe(false);
    advance(interval);
    // A two-track Twilio call: about 3.5 KB per 100 ms.
    for (let i = 0; i < 20; i++) {
      expect(pace.mayWait(3500)).toBe(true);
      advance(interval);
    }
  });

  it('reads a sender as data comes while it sends FAST_SENDER_BYTES or more an interval, and for an interval after', () => {
    const { pace, advance } = paced();
    advance(interval);
    expect(pace.mayWait(1000)).toBe(true);
    advance(interval);
    // A replay: many reads within one interval, together over the bound.
    let waits = 0;
    for (let i = 0; i < 40; i++) {
      if (pace.mayWait(FAST_SENDER_BYTES / 8)) waits++;
      advance(2);
    }
    // Only the reads before the interval's total reached the bound may wait.
    expect(waits).toBeLessThanOrEqual(7);
    expect(pace.mayWait(100)).toBe(false);
    // The next interval still counts the fast one before it.
    advance(interval);
    expect(pace.mayWait(100)).toBe(false);
    // Then a slow interval: the sender has slowed down.
    advance(interval);
    expect(pace.mayWait(100)).toBe(true);
  });

  it('forgets a fast interval after a quiet one: a stop long after a replay may wait', () => {
    const { pace, advance } = paced();
    advance(interval);
    expect(pace.mayWait(FAST_SENDER_BYTES)).toBe(false);
    advance(2.5 * interval);
    expect(pace.mayWait(300)).toBe(true);
  });
});
