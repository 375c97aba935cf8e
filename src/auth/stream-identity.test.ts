import { describe, expect, it } from 'vitest';
import type { StartEvent } from '../events.js';
import { claimedProviders } from './stream-identity.js';

const start = (callId: string): StartEvent =>
  ({ type: 'start', callId, streamId: 'x', tracks: ['inbound'], format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 }, params: {} }) as StartEvent;
const SID = `CA${'a'.repeat(32)}`;
const UUID = '8a3b5a38-4cf6-4d3a-9c2f-0a1b2c3d4e5f';

describe('claimedProviders', () => {
  it('a Twilio call id claims Twilio on either Twilio-protocol route, a UUID claims SignalWire', () => {
    expect(claimedProviders('signalwire', start(SID)).sort()).toEqual(['signalwire', 'twilio']);
    expect(claimedProviders('twilio', start(SID))).toEqual(['twilio']);
    expect(claimedProviders('twilio', start(UUID)).sort()).toEqual(['signalwire', 'twilio']);
    expect(claimedProviders('signalwire', start(UUID))).toEqual(['signalwire']);
  });

  it('other protocols claim only themselves', () => {
    expect(claimedProviders('telnyx', start(SID))).toEqual(['telnyx']);
    expect(claimedProviders('exotel', start('abc'))).toEqual(['exotel']);
  });
});
