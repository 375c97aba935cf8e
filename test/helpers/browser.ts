/**
 * Headless Chromium for the dashboard tests: Debian's `chromium` driven by playwright-core
 * (playwright's own browser download cannot run here; .ci/run installs the Debian package).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CALLTAPE_CHROMIUM ?? '/usr/bin/chromium';
/** Where the tests leave their screenshots (git-ignored; the README's copies are in docs/). */
export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results/screenshots');

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set CALLTAPE_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // The flags keep Chromium off the network it cannot reach here; audio plays without a
    // speaker and without waiting for a gesture the test cannot give outside its clicks.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Every URL the page asked for, and its answers' statuses, for asserting what loaded. */
export function recordTraffic(page: Page): Array<{ url: string; status: number }> {
  const seen: Array<{ url: string; status: number }> = [];
  page.on('response', (response) => void seen.push({ url: response.url(), status: response.status() }));
  return seen;
}
