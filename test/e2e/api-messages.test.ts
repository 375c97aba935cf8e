/**
 * What the API says to a client that gets something wrong: a missing token is named as the
 * API's (not a stream route's signature), and filters are checked alike (a misspelt provider
 * is refused like a misspelt status, rather than answering an empty list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'api-messages-token-0123456789';
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ apiToken: TOKEN });
});
afterAll(async () => {
  await server.stop();
});

const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => fetch(`${server.url}${path}`, { headers });

describe('API answers', () => {
  it("a missing token is the API's credential, never a stream route's", async () => {
    for (const path of ['/api/recordings', '/api/recordings/x/audio/inbound.wav', '/metrics']) {
      const res = await get(path, {});
      expect(res.status, path).toBe(401);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('CALLTAPE_ERR_UNAUTHENTICATED');
      expect(error.message).toContain('Authorization: Bearer <API token> missing');
      expect(error.message).not.toMatch(/Twilio/);
    }
  });

  it('says nosniff on every answer, refusals included', async () => {
    for (const [path, headers] of [['/api/recordings', undefined], ['/api/recordings', {}], ['/healthz', {}]] as const) {
      expect((await get(path, headers)).headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('refuses an unknown provider filter as it refuses an unknown status, naming the valid ones', async () => {
    const provider = await get('/api/recordings?provider=nope');
    expect(provider.status).toBe(400);
    expect(((await provider.json()) as { error: { message: string } }).error.message).toMatch(/provider must be one of twilio, signalwire, telnyx, plivo/);
    expect((await get('/api/recordings?status=bogus')).status).toBe(400);
    expect((await get('/api/recordings?provider=plivo')).status).toBe(200);
  });
});
