/// <reference lib="dom" />
// (Functions passed to page.evaluate run in the page: they are typed against the DOM.)
/**
 * Archives in the dashboard, in a real browser against a real server: an hour-long call
 * archived as FLAC and Ogg Opus plays from the smallest format Chromium takes (the Opus
 * stereo file, asked for by Range), seeks to its last quarter and plays on there, and offers
 * every format of every track for download with its size. Screenshot: test-results/screenshots.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, recordTraffic, screenshot } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildConversation, CONVERSATION, ulaw } from '../helpers/speech-call.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

/** 144 times the 25 s conversation: one hour. */
const REPEATS = 144;
const HOUR_MS = REPEATS * CONVERSATION.durationMs;

let server: TestServer;
let browser: Browser;
let page: Page;
let id: string;

function repeated(codes: Buffer): Buffer {
  return Buffer.concat(Array.from({ length: REPEATS }, () => codes));
}

beforeAll(async () => {
  server = await startTestServer({ archiveFormats: ['flac', 'opus'], realtimeAllowanceMs: 2 * HOUR_MS, pipelineWorkers: 2 });
  const { line } = buildConversation({ ...CONVERSATION, noiseRms: 25 });
  const call = newTwilioCall();
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', repeated(ulaw(line.caller))), mediaFrames('outbound', repeated(ulaw(line.agent))))));
  id = await server.finishedId(call.streamSid, 60_000);
  expect(await server.jobSettled(id, 'archive', 300_000)).toMatchObject({ state: 'done' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('an hour-long call archived as FLAC and Ogg Opus', () => {
  it('plays from the Opus stereo archive by Range, seeks to 45:00 and plays on, and lists every format for download', async () => {
    const traffic = recordTraffic(page);
    await page.goto(`${server.url}/#/recordings/${id}`);
    await page.waitForSelector('audio', { state: 'attached' });
    expect(await page.$eval('audio', (audio) => audio.getAttribute('src'))).toBe(`/api/recordings/${id}/audio/stereo.opus`);
    await page.getByRole('button', { name: /^Play/ }).click();
    await page.waitForFunction(() => document.querySelector('audio')!.currentTime > 0.5, undefined, { timeout: 20_000 });
    // What it took to start playing an hour: the Opus file's first ranges, not the file.
    const fetchedToStart = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/audio/')).reduce((n, e) => n + (e as PerformanceResourceTiming).transferSize, 0));
    console.log(`bytes fetched to start playing: ${fetchedToStart}`);
    // Seek near the end of the hour: the browser asks for that part of the file and plays on.
    await page.evaluate(() => {
      document.querySelector('audio')!.currentTime = 2700;
    });
    await page.waitForFunction(() => {
      const audio = document.querySelector('audio')!;
      return audio.currentTime > 2700.5 && !audio.paused;
    }, undefined, { timeout: 20_000 });
    expect(await page.$eval('audio', (audio) => audio.duration)).toBeCloseTo(HOUR_MS / 1000, 0);
    const audioRequests = traffic.filter((t) => t.url.includes('/audio/'));
    expect(audioRequests.length).toBeGreaterThan(0);
    // Only the Opus file was fetched, in ranges (206), never a WAV.
    expect(new Set(audioRequests.map((t) => new URL(t.url).pathname.split('/').pop()))).toEqual(new Set(['stereo.opus']));
    expect(audioRequests.some((t) => t.status === 206)).toBe(true);
    await page.evaluate(() => document.querySelector('audio')!.pause());

    const rows = await page.$$eval('.track-files', (items) => items.map((item) => [...item.querySelectorAll('a')].map((a) => a.getAttribute('aria-label'))));
    expect(rows).toHaveLength(3);
    for (const [i, name] of ['inbound', 'outbound', 'stereo'].entries()) {
      expect(rows[i]).toEqual([
        expect.stringMatching(new RegExp(`^Download ${name}\\.wav, \\d+\\.\\d MiB$`)),
        expect.stringMatching(new RegExp(`^Download ${name}\\.flac, \\d+\\.\\d MiB$`)),
        expect.stringMatching(new RegExp(`^Download ${name}\\.opus, \\d+\\.\\d MiB$`)),
      ]);
    }
    await page.locator('.downloads').scrollIntoViewIfNeeded();
    await screenshot(page, 'recording-archives');
  });
});
