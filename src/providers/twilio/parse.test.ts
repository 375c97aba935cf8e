import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRejection, type ParseResult } from '../../events.js';
import { newTwilioCall, TwilioFrameWriter } from '../../../test/helpers/twilio-frames.js';
import { createSignalwireParser } from '../signalwire/parse.js';
import { createTwilioParser } from './parse.js';

const parser = createTwilioParser();
const call = newTwilioCall();
const frames = new TwilioFrameWriter(call);

function codeOf(result: ParseResult): string | undefined {
  return isRejection(result) ? result.code : undefined;
}

describe('Twilio parser', () => {
  it('parses the documented messages into normalized events', () => {
    expect(parser.parseText(frames.connected())).toEqual({ type: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(parser.parseText(frames.start({ tracks: ['inbound'], customParameters: { FirstName: 'Jane' } }))).toEqual({
      type: 'start',
      callId: call.callSid,
      streamId: call.streamSid,
      accountId: call.accountSid,
      tracks: ['inbound'],
      format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
      params: { FirstName: 'Jane' },
    });
    const payload = Buffer.alloc(160, 0xff);
    expect(parser.parseText(frames.media({ track: 'outbound', timestampMs: 5, payload }))).toEqual({
      type: 'audio',
      track: 'outbound',
      timestampMs: 5,
      payload: payload.toString('base64'),
      streamId: call.streamSid,
    });
    expect(parser.parseText(frames.dtmf('1'))).toEqual({ type: 'dtmf', digit: '1', track: 'inbound_track' });
    expect(parser.parseText(frames.mark('my label'))).toEqual({ type: 'mark', name: 'my label' });
    expect(parser.parseText(frames.stop())).toEqual({ type: 'stop' });
  });

  it('rejects each kind of bad frame with its own code', () => {
    const media = (m: Record<string, unknown>) => JSON.stringify({ event: 'media', streamSid: call.streamSid, media: m });
    const start = (s: Record<string, unknown>) =>
      JSON.stringify({ event: 'start', start: { streamSid: call.streamSid, callSid: call.callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, ...s } });
    const cases: Array<[string, string]> = [
      ['{"event":"media"', 'CALLTAPE_ERR_INVALID_JSON'],
      ['[1,2]', 'CALLTAPE_ERR_BAD_SHAPE'],
      ['{"no":"event"}', 'CALLTAPE_ERR_BAD_SHAPE'],
      ['{"event":"transcript"}', 'CALLTAPE_ERR_UNKNOWN_EVENT'],
      [media({ track: 'inbound', payload: '!!!!' }), 'CALLTAPE_ERR_BAD_BASE64'],
      [media({ track: 'inbound', payload: 'abc' }), 'CALLTAPE_ERR_BAD_BASE64'],
      [media({ track: 'inbound', payload: '' }), 'CALLTAPE_ERR_BAD_PAYLOAD_LENGTH'],
      [media({ track: 'sideways', payload: 'AAAA' }), 'CALLTAPE_ERR_UNKNOWN_TRACK'],
      [media({ payload: 'AAAA' }), 'CALLTAPE_ERR_BAD_SHAPE'],
      [media({ track: 'inbound', payload: 'AAAA', timestamp: '-20' }), 'CALLTAPE_ERR_BAD_SHAPE'],
      [media({ track: 'inbound', payload: 'AAAA', timestamp: 'soon' }), 'CALLTAPE_ERR_BAD_SHAPE'],
      [start({ streamSid: '../../etc/passwd' }), 'CALLTAPE_ERR_INVALID_ID'],
      [start({ streamSid: `MZ${'0'.repeat(31)}\u0000` }), 'CALLTAPE_ERR_INVALID_ID'],
      [start({ callSid: 'CA'.padEnd(10_000, 'f') }), 'CALLTAPE_ERR_INVALID_ID'],
      [start({ tracks: ['inbound', 'elsewhere'] }), 'CALLTAPE_ERR_UNKNOWN_TRACK'],
      [start({ tracks: [] }), 'CALLTAPE_ERR_BAD_SHAPE'],
      [start({ mediaFormat: { encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 } }), 'CALLTAPE_ERR_UNSUPPORTED_FORMAT'],
      [start({ mediaFormat: undefined }), 'CALLTAPE_ERR_BAD_SHAPE'],
      [start({ customParameters: { nested: { a: 1 } } }), 'CALLTAPE_ERR_BAD_SHAPE'],
      ['{"event":"dtmf","dtmf":{"digit":"12"}}', 'CALLTAPE_ERR_BAD_SHAPE'],
    ];
    for (const [text, code] of cases) expect([text.slice(0, 80), codeOf(parser.parseText(text))]).toEqual([text.slice(0, 80), code]);
    expect(codeOf(parser.parseBinary(new Uint8Array(10)))).toBe('CALLTAPE_ERR_BINARY_FRAME');
  });

  it('never throws, whatever the frame', () => {
    const jsonish = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ event: fc.constantFrom('media', 'start', 'dtmf', 'mark', 'stop', 'connected'), media: fc.anything(), start: fc.anything(), dtmf: fc.anything(), mark: fc.anything(), streamSid: fc.anything() }).map((v) => JSON.stringify(v) ?? ''),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        const result = parser.parseText(text);
        expect(typeof result).toBe('object');
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any valid media frame', () => {
    fc.assert(
      fc.property(fc.constantFrom('inbound', 'outbound'), fc.nat({ max: 4 * 3600 * 1000 }), fc.uint8Array({ minLength: 1, maxLength: 2000 }), (track, ts, bytes) => {
        const payload = Buffer.from(bytes);
        const result = parser.parseText(frames.media({ track: track as 'inbound' | 'outbound', timestampMs: ts, payload }));
        expect(result).toMatchObject({ type: 'audio', track, timestampMs: ts });
        expect(Buffer.from((result as { payload: string }).payload, 'base64').equals(payload)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('SignalWire parser', () => {
  const sw = createSignalwireParser();
  const uuid = '3a7f5c4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f';

  it('accepts UUID ids, L16 at 16/24 kHz, a stop without body and dtmf.duration', () => {
    const start = JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      start: { streamSid: uuid, callSid: uuid, accountSid: uuid, tracks: ['inbound', 'outbound'], mediaFormat: { encoding: 'audio/x-L16', sampleRate: 24000, channels: 1 }, customParameters: {} },
    });
    expect(sw.parseText(start)).toMatchObject({ type: 'start', streamId: uuid, format: { encoding: 'l16', sampleRate: 24000 } });
    expect(sw.parseText('{"event":"stop","sequenceNumber":"9"}')).toEqual({ type: 'stop' });
    expect(sw.parseText('{"event":"dtmf","dtmf":{"digit":"#","duration":250}}')).toEqual({ type: 'dtmf', digit: '#', durationMs: 250 });
  });

  it('still rejects ids that are neither UUIDs nor SIDs', () => {
    const start = JSON.stringify({ event: 'start', start: { streamSid: 'abc/def', callSid: uuid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } } });
    expect(codeOf(sw.parseText(start))).toBe('CALLTAPE_ERR_INVALID_ID');
  });
});
