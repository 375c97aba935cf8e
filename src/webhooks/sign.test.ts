import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allowedCallbackUrl, parseAllowList } from './allow.js';
import { signWebhook, verifyWebhook } from './sign.js';

describe('webhook signatures', () => {
  it('is HMAC-SHA256 of "timestamp.body", hex, prefixed v1=', () => {
    const body = '{"event":"recording.complete"}';
    const expected = crypto.createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
    expect(signWebhook('s3cret', 1700000000, body)).toBe(`v1=${expected}`);
  });

  it('verifies a fresh signature and rejects a changed body, another secret or an old timestamp', () => {
    const now = 1_800_000_000;
    const sig = signWebhook('k', now, 'body');
    expect(verifyWebhook('k', String(now), 'body', sig, 300, now)).toBe(true);
    expect(verifyWebhook('k', String(now), 'body!', sig, 300, now)).toBe(false);
    expect(verifyWebhook('other', String(now), 'body', sig, 300, now)).toBe(false);
    expect(verifyWebhook('k', String(now), 'body', sig, 300, now + 301)).toBe(false);
    expect(verifyWebhook('k', 'x', 'body', sig, 300, now)).toBe(false);
  });
});

describe('statusCallback allow-list', () => {
  const allow = parseAllowList(' hooks.example.com , *.corp.example , 10.0.0.5:8443 ');

  it('accepts listed hosts, subdomains of wildcards, and host:port pairs', () => {
    expect(allowedCallbackUrl('https://hooks.example.com/done', allow)).toBe('https://hooks.example.com/done');
    expect(allowedCallbackUrl('https://a.b.corp.example/x?y=1', allow)).toBe('https://a.b.corp.example/x?y=1');
    expect(allowedCallbackUrl('http://10.0.0.5:8443/cb', allow)).toBe('http://10.0.0.5:8443/cb');
  });

  it('refuses everything else, including look-alikes and internal addresses', () => {
    for (const url of [
      'https://evil.com/hooks.example.com',
      'https://hooks.example.com.evil.com/',
      'https://corp.example/',
      'https://xcorp.example/',
      'http://10.0.0.5/cb',
      'http://169.254.169.254/latest/meta-data',
      'http://localhost:8080/api',
      'file:///etc/passwd',
      'https://user:pw@hooks.example.com/',
      'not a url',
    ]) {
      expect([url, allowedCallbackUrl(url, allow)]).toEqual([url, undefined]);
    }
    expect(allowedCallbackUrl('https://hooks.example.com/', [])).toBeUndefined();
  });
});
