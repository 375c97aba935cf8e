import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from './redact.js';

describe('redactUrl', () => {
  it('hides credential-like query values, however their names are spelled', () => {
    expect(redactUrl('/api/events?token=abc123&x=1')).toBe('/api/events?token=[redacted]&x=1');
    expect(redactUrl('/answer/plivo?key=supersecretkey99&param.a=b')).toBe('/answer/plivo?key=[redacted]&param.a=b');
    expect(redactUrl('/api/events?%74oken=abc')).toBe('/api/events?%74oken=[redacted]');
    expect(redactUrl('/x?API_TOKEN=1&Signature=2&access_token=3')).toBe('/x?API_TOKEN=[redacted]&Signature=[redacted]&access_token=[redacted]');
  });

  it('hides the userinfo of an absolute URL, and signature-like values in webhook URLs', () => {
    expect(redactUrl('https://user:pw@hooks.example.com/in?token=t1&sig=s2&x=1')).toBe('https://[redacted]@hooks.example.com/in?token=[redacted]&sig=[redacted]&x=1');
    expect(redactUrl('https://only-a-user@hooks.example.com/')).toBe('https://[redacted]@hooks.example.com/');
    expect(redactUrl('https://hooks.example.com/a@b?key=k')).toBe('https://hooks.example.com/a@b?key=[redacted]');
  });

  it('redacts every URL quoted in a message', () => {
    expect(redactUrlsIn('TypeError: cannot fetch http://u:pw@h/x?token=t (refused)')).toBe('TypeError: cannot fetch http://[redacted]@h/x?token=[redacted] (refused)');
  });

  it('leaves other URLs as they are', () => {
    expect(redactUrl('/api/recordings?status=complete&limit=5')).toBe('/api/recordings?status=complete&limit=5');
    expect(redactUrl('/healthz')).toBe('/healthz');
    expect(redactUrl('/x?%zz=1')).toBe('/x?%zz=1');
  });
});
