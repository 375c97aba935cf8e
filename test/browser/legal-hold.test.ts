/// <reference lib="dom" />
// (Functions passed to page.evaluate run in the page: they are typed against the DOM.)
/**
 * Legal hold in the dashboard, in a real browser against a real server: placed with a reason
 * from the recording's page, shown with it, the delete button gone while it holds (and the
 * API refusing a delete), released from the same place. Screenshot: test-results/screenshots.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

let server: TestServer;
let browser: Browser;
let page: Page;
let id: string;

beforeAll(async () => {
  server = await startTestServer();
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

describe('legal hold on the recording page', () => {
  it('is placed with a reason, shown, keeps the recording from deletion, and is released', async () => {
    await page.goto(`${server.url}/#/recordings/${id}`);
    await page.getByRole('button', { name: 'Place legal hold…' }).click();
    const place = page.getByRole('button', { name: 'Place hold', exact: true });
    expect(await place.isDisabled()).toBe(true);
    await page.getByLabel('Reason', { exact: true }).fill('Matter 2026-114: litigation hold');
    await place.click();
    const held = page.locator('.hold.held');
    await held.waitFor();
    expect(await held.innerText()).toMatch(/Legal hold since .* \(placed by this machine\): Matter 2026-114: litigation hold/);
    expect(await page.getByRole('button', { name: 'Delete recording…' }).count()).toBe(0);
    expect((await fetch(`${server.url}/api/recordings/${id}`, { method: 'DELETE' })).status).toBe(409);
    await held.scrollIntoViewIfNeeded();
    await screenshot(page, 'recording-legal-hold');
    await page.getByRole('button', { name: 'Release hold' }).click();
    await page.getByRole('button', { name: 'Delete recording…' }).waitFor();
    expect(((await (await fetch(`${server.url}/api/recordings/${id}`)).json()) as { hold: unknown }).hold).toBeNull();
    // The access log on the page: the hold and its release, by whom and from where, newest first.
    const log = page.locator('.access-log');
    await log.getByText('released the legal hold').waitFor();
    const rows = await log.locator('tbody tr').allInnerTexts();
    expect(rows[0]).toMatch(/this machine\s+released the legal hold Matter 2026-114: litigation hold\s+127\.0\.0\.1/);
    expect(rows.some((row) => /this machine\s+placed a legal hold/.test(row))).toBe(true);
    expect(rows.some((row) => /read a file meta\.json/.test(row))).toBe(true);
    await log.scrollIntoViewIfNeeded();
    await screenshot(page, 'recording-access-log');
  });
});
