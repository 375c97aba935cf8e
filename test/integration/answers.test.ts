/**
 * /answer/<provider>: the markup parses as its provider reads it (XML or JSON) and points at
 * the provider's stream route on the public host; the per-call token is only issued with the
 * answer key, and a stream started with it is accepted while one without it is refused.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStreamToken, streamToken } from '../../src/auth/stream-token.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
const SECRET = 'a-stream-token-secret-of-some-length';
const KEY = 'an-answer-key-of-some-length';

describe('/answer/<provider>', () => {
  let server: TestServer;
  let hardened: TestServer;
  beforeAll(async () => {
    [server, hardened] = await Promise.all([
      startTestServer({ publicUrl: 'https://rec.example.com' }),
      startTestServer({ publicUrl: 'https://rec.example.com', streamTokenSecret: SECRET, answerKey: KEY }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server.stop(), hardened.stop()]);
  });

  const get = (s: TestServer, path: string, init?: RequestInit) => fetch(`${s.url}${path}`, init);

  it('Telnyx: TeXML <Start><Stream> to /streams/telnyx with both tracks', async () => {
    const res = await get(server, '/answer/telnyx');
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const doc = xml.parse(await res.text());
    expect(doc.Response.Start.Stream).toMatchObject({ url: 'wss://rec.example.com/streams/telnyx?tracks=both', track: 'both_tracks' });
  });

  it('Telnyx: asks for PCMU, so a call in a codec calltape cannot decode (AMR-WB) is not streamed as such', async () => {
    const doc = xml.parse(await (await get(server, '/answer/telnyx')).text());
    expect(doc.Response.Start.Stream.codec).toBe('PCMU');
  });

  it('Telnyx: refuses parameters and tokens it could not deliver instead of dropping them', async () => {
    const withParam = await get(server, '/answer/telnyx?param.agent=42');
    expect(withParam.status).toBe(400);
    expect(await withParam.text()).toContain('carry no custom parameters');
    expect((await get(hardened, `/answer/telnyx?key=${KEY}`)).status).toBe(400);
  });

  it('Plivo: <Stream> with the URL as text and parameters in extraHeaders', async () => {
    const res = await get(server, '/answer/plivo?param.agent=42');
    const doc = xml.parse(await res.text());
    expect(doc.Response.Stream['#text']).toBe('wss://rec.example.com/streams/plivo');
    expect(doc.Response.Stream).toMatchObject({ audioTrack: 'both', extraHeaders: 'agent=42', contentType: 'audio/x-l16;rate=16000' });
  });

  it("Plivo: the stream lasts as long as calltape records (streamTimeout = max duration, not the pause)", async () => {
    const doc = xml.parse(await (await get(server, '/answer/plivo')).text());
    // CALLTAPE_MAX_DURATION_MS defaults to 4 h; Plivo's own default is 86400 s.
    expect(doc.Response.Stream.streamTimeout).toBe('14400');
  });

  it('Plivo: any parameter round-trips through extraHeaders to the recording exactly; only more than 512 bytes is refused', async () => {
    const sent = { campaign: 'spring-sale', agent_id: 'x,y=1;z', note: 'café ☎', plain: 'Abc123', empty: '' };
    const query = Object.entries(sent).map(([name, value]) => `param.${name}=${encodeURIComponent(value)}`).join('&');
    const res = await get(server, `/answer/plivo?${query}`);
    expect(res.status).toBe(200);
    const extraHeaders = xml.parse(await res.text()).Response.Stream.extraHeaders as string;
    // What Plivo accepts: letters, digits, and the pair separators; plain pairs stay readable.
    expect(extraHeaders).toMatch(/^[A-Za-z0-9]+=[A-Za-z0-9]*(,[A-Za-z0-9]+=[A-Za-z0-9]*)*$/);
    expect(extraHeaders).toContain('plain=Abc123');
    // The stream's start carries them back (Plivo documents ';' there): the recording has them exactly.
    const finished = server.finished(1);
    const ws = await openSocket(server.wsUrl('plivo'));
    const closed = whenClosed(ws);
    await sendAll(ws, [
      JSON.stringify({ event: 'start', sequenceNumber: 1, start: { callId: 'u-params', streamId: 's-params', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } }, extra_headers: extraHeaders.replaceAll(',', ';') }),
      JSON.stringify({ event: 'media', sequenceNumber: 2, media: { track: 'inbound', timestamp: '0', payload: Buffer.alloc(160, 0x7f).toString('base64') } }),
    ]);
    ws.close(1000);
    await closed;
    const [meta] = await finished;
    expect(meta!.customParameters).toEqual(sent);
    const tooLong = await get(server, `/answer/plivo?${Array.from({ length: 4 }, (_, i) => `param.p${i}=${'-'.repeat(80)}`).join('&')}`);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toMatch(/extraHeaders, 512 bytes at most; these need \d+/);
  });

  it('Vonage: NCCO connect to a websocket endpoint with the call id in headers', async () => {
    const res = await get(server, '/answer/vonage?uuid=63f61863-4a51-4f6b-86e1-46edebcf9356');
    expect(res.headers.get('content-type')).toMatch(/json/);
    const ncco = (await res.json()) as Array<{ action: string; endpoint: Array<Record<string, unknown>> }>;
    expect(ncco[0]!.action).toBe('connect');
    expect(ncco[0]!.endpoint[0]).toMatchObject({ type: 'websocket', uri: 'wss://rec.example.com/streams/vonage', 'content-type': 'audio/l16;rate=16000', headers: { call_uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356' } });
  });

  it('Bandwidth: BXML <StartStream> with <StreamParam>s', async () => {
    const res = await get(server, '/answer/bandwidth?param.team=blue', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ callId: 'c-123' }) });
    const doc = xml.parse(await res.text());
    expect(doc.Response.StartStream).toMatchObject({ destination: 'wss://rec.example.com/streams/bandwidth', tracks: 'both' });
    expect(doc.Response.StartStream.StreamParam).toMatchObject({ name: 'team', value: 'blue' });
  });

  it('jambonz: a listen verb to /streams/jambonz, stereo', async () => {
    const res = await get(server, '/answer/jambonz', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call_sid: 'abc' }) });
    const verbs = (await res.json()) as Array<Record<string, unknown>>;
    expect(verbs[0]).toMatchObject({ verb: 'listen', url: 'wss://rec.example.com/streams/jambonz', mixType: 'stereo' });
  });

  it('issues stream tokens only with the answer key, keyed on the call id', async () => {
    expect((await get(hardened, '/answer/bandwidth?callId=c-9')).status).toBe(401);
    expect((await get(hardened, '/answer/bandwidth?callId=c-9&key=wrong-key-wrong-key')).status).toBe(403);
    const res = await get(hardened, `/answer/bandwidth?callId=c-9&key=${KEY}`);
    const doc = xml.parse(await res.text());
    expect(doc.Response.StartStream.StreamParam).toMatchObject({ name: 'token' });
    const token = doc.Response.StartStream.StreamParam.value as string;
    expect(checkStreamToken(SECRET, 'bandwidth', 'c-9', token)).toBe('valid');
    // Bound to the provider it was issued for: a Bandwidth token does not start a Plivo stream.
    expect(checkStreamToken(SECRET, 'plivo', 'c-9', token)).toBe('invalid');
    const plivo = xml.parse(await (await get(hardened, `/answer/plivo?CallUUID=u-1&key=${KEY}`)).text());
    expect(plivo.Response.Stream.extraHeaders).toMatch(/^token=[A-Za-z0-9]+$/);
    expect(checkStreamToken(SECRET, 'plivo', 'u-1', (plivo.Response.Stream.extraHeaders as string).slice(6))).toBe('valid');
  });

  it('a Plivo stream carrying the issued token in extra_headers records; one without is closed 1008', async () => {
    const start = (callId: string, extra: string) =>
      JSON.stringify({ event: 'start', sequenceNumber: 1, start: { callId, streamId: `s-${callId}`, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } }, extra_headers: extra });
    const media = JSON.stringify({ event: 'media', sequenceNumber: 2, media: { track: 'inbound', timestamp: '0', payload: Buffer.alloc(160, 0x7f).toString('base64') } });
    const finished = hardened.finished(1);
    const good = await openSocket(hardened.wsUrl('plivo'));
    const goodClosed = whenClosed(good);
    await sendAll(good, [start('u-1', `token=${streamToken(SECRET, 'plivo', 'u-1', 60_000, 'hex')}`), media]);
    good.close(1000);
    await goodClosed;
    const [meta] = await finished;
    expect(meta).toMatchObject({ status: 'complete', callSid: 'u-1', customParameters: {} });
    const bad = await openSocket(hardened.wsUrl('plivo'));
    const badClosed = whenClosed(bad);
    await sendAll(bad, [start('u-2', `token=${streamToken(SECRET, 'plivo', 'u-1', 60_000, 'hex')}`)]);
    expect(await badClosed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
  });
});
