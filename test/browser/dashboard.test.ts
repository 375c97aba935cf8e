/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (Functions passed to page.evaluate run in the page: they are typed against the DOM.)
/**
 * The dashboard in a real browser (Debian's chromium via playwright-core) against a real
 * server with real recorded calls: the list and its live updates, the recording page's lanes
 * drawn from peaks (canvas pixels in both lanes), playback, seeking from an event marker and
 * the keyboard, downloads byte-exact, delete, the live page's meters, pause/resume and
 * listening (the page's analyser hears the call), and sign-in with an API token (nothing
 * loads before it, no token in any URL). Each page is saved as a screenshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, recordTraffic, screenshot } from '../helpers/browser.js';
import { looped, SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { sendPaced } from '../helpers/paced-call.js';
import { findRecordingDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter, type TwilioCall } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const API_TOKEN = 'browser-test-api-token-5f2c9a';
const LANE_HEIGHT = 84;

interface Recorded {
  call: TwilioCall;
  id: string;
}

interface CallPlan {
  seconds: number;
  frameMs?: number;
  dtmf?: Array<{ digit: string; atMs: number }>;
  marks?: Array<{ name: string; atMs: number }>;
  params?: Record<string, string>;
  /** Inbound frames stamped in [fromMs, toMs) are never sent (lost on the way). */
  lose?: { fromMs: number; toMs: number };
}

/** Records a whole two-track call (speech on both tracks, DTMF and marks where asked), sent at once. */
async function recordCall(server: TestServer, plan: CallPlan, bearer?: string): Promise<Recorded> {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const bytes = plan.seconds * 8000;
  const frameMs = plan.frameMs ?? 20;
  const lost = (f: { track: string; timestampMs: number }) => plan.lose !== undefined && f.track === 'inbound' && f.timestampMs >= plan.lose.fromMs && f.timestampMs < plan.lose.toMs;
  const frames = interleave(mediaFrames('inbound', looped(SPEECH_IN_ULAW, bytes), { frameMs }), mediaFrames('outbound', looped(SPEECH_OUT_ULAW, bytes), { frameMs })).filter((f) => !lost(f));
  const events = [...(plan.dtmf ?? []).map((d) => ({ atMs: d.atMs, frame: writer.dtmf(d.digit) })), ...(plan.marks ?? []).map((m) => ({ atMs: m.atMs, frame: writer.mark(m.name) }))];
  const messages = [writer.connected(), writer.start({ customParameters: plan.params ?? {} })];
  for (const frame of frames) {
    for (const event of events.filter((e) => e.atMs === frame.timestampMs && frame.track === 'inbound')) messages.push(event.frame);
    messages.push(writer.media(frame));
  }
  messages.push(writer.stop());
  const done = server.finishedStream(call.streamSid);
  const ws = await openSocket(server.wsUrl());
  await sendAll(ws, messages);
  await whenClosed(ws);
  await done;
  await server.catalog.settled();
  const headers = bearer ? { authorization: `Bearer ${bearer}` } : undefined;
  const page = (await (await fetch(`${server.url}/api/recordings?callSid=${call.callSid}`, { headers })).json()) as { items: Array<{ id: string }> };
  return { call, id: page.items[0]!.id };
}

/** Inked pixels of the waveform's canvases, per lane (by where each canvas sits). */
function laneInk(page: Page): Promise<number[]> {
  return page.evaluate((laneHeight) => {
    const wave = document.querySelector('.wave');
    const host = wave && [wave, ...wave.querySelectorAll('*')].find((el) => el.shadowRoot);
    if (!wave || !host) return [0, 0];
    const top = wave.getBoundingClientRect().top;
    const ink = [0, 0];
    for (const canvas of host.shadowRoot!.querySelectorAll('canvas')) {
      const rect = canvas.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inked++;
      ink[rect.top + rect.height / 2 - top < laneHeight ? 0 : 1]! += inked;
    }
    return ink;
  }, LANE_HEIGHT);
}

const currentTime = (page: Page) => page.evaluate(() => document.querySelector('audio')!.currentTime);

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the dashboard, served without a token to this machine', () => {
  let server: TestServer;
  let withEvents: Recorded;
  let plain: Recorded;
  beforeAll(async () => {
    // Recordings are sent faster than real time here: the allowance is raised for it.
    server = await startTestServer({ realtimeAllowanceMs: 2 * 3600 * 1000 });
    plain = await recordCall(server, { seconds: 4, params: { queue: 'sales' } });
    withEvents = await recordCall(server, {
      seconds: 12,
      dtmf: [
        { digit: '5', atMs: 2000 },
        { digit: '9', atMs: 8000 },
      ],
      marks: [{ name: 'greeting-done', atMs: 5000 }],
      params: { customer: 'acme', queue: 'support' },
      lose: { fromMs: 10_000, toMs: 10_500 },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lists the recordings newest first, with status and parameters, and shows new ones as they happen', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/`);
    const rows = page.locator('table.recordings tbody tr');
    await rows.nth(1).waitFor();
    expect(await rows.nth(0).getAttribute('data-id')).toBe(withEvents.id);
    expect(await rows.nth(1).getAttribute('data-id')).toBe(plain.id);
    expect(await rows.nth(0).textContent()).toContain('customer=acme');
    expect(await rows.nth(0).textContent()).toContain('Complete');
    expect(await rows.nth(0).textContent()).toContain('00:12');
    // A call made while the page is open appears without a reload, and turns complete.
    const third = await recordCall(server, { seconds: 3, params: { queue: 'live-update' } });
    await page.locator(`tr[data-id="${third.id}"]`, { hasText: 'Complete' }).waitFor({ timeout: 10_000 });
    expect(await rows.nth(0).getAttribute('data-id')).toBe(third.id);
    await screenshot(page, 'recordings');
    // On a phone the rows become cards and still name the call.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.locator(`tr[data-id="${third.id}"] a`).isVisible()).toBe(true);
    await screenshot(page, 'recordings-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    // A filter that matches nothing says so.
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No recordings match these filters').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Parameter').fill('customer=acme');
    await page.waitForFunction(() => document.querySelectorAll('table.recordings tbody tr').length === 1);
    expect(await rows.nth(0).getAttribute('data-id')).toBe(withEvents.id);
    await page.close();
  });

  it('draws both lanes from peaks without fetching the audio, plays, and seeks from a marker and the keyboard', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const traffic = recordTraffic(page);
    await page.goto(`${server.url}/#/recordings/${withEvents.id}`);
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    await waitFor(() => traffic.some((t) => t.url.includes('/peaks')), 5000, 'the peaks request');
    let ink = [0, 0];
    for (let i = 0; i < 50 && (ink[0]! < 500 || ink[1]! < 500); i++) {
      await page.waitForTimeout(100);
      ink = await laneInk(page);
    }
    expect(ink[0]).toBeGreaterThan(500);
    expect(ink[1]).toBeGreaterThan(500);
    expect(traffic.filter((t) => t.url.includes('/audio/'))).toEqual([]);

    // The events, from the API, as markers: DTMF 5, the mark, DTMF 9.
    const detail = (await (await fetch(`${server.url}/api/recordings/${withEvents.id}`)).json()) as { events: Array<{ kind: string; atMs: number; digit?: string }> };
    const nine = detail.events.find((e) => e.kind === 'dtmf' && e.digit === '9')!;
    expect(detail.events.map((e) => e.kind)).toEqual(['dtmf', 'mark', 'dtmf']);
    await screenshot(page, 'recording');

    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('audio')!.currentTime > 0.5, undefined, { timeout: 10_000 });
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByRole('button', { name: /^DTMF 9 at / }).click();
    expect(Math.abs((await currentTime(page)) - nine.atMs / 1000)).toBeLessThan(0.05);
    await page.locator('body').press('ArrowLeft');
    expect(Math.abs((await currentTime(page)) - (nine.atMs / 1000 - 5))).toBeLessThan(0.05);
    // The list beside the player seeks too.
    await page.getByRole('button', { name: /^Play from .*DTMF 5$/ }).click();
    expect(Math.abs((await currentTime(page)) - detail.events[0]!.atMs / 1000)).toBeLessThan(0.05);
    // The half second the caller's frames were lost is marked on the caller's lane, and listed.
    await page.getByRole('button', { name: 'No audio from the caller for 500 ms: silence filled in at 00:10.0' }).click();
    expect(Math.abs((await currentTime(page)) - 10)).toBeLessThan(0.05);
    await page.getByRole('button', { name: /^Play from 00:10\.0: No audio from the caller/ }).waitFor();
    // Seeking and playing fetched the audio by ranges from the audio route.
    expect(traffic.some((t) => t.url.includes('/audio/stereo.wav') && (t.status === 206 || t.status === 200))).toBe(true);
    await page.close();
  });

  it('downloads each file byte for byte, and deletes a recording after asking', async () => {
    const page = await browser.newPage({ acceptDownloads: true });
    await page.goto(`${server.url}/#/recordings/${plain.id}`);
    const dir = findRecordingDir(server.dataDir, plain.call.streamSid);
    for (const file of ['inbound.wav', 'outbound.wav', 'stereo.wav', 'meta.json']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `Download ${file}` }).click()]);
      const saved = fs.readFileSync((await download.path())!);
      expect(saved.equals(fs.readFileSync(path.join(dir, file))), file).toBe(true);
    }
    await page.getByRole('button', { name: 'Delete recording…' }).click();
    await page.getByRole('heading', { name: 'Delete this recording?' }).waitFor();
    await screenshot(page, 'delete-dialog');
    await page.locator('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(fs.existsSync(path.join(dir, 'stereo.wav'))).toBe(true);
    await page.getByRole('button', { name: 'Delete recording…' }).click();
    await page.getByLabel('Reason (optional)').fill('duplicate of another call');
    await page.locator('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL((url) => url.hash === '#/');
    // Gone, with a tombstone saying who and why.
    const gone = await fetch(`${server.url}/api/recordings/${plain.id}`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { tombstone: unknown }).tombstone).toMatchObject({ deletedBy: 'local', reason: 'duplicate of another call' });
    expect(fs.existsSync(path.join(dir, 'stereo.wav'))).toBe(false);
    await page.close();
  });

  it('shows a running call with level meters, pauses and resumes it, and plays it live', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const bytes = 40 * 8000;
    const frames = interleave(mediaFrames('inbound', looped(SPEECH_IN_ULAW, bytes)), mediaFrames('outbound', looped(SPEECH_OUT_ULAW, bytes)));
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.connected(), writer.start({ customParameters: { queue: 'live' } })]);
    const stopSending = new AbortController();
    const sending = sendPaced(ws, writer, frames, stopSending.signal);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${server.url}/#/live`);
      const card = page.locator(`article[data-stream="${call.streamSid}"]`);
      await card.waitFor({ timeout: 10_000 });
      // The meters move with the speech on both tracks.
      await page.waitForFunction(
        (sid) => [...document.querySelectorAll(`article[data-stream="${sid}"] [role=meter]`)].every((m) => Number(m.getAttribute('aria-valuenow')) > 0),
        call.streamSid,
        { timeout: 10_000 },
      );
      const live = () => server.recorder.liveStreams().find((s) => s.streamSid === call.streamSid);
      await card.getByRole('button', { name: 'Pause recording' }).click();
      await card.getByText('Paused: the files get silence').waitFor();
      expect(live()?.paused).toBe('silence');
      await card.getByRole('button', { name: 'Resume recording' }).click();
      await card.getByRole('button', { name: 'Pause recording' }).waitFor();
      expect(live()?.paused).toBeNull();

      await card.getByRole('button', { name: 'Listen' }).click();
      // The page's analyser measures what it plays: the call's speech, within seconds.
      await page.waitForFunction((sid) => Number(document.querySelector(`article[data-stream="${sid}"] .listen-level`)?.getAttribute('data-level')) > 0.01, call.streamSid, { timeout: 10_000 });
      await screenshot(page, 'live');
      await card.getByRole('button', { name: 'Stop listening' }).click();
      await page.close();
    } finally {
      stopSending.abort();
      await sending;
      const done = server.finishedStream(call.streamSid);
      await sendAll(ws, [writer.stop()]);
      await whenClosed(ws);
      await done;
    }
    // The pause made from the page is on the recording's timeline, as a span that seeks.
    await server.catalog.settled();
    const list = (await (await fetch(`${server.url}/api/recordings?callSid=${call.callSid}`)).json()) as { items: Array<{ id: string }> };
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/#/recordings/${list.items[0]!.id}`);
    // A pause of a few seconds reads to the tenth (whole seconds said "00:01" for 1.7 s).
    const span = page.getByRole('button', { name: /^Paused, silenced for \d+(\.\d s| ms) at / });
    await span.waitFor();
    expect(await span.getAttribute('class')).toBe('span-marker');
    await page.close();
  });

  it('shows why a recording failed, without a player', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(server.wsUrl());
    const done = server.finishedStream(call.streamSid);
    await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'], mediaFormat: { encoding: 'audio/amr-wb', sampleRate: 16000, channels: 1 } })]);
    await whenClosed(ws);
    await done;
    await server.catalog.settled();
    const list = (await (await fetch(`${server.url}/api/recordings?callSid=${call.callSid}`)).json()) as { items: Array<{ id: string; status: string }> };
    expect(list.items[0]!.status).toBe('failed');
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/recordings/${list.items[0]!.id}`);
    await page.getByRole('alert').filter({ hasText: 'This recording has no audio files: media format is not supported' }).waitFor();
    expect(await page.locator('dd.error-text code').textContent()).toBe('CALLTAPE_ERR_UNSUPPORTED_FORMAT');
    expect(await page.getByRole('button', { name: 'Play', exact: true }).count()).toBe(0);
    await page.close();
  });

  it("draws an hour-long call's page from its peaks alone", async () => {
    const hour = await recordCall(server, { seconds: 3600, frameMs: 1000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const traffic = recordTraffic(page);
    const peaksAnswer = page.waitForResponse((response) => response.url().includes('/peaks'), { timeout: 30_000 });
    const opened = Date.now();
    await page.goto(`${server.url}/#/recordings/${hour.id}`);
    const peakBytes = [(await (await peaksAnswer).body()).length];
    await page.getByText('1:00:00').first().waitFor({ timeout: 30_000 });
    let ink = [0, 0];
    for (let i = 0; i < 100 && (ink[0]! < 500 || ink[1]! < 500); i++) {
      await page.waitForTimeout(100);
      ink = await laneInk(page);
    }
    console.log(`1-hour recording page: lanes drawn ${Date.now() - opened} ms after opening (peaks computed on this first request), peaks ${peakBytes[0]} bytes`);
    expect(ink[0]).toBeGreaterThan(500);
    expect(ink[1]).toBeGreaterThan(500);
    expect(traffic.filter((t) => t.url.includes('/audio/'))).toEqual([]);
    expect(peakBytes[0]).toBeLessThan(200_000);
    await page.close();
  });
});

describe('the dashboard with an API token', () => {
  let server: TestServer;
  let recorded: Recorded;
  beforeAll(async () => {
    server = await startTestServer({ apiToken: API_TOKEN });
    recorded = await recordCall(server, { seconds: 4 }, API_TOKEN);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('asks for the token before anything loads, keeps it only as an HttpOnly cookie, and never puts it in a URL', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const traffic = recordTraffic(page);
    const requested: string[] = [];
    page.on('request', (request) => void requested.push(request.url()));
    const consoleErrors: string[] = [];
    page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())));
    await page.goto(`${server.url}/`);
    await page.getByLabel('API token').waitFor();
    // Before signing in, the page only asked how it stands (answered, not refused: no error
    // in the console at every visit), and nothing of the API's data.
    expect(traffic.filter((t) => t.url.includes('/api/')).map((t) => [new URL(t.url).pathname, t.status])).toEqual([['/api/session', 200]]);
    expect(consoleErrors).toEqual([]);
    // Over plain HTTP the page says so, rather than promising a secure cookie.
    await page.getByText('served over plain HTTP').waitFor();
    await screenshot(page, 'sign-in');

    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not valid.').waitFor();
    await page.getByLabel('API token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`tr[data-id="${recorded.id}"]`).waitFor();

    // The audio plays with the cookie alone.
    await page.goto(`${server.url}/#/recordings/${recorded.id}`);
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('audio')!.currentTime > 0.3, undefined, { timeout: 10_000 });

    const cookies = await context.cookies();
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path }))).toEqual([
      { name: 'calltape_session', httpOnly: true, sameSite: 'Strict', path: '/api' },
    ]);
    expect(cookies[0]!.value).not.toContain(API_TOKEN);
    expect(requested.filter((url) => url.includes(API_TOKEN))).toEqual([]);
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage, cookie: document.cookie }));
    expect(storage).not.toContain(API_TOKEN);
    expect(storage).not.toContain('calltape_session');

    // Signing out ends the session: the API refuses this browser again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/recordings')).status)).toBe(401);
    await context.close();
  });
});
