/** Route schemas: every failure is CALLTAPE_ERR_BAD_REQUEST in the documented error body, checked after access. */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const pause = (target: TestServer, query: string, body?: unknown) =>
  fetch(`${target.url}/api/streams/MZ1/pause${query}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

describe('route schemas', () => {
  it('a bad pause behavior, in the query or the body, is CALLTAPE_ERR_BAD_REQUEST', async () => {
    server = await startTestServer();
    for (const res of [await pause(server, '?behavior=mute'), await pause(server, '', { behavior: 'mute' })]) {
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_BAD_REQUEST', message: expect.stringContaining('behavior') } });
    }
    // A good one reaches the handler: there is no such live stream.
    expect(await (await pause(server, '?behavior=skip')).json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_NOT_FOUND' } });
  });

  it('checks access before the schema: a client without the token learns nothing about its input', async () => {
    server = await startTestServer({ apiToken: 'an-api-token-of-some-length' });
    expect((await pause(server, '?behavior=mute')).status).toBe(401);
  });
});

describe('the API access rule lives in the API plugin', () => {
  it('an api route registered outside it is refused, not served unchecked', async () => {
    const { buildApp } = await import('../../src/http/app.js');
    const { loadConfig } = await import('../../src/config.js');
    const { createRecorder } = await import('../../src/recording/recorder.js');
    const { tempDataDir } = await import('../helpers/recordings.js');
    const dataDir = tempDataDir();
    const recorder = createRecorder({ logLevel: 'silent', dataDir });
    const app = await buildApp(loadConfig({ logLevel: 'silent', dataDir }), { recorder });
    app.get('/api/stray', { config: { access: 'api' } }, async () => ({ secret: true }));
    const res = await app.inject({ method: 'GET', url: '/api/stray' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_INTERNAL' } });
    await app.close();
    await recorder.shutdown();
  });
});
