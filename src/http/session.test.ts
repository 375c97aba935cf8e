import { describe, expect, it } from 'vitest';
import { SESSION_TTL_MS } from '../limits.js';
import { newSession, sessionCookieHeader, sessionCredential } from './session.js';

const NOW = Date.UTC(2026, 11, 2, 12);
const ALICE = { name: 'alice', token: 'token-a' };
const BOB = { name: 'bob', token: 'token-b' };

describe('dashboard sessions', () => {
  it('accepts its own session until it expires, and not after, and says whose it is', () => {
    const session = newSession(ALICE, NOW);
    expect(sessionCredential([ALICE], session, NOW)).toEqual(ALICE);
    expect(sessionCredential([BOB, ALICE], session, NOW + SESSION_TTL_MS - 1)?.name).toBe('alice');
    expect(sessionCredential([ALICE], session, NOW + SESSION_TTL_MS)).toBeUndefined();
  });

  it('is signed by its credential: another token under the same name, or a rotated one, refuses it', () => {
    const session = newSession(ALICE, NOW);
    expect(sessionCredential([BOB], session, NOW)).toBeUndefined();
    expect(sessionCredential([{ name: 'alice', token: 'rotated' }], session, NOW)).toBeUndefined();
    // Renamed in the cookie to another credential: that credential's token does not sign it.
    expect(sessionCredential([ALICE, BOB], session.replace('v2.alice.', 'v2.bob.'), NOW)).toBeUndefined();
  });

  it('refuses anything altered or malformed', () => {
    const session = newSession(ALICE, NOW);
    const [v, name, expiry, mac] = session.split('.');
    for (const bad of [`${v}.${name}.${Number(expiry) + 1}.${mac}`, `v1.${expiry}.${mac}`, `${v}.${name}.${expiry}.${mac!.slice(1)}`, `${session}.x`, '', 'v2...', `${v}.${name}.${expiry}`]) {
      expect(sessionCredential([ALICE], bad, NOW), bad).toBeUndefined();
    }
  });

  it('holds no secret, and its cookie is HttpOnly, SameSite=Strict, for /api only', () => {
    const session = newSession(ALICE, NOW);
    expect(session).not.toContain('token-a');
    expect(sessionCookieHeader(session, false)).toBe(`calltape_session=${session}; Path=/api; HttpOnly; SameSite=Strict`);
    expect(sessionCookieHeader(session, true)).toContain('; Secure');
  });
});
