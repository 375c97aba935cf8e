import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { isValidTwilioSignature, isValidTwilioSignatureWithBody, twilioSignature } from './auth.js';

const URL_ = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

describe('Twilio signatures: the published vectors (PROTOCOLS.md 1.5)', () => {
  it('form parameters', () => {
    expect(twilioSignature('12345', URL_, PARAMS)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', URL_, PARAMS)).toBe(true);
    const docs = { ...PARAMS, Caller: '+14158675310', From: '+14158675310' };
    expect(isValidTwilioSignature('12345', 'GvWf1cFY/Q7PnoempGyD5oXAezc=', URL_, docs)).toBe(true);
    expect(isValidTwilioSignature('12345', 'GvWf1cFY/Q7PnoempGyD5oXAezc=', URL_, PARAMS)).toBe(false);
  });

  it('JSON body with bodySHA256', () => {
    const body = '{"property": "value", "boolean": true}';
    const hash = '0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
    expect(isValidTwilioSignatureWithBody('12345', 'a9nBmqA0ju/hNViExpshrM61xv4=', `${URL_}&bodySHA256=${hash}`, body)).toBe(true);
    expect(isValidTwilioSignatureWithBody('12345', 'a9nBmqA0ju/hNViExpshrM61xv4=', `${URL_}&bodySHA256=${hash}`, `${body} `)).toBe(false);
    expect(isValidTwilioSignature('12345', 'y77kIzt2vzLz71DgmJGsen2scGs=', `https://mycompany.com/myapp.php?bodySHA256=${hash}`)).toBe(true);
    const empty = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
    // Signed over the URL with :443; accepted whichever way the server sees it.
    expect(isValidTwilioSignatureWithBody('12345', 'Ldidvp12m26NI7eqEvxnEpkd9Hc=', `https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=${empty}`, '{}')).toBe(true);
    expect(isValidTwilioSignatureWithBody('12345', 'Ldidvp12m26NI7eqEvxnEpkd9Hc=', `https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=${empty}`, '{}')).toBe(true);
    expect(isValidTwilioSignatureWithBody('12345', 'rw/jVviOgicj2+kHZULvebnA4ag=', `https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=${empty}`, '{}')).toBe(true);
  });

  it('WebSocket upgrade URL, with and without :443', () => {
    expect(twilioSignature('12345', 'wss://example.com/media-stream')).toBe('XFfwGS2Ev7f9qAP9MmRoMS7C724=');
    expect(twilioSignature('12345', 'wss://example.com:443/media-stream')).toBe('55OA2CdDEK8djZDRLLS9pHUR+JI=');
    for (const sig of ['XFfwGS2Ev7f9qAP9MmRoMS7C724=', '55OA2CdDEK8djZDRLLS9pHUR+JI=']) {
      expect(isValidTwilioSignature('12345', sig, 'wss://example.com/media-stream')).toBe(true);
      expect(isValidTwilioSignature('12345', sig, 'wss://example.com:443/media-stream')).toBe(true);
    }
    expect(isValidTwilioSignature('12346', 'XFfwGS2Ev7f9qAP9MmRoMS7C724=', 'wss://example.com/media-stream')).toBe(false);
    expect(isValidTwilioSignature('12345', undefined, 'wss://example.com/media-stream')).toBe(false);
  });
});

describe('agreement with the twilio package', () => {
  const token = fc.string({ minLength: 1, maxLength: 40 });
  const word = fc.stringMatching(/^[A-Za-z0-9_.~-]{1,12}$/);
  const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('+14158675309', 'CA1234', 'a b&c=d', 'ünïcödé'));
  const url = fc
    .record({
      scheme: fc.constantFrom('https', 'http'),
      host: fc.constantFrom('example.com', 'rec.example.org', 'a-b.io'),
      port: fc.constantFrom('', ':443', ':80', ':8443'),
      path: fc.array(word, { maxLength: 3 }),
      query: fc.array(fc.tuple(word, fc.string({ maxLength: 10 })), { maxLength: 3 }),
    })
    .map(({ scheme, host, port, path, query }) => {
      const qs = query.length > 0 ? `?${query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '';
      return `${scheme}://${host}${port}/${path.join('/')}${qs}`;
    });
  const params = fc.dictionary(word, fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })), { maxKeys: 6 });

  it('validates exactly what twilio.validateRequest validates (1,000 random cases)', () => {
    fc.assert(
      fc.property(token, url, params, fc.boolean(), fc.nat(3), (authToken, u, p, signCorrectly, variant) => {
        // Sign a spelling Twilio might use, or a wrong token; both validators must agree.
        const signedUrl = variant === 1 ? u.replace(/(https?:\/\/[^/:]+)\//, (_m, h: string) => `${h}:${h.startsWith('https') ? 443 : 80}/`) : u;
        const signature = twilio.getExpectedTwilioSignature(signCorrectly ? authToken : `${authToken}x`, signedUrl, p as Record<string, string>);
        const theirs = twilio.validateRequest(authToken, signature, u, p as Record<string, string>);
        expect(isValidTwilioSignature(authToken, signature, u, p)).toBe(theirs);
        expect(twilioSignature(authToken, u, p)).toBe(twilio.getExpectedTwilioSignature(authToken, u, p as Record<string, string>));
      }),
      { numRuns: 1000 },
    );
  });
});
