import { describe, expect, it } from 'vitest';
import type { StartEvent } from '../events.js';
import { verifyStart } from './start-check.js';

const start: StartEvent = { type: 'start', callId: '6c6dd3d1-81af-476c-bedb-dae67d73a167', streamId: 'b1f0c2de-1111-4222-8333-944455556666', tracks: ['inbound'], format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 }, params: {} };
const none: ReadonlySet<string> = new Set();
const secret = 'a-stream-token-secret-of-length';

describe('verifyStart with CALLTAPE_STREAM_TOKEN_EXEMPT', () => {
  it('lets an exempt provider in without a token only when its own credential proved this upgrade', () => {
    expect(verifyStart({ streamTokenSecret: secret, streamTokenExempt: ['genesys'], verified: new Set(['genesys']), unverified: none }, 'genesys', start)).toMatchObject({ authenticated: true, start });
    // Not proven on this upgrade (no credential carried), or another provider's credential: a token is needed.
    expect(verifyStart({ streamTokenSecret: secret, streamTokenExempt: ['genesys'], verified: none, unverified: none }, 'genesys', start).refused?.code).toBe('CALLTAPE_ERR_BAD_STREAM_TOKEN');
    expect(verifyStart({ streamTokenSecret: secret, streamTokenExempt: ['genesys'], verified: new Set(['asterisk']), unverified: none }, 'genesys', start).refused?.code).toBe('CALLTAPE_ERR_BAD_STREAM_TOKEN');
    // Proven, but not exempt.
    expect(verifyStart({ streamTokenSecret: secret, streamTokenExempt: ['acs'], verified: new Set(['genesys']), unverified: none }, 'genesys', start).refused?.code).toBe('CALLTAPE_ERR_BAD_STREAM_TOKEN');
  });
});
