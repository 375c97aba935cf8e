/**
 * The JWT Azure Communication Services signs on its WebSocket upgrades, checked against keys
 * served by a real HTTP server standing in for ACS's JWKS endpoint (the one part that cannot
 * run here), as azure-docs how-tos/call-automation/secure-webhook-endpoint.md and its
 * includes/secure-websocket-js.md describe it: RS256, issuer
 * https://acscallautomation.communication.azure.com, audience the ACS resource id. Tokens are
 * made with `jose`, attacked every way the check must refuse, and the key set is fetched once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEECH_IN_16K } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const ISSUER = 'https://acscallautomation.communication.azure.com';
const RESOURCE_ID = 'a1b2c3d4-0000-4e5f-8a9b-0c1d2e3f4a5b';
const URL_TOKEN = 'acs-transport-uri-token-51f0e2';

let keys: { privateKey: CryptoKey; kid: string };
let stranger: { privateKey: CryptoKey; kid: string };
let jwks: http.Server;
let jwksRequests = 0;
let server: TestServer;
let both: TestServer;
let unreachable: TestServer;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  keys = { privateKey: pair.privateKey, kid: 'acs-signing-1' };
  stranger = { privateKey: (await generateKeyPair('RS256')).privateKey, kid: 'acs-signing-1' };
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: keys.kid, alg: 'RS256', use: 'sig' };
  jwks = http.createServer((_request, response) => {
    jwksRequests++;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/calling/keys`;
  server = await startTestServer({ acsAudience: RESOURCE_ID, acsJwksUrl: jwksUrl });
  both = await startTestServer({ acsAudience: RESOURCE_ID, acsJwksUrl: jwksUrl, acsUrlToken: URL_TOKEN });
  // A key set nobody serves: the token cannot be checked, so the upgrade is refused.
  unreachable = await startTestServer({ acsAudience: RESOURCE_ID, acsJwksUrl: 'http://127.0.0.1:9/calling/keys' });
});
afterAll(async () => {
  await Promise.all([server?.stop(), both?.stop(), unreachable?.stop()]);
  await new Promise((resolve) => jwks?.close(resolve));
});

async function token(options: { key?: { privateKey: CryptoKey; kid: string }; audience?: string; issuer?: string; expiresIn?: string | number; alg?: string } = {}): Promise<string> {
  const key = options.key ?? keys;
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? RESOURCE_ID)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '24h')
    .sign(key.privateKey);
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const metadata = (subscriptionId: string) => JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId, encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } });
const frames = (subscriptionId: string) => [
  metadata(subscriptionId),
  ...Array.from({ length: 10 }, (_, i) => JSON.stringify({ kind: 'AudioData', audioData: { timestamp: new Date(Date.UTC(2026, 11, 7) + i * 20).toISOString(), participantRawID: '4:+15551234567', data: SPEECH_IN_16K.subarray(i * 640, (i + 1) * 640).toString('base64'), silent: false } })),
];

async function records(target: TestServer, url: string, headers: Record<string, string>): Promise<void> {
  const subscriptionId = crypto.randomUUID();
  const done = target.finishedStream(subscriptionId);
  const ws = await openSocket(url, { headers });
  const closed = whenClosed(ws);
  await sendAll(ws, frames(subscriptionId));
  ws.close(1000, 'done');
  await closed;
  expect(await done).toMatchObject({ provider: 'acs', status: 'complete', durationMs: 200 });
}

describe('ACS signed WebSocket upgrades', () => {
  it('records a stream whose upgrade carries a token ACS signed for this resource, fetching the keys once', async () => {
    const before = jwksRequests;
    await records(server, server.wsUrl('acs'), bearer(await token()));
    await records(server, server.wsUrl('acs'), bearer(await token()));
    // The first token of the run fetches them; the second finds them kept.
    expect(jwksRequests - before).toBe(1);
  });

  it('refuses a missing token (401) and every forged or misdirected one (403), before any socket opens', async () => {
    const url = server.wsUrl('acs');
    await expect(openSocket(url)).rejects.toThrow('HTTP 401');
    const refused = [
      ['another key with the same key id', await token({ key: stranger })],
      ['another resource', await token({ audience: 'another-acs-resource' })],
      ['another issuer', await token({ issuer: 'https://attacker.example' })],
      ['expired', await token({ expiresIn: Math.floor(Date.now() / 1000) - 3600 })],
      ['not a JWT', 'not.a.jwt'],
      ['unsigned (alg none)', `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: RESOURCE_ID, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.`],
    ] as const;
    for (const [why, jwt] of refused) await expect(openSocket(url, { headers: bearer(jwt) }), why).rejects.toThrow('HTTP 403');
    // Symmetric signing with the public key as the secret (the classic RS256/HS256 confusion).
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: keys.kid }).setIssuer(ISSUER).setAudience(RESOURCE_ID).setExpirationTime('1h').sign(crypto.randomBytes(32));
    await expect(openSocket(url, { headers: bearer(confused) })).rejects.toThrow('HTTP 403');
  });

  it('takes the TransportUri token where both credentials are configured, and refuses a wrong one', async () => {
    await records(both, `${both.wsUrl('acs')}?token=${URL_TOKEN}`, {});
    await records(both, both.wsUrl('acs'), bearer(await token()));
    await expect(openSocket(`${both.wsUrl('acs')}?token=wrong-token-0000000000`)).rejects.toThrow('HTTP 403');
  });

  it('refuses (401, not counted as a guess) when the keys cannot be fetched', async () => {
    await expect(openSocket(unreachable.wsUrl('acs'), { headers: bearer(await token()) })).rejects.toThrow('HTTP 401');
  });
});
