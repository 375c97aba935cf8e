/**
 * Completion webhooks are signed like Stripe's: HMAC-SHA256 over `<timestamp>.<body>` with
 * the shared secret, so a receiver can check both origin and freshness (replays carry an
 * old timestamp). The README shows the receiver's side.
 */
import crypto from 'node:crypto';
import { constantTimeEqual } from '../auth/constant-time.js';

export const SIGNATURE_HEADER = 'x-calltape-signature';
export const TIMESTAMP_HEADER = 'x-calltape-timestamp';

/** `v1=<hex>`: the version prefix leaves room for a future scheme. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receiver-side check, exported for users and tests; constant-time compare. */
export function verifyWebhook(secret: string, timestamp: string | number, body: string, signature: string, toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  return constantTimeEqual(signWebhook(secret, ts, body), signature);
}
