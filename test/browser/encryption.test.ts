/// <reference lib="dom" />
// (Functions passed to page.evaluate run in the page: they are typed against the DOM.)
/**
 * An encrypted recording in the dashboard, in a real browser against a real server: no
 * player (the server cannot read the audio), the .age files offered for download with the
 * command that decrypts them, and a file fetched the way the page's link fetches it decrypts
 * with Debian's age to the plaintext hash it names. Screenshot: test-results/screenshots.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { tempDataDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer;
let browser: Browser;
let page: Page;
let id: string;
let keyFile: string;

beforeAll(async () => {
  keyFile = path.join(tempDataDir('calltape-age-'), 'key.txt');
  execFileSync('/usr/bin/age-keygen', ['-o', keyFile], { stdio: 'pipe' });
  const recipient = /^# public key: (age1\S+)$/m.exec(fs.readFileSync(keyFile, 'utf8'))![1]!;
  server = await startTestServer({ encryptTo: recipient });
  const call = newTwilioCall();
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', SPEECH_IN_ULAW), mediaFrames('outbound', SPEECH_OUT_ULAW))));
  id = await server.finishedId(call.streamSid);
  await server.pipelineSettled();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('an encrypted recording on its page', () => {
  it('offers its .age files and the command that decrypts them, and no player', async () => {
    await page.goto(`${server.url}/#/recordings/${id}`);
    const card = page.locator('section.encrypted');
    await card.waitFor();
    expect(await card.innerText()).toMatch(/Encrypted to your key[\s\S]*This server keeps no private key/);
    expect(await card.locator('pre.command').innerText()).toMatch(/^age -d -i key\.txt -o stereo\.wav CA\w+-stereo\.wav\.age$/);
    expect(await page.locator('audio').count()).toBe(0);
    const links = card.locator('a[download]');
    const names = await links.evaluateAll((anchors) => anchors.map((a) => a.textContent!.trim().split(/\s+/)[0]));
    expect(names).toEqual(['analytics.json.age', 'inbound.wav.age', 'meta.json.age', 'outbound.wav.age', 'stereo.wav.age']);
    const stereo = links.filter({ hasText: 'stereo.wav.age' });
    const href = await stereo.getAttribute('href');
    const title = (await stereo.getAttribute('title'))!;
    const body = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href!);
    const file = path.join(path.dirname(keyFile), 'stereo.wav.age');
    fs.writeFileSync(file, Buffer.from(body));
    const plaintext = execFileSync('/usr/bin/age', ['-d', '-i', keyFile, file], { maxBuffer: 64 << 20 });
    expect(title).toBe(`decrypts to stereo.wav, SHA-256 ${crypto.createHash('sha256').update(plaintext).digest('hex')}`);
    await screenshot(page, 'recording-encrypted');
  });
});
