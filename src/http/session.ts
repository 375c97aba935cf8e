/**
 * The dashboard's sign-in. Media elements (<audio>), EventSource and WebSocket cannot send an
 * Authorization header, and the API token must never travel in a URL, so a page that signed
 * in with the token is given an HttpOnly, SameSite=Strict cookie that the API accepts in its
 * place. The cookie holds no secret: `v1.<expiry ms>.<HMAC-SHA256 over the expiry, keyed by
 * an API token>`, so it expires on its own, nodes sharing the token accept each other's
 * sessions, and rotating the token signs every session out.
 */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../auth/constant-time.js';
import { SESSION_COOKIE_MAX_CHARS, SESSION_TTL_MS } from '../limits.js';

export const SESSION_COOKIE = 'calltape_session';

/** The configured API tokens (CALLTAPE_API_TOKEN may list several, comma-separated). */
export function apiTokens(apiToken: string): string[] {
  return apiToken.split(',').map((t) => t.trim()).filter(Boolean);
}

function signature(token: string, expiresAt: number): string {
  return crypto.createHmac('sha256', token).update(`calltape-session:v1:${expiresAt}`).digest('base64url');
}

/** A new session value, signed with the first configured token. */
export function newSession(apiToken: string, now: number): string {
  const expiresAt = now + SESSION_TTL_MS;
  return `v1.${expiresAt}.${signature(apiTokens(apiToken)[0]!, expiresAt)}`;
}

/** A session value's expiry and signature (what a sign-out revokes), or undefined if it is not one. */
export function sessionParts(value: string): { expiresAt: number; signature: string } | undefined {
  const match = /^v1\.(\d{13,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  return match ? { expiresAt: Number(match[1]), signature: match[2]! } : undefined;
}

/** Whether `value` is a session signed by one of the configured tokens and not expired. */
export function isValidSession(apiToken: string, value: string, now: number): boolean {
  const match = /^v1\.(\d{13,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (!(expiresAt > now) || expiresAt > now + SESSION_TTL_MS) return false;
  return apiTokens(apiToken).some((token) => constantTimeEqual(signature(token, expiresAt), match[2]!));
}

/** The session cookie's value on a request, if it carries one. */
export function sessionFromRequest(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length <= SESSION_COOKIE_MAX_CHARS ? value : undefined;
    }
  }
  return undefined;
}

/**
 * The Set-Cookie header for a session (or, with `value` empty, for signing out). HttpOnly:
 * page scripts never read it; SameSite=Strict: no other site's page makes the browser send
 * it; Path=/api: only the API sees it; Secure whenever the page was reached over HTTPS. No
 * Max-Age: it ends with the browser session, and the server's expiry bounds it anyway.
 */
export function sessionCookieHeader(value: string, secure: boolean): string {
  const attributes = ['Path=/api', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : []), ...(value === '' ? ['Max-Age=0'] : [])];
  return `${SESSION_COOKIE}=${value}; ${attributes.join('; ')}`;
}
