/**
 * Who gets the dashboard and how it signs in: the page is served to the clients the API is
 * served to; with an API token the page signs in for an HttpOnly SameSite=Strict cookie that
 * the API (audio, event stream, listen socket included) accepts in place of the token, and
 * that another site's page can neither obtain, use nor clear. Each protection is attacked:
 * forged, expired and foreign-signed cookies, cross-site requests, proxies, asset paths.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_TTL_MS } from '../../src/limits.js';
import { newSession } from '../../src/http/session.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';

const API_TOKEN = 'dashboard-test-token-0123456789';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function signIn(base: string, token = API_TOKEN): Promise<{ status: number; cookie?: string; setCookie?: string }> {
  const response = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const setCookie = response.headers.get('set-cookie') ?? undefined;
  return { status: response.status, setCookie, cookie: setCookie?.split(';')[0] };
}

async function recordOneCall(target: TestServer): Promise<string> {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const done = target.finishedStream(call.streamSid);
  const ws = await openSocket(target.wsUrl());
  await sendAll(ws, writer.session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 8000)), { tracks: ['inbound'] }));
  await whenClosed(ws);
  await done;
  await target.catalog.settled();
  const page = (await (await fetch(`${target.url}/api/recordings`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as { items: Array<{ id: string; streamSid: string }> };
  return page.items.find((r) => r.streamSid === call.streamSid)!.id;
}

describe('the dashboard page', () => {
  it('is served with a strict content security policy, and its bundle is cached for good', async () => {
    server = await startTestServer();
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // The page may carry this client's first view of the data: never stored by a cache.
    expect(page.headers.get('cache-control')).toBe('no-store');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    // Everything is bundled: the page names nothing from another origin.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves no file outside its bundle, however the path is spelled', async () => {
    server = await startTestServer();
    for (const target of ['/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/index.html', '/assets/../../package.json', '/assets/.vite', '/assets/nope.js', '/assets/..\\..\\package.json']) {
      const response = await rawRequest(server.url, 'GET', target);
      expect(response.status, target).toBeGreaterThanOrEqual(400);
      expect(response.body, target).not.toContain('"name": "calltape"');
    }
  });

  it('without an API token, is served to local clients only (not through a proxy, not to a foreign Host)', async () => {
    server = await startTestServer();
    expect((await rawRequest(server.url, 'GET', '/')).status).toBe(200);
    const proxied = await rawRequest(server.url, 'GET', '/', { 'X-Forwarded-For': '203.0.113.9' });
    expect(proxied.status).toBe(403);
    expect(proxied.body).toContain('CALLTAPE_ERR_API_LOOPBACK_ONLY');
    expect((await rawRequest(server.url, 'GET', '/', { Host: 'attacker.example:8080' })).status).toBe(403);
    expect((await rawRequest(server.url, 'GET', '/assets/x.js', { Host: 'attacker.example' })).status).toBe(403);
  });

  it('says how to build it when the bundle is missing, and the API keeps working', async () => {
    const emptyRoot = tempDataDir('calltape-web-');
    server = await startTestServer({}, { webRoot: emptyRoot });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(503);
    const body = (await page.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CALLTAPE_ERR_DASHBOARD_NOT_BUILT');
    expect(body.error.message).toContain('npm run build');
    expect((await fetch(`${server.url}/api/recordings`)).status).toBe(200);
  });
});

describe('signing in with the API token', () => {
  it('gives an HttpOnly SameSite=Strict cookie for /api only, which the API accepts in place of the token', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const id = await recordOneCall(server);
    expect((await fetch(`${server.url}/api/recordings`)).status).toBe(401);
    // The page itself loads (it asks for the token); it carries no data.
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    const { status, setCookie, cookie } = await signIn(server.url);
    expect(status).toBe(204);
    expect(setCookie).toMatch(/^calltape_session=v2\.api-token\.\d+\.[A-Za-z0-9_-]{43}; Path=\/api; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(API_TOKEN);
    const headers = { cookie: cookie! };
    expect((await fetch(`${server.url}/api/recordings`, { headers })).status).toBe(200);
    expect((await fetch(`${server.url}/api/session`, { headers }).then((r) => r.json()))).toEqual({ access: 'token', name: 'api-token' });
    const audio = await fetch(`${server.url}/api/recordings/${id}/audio/inbound.wav`, { headers: { ...headers, range: 'bytes=0-43' } });
    expect(audio.status).toBe(206);
    expect((await fetch(`${server.url}/api/recordings/${id}/meta.json`, { headers })).status).toBe(200);
    expect((await fetch(`${server.url}/api/recordings/${id}/peaks`, { headers })).status).toBe(200);
    // The event stream (EventSource) and the listen socket (WebSocket) carry cookies too.
    const events = await rawRequest(server.url, 'GET', '/api/events', { Cookie: cookie! });
    expect(events.status).toBe(200);
  });

  it('refuses a wrong token, counted, and sets no cookie', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const wrong = await signIn(server.url, 'not-the-token');
    expect(wrong.status).toBe(403);
    expect(wrong.setCookie).toBeUndefined();
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
    expect(metrics).toMatch(/calltape_rejections_total\{code="CALLTAPE_ERR_FORBIDDEN"\} 1/);
  });

  it('stops a client guessing the token: after 10 failures in a minute even the right token is refused, with Retry-After', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    for (let i = 0; i < 10; i++) expect((await signIn(server.url, `guess-${i}`)).status).toBe(403);
    const blocked = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: API_TOKEN }) });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(blocked.headers.get('set-cookie')).toBeNull();
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('CALLTAPE_ERR_TOO_MANY_ATTEMPTS');
    // The same budget holds on every route: the API refuses this client too, until its window ends
    // (guessing-budget.test.ts), so the sign-in form's limit cannot be stepped around.
    expect((await fetch(`${server.url}/api/recordings`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(429);
  });

  it('refuses forged, tampered, expired and foreign-signed cookies', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const { cookie } = await signIn(server.url);
    const value = cookie!.split('=')[1]!;
    const [, name, expiry, mac] = value.split('.');
    const resign = (token: string, expiresAt: number) =>
      `v2.${name}.${expiresAt}.${crypto.createHmac('sha256', token).update(`calltape-session:v2:${name}:${expiresAt}`).digest('base64url')}`;
    const forged = [
      `v2.${name}.${Number(expiry) + 1000}.${mac}`, // expiry moved: the MAC no longer matches
      `v2.${name}.${expiry}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`,
      `v2.api-token-2.${expiry}.${mac}`, // claims another credential's name
      `v1.${expiry}.${mac}`, // the unnamed sessions of earlier versions
      resign(API_TOKEN, Date.now() - 1), // expired, correctly signed
      resign(API_TOKEN, Date.now() + SESSION_TTL_MS * 10), // signed, but longer than any session lives
      resign('some-other-token', Date.now() + 60_000), // another server's session
      newSession({ name: name!, token: 'some-other-token' }, Date.now()),
      `${value}x`,
      'x'.repeat(5000),
    ];
    for (const bad of forged) {
      const response = await fetch(`${server.url}/api/recordings`, { headers: { cookie: `calltape_session=${bad}` } });
      expect(response.status, bad.slice(0, 60)).toBe(401);
    }
  });

  it('is not reachable from another site: no cross-site sign-in, and the cookie is refused with a foreign Origin, reads and sockets included', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const crossSite = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ token: API_TOKEN }),
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
    // A form post (no preflight) is refused whatever its origin says.
    const form = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ token: API_TOKEN }) });
    expect(form.status).toBe(403);
    const { cookie } = await signIn(server.url);
    const foreign = await fetch(`${server.url}/api/recordings`, { headers: { cookie: cookie!, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('CALLTAPE_ERR_CROSS_SITE');
    // Cross-site WebSocket hijacking: a foreign page's upgrade with the cookie is refused.
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)).map((f) => writer.media(f))]);
    await waitFor(() => server!.recorder.liveStreams().length === 1, 5000, 'the call to be live');
    const listenUrl = `${server.url.replace('http', 'ws')}/api/streams/${call.streamSid}/listen`;
    await expect(openSocket(listenUrl, { headers: { cookie: cookie!, origin: 'https://evil.example' } })).rejects.toThrow('HTTP 403');
    const own = await openSocket(listenUrl, { headers: { cookie: cookie!, origin: server.url } });
    own.close();
    await sendAll(ws, [writer.stop()]);
    await whenClosed(ws);
  });

  it('signs out: the cookie is cleared', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const out = await fetch(`${server.url}/api/session`, { method: 'DELETE' });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toBe('calltape_session=; Path=/api; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  it('has nothing to sign in to without a token', async () => {
    server = await startTestServer();
    expect((await signIn(server.url)).status).toBe(404);
    expect(await (await fetch(`${server.url}/api/session`)).json()).toEqual({ access: 'local' });
  });
});

describe('the bundle in the repository', () => {
  it('is built by npm run build into dist/web', () => {
    const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist/web');
    expect(fs.existsSync(path.join(root, 'index.html'))).toBe(true);
  });
});
