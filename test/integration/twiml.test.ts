/** The answer URL: TwiML that parses, in both modes, pointing at the right public wss URL. */
import { XMLParser } from 'fast-xml-parser';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createRecorder, type Recorder } from '../../src/recording/recorder.js';
import { tempDataDir } from '../helpers/recordings.js';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'Parameter', parseTagValue: false, parseAttributeValue: false });
let app: FastifyInstance | undefined;
let recorder: Recorder | undefined;

afterEach(async () => {
  await app?.close();
  await recorder?.shutdown();
});

async function build(options: ConfigInput = {}): Promise<FastifyInstance> {
  recorder = createRecorder({ logLevel: 'silent', dataDir: tempDataDir(), ...options });
  app = await buildApp(loadConfig({ logLevel: 'silent', ...options }), { recorder });
  return app;
}

describe('/twiml', () => {
  it('start mode: <Start><Stream track="both_tracks"> to wss://<Host>/streams/twilio, then a long pause', async () => {
    const res = await (await build()).inject({ method: 'POST', url: '/twiml', headers: { host: 'rec.example.com:8443', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'CallSid=CA0123&From=%2B15551234567' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    const doc = xml.parse(res.body);
    expect(doc.Response.Start.Stream).toMatchObject({ url: 'wss://rec.example.com:8443/streams/twilio', track: 'both_tracks' });
    expect(doc.Response.Pause).toEqual({ length: '3600' });
  });

  it('connect mode per request, with <Parameter>s escaped, behind a proxy (X-Forwarded-Host)', async () => {
    const res = await (await build()).inject({
      method: 'GET',
      url: `/twiml?mode=connect&param.campaign=${encodeURIComponent('Q4 "renewals" <&>')}&param.agent=7`,
      headers: { host: '127.0.0.1:8080', 'x-forwarded-host': 'abc123.ngrok.app, proxy.internal' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('value="Q4 &quot;renewals&quot; &lt;&amp;&gt;"');
    const doc = xml.parse(res.body);
    expect(doc.Response.Start).toBeUndefined();
    expect(doc.Response.Connect.Stream.url).toBe('wss://abc123.ngrok.app/streams/twilio');
    expect(doc.Response.Connect.Stream.track).toBeUndefined();
    expect(doc.Response.Connect.Stream.Parameter).toEqual([
      { name: 'campaign', value: 'Q4 "renewals" <&>' },
      { name: 'agent', value: '7' },
    ]);
  });

  it('uses CALLTAPE_PUBLIC_URL over any header, and <Say>/<Dial> when configured', async () => {
    const res = await (await build({ publicUrl: 'https://calls.example.org/tape/', twimlSay: 'This call is recorded & kept.', twimlDial: '+15550001111' })).inject({
      method: 'GET',
      url: '/twiml',
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil2.example' },
    });
    const doc = xml.parse(res.body);
    expect(doc.Response.Start.Stream.url).toBe('wss://calls.example.org/tape/streams/twilio');
    expect(res.body).toContain('<Say>This call is recorded &amp; kept.</Say>');
    expect(doc.Response.Say).toBe('This call is recorded & kept.');
    expect(doc.Response.Dial).toBe('+15550001111');
    expect(doc.Response.Pause).toBeUndefined();
  });

  it('points SignalWire (UUID CallSid) at /streams/signalwire', async () => {
    const res = await (await build()).inject({
      method: 'POST',
      url: '/twiml',
      headers: { host: 'rec.example.com', 'content-type': 'application/x-www-form-urlencoded' },
      payload: `CallSid=${crypto.randomUUID()}`,
    });
    expect(xml.parse(res.body).Response.Start.Stream.url).toBe('wss://rec.example.com/streams/signalwire');
  });

  it('answers 400 with a stable code for a Host that is not host[:port], or a bad mode', async () => {
    const a = await build();
    for (const host of ['evil.com/path', 'a b', 'x:99999', '"><Stream url="wss://attacker']) {
      const res = await a.inject({ method: 'GET', url: '/twiml', headers: { host } });
      expect([host, res.statusCode, res.json().error.code]).toEqual([host, 400, 'CALLTAPE_ERR_BAD_HOST']);
    }
    const res = await a.inject({ method: 'GET', url: '/twiml?mode=dance', headers: { host: 'ok.example' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CALLTAPE_ERR_BAD_REQUEST');
  });
});
