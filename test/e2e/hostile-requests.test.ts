/**
 * Smaller ways a hostile peer used to get more than it should: stack traces in the log per
 * bad frame, credentials in the request log, raw database errors on /readyz, filters that
 * crash or are silently dropped, error bodies in fastify's format, and parameters that
 * smuggle more parameters into Plivo's extraHeaders (they travel encoded, one parameter each).
 */
import net from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { spawnCalltape } from '../helpers/process.js';
import { rawRequest } from '../helpers/raw-http.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';
import { decodeExtraHeaders } from '../../src/providers/plivo/extra-headers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const documented = (body: string) => expect(JSON.parse(body)).toMatchObject({ error: { code: expect.stringMatching(/^CALLTAPE_ERR_/), message: expect.any(String) } });

describe('logs', () => {
  it('bad frames are logged once per stream and code, without stack traces', async () => {
    const proc = spawnCalltape(tempDataDir(), { CALLTAPE_MAX_PAYLOAD_BYTES: '1024' });
    const url = (await proc.url).replace('http', 'ws');
    for (let i = 0; i < 10; i++) {
      for (const kind of ['too-big', 'bad-utf8']) {
        const ws = new WebSocket(`${url}/streams/twilio`);
        ws.on('error', () => undefined);
        await new Promise((r) => ws.once('open', r));
        const closed = new Promise((r) => ws.once('close', r));
        if (kind === 'too-big') ws.send('x'.repeat(5000));
        else ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
        await closed;
      }
    }
    await waitFor(() => proc.logs.filter((l) => l.code === 'CALLTAPE_ERR_BAD_FRAME').length === 10, 5000, 'ten bad-frame rejections logged');
    proc.child.kill('SIGTERM');
    await proc.exited;
    const text = proc.logs.map((l) => JSON.stringify(l));
    expect(text.filter((l) => l.includes('"stack"'))).toEqual([]);
    expect(proc.logs.filter((l) => l.code === 'CALLTAPE_ERR_FRAME_TOO_BIG')).toHaveLength(10);
    expect(proc.logs.filter((l) => l.level === 50)).toEqual([]);
  });

  it('credentials in request URLs never reach the log', async () => {
    const apiToken = 'api-token-that-must-not-be-logged';
    const answerKey = 'answer-key-that-must-not-be-logged';
    const proc = spawnCalltape(tempDataDir(), { CALLTAPE_API_TOKEN: apiToken, CALLTAPE_ANSWER_KEY: answerKey, CALLTAPE_STREAM_TOKEN_SECRET: 'stream-secret-0123456789' });
    const url = await proc.url;
    const events = await fetch(`${url}/api/events?token=${apiToken}`);
    expect(events.status).toBe(200);
    await events.body?.cancel();
    await fetch(`${url}/api/recordings?token=${apiToken}`);
    await fetch(`${url}/answer/plivo?key=${answerKey}&CallUUID=u-1`);
    await fetch(`${url}/twiml?key=${answerKey}&CallSid=CA${'0'.repeat(32)}`);
    await waitFor(() => proc.logs.filter((l) => l.msg === 'request').length >= 3 && proc.logs.some((l) => l.msg === 'event stream opened'), 5000, 'the request lines');
    proc.child.kill('SIGTERM');
    await proc.exited;
    const text = proc.logs.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toContain(apiToken);
    expect(text).not.toContain(answerKey);
    expect(text).toContain('token=[redacted]');
    expect(text).toContain('key=[redacted]');
  });
});

describe('API answers', () => {
  it('/readyz names a failing check without the database error', async () => {
    server = await startTestServer();
    await server.catalog.db.close();
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks.catalog).toBe('failing');
    expect(JSON.stringify(body)).not.toMatch(/database|sqlite|connection/i);
    server.stop = async () => undefined; // its catalog is gone; the process exit ends it
    server = undefined;
  });

  it('param.* filters: a bounded number, and __proto__ is a filter like any other', async () => {
    server = await startTestServer();
    const call = newTwilioCall();
    const done = server.finished(1);
    await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 800)), { tracks: ['inbound'], customParameters: { agent: 'ada' } }));
    await done;
    await server.catalog.settled();
    const many = Array.from({ length: 1000 }, (_, i) => `param.p${i}=x`).join('&');
    const tooMany = await rawRequest(server.url, 'GET', `/api/recordings?${many}`);
    expect(tooMany.status).toBe(400);
    documented(tooMany.body);
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
      const res = await fetch(`${server.url}/api/recordings?param.${name}=x`);
      expect(res.status, name).toBe(200);
      expect(((await res.json()) as { items: unknown[] }).items, name).toEqual([]);
    }
    expect(((await (await fetch(`${server.url}/api/recordings?param.agent=ada`)).json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it("answers the router's and the HTTP parser's refusals in the documented format", async () => {
    server = await startTestServer();
    const long = await rawRequest(server.url, 'GET', `/api/recordings/${'a'.repeat(500)}`);
    expect(long.status).toBe(414);
    documented(long.body);
    const badEscape = await rawRequest(server.url, 'GET', '/api/recordings/%E0%A4%A');
    expect(badEscape.status).toBe(400);
    documented(badEscape.body);
    const { hostname, port } = new URL(server.url);
    for (const [raw, status] of [
      ['GARBAGE\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ] as const) {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(Number(port), hostname, () => socket.write(raw));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
      expect(answer.startsWith(`HTTP/1.1 ${status}`), answer.slice(0, 80)).toBe(true);
      documented(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    }
  });

  it("Plivo parameters whose values would add parameters to extraHeaders travel encoded, as one parameter", async () => {
    server = await startTestServer();
    for (const value of ['a,b=c', 'x;y', 'k=v', 'sp ace', 'token=forged', '"/><Hangup/>']) {
      const res = await fetch(`${server.url}/answer/plivo?param.agent=${encodeURIComponent(value)}`);
      expect(res.status, value).toBe(200);
      const extraHeaders = /extraHeaders="([^"]*)"/.exec(await res.text())![1]!;
      // One pair, of letters and digits only: nothing to split, nothing to close the attribute.
      expect(extraHeaders, value).toMatch(/^[A-Za-z0-9]+=[A-Za-z0-9]*$/);
      expect({ ...decodeExtraHeaders(extraHeaders) }, value).toEqual({ agent: value });
    }
  });
});
