/**
 * The provider adapters as data: each names itself, recognises its own first frame on
 * /streams/auto and no other provider's, and answers with the markup its spec says.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ADAPTERS, PROVIDERS } from './registry.js';
import { escapeXml } from './common/markup.js';
import { expectSecret } from './common/secrets.js';
import { detectFromMessage } from './auto/parse.js';
import type { Json } from './common/json-frames.js';

const hex = '0123456789abcdef0123456789abcdef';
const uuid = '4f1c2b3a-1234-4abc-9def-0123456789ab';
/** A first frame of each provider that /streams/auto sees, as their documentation shows them. */
const FIRST: Record<string, Json> = {
  twilio: { event: 'start', start: { streamSid: `MZ${hex}`, callSid: `CA${hex}` } },
  signalwire: { event: 'start', start: { streamSid: uuid, callSid: uuid } },
  telnyx: { event: 'start', stream_id: uuid, start: { call_control_id: 'v3:abc' } },
  plivo: { event: 'start', start: { streamId: uuid, callId: uuid } },
  exotel: { event: 'start', stream_sid: hex, start: { stream_sid: hex, call_sid: hex } },
  bandwidth: { eventType: 'start', metadata: {} },
  vonage: { event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000' },
  jambonz: { callSid: uuid, sampleRate: 8000, mixType: 'mono' },
};

describe('provider adapters', () => {
  it('are registered under their own names, auto besides', () => {
    for (const adapter of ADAPTERS) expect(PROVIDERS[adapter.name as keyof typeof PROVIDERS]).toBe(adapter);
    expect(Object.keys(PROVIDERS)).toContain('auto');
  });

  it("each recognises its own first frame on /streams/auto, in the registry's order", () => {
    const ordered = ADAPTERS.filter((adapter) => adapter.detect);
    for (const [name, frame] of Object.entries(FIRST)) {
      // Asked in an order where every other adapter comes first: none of them claims it.
      const others = [...ordered.filter((adapter) => adapter.name !== name), ...ordered.filter((adapter) => adapter.name === name)];
      expect(detectFromMessage(frame, others), name).toBe(name);
    }
    expect(detectFromMessage({ event: 'connected' }, ordered)).toBe('wait');
  });

  it('answer specs say how their token travels and where the call id is', () => {
    const answers = Object.fromEntries(ADAPTERS.filter((adapter) => adapter.answer).map((adapter) => [adapter.name, adapter.answer!]));
    expect(Object.keys(answers).sort()).toEqual(['bandwidth', 'jambonz', 'plivo', 'telnyx', 'vonage']);
    expect(answers.plivo!.tokenEncoding).toBe('hex');
    expect(answers.plivo!.paramsProblem!([['agent', 'a=b']])).toBeUndefined();
    expect(answers.plivo!.paramsProblem!([['agent', 'x'.repeat(600)]])).toContain('512 bytes at most');
    expect(answers.vonage!.callIdParam).toBe('call_uuid');
    const input = { streamUrl: 'wss://h/streams/x', params: [['a', '1']] as const, pauseSeconds: 60, maxDurationSeconds: 14_400 };
    for (const answer of Object.values(answers)) expect(answer.build(input).body).toContain('wss://h/streams/x');
  });

  it('upgrade checks: only configured credentials are checked', () => {
    const withChecks = ADAPTERS.filter((adapter) => adapter.upgradeCheck).map((adapter) => adapter.name);
    expect(withChecks).toEqual(['twilio', 'signalwire', 'exotel', 'acs', 'asterisk', 'genesys']);
    const none = loadConfig({}, {});
    expect(ADAPTERS.some((adapter) => adapter.upgradeCheck?.configured(none))).toBe(false);
  });
});

describe('markup and secrets', () => {
  it('escapes XML and compares secrets in constant time with 401 for missing, 403 for wrong', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    expect(() => expectSecret(undefined, 's', 'Authorization: Bearer')).toThrow(expect.objectContaining({ code: 'CALLTAPE_ERR_UNAUTHENTICATED' }));
    expect(() => expectSecret('t', 's', 'Authorization: Bearer')).toThrow(expect.objectContaining({ code: 'CALLTAPE_ERR_FORBIDDEN' }));
    expect(() => expectSecret('s', 's', 'Authorization: Bearer')).not.toThrow();
  });
});
