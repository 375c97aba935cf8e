/**
 * The dashboard's sign-in. Media elements (<audio>), EventSource and WebSocket cannot send an
 * Authorization header, and the API token must never travel in a URL, so a page that signed
 * in with the token is given an HttpOnly, SameSite=Strict cookie that the API accepts in its
 * place. The cookie holds no secret: `v2.<credential name>.<expiry ms>.<HMAC-SHA256 over both,
 * keyed by that credential's token>`, so it expires on its own, nodes sharing the credentials
 * accept each other's sessions, the audit trail knows whose session acted, and rotating a
 * token signs its sessions out.
 */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../auth/constant-time.js';
import type { ApiCredential } from '../auth/api-credentials.js';
import { SESSION_COOKIE_MAX_CHARS, SESSION_TTL_MS } from '../limits.js';

export const SESSION_COOKIE = 'calltape_session';

const SESSION_VALUE = /^v2\.([A-Za-z0-9][A-Za-z0-9._@-]{0,63})\.(\d{13,15})\.([A-Za-z0-9_-]{43})$/;

function signature(token: string, name: string, expiresAt: number): string {
  return crypto.createHmac('sha256', token).update(`calltape-session:v2:${name}:${expiresAt}`).digest('base64url');
}

/** A new session for the credential that signed in. */
export function newSession(credential: ApiCredential, now: number): string {
  const expiresAt = now + SESSION_TTL_MS;
  return `v2.${credential.name}.${expiresAt}.${signature(credential.token, credential.name, expiresAt)}`;
}

/** A session value's credential name, expiry and signature (what a sign-out revokes), or undefined if it is not one. */
export function sessionParts(value: string): { name: string; expiresAt: number; signature: string } | undefined {
  const match = SESSION_VALUE.exec(value);
  return match ? { name: match[1]!, expiresAt: Number(match[2]), signature: match[3]! } : undefined;
}

/** The credential whose session `value` is, when it signed it and it has not expired; else undefined. */
export function sessionCredential(credentials: readonly ApiCredential[], value: string, now: number): ApiCredential | undefined {
  const parts = sessionParts(value);
  if (!parts) return undefined;
  if (!(parts.expiresAt > now) || parts.expiresAt > now + SESSION_TTL_MS) return undefined;
  const credential = credentials.find((c) => c.name === parts.name);
  return credential && constantTimeEqual(signature(credential.token, credential.name, parts.expiresAt), parts.signature) ? credential : undefined;
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
