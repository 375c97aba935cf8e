import { describe, expect, it } from 'vitest';
import { checkStreamToken, streamToken } from './stream-token.js';

const SECRET = 'a-stream-token-secret-of-some-length';
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

describe('stream tokens', () => {
  it('are valid for the provider and call they were issued for, until they expire', () => {
    const token = streamToken(SECRET, 'twilio', 'CA1', 300_000, 'base64url', NOW);
    expect(checkStreamToken(SECRET, 'twilio', 'CA1', token, NOW + 299_000)).toBe('valid');
    expect(checkStreamToken(SECRET, 'twilio', 'CA1', token, NOW + 301_000)).toBe('expired');
    expect(checkStreamToken(SECRET, 'plivo', 'CA1', token, NOW)).toBe('invalid');
    expect(checkStreamToken(SECRET, 'twilio', 'CA2', token, NOW)).toBe('invalid');
    expect(checkStreamToken('another-secret-of-some-length', 'twilio', 'CA1', token, NOW)).toBe('invalid');
    expect(checkStreamToken(SECRET, 'twilio', 'CA1', undefined, NOW)).toBe('missing');
  });

  it('cannot be extended by editing the expiry', () => {
    const token = streamToken(SECRET, 'twilio', 'CA1', 1000, 'base64url', NOW);
    const later = String(Number(token.slice(0, 10)) + 3600) + token.slice(10);
    expect(checkStreamToken(SECRET, 'twilio', 'CA1', later, NOW)).toBe('invalid');
  });

  it('hex tokens are letters and digits only (Plivo extraHeaders) and check the same way', () => {
    const token = streamToken(SECRET, 'plivo', 'uuid-1', 300_000, 'hex', NOW);
    expect(token).toMatch(/^[0-9a-f]{74}$/);
    expect(checkStreamToken(SECRET, 'plivo', 'uuid-1', token, NOW)).toBe('valid');
  });
});
