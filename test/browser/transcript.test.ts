/// <reference lib="dom" />
// (Functions passed to page.evaluate run in the page: they are typed against the DOM.)
/**
 * Transcripts in the dashboard, in a real browser against a real server and a real local
 * speech-to-text server: the dialogue beside the lanes follows playback, each turn and word
 * seeks the player, the list's search finds a call by what was said and opens it at the hit,
 * and the post-call jobs show on both pages, a failed transcript with its reason. Each page
 * is saved as a screenshot (test-results/screenshots).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { streamToneCall, type ToneCallScript } from '../helpers/tone-call.js';
import type { PlacedWord } from '../helpers/tone-words.js';

/** Turns of a call: who speaks, when, the tone words that carry it and what the server "hears". */
const TURNS: Array<{ who: 'caller' | 'agent'; atMs: number; tones: string[]; says: string }> = [
  { who: 'caller', atMs: 500, tones: ['hello', 'refund', 'card'], says: 'Hi, I was charged twice on my card this morning.' },
  { who: 'agent', atMs: 4000, tones: ['thank', 'help'], says: 'Thanks for calling. Let me pull up your account.' },
  { who: 'caller', atMs: 7500, tones: ['charge', 'payment'], says: 'It is the payment to Acme, forty-two dollars.' },
  { who: 'agent', atMs: 11_000, tones: ['cancel', 'charge', 'today'], says: "I can see it. I'll refund the duplicate charge today." },
  { who: 'caller', atMs: 15_500, tones: ['thank', 'you'], says: 'Great, thank you.' },
  { who: 'agent', atMs: 18_500, tones: ['order', 'help'], says: 'You will see it within three to five business days.' },
];

function script(): ToneCallScript {
  const words = (who: 'caller' | 'agent'): PlacedWord[] =>
    TURNS.filter((t) => t.who === who).flatMap((t) => t.tones.map((text, i) => ({ text, startMs: t.atMs + i * 500, endMs: t.atMs + i * 500 + 300 })));
  return { durationMs: 22_000, caller: words('caller'), agent: words('agent'), customParameters: { team: 'billing' } };
}

let stt: SttServer;
let server: TestServer;
let browser: Browser;
let page: Page;
let id: string;
let failedId: string;

async function record(): Promise<string> {
  return server.finishedId((await streamToneCall(server.wsUrl(), script())).streamSid);
}

const audioTime = () => page.evaluate(() => document.querySelector('audio')!.currentTime);
const nowStart = () => page.evaluate(() => Number(document.querySelector('.turn.now')?.getAttribute('data-start') ?? -1));

beforeAll(async () => {
  stt = await startSttServer('openai');
  for (const turn of TURNS) stt.phrases.set(turn.tones.join(' '), turn.says);
  server = await startTestServer({ transcribeUrl: stt.url, realtimeAllowanceMs: 120_000, pipelineRetryBaseMs: 100 });
  // A call whose transcript cannot be made (the server refuses the key), then one that is.
  stt.faults.push({ kind: 'status', status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided: sk-…abcd' } }) });
  failedId = await record();
  expect((await server.jobSettled(failedId, 'notify')).state).toBe('done');
  id = await record();
  expect((await server.jobSettled(id, 'notify')).state).toBe('done');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await stt?.close();
});

describe('the transcript beside the player', () => {
  it('shows a two-speaker dialogue in time order, caller left and agent right', async () => {
    await page.goto(`${server.url}/#/recordings/${id}`);
    await page.waitForSelector('.turn');
    const turns = await page.$$eval('.turn', (items) => items.map((li) => ({ track: li.classList.contains('turn-inbound') ? 'inbound' : 'outbound', speaker: li.querySelector('.speaker')!.textContent, text: li.querySelector('.turn-text')!.textContent!.replace(/\s+/g, ' ').trim() })));
    expect(turns).toEqual(TURNS.map((t) => ({ track: t.who === 'caller' ? 'inbound' : 'outbound', speaker: t.who, text: t.says })));
    const sides = await page.$$eval('.turn', (items) => items.map((li) => Math.round(li.getBoundingClientRect().left)));
    expect(sides[1]!).toBeGreaterThan(sides[0]!);
    // The jobs are listed, all done.
    const jobs = await page.$$eval('.job', (items) => items.map((li) => [li.querySelector('.job-name')!.textContent, li.querySelector('.job-state')!.textContent]));
    expect(jobs).toEqual([
      ['Waveform', 'done'],
      ['Transcript', 'done'],
      ['Analytics', 'done'],
      ['Webhook', 'done'],
    ]);
    await screenshot(page, 'transcript');
    // On a phone the transcript goes under the player.
    await page.setViewportSize({ width: 390, height: 844 });
    const stacked = await page.evaluate(() => [document.querySelector('.player')!.getBoundingClientRect().bottom, document.querySelector('.transcript')!.getBoundingClientRect().top]);
    expect(stacked[1]).toBeGreaterThan(stacked[0]!);
    await screenshot(page, 'transcript-phone');
    await page.setViewportSize({ width: 1360, height: 900 });
  });

  it('a turn clicked seeks the player there, and that turn is the one highlighted', async () => {
    await page.click('.turn:nth-child(4) .turn-time');
    expect(Math.abs((await audioTime()) - 11)).toBeLessThan(0.05);
    expect(await nowStart()).toBe(11_000);
    // A word clicked seeks to the word.
    await page.click('.turn:nth-child(6) .word:nth-child(3)');
    const at = await audioTime();
    expect(at).toBeGreaterThan(18.5);
    expect(at).toBeLessThan(20);
    expect(await nowStart()).toBe(18_500);
    expect(await page.$$eval('.turn:nth-child(6) .word.now', (words) => words.map((w) => w.textContent))).toEqual(['see']);
    await screenshot(page, 'transcript-seek');
  });

  it('follows playback: the highlighted turn moves with the audio', async () => {
    await page.click('.turn:nth-child(2) .turn-time');
    await page.click('button.play');
    await page.waitForFunction(() => document.querySelector('audio')!.currentTime > 7.6, undefined, { timeout: 15_000 });
    await page.click('button.play');
    expect(await nowStart()).toBe(7500);
  }, 30_000);
});

describe('search', () => {
  it('finds the call by what was said, shows the hit, and opens the recording there', async () => {
    await page.goto(`${server.url}/#/`);
    await page.waitForSelector('table.recordings');
    await page.fill('input[type=search][placeholder*="refund"]', 'refunds');
    await page.waitForSelector('.matches-row');
    const rows = await page.$$eval('tbody tr[data-id]', (items) => items.map((tr) => tr.getAttribute('data-id')));
    expect(rows).toEqual([id]);
    expect(await page.$eval('.matches mark', (m) => m.textContent)).toBe('refund');
    const hit = await page.$eval('.matches li', (li) => [li.querySelector('a')!.textContent, li.querySelector('.speaker')!.textContent, li.querySelector('.snippet')!.textContent]);
    expect(hit[0]).toMatch(/^00:11\.\d$/);
    expect(hit.slice(1)).toEqual(['agent', "I can see it. I'll refund the duplicate charge today."]);
    expect(page.url()).toMatch(/#\/\?q=refunds$/);
    await screenshot(page, 'search');
    await page.click('.matches a');
    await page.waitForSelector('.turn.now');
    expect(page.url()).toMatch(new RegExp(`#/recordings/${id}\\?t=\\d+$`));
    expect(await nowStart()).toBe(11_000);
    expect(Math.abs((await audioTime()) - 11)).toBeLessThan(0.3);
  });

  it('says so when no call holds the words', async () => {
    await page.goto(`${server.url}/#/?q=${encodeURIComponent('"charged twice" goodbye')}`);
    await page.waitForFunction(() => document.querySelector('.empty h2')?.textContent === 'No call’s transcript holds these words');
    expect(await page.$$('tbody tr')).toHaveLength(0);
  });
});

describe('a transcript that failed', () => {
  it('shows on the list and on the page with the reason, and can be tried again', async () => {
    await page.goto(`${server.url}/#/`);
    await page.waitForSelector(`tr[data-id="${failedId}"] .job-hint`);
    expect(await page.$eval(`tr[data-id="${failedId}"] .job-hint`, (el) => el.textContent)).toBe('Transcript failed');
    await page.goto(`${server.url}/#/recordings/${failedId}`);
    await page.waitForSelector('.transcript .notice.error');
    expect(await page.$eval('.transcript .notice', (el) => el.textContent)).toMatch(/could not be made.*answered 401: Incorrect API key provided/s);
    expect(await page.$eval('.job-failed', (el) => el.textContent)).toMatch(/Transcript\s*failed/);
    await screenshot(page, 'transcript-failed');
    await page.click('.transcript button');
    await page.waitForSelector('.turn', { timeout: 15_000 });
    expect(await page.$$eval('.turn', (items) => items.length)).toBe(TURNS.length);
  }, 30_000);
});
