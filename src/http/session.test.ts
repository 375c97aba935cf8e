import { describe, expect, it } from 'vitest';
import { SESSION_TTL_MS } from '../limits.js';
import { isValidSession, newSession, sessionCookieHeader } from './session.js';

const NOW = Date.UTC(2026, 11, 2, 12);

describe('dashboard sessions', () => {
  it('accepts its own session until it expires, and not after', () => {
    const session = newSession('token-a', NOW);
    expect(isValidSession('token-a', session, NOW)).toBe(true);
    expect(isValidSession('token-a', session, NOW + SESSION_TTL_MS - 1)).toBe(true);
    expect(isValidSession('token-a', session, NOW + SESSION_TTL_MS)).toBe(false);
  });

  it('is signed by the API token: another token, or a rotated one, refuses it; any listed token accepts it', () => {
    const session = newSession('token-a', NOW);
    expect(isValidSession('token-b', session, NOW)).toBe(false);
    expect(isValidSession('token-b, token-a', session, NOW)).toBe(true);
    // Signed with the first of several.
    expect(isValidSession('token-a', newSession('token-a, token-b', NOW), NOW)).toBe(true);
  });

  it('refuses anything altered or malformed', () => {
    const session = newSession('token-a', NOW);
    const [v, expiry, mac] = session.split('.');
    for (const bad of [`${v}.${Number(expiry) + 1}.${mac}`, `v2.${expiry}.${mac}`, `${v}.${expiry}.${mac!.slice(1)}`, `${session}.x`, '', 'v1..', `${v}.${expiry}`]) {
      expect(isValidSession('token-a', bad, NOW), bad).toBe(false);
    }
  });

  it('holds no secret, and its cookie is HttpOnly, SameSite=Strict, for /api only', () => {
    const session = newSession('token-a', NOW);
    expect(session).not.toContain('token-a');
    expect(sessionCookieHeader(session, false)).toBe(`calltape_session=${session}; Path=/api; HttpOnly; SameSite=Strict`);
    expect(sessionCookieHeader(session, true)).toContain('; Secure');
  });
});
