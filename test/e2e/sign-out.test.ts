/**
 * Signing out ends the session (security round 2): a copy of the dashboard's cookie taken
 * before DELETE /api/session is refused afterwards, on this node and on another node sharing
 * the catalog; another browser's session is untouched; the sign-out of a forged cookie
 * records nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';

const API_TOKEN = 'sign-out-test-token-0123456789';
let nodes: TwoNodes;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  nodes = await startTwoNodes({ apiToken: API_TOKEN });
  ({ a, b } = nodes);
});
afterAll(async () => {
  await nodes?.stop();
});

async function signIn(base: string): Promise<string> {
  const response = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: API_TOKEN }) });
  expect(response.status).toBe(204);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

const list = (base: string, cookie: string) => fetch(`${base}/api/recordings`, { headers: { cookie } });

describe('signing out', () => {
  it('ends the session on every node: a copied cookie is refused after DELETE /api/session', async () => {
    const copied = await signIn(a.url);
    // Another sign-in a millisecond later is another session.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const other = await signIn(a.url);
    expect((await list(a.url, copied)).status).toBe(200);
    expect((await list(b.url, copied)).status).toBe(200);

    const out = await fetch(`${a.url}/api/session`, { method: 'DELETE', headers: { cookie: copied } });
    expect(out.status).toBe(204);
    for (const node of [a, b]) {
      const refused = await list(node.url, copied);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('signed out');
      expect(await (await fetch(`${node.url}/api/session`, { headers: { cookie: copied } })).json()).toEqual({ access: 'none', signIn: true });
    }
    expect((await list(b.url, other)).status).toBe(200);
  });

  it('records nothing for a cookie that is not a valid session', async () => {
    const forged = `calltape_session=v2.api-token.${Date.now() + 60_000}.${'A'.repeat(43)}`;
    expect((await fetch(`${a.url}/api/session`, { method: 'DELETE', headers: { cookie: forged } })).status).toBe(204);
    expect(await a.catalog.revokedSessions.isRevoked('A'.repeat(43))).toBe(false);
  });
});
