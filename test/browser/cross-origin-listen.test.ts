/// <reference lib="dom" />
/**
 * No other site can listen in (security round 2): in loopback mode (no API token, the
 * default) every page in the user's browser runs on loopback, and Chromium sends only
 * Origin on a WebSocket handshake. A page from another origin, or with the null origin,
 * opening the listen socket of a live call in a real Chromium gets nothing; the dashboard's
 * own page still listens.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { looped, SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { sendPaced } from '../helpers/paced-call.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll } from '../helpers/ws-client.js';

let browser: Browser;
let server: TestServer;
let evil: http.Server;
let evilUrl: string;
const call = newTwilioCall();
const stopSending = new AbortController();
let sending: Promise<void>;

beforeAll(async () => {
  browser = await launchChromium();
  server = await startTestServer();
  // Another site: any page, on another port of this machine.
  evil = http.createServer((_req, res) => res.setHeader('content-type', 'text/html').end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
  const writer = new TwilioFrameWriter(call);
  const ws = await openSocket(server.wsUrl());
  await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] })]);
  sending = sendPaced(ws, writer, mediaFrames('inbound', looped(SPEECH_IN_ULAW, 30 * 8000)), stopSending.signal);
});
afterAll(async () => {
  stopSending.abort();
  await sending;
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => evil?.close(resolve));
});

/** Opens the listen socket from `page`; what it got within 3 s. */
function tryListening(page: Page, url: string): Promise<{ messages: number; opened: boolean }> {
  return page.evaluate(
    (target) =>
      new Promise<{ messages: number; opened: boolean }>((resolve) => {
        const result = { messages: 0, opened: false };
        const ws = new WebSocket(target);
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => (result.opened = true);
        ws.onmessage = () => result.messages++;
        ws.onclose = () => resolve(result);
        setTimeout(() => {
          ws.close();
          resolve(result);
        }, 3000);
      }),
    url,
  );
}

describe('the listen socket in loopback mode', () => {
  const listenUrl = () => `${server.url.replace('http', 'ws')}/api/streams/${call.streamSid}/listen`;

  it('gives a page from another origin nothing', async () => {
    const page = await browser.newPage();
    await page.goto(evilUrl);
    expect(await tryListening(page, listenUrl())).toEqual({ messages: 0, opened: false });
    await page.close();
  });

  it('gives a page with the null origin nothing', async () => {
    const page = await browser.newPage();
    await page.goto('data:text/html,<title>null origin</title>');
    expect(await tryListening(page, listenUrl())).toEqual({ messages: 0, opened: false });
    await page.close();
  });

  it("still lets the dashboard's own page listen", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const heard = await tryListening(page, listenUrl());
    expect(heard.opened).toBe(true);
    expect(heard.messages).toBeGreaterThan(0);
    await page.close();
  });

  it('refuses the handshake with a foreign or null Origin before the upgrade, whoever sends it', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:1`]) {
      await expect(openSocket(listenUrl(), { headers: { Origin: origin } }), origin).rejects.toThrow('HTTP 403');
    }
    // A client that is not a browser (no Origin) on this machine is the loopback rule's, as before.
    const ws = await openSocket(listenUrl());
    ws.close();
  });
});
