import crypto from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import { describe, expect, it } from 'vitest';
import { audioHookHeaders, audioHookIds, signAudioHook } from '../../../test/helpers/audiohook.js';
import { signAudioHookRequest, verifyAudioHookSignature, type SignedRequest } from './signature.js';

/**
 * The AudioHook documentation's signature example, as the reference implementation's tests
 * check it (purecloudlabs/audiohook-reference-implementation,
 * app/audiohook/test/httpsignature/signature-verifier.test.ts, "Verify AudioHook documentation
 * example"): its published API key and client secret.
 */
const SAMPLE_API_KEY = 'SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh';
const SAMPLE_SECRET = Buffer.from('TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=', 'base64');
const SAMPLE_CREATED = 1641013200;
const SAMPLE_HEADERS: Record<string, string> = {
  host: 'audiohook.example.com',
  'audiohook-organization-id': 'd7934305-0972-4844-938e-9060eef73d05',
  'audiohook-session-id': '30b0e395-84d3-4570-ac13-9a62d8f514c0',
  'audiohook-correlation-id': 'e160e428-53e2-487c-977d-96989bf5c99d',
  'x-api-key': SAMPLE_API_KEY,
  signature: 'sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:',
  'signature-input':
    'sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430',
};

function request(headers: Record<string, string>, target = '/api/v1/voicebiometrics/ws', authority = 'audiohook.example.com'): SignedRequest {
  return { header: (name) => headers[name], target, authority };
}

const verifySample = (headers: Record<string, string>, now = SAMPLE_CREATED + 1, target?: string) => () => verifyAudioHookSignature(request(headers, target), SAMPLE_API_KEY, SAMPLE_SECRET, now);

describe('AudioHook HTTP message signature', () => {
  it("verifies the documentation's example with its published key, when checked within its age", () => {
    expect(verifySample(SAMPLE_HEADERS)).not.toThrow();
  });

  it('refuses the example changed in any signed part, with another secret, or too old', () => {
    expect(verifySample({ ...SAMPLE_HEADERS, 'audiohook-session-id': '30b0e395-84d3-4570-ac13-9a62d8f514c1' })).toThrow(/does not match/);
    expect(verifySample(SAMPLE_HEADERS, SAMPLE_CREATED + 1, '/api/v1/voicebiometrics/ws?x=1')).toThrow(/does not match/);
    expect(() => verifyAudioHookSignature(request(SAMPLE_HEADERS), SAMPLE_API_KEY, crypto.randomBytes(32), SAMPLE_CREATED + 1)).toThrow(/does not match/);
    // Created at most 10 s ago, 3 s of skew counted against the signer (the reference's rule).
    expect(verifySample(SAMPLE_HEADERS, SAMPLE_CREATED + 7)).not.toThrow();
    expect(verifySample(SAMPLE_HEADERS, SAMPLE_CREATED + 8)).toThrow(/older than 10 s/);
    expect(verifySample(SAMPLE_HEADERS, SAMPLE_CREATED - 4)).toThrow(/future/);
    // A key id other than the X-API-KEY the upgrade carries.
    expect(() => verifyAudioHookSignature(request(SAMPLE_HEADERS), 'another-api-key', SAMPLE_SECRET, SAMPLE_CREATED + 1)).toThrow(/keyid/);
  });

  it('says unsigned (401) apart from badly signed (403)', () => {
    const { signature: _s, 'signature-input': _i, ...unsigned } = SAMPLE_HEADERS;
    expect(verifySample(unsigned)).toThrow(expect.objectContaining({ code: 'CALLTAPE_ERR_UNAUTHENTICATED' }));
    expect(verifySample({ ...unsigned, signature: SAMPLE_HEADERS.signature! })).toThrow(expect.objectContaining({ code: 'CALLTAPE_ERR_FORBIDDEN' }));
    expect(verifySample({ ...SAMPLE_HEADERS, 'signature-input': 'sig1=("@authority' })).toThrow(/not a structured dictionary/);
  });

  it("accepts what another RFC 9421 implementation signs, and refuses what the reference's checks refuse", async () => {
    const ids = audioHookIds();
    const secret = crypto.randomBytes(32).toString('base64');
    const apiKey = 'genesys-integration-api-key';
    const url = 'https://recorder.example.com/streams/genesys?pause=skip';
    const headers = audioHookHeaders(ids, apiKey);
    const check = (signed: Record<string, string>) => () =>
      verifyAudioHookSignature(request(signed, '/streams/genesys?pause=skip', 'recorder.example.com'), apiKey, Buffer.from(secret, 'base64'));
    expect(check(await signAudioHook(url, headers, { apiKey, secret }))).not.toThrow();
    // The other implementation's verifier agrees with ours on the same message.
    const signed = await signAudioHook(url, headers, { apiKey, secret });
    const theirs = await httpbis.verifyMessage(
      { keyLookup: async () => ({ id: apiKey, algs: ['hmac-sha256'], verify: async (data, signature) => crypto.timingSafeEqual(signature, crypto.createHmac('sha256', Buffer.from(secret, 'base64')).update(data).digest()) }) },
      { method: 'GET', url, headers: signed },
    );
    expect(theirs).toBe(true);
    expect(check(await signAudioHook(url, headers, { apiKey, secret, nonce: 'short-nonce' }))).toThrow(/nonce/);
    expect(check(await signAudioHook(url, headers, { apiKey, secret, keyid: 'someone-else' }))).toThrow(/keyid/);
    expect(check(await signAudioHook(url, headers, { apiKey, secret, fields: ['@request-target', '@authority', 'x-api-key'] }))).toThrow(/does not cover audiohook-organization-id/);
    expect(check(await signAudioHook(url, headers, { apiKey, secret, created: new Date(Date.now() - 60_000) }))).toThrow(/older than/);
    expect(check(await signAudioHook(url, { ...headers }, { apiKey, secret: crypto.randomBytes(32).toString('base64') }))).toThrow(/does not match/);
  });

  it("signs as Genesys does (for calltape simulate): the other implementation's verifier and ours both accept it", async () => {
    const ids = audioHookIds();
    const apiKey = 'simulated-integration-key';
    const secret = crypto.randomBytes(32);
    const headers = audioHookHeaders(ids, apiKey);
    const request: SignedRequest = { header: (name) => headers[name], target: '/streams/genesys', authority: 'recorder.example.com' };
    const signed: Record<string, string> = { ...headers, ...signAudioHookRequest(request, apiKey, secret) };
    expect(() => verifyAudioHookSignature({ ...request, header: (name) => signed[name] }, apiKey, secret)).not.toThrow();
    const theirs = await httpbis.verifyMessage(
      { keyLookup: async () => ({ id: apiKey, algs: ['hmac-sha256'], verify: async (data, signature) => crypto.timingSafeEqual(signature, crypto.createHmac('sha256', secret).update(data).digest()) }) },
      { method: 'GET', url: 'https://recorder.example.com/streams/genesys', headers: signed },
    );
    expect(theirs).toBe(true);
  });
});
