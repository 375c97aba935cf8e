/**
 * Every adapter's parser (and /streams/auto) takes any frame without throwing: arbitrary
 * text, arbitrary JSON shaped like its protocol, and arbitrary binary, in any order. A bad
 * frame must come back as a counted rejection, never as an exception on the media path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROVIDER_NAMES, PROVIDERS } from '../../src/providers/registry.js';

const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('node'), { maxKeys: 5 })),
})).node;
const event = fc.constantFrom('connected', 'start', 'media', 'stop', 'dtmf', 'mark', 'error', 'websocket:connected', 'websocket:dtmf', 'playedStream', 'clear');
/** JSON frames that look like the protocols (known event names and field names), with wrong values. */
const protocolish = fc
  .record({
    event,
    eventType: fc.option(event, { nil: undefined }),
    start: fc.option(fc.dictionary(fc.constantFrom('streamSid', 'callSid', 'callId', 'streamId', 'call_sid', 'stream_sid', 'call_control_id', 'tracks', 'mediaFormat', 'media_format', 'customParameters'), value), { nil: undefined }),
    media: fc.option(fc.dictionary(fc.constantFrom('track', 'payload', 'timestamp', 'chunk'), value), { nil: undefined }),
    metadata: fc.option(value, { nil: undefined }),
    stream_id: fc.option(value, { nil: undefined }),
    'content-type': fc.option(fc.constantFrom('audio/l16;rate=16000', 'audio/l16;rate=7', 'x'), { nil: undefined }),
    sampleRate: fc.option(value, { nil: undefined }),
    mixType: fc.option(fc.constantFrom('mono', 'stereo', 'mixed', 'x'), { nil: undefined }),
    callSid: fc.option(value, { nil: undefined }),
  })
  .map((frame) => JSON.stringify(frame));
const frame = fc.oneof(fc.string({ maxLength: 200 }), protocolish, fc.uint8Array({ maxLength: 300 }));

describe('every parser', () => {
  for (const provider of PROVIDER_NAMES) {
    it(`${provider}: never throws, whatever the frames`, () => {
      fc.assert(
        fc.property(fc.array(frame, { maxLength: 12 }), fc.constantFrom(undefined, 'audio.jambonz.org', 'audio.drachtio.org'), (frames, subprotocol) => {
          const parser = PROVIDERS[provider].createParser({ subprotocol, query: new URLSearchParams('mix=stereo&rate=16000') });
          for (const f of frames) {
            const output = typeof f === 'string' ? parser.parseText(f) : parser.parseBinary(f);
            expect(output).toBeDefined();
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  // Found by the property above, rarely: an object with its own "toString" field made the
  // error detail itself throw. Every field, every parser, deterministically.
  it('no parser throws on objects that carry toString or valueOf fields', () => {
    const hostile = { toString: {}, valueOf: {} };
    const fields = ['streamSid', 'callSid', 'callId', 'streamId', 'call_sid', 'stream_sid', 'call_control_id', 'tracks', 'mediaFormat', 'media_format', 'customParameters'];
    for (const provider of PROVIDER_NAMES) {
      const parser = PROVIDERS[provider].createParser({ query: new URLSearchParams() });
      for (const eventName of ['start', 'media', 'dtmf', 'mark', 'stop', 'connected']) {
        const frames = [
          { event: hostile },
          { event: eventName, stream_id: hostile, streamSid: hostile, sequenceNumber: hostile },
          { event: eventName, media: { track: hostile, payload: hostile, timestamp: hostile, chunk: hostile } },
          { event: eventName, dtmf: { digit: hostile, duration: hostile }, mark: { name: hostile } },
          ...fields.map((field) => ({ event: eventName, start: { [field]: hostile } })),
          ...['audio/x-mulaw', 'PCMU', 'audio/x-l16', 'raw/slin', hostile].map((encoding) => {
            const format = { encoding, sampleRate: hostile, sample_rate: hostile, channels: hostile };
            const ids = { streamSid: 'MZ00000000000000000000000000000000', callSid: 'CA00000000000000000000000000000000', callId: 'c', streamId: 's', call_sid: 'c', stream_sid: 's', call_control_id: 'c' };
            return { event: eventName, stream_id: 's', start: { ...ids, tracks: [{ name: 'inbound', mediaFormat: format }], mediaFormat: format, media_format: format } };
          }),
          { eventType: hostile, callSid: hostile, sampleRate: hostile, mixType: hostile },
        ];
        for (const frame of frames) expect(parser.parseText(JSON.stringify(frame))).toBeDefined();
      }
    }
  });
});
