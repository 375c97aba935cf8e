import { describe, expect, it } from 'vitest';
import { mayLeaveTrace } from './refused-start.js';

const refused = { callId: 'CA0123456789abcdef0123456789abcdef', streamId: 'MZ1', params: {} };
const none = new Set<string>();

describe('mayLeaveTrace', () => {
  it('lets a stream that could have been recorded leave a trace', () => {
    expect(mayLeaveTrace({ verified: none, unverified: none }, 'twilio', refused, 'CALLTAPE_ERR_UNSUPPORTED_FORMAT')).toBe(true);
    expect(mayLeaveTrace({ verified: new Set(['twilio']), unverified: none }, 'twilio', refused, 'CALLTAPE_ERR_UNSUPPORTED_FORMAT')).toBe(true);
  });

  it('gives traffic that proved nothing no trace', () => {
    expect(mayLeaveTrace({ verified: none, unverified: new Set(['twilio']) }, 'twilio', refused, 'CALLTAPE_ERR_UNSUPPORTED_FORMAT')).toBe(false);
    expect(mayLeaveTrace({ verified: none, unverified: none, streamTokenSecret: 'a-secret-of-some-length' }, 'twilio', refused, 'CALLTAPE_ERR_UNSUPPORTED_FORMAT')).toBe(false);
  });

  it('leaves a trace of a token failure only when the upgrade proved the provider', () => {
    const token = { streamTokenSecret: 'a-secret-of-some-length' };
    expect(mayLeaveTrace({ verified: none, unverified: none, ...token }, 'twilio', refused, 'CALLTAPE_ERR_BAD_STREAM_TOKEN')).toBe(false);
    expect(mayLeaveTrace({ verified: new Set(['twilio']), unverified: none, ...token }, 'twilio', refused, 'CALLTAPE_ERR_BAD_STREAM_TOKEN')).toBe(true);
  });
});
