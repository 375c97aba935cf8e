/// <reference lib="dom" />
// (Functions passed to page.evaluate run in the page: they are typed against the DOM.)
/**
 * Analytics and the summary in the dashboard, in a real browser against a real server: a
 * call of real speech on a noisy, echoing line (test/helpers/speech-call.ts) shows each
 * party's speech under its lane, the overlap as a band, the agent's cut-in as a marker that
 * seeks, the talk-time bars and figures, and the summary from a local chat server at the top;
 * the list shows talk shares and filters on the figures. Screenshots: test-results/screenshots.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analytics } from '../../src/analytics/analyze-recording.js';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { startChatServer, type ChatServer } from '../helpers/chat-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildConversation, ulaw } from '../helpers/speech-call.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const SUMMARY = {
  summary: 'The caller reported that an order had not arrived and gave the order number; the agent looked it up and confirmed it ships tomorrow.',
  reason: 'Order 4271 has not arrived.',
  outcome: 'Resolved: the order ships tomorrow, tracking sent by email.',
  actionItems: ['Email the tracking link for order 4271', 'Follow up if not delivered by Friday'],
  sentiment: { caller: 'neutral', agent: 'positive' },
};

let stt: SttServer;
let chat: ChatServer;
let server: TestServer;
let browser: Browser;
let page: Page;
let id: string;
let analytics: Analytics;

beforeAll(async () => {
  stt = await startSttServer('openai');
  chat = await startChatServer('ollama');
  chat.answer = SUMMARY;
  server = await startTestServer({ transcribeUrl: stt.url, summaryUrl: chat.url, realtimeAllowanceMs: 120_000 });
  const { line } = buildConversation();
  const call = newTwilioCall();
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', ulaw(line.caller)), mediaFrames('outbound', ulaw(line.agent))), { customParameters: { queue: 'orders' } }));
  id = await server.finishedId(call.streamSid);
  expect((await server.jobSettled(id, 'notify', 30_000)).state).toBe('done');
  analytics = (await (await fetch(`${server.url}/api/recordings/${id}/analytics`)).json()) as Analytics;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await stt?.close();
  await chat?.close();
});

describe('a recording with analytics and a summary', () => {
  it('draws speech under each lane, the overlap and the cut-in, the talk bars and the summary', async () => {
    await page.goto(`${server.url}/#/recordings/${id}`);
    await page.waitForSelector('.speech-span');
    expect(await page.$$eval('.speech-inbound', (spans) => spans.length)).toBe(analytics.speech.caller.length);
    expect(await page.$$eval('.speech-outbound', (spans) => spans.length)).toBe(analytics.speech.agent.length);
    expect(await page.$$eval('.overlap-span', (spans) => spans.length)).toBe(analytics.overlaps.length);
    // The agent's speech bar sits under the agent's lane, below the caller's.
    const [callerTop, agentTop] = await page.evaluate(() => [document.querySelector('.speech-inbound')!.getBoundingClientRect().top, document.querySelector('.speech-outbound')!.getBoundingClientRect().top]);
    expect(agentTop!).toBeGreaterThan(callerTop!);
    // The cut-in marker seeks to it.
    const cut = page.locator('.marker-interrupt');
    expect(await cut.count()).toBe(1);
    expect(await cut.getAttribute('aria-label')).toMatch(/^Agent interrupts at 00:05/);
    await cut.click();
    await page.waitForFunction(() => Math.abs(document.querySelector('audio')!.currentTime - 5) < 0.3);
    // Talk bars: caller, agent, silence, with their shares.
    const bars = await page.$$eval('.talk-row', (rows) => rows.map((r) => r.getAttribute('aria-label')));
    expect(bars).toEqual([
      expect.stringMatching(new RegExp(`^Caller: .*, ${analytics.talkPercent.caller}% of the call$`)),
      expect.stringMatching(new RegExp(`^Agent: .*, ${analytics.talkPercent.agent}% of the call$`)),
      expect.stringMatching(/^Silence: /),
    ]);
    expect(await page.textContent('.figures')).toContain('Interruptions01 (');
    // The summary at the top.
    expect(await page.textContent('.summary-text')).toBe(SUMMARY.summary);
    expect(await page.$$eval('.action-items li', (items) => items.map((li) => li.textContent))).toEqual(SUMMARY.actionItems);
    await screenshot(page, 'analytics');
  });

  it('shows talk shares in the list and filters it on interruptions', async () => {
    await page.goto(`${server.url}/#/`);
    await page.waitForSelector('.talk-mini');
    expect(await page.getAttribute('.talk-mini', 'aria-label')).toMatch(/^Caller \d+(\.\d)?%, agent \d+(\.\d)?% of the call, 1 interruption$/);
    await page.fill('label:has-text("Min. interruptions") input', '2');
    await page.waitForSelector('text=No recordings match these filters');
    await page.fill('label:has-text("Min. interruptions") input', '1');
    await page.waitForSelector('.talk-mini');
    expect(page.url()).toContain('minInterruptions=1');
    await screenshot(page, 'analytics-list');
  });
});
