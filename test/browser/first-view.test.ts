/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The recordings page as it first appears and as it is shared: the newest recordings come
 * with the page to a client the API answers (so a plain `chromium --screenshot`, which
 * captures the page at its load event, shows the list), never to one it would refuse; a
 * hostile parameter in that data stays text; the filters live in the URL (reload, share);
 * a filter that cannot be asked clears the list instead of leaving the old one under it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, screenshot } from '../helpers/browser.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const HOSTILE = '</script><img src=x onerror=alert(1)>';
let browser: Browser;
let server: TestServer;
let tokenServer: TestServer;
const callSids: string[] = [];

async function recordOne(target: TestServer, params: Record<string, string>): Promise<string> {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const done = target.finishedStream(call.streamSid);
  await streamSession(target.wsUrl(), writer.session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 8000)), { tracks: ['inbound'], customParameters: params }));
  await done;
  await target.catalog.settled();
  return call.callSid;
}

beforeAll(async () => {
  browser = await launchChromium();
  server = await startTestServer();
  tokenServer = await startTestServer({ apiToken: 'first-view-token-0123456789' });
  callSids.push(await recordOne(server, { queue: 'sales' }), await recordOne(server, { queue: HOSTILE }));
  await recordOne(tokenServer, { queue: 'secret' });
  // Their post-call steps done: a list with steps still to run looks again (and says
  // Loading…) on its own, which a loaded machine would catch in the dump.
  await server.pipelineSettled();
  await tokenServer.pipelineSettled();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await tokenServer?.stop();
});

describe('the first view', () => {
  it('is in the page for a client the API answers: a plain chromium --dump-dom (the screenshot moment) shows the list', async () => {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-chromium-'));
    // Not spawnSync: the server under test answers from this process's event loop.
    const dumped = await promisify(execFile)(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', `${server.url}/`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    for (const callSid of callSids) expect(dumped.stdout).toContain(callSid);
    expect(dumped.stdout).not.toContain('Loading…');
    // The hostile parameter is text in a chip, not markup.
    expect(dumped.stdout).not.toMatch(/<img src="?x/);
    expect(dumped.stdout).toContain('queue=&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('is not in the page for a client the API would refuse', async () => {
    const page = await (await fetch(`${tokenServer.url}/`)).text();
    expect(page).not.toContain('calltape-initial');
    expect(page).not.toContain('secret');
    const local = await fetch(`${server.url}/`);
    expect(local.headers.get('cache-control')).toBe('no-store');
    expect(await local.text()).toContain('<script type="application/json" id="calltape-initial">');
  });
});

describe('filters', () => {
  it('are kept in the URL: a filtered list reloads and is shared as it was', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}/#/?status=complete`);
    await page.getByLabel('Status').waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('complete');
    await page.getByLabel('Parameter').fill('queue=sales');
    await page.waitForFunction(() => location.hash.includes('param=queue%3Dsales'));
    await page.locator('table.recordings tbody tr').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('table.recordings tbody tr').length === 1);
    await page.reload();
    expect(await page.getByLabel('Parameter').inputValue()).toBe('queue=sales');
    await page.waitForFunction(() => document.querySelectorAll('table.recordings tbody tr').length === 1);
    expect(await page.locator('table.recordings tbody tr').textContent()).toContain(callSids[0]!);
    await page.close();
  });

  it('a parameter filter that cannot be asked clears the list and says why', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}/`);
    await page.locator('table.recordings tbody tr').nth(1).waitFor();
    await page.getByLabel('Parameter').fill('no equals sign');
    await page.getByRole('alert').getByText('Write a parameter filter as name=value.').waitFor();
    expect(await page.locator('table.recordings tbody tr').count()).toBe(0);
    await screenshot(page, 'invalid-filter');
    await page.close();
  });
});
