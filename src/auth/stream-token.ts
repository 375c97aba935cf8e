/**
 * The per-call stream token: the answer routes put it in the markup's stream parameters, and
 * a stream's `start` must carry it. It works for any provider and needs no proxy-correct
 * URL, so it backs up (or stands in for) the provider's own request signing.
 *
 * A token names the provider it was issued for and when it expires, so a token from
 * /twiml cannot start a Plivo stream, and one read from an old answer cannot start a stream
 * later: `<expiry, 10 decimal digits of Unix seconds><HMAC-SHA256 over provider, call id and
 * expiry>`, the MAC in base64url, or hex where a provider allows only letters and digits
 * (Plivo's extraHeaders).
 */
import crypto from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

export const STREAM_TOKEN_PARAM = 'token';

export type TokenEncoding = 'base64url' | 'hex';

function mac(secret: string, provider: string, callId: string, expires: string, encoding: TokenEncoding): string {
  return crypto.createHmac('sha256', secret).update(`calltape-stream-token:v2\n${provider}\n${callId}\n${expires}`, 'utf8').digest(encoding);
}

export function streamToken(secret: string, provider: string, callId: string, ttlMs: number, encoding: TokenEncoding = 'base64url', nowMs = Date.now()): string {
  const expires = String(Math.ceil((nowMs + ttlMs) / 1000)).padStart(10, '0');
  return `${expires}${mac(secret, provider, callId, expires, encoding)}`;
}

export type TokenVerdict = 'valid' | 'missing' | 'invalid' | 'expired';

export function checkStreamToken(secret: string, provider: string, callId: string, token: string | undefined, nowMs = Date.now()): TokenVerdict {
  if (token === undefined || token === '') return 'missing';
  const expires = token.slice(0, 10);
  const given = token.slice(10);
  if (!/^\d{10}$/.test(expires)) return 'invalid';
  const encoding: TokenEncoding = given.length === 64 ? 'hex' : 'base64url';
  if (!constantTimeEqual(mac(secret, provider, callId, expires, encoding), given)) return 'invalid';
  return Number(expires) * 1000 < nowMs ? 'expired' : 'valid';
}
