/**
 * The per-call stream token: /twiml puts HMAC-SHA256(secret, CallSid) in a <Parameter>, and
 * a stream's `start` must carry it. It works for any provider and needs no proxy-correct
 * URL, so it backs up (or stands in for) the provider's own request signing.
 */
import crypto from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

export const STREAM_TOKEN_PARAM = 'token';

/** base64url by default; hex where a provider allows only letters and digits (Plivo's extraHeaders). */
export function streamToken(secret: string, callSid: string, encoding: 'base64url' | 'hex' = 'base64url'): string {
  return crypto.createHmac('sha256', secret).update(callSid, 'utf8').digest(encoding);
}

export function isValidStreamToken(secret: string, callSid: string, token: string | undefined): boolean {
  if (token === undefined) return false;
  return constantTimeEqual(streamToken(secret, callSid, token.length === 64 ? 'hex' : 'base64url'), token);
}
