/**
 * Asterisk's WebSocket channel beyond the contract sessions: its credentials (websocket_client.conf's
 * username/password as HTTP Basic, or a token the dial string's v() puts in the URL) refused
 * when missing or wrong and accepted when right, the token never in the log; and the
 * plain-text MEDIA_START recognised on /streams/auto without the subprotocol.
 * (asterisk/documentation, docs/Configuration/Channel-Drivers/WebSocket.md.)
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const TOKEN = 'asterisk-url-token-9f2c41d07b';
let server: TestServer;
let open: TestServer;
beforeAll(async () => {
  server = await startTestServer({ asteriskBasicAuth: 'asterisk:s3cret-pass-1234', asteriskUrlToken: TOKEN });
  open = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  await open?.stop();
});

const mediaStart = (connectionId: string) => `MEDIA_START connection_id:${connectionId} channel:WebSocket/c1-00000001 channel_id:pbx1-1.1 format:ulaw optimal_frame_size:160 ptime:20`;
const frames = (connectionId: string) => [mediaStart(connectionId), ...Array.from({ length: 25 }, (_, i) => SPEECH_IN_ULAW.subarray(i * 160, (i + 1) * 160))];
const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });

describe('Asterisk WebSocket channel', () => {
  it('refuses an upgrade without a credential (401) or with a wrong one (403), before any socket opens', async () => {
    await expect(openSocket(server.wsUrl('asterisk'), { protocols: ['media'] })).rejects.toThrow('HTTP 401');
    await expect(openSocket(server.wsUrl('asterisk'), { protocols: ['media'], headers: basic('asterisk:wrong') })).rejects.toThrow('HTTP 403');
    await expect(openSocket(`${server.wsUrl('asterisk')}?token=not-the-token-000000`, { protocols: ['media'] })).rejects.toThrow('HTTP 403');
  });

  it('records with the right Basic credentials or the right URL token', async () => {
    for (const [url, headers] of [
      [server.wsUrl('asterisk'), basic('asterisk:s3cret-pass-1234')],
      [`${server.wsUrl('asterisk')}?token=${TOKEN}`, {}],
    ] as const) {
      const connectionId = crypto.randomUUID();
      const finished = server.finished(1);
      const ws = await openSocket(url, { protocols: ['media'], headers });
      const closed = whenClosed(ws);
      await sendAll(ws, frames(connectionId));
      ws.close(1000, 'hangup');
      await closed;
      const [meta] = await finished;
      expect(meta).toMatchObject({ provider: 'asterisk', streamSid: connectionId, callSid: 'pbx1-1.1', tracks: ['inbound'] });
    }
  });

  it('is recognised on /streams/auto by its plain-text MEDIA_START, without the subprotocol', async () => {
    const connectionId = crypto.randomUUID();
    const finished = open.finished(1);
    const ws = await openSocket(open.wsUrl('auto'));
    const closed = whenClosed(ws);
    await sendAll(ws, frames(connectionId));
    ws.close(1000, 'hangup');
    await closed;
    const [meta] = await finished;
    expect(meta).toMatchObject({ provider: 'asterisk', streamSid: connectionId, fileFormat: { sampleRate: 8000 } });
    expect(meta!.durationMs).toBe(500);
  });
});
