/**
 * The access layer, attacked over real HTTP: every API route refuses a request without
 * credentials in every spelling of its path that could reach it (percent-escapes,
 * absolute-form targets, duplicate slashes, dot segments, case), proven by walking the
 * router's own route table; loopback-only mode is not fooled by proxies, DNS rebinding or
 * cross-site browser requests.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRoute } from '../../src/http/access.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const API_TOKEN = 'api-token-for-the-access-tests';

async function recordOneCall(server: TestServer): Promise<string> {
  const call = newTwilioCall();
  const frames = new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), { tracks: ['inbound'] });
  const done = server.finished(1);
  await streamSession(server.wsUrl(), frames);
  await done;
  await server.catalog.settled();
  const row = await server.catalog.repo.getByStreamSid(call.streamSid);
  return row!.id;
}

/** A concrete path for a route pattern, with a real recording id where it takes one. */
function concrete(route: AccessRoute, id: string): string {
  return route.url.replace(':id', id).replace(':track', 'inbound').replace(':streamSid', 'MZ00000000000000000000000000000000');
}

const percentEncode = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Spellings of a path that a lenient router, proxy or decoder might take for the same route. */
const SPELLINGS: ReadonlyArray<readonly [string, (path: string, base: string) => string]> = [
  ['as registered', (p) => p],
  ['first letter of each segment percent-encoded', (p) => p.replace(/\/([a-z])/g, (_m, c: string) => `/${percentEncode(c)}`)],
  ['every letter percent-encoded', (p) => p.replace(/[a-z]/g, percentEncode)],
  ['upper-case escapes', (p) => p.replace(/[a-z]/g, (c) => percentEncode(c).toUpperCase())],
  ['absolute-form target', (p) => `http://x${p}`],
  ['absolute-form target naming this server', (p, base) => `${base}${p}`],
  ['leading double slash', (p) => `/${p}`],
  ['inner double slash', (p) => p.replace('/api/', '/api//').replace('/metrics', '//metrics')],
  ['dot segment', (p) => `/x/..${p}`],
  ['single dot segment', (p) => `/.${p}`],
  ['upper case', (p) => p.toUpperCase()],
  ['trailing slash', (p) => `${p}/`],
  ['semicolon parameter', (p) => `${p};x=1`],
  ['encoded slash', (p) => p.replace(/\//g, '%2F')],
  ['backslashes', (p) => p.replace(/\//g, '\\')],
  ['empty query', (p) => `${p}?`],
];

/**
 * Sends a request without credentials and expects a refusal, or the router not finding the
 * route: never the handler's answer. A HEAD answer has no body to tell the router's 404 from
 * a handler's, so the same target is asked with GET to tell them apart.
 */
async function expectRefused(base: string, method: string, target: string, what = `${method} ${target}`): Promise<number> {
  const answer = await rawRequest(base, method, target);
  const refused = answer.status === 401 || answer.status === 403;
  let unrouted = answer.status === 400 || (answer.status === 404 && answer.body.includes('no route for'));
  if (method === 'HEAD' && answer.status === 404) {
    const get = await rawRequest(base, 'GET', target);
    unrouted = get.status === 404 && get.body.includes('no route for');
  }
  expect(refused || unrouted, `${what}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`).toBe(true);
  return answer.status;
}

describe('with CALLTAPE_API_TOKEN set', () => {
  let server: TestServer;
  let id: string;
  beforeAll(async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    id = await recordOneCall(server);
  });
  afterAll(() => server.stop());

  it('declares an access class for every route, and the API routes include metrics, events, audio, transcripts, pause, resume and delete', () => {
    const api = server.app.accessRoutes.filter((r) => r.access === 'api').map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'GET /api/recordings',
      'GET /api/recordings/:id',
      'HEAD /api/recordings/:id/audio/:track',
      'DELETE /api/recordings/:id',
      'GET /api/streams/live',
      'GET /api/events',
      'POST /api/streams/:streamSid/pause',
      'POST /api/streams/:streamSid/resume',
      'GET /metrics',
      'GET /api/recordings/:id/meta.json',
      'GET /api/recordings/:id/peaks',
      'GET /api/recordings/:id/transcript',
      'POST /api/recordings/:id/transcript',
      'GET /api/streams/:streamSid/listen',
    ]) {
      expect(api).toContain(expected);
    }
    // Public: health, the dashboard's page and bundle (no data in them), and signing in/out
    // (with the client's own standing, which holds no data either).
    expect(server.app.accessRoutes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'DELETE /api/session',
      'GET /',
      'GET /api/session',
      'GET /assets/*',
      'GET /healthz',
      'GET /readyz',
      'HEAD /',
      'HEAD /api/session',
      'HEAD /assets/*',
      'HEAD /healthz',
      'HEAD /readyz',
      'POST /api/session',
    ]);
  });

  it('refuses every API route without credentials in every path spelling', async () => {
    const api = server.app.accessRoutes.filter((r) => r.access === 'api');
    let refusedOnTheRoute = 0;
    for (const route of api) {
      for (const [name, spell] of SPELLINGS) {
        const target = spell(concrete(route, id), server.url);
        const status = await expectRefused(server.url, route.method, target, `${route.method} ${target} (${name})`);
        if (status === 401) refusedOnTheRoute++;
      }
    }
    // The spellings that do reach a route (escapes, absolute form) were refused there.
    expect(refusedOnTheRoute).toBeGreaterThanOrEqual(api.length * 4);
    // The recording is still there: no DELETE got through.
    expect(await server.catalog.repo.get(id)).toBeDefined();
  });

  it('answers the same requests with the token (the refusals above were the access layer)', async () => {
    const auth = { Authorization: `Bearer ${API_TOKEN}` };
    for (const target of [`/api/recordings/${id}`, `/%61pi/recordings/${id}`, `http://x/api/recordings/${id}`]) {
      const answer = await rawRequest(server.url, 'GET', target, auth);
      expect(answer.status, target).toBe(200);
      expect(answer.body).toContain(id);
    }
    expect((await rawRequest(server.url, 'GET', '/metrics', auth)).status).toBe(200);
    expect((await rawRequest(server.url, 'GET', '/metrics', { Authorization: 'Bearer wrong' })).status).toBe(403);
  });

  it('fuzz: random spellings of API paths never reach a handler without credentials', async () => {
    const api = server.app.accessRoutes.filter((r) => r.access === 'api');
    const mangle = fc.record({
      route: fc.constantFrom(...api),
      encode: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
      flipCase: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
      prefix: fc.constantFrom('', '/', '/.', '/a/..', 'http://x', '//'),
      suffix: fc.constantFrom('', '/', '?', '?token=', '#x', ';', '%00', '/.'),
    });
    await fc.assert(
      fc.asyncProperty(mangle, async ({ route, encode, flipCase, prefix, suffix }) => {
        const path = concrete(route, id)
          .split('')
          .map((c, i) => {
            const cased = flipCase[i % 64] ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c;
            return encode[i % 64] && c !== '/' ? percentEncode(cased) : cased;
          })
          .join('');
        const target = `${prefix}${path}${suffix}`;
        await expectRefused(server.url, route.method, target);
      }),
      { numRuns: 300 },
    );
    expect(await server.catalog.repo.get(id)).toBeDefined();
  });
});

describe('loopback-only mode (no CALLTAPE_API_TOKEN)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers a loopback client addressed by a loopback name', async () => {
    for (const host of [undefined, 'localhost:8080', '127.0.0.1', '[::1]:9']) {
      const answer = await rawRequest(server.url, 'GET', '/api/recordings', host ? { Host: host } : {});
      expect(answer.status, String(host)).toBe(200);
    }
  });

  it('refuses requests that came through a proxy, whatever the socket says', async () => {
    for (const headers of [{ 'X-Forwarded-For': '203.0.113.7' }, { Forwarded: 'for=203.0.113.7' }, { 'X-Real-IP': '203.0.113.7' }, { 'X-Forwarded-For': '127.0.0.1' }] as Array<Record<string, string>>) {
      const answer = await rawRequest(server.url, 'GET', '/api/recordings', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.body).toContain('CALLTAPE_ERR_API_LOOPBACK_ONLY');
    }
    expect((await rawRequest(server.url, 'DELETE', '/%61pi/recordings/x', { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(403);
  });

  it('refuses a loopback request addressed to another name (DNS rebinding)', async () => {
    for (const host of ['evil.example.com', 'evil.example.com:8080', '127.0.0.1.evil.example', 'localhost.evil.example']) {
      const answer = await rawRequest(server.url, 'GET', '/api/recordings', { Host: host });
      expect(answer.status, host).toBe(403);
      expect(answer.body).toContain('Host');
    }
  });

  it('refuses cross-site browser requests: foreign Origin, form bodies, Sec-Fetch-Site', async () => {
    const sid = 'MZ00000000000000000000000000000000';
    const foreign = await rawRequest(server.url, 'POST', `/api/streams/${sid}/pause`, { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, '{"behavior":"skip"}');
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('CALLTAPE_ERR_CROSS_SITE');
    const form = await rawRequest(server.url, 'POST', `/api/streams/${sid}/pause`, { 'Content-Type': 'application/x-www-form-urlencoded' }, 'behavior=skip');
    expect(form.status).toBe(403);
    expect(form.body).toContain('CALLTAPE_ERR_CROSS_SITE');
    const plain = await rawRequest(server.url, 'POST', `/api/streams/${sid}/resume`, { 'Content-Type': 'text/plain' }, 'x');
    expect(plain.status).toBe(403);
    const fetched = await rawRequest(server.url, 'GET', '/api/recordings', { 'Sec-Fetch-Site': 'cross-site' });
    expect(fetched.status).toBe(403);
    // The same requests from the server's own origin reach the handler (no such live stream).
    const own = await rawRequest(server.url, 'POST', `/api/streams/${sid}/pause`, { Origin: server.url, 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'same-origin' }, '{"behavior":"skip"}');
    expect(own.status).toBe(404);
    expect(own.body).toContain('no live stream');
  });
});

describe('loopback-only mode behind a trusted proxy (CALLTAPE_TRUST_PROXY)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ trustProxy: '127.0.0.1' });
  });
  afterAll(() => server.stop());

  it('takes the client from X-Forwarded-For through the trusted hop', async () => {
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(403);
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '198.51.100.1, 127.0.0.1' })).status).toBe(403);
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '127.0.0.1' })).status).toBe(200);
    // Headers the trust setting does not cover still mark the request as proxied.
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '127.0.0.1', 'X-Real-IP': '203.0.113.7' })).status).toBe(403);
  });
});

describe('loopback-only mode with CALLTAPE_TRUST_PROXY=true (every hop believed)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ trustProxy: true });
  });
  afterAll(() => server.stop());

  it("judges the client by the address the nearest proxy appended, never one the client wrote", async () => {
    // A remote client behind a same-host proxy writes 127.0.0.1 first; the proxy appends its real address.
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '127.0.0.1, 203.0.113.5' })).status).toBe(403);
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '127.0.0.1, 127.0.0.1, 203.0.113.5' })).status).toBe(403);
    // A client on this machine, through the proxy.
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '203.0.113.5, 127.0.0.1' })).status).toBe(200);
    expect((await rawRequest(server.url, 'GET', '/api/recordings', { 'X-Forwarded-For': '127.0.0.1' })).status).toBe(200);
  });
});
