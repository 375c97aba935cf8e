/**
 * Comparing secrets (signatures, tokens) without leaking where they differ through timing.
 * Every credential check in calltape goes through here.
 */
import crypto from 'node:crypto';

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
