/**
 * Guessing is limited everywhere (security round 2): failed credentials on every route count
 * in one budget per client (10 a minute), after which the client's requests to routes that
 * take a credential answer 429 CALLTAPE_ERR_TOO_MANY_ATTEMPTS with Retry-After, even with
 * the right credential: a client locked out of the sign-in form cannot go on guessing with
 * Authorization headers, ?token=, or stream upgrade signatures. Health stays answered.
 */
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket } from '../helpers/ws-client.js';

const API_TOKEN = 'guessing-budget-token-0123456789';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('one budget of failed credentials per client, on every route', () => {
  it('locked out of the sign-in form, bearer guesses get 429, not 403, even the right token', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const signIn = (token: string) => fetch(`${server!.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    for (let i = 0; i < 10; i++) expect((await signIn(`wrong-${i}`)).status).toBe(403);
    const statuses = new Set<number>();
    for (let i = 0; i < 200; i++) statuses.add((await fetch(`${server.url}/api/recordings`, { headers: bearer(`guess-${i}`) })).status);
    expect([...statuses]).toEqual([429]);
    const right = await fetch(`${server.url}/api/recordings`, { headers: bearer(API_TOKEN) });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await right.json()) as { error: { code: string } }).error.code).toBe('CALLTAPE_ERR_TOO_MANY_ATTEMPTS');
    // Health is no credential's route.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.recorder.stats().rejections.CALLTAPE_ERR_TOO_MANY_ATTEMPTS).toBeGreaterThanOrEqual(201);
  });

  it('bearer and ?token= guesses lock a client out by themselves', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${server.url}/api/recordings`, { headers: bearer(`guess-${i}`) })).status);
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${server.url}/api/events?token=guess-${i}`);
      statuses.push(res.status);
      await res.body?.cancel();
    }
    expect(statuses).toEqual([...new Array(10).fill(403), 429, 429]);
    expect((await fetch(`${server.url}/api/recordings`, { headers: bearer(API_TOKEN) })).status).toBe(429);
  });

  it('wrong stream upgrade signatures count too: the eleventh upgrade is refused 429 before any check', async () => {
    server = await startTestServer({ twilioAuthToken: 'budget-twilio-token' });
    const signedUrl = server.wsUrl().replace(/^ws:/, 'wss:');
    for (let i = 0; i < 10; i++) {
      await expect(openSocket(server.wsUrl(), { headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(`wrong-${i}`, signedUrl, {}) } })).rejects.toThrow('HTTP 403');
    }
    await expect(openSocket(server.wsUrl(), { headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature('budget-twilio-token', signedUrl, {}) } })).rejects.toThrow('HTTP 429');
  });

  it('GET /api/session (public, answered 200) is no unlimited oracle: its wrong tokens count, and it is in the budget', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    const standing = async (token: string) => {
      const res = await fetch(`${server!.url}/api/session`, { headers: bearer(token) });
      return res.status === 200 ? ((await res.json()) as { access: string }).access : res.status;
    };
    for (let i = 0; i < 10; i++) expect(await standing(`guess-${i}`)).toBe('none');
    expect(await standing(API_TOKEN)).toBe(429);
    // The page at / carries no data for a bearer token: it cannot tell a guess from the token.
    const page = await (await fetch(`${server.url}/`, { headers: bearer(API_TOKEN) })).text();
    expect(page).not.toContain('calltape-initial');
  });

  it('requests without any credential do not spend the budget', async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    for (let i = 0; i < 30; i++) expect((await fetch(`${server.url}/api/recordings`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/recordings`, { headers: bearer(API_TOKEN) })).status).toBe(200);
  });
});
