/**
 * Debian's Chromium driven by playwright-core (docs/design.md "Toolchain facts"). A missing browser skips
 * the browser tests locally with an install hint, and fails them under CI=true (docs/design.md "Tests and CI").
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const hint = 'skipped: install chromium (apt-get install chromium)';
  if (process.env.CI === 'true')
    throw new Error(`${CHROMIUM} is missing; CI must install it (.ci/apt-packages). ${hint}`);
  process.stdout.write(`${hint}\n`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  // playwright's launch() gives every run a fresh temporary user-data-dir of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false, // --no-sandbox: CI runs as root
    args: [
      '--disable-gpu',
      '--disable-background-networking', // the machine's closed network refuses Google's hosts
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/**
 * A page on a fresh 1280x900 context that the console tests share: a generous default timeout (CI
 * runs these beside the database tests on 2 cores), confirm() dialogs accepted, and every page
 * error or Content-Security-Policy refusal pushed to `problems`, which each test expects empty.
 */
export async function watchedPage(browser: Browser, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('dialog', (dialog) => void dialog.accept());
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
      problems.push(message.text());
  });
  return page;
}
