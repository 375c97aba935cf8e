import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact.js';

describe('redactUrl', () => {
  it('hides credential-like query values, however their names are spelled', () => {
    expect(redactUrl('/api/events?token=abc123&x=1')).toBe('/api/events?token=[redacted]&x=1');
    expect(redactUrl('/answer/plivo?key=supersecretkey99&param.a=b')).toBe('/answer/plivo?key=[redacted]&param.a=b');
    expect(redactUrl('/api/events?%74oken=abc')).toBe('/api/events?%74oken=[redacted]');
    expect(redactUrl('/x?API_TOKEN=1&Signature=2&access_token=3')).toBe('/x?API_TOKEN=[redacted]&Signature=[redacted]&access_token=[redacted]');
  });

  it('leaves other URLs as they are', () => {
    expect(redactUrl('/api/recordings?status=complete&limit=5')).toBe('/api/recordings?status=complete&limit=5');
    expect(redactUrl('/healthz')).toBe('/healthz');
    expect(redactUrl('/x?%zz=1')).toBe('/x?%zz=1');
  });
});
