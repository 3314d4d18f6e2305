/**
 * Debian's Chromium driven by playwright-core (docs/design.md "Toolchain facts"). A missing browser skips
 * the browser tests locally with an install hint, and fails them under CI=true (docs/design.md "Tests and CI").
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
