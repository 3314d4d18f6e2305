/**
 * The console in real Chromium against the real server: sign up, enrol MFA from the
 * secret shown on the page, sign out, sign in with a TOTP code and then with a backup code; the
 * other pages load their data. Screenshots go to tests/browser/output/ (git-ignored). CSP
 * violations in the page fail the test. workflows.browser.test.ts has the API-key, export and
 * legal-hold flows.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { totpCodeAt } from '@tessera/auth/mfa';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const run = chromiumAvailable();

describe.skipIf(!run)('web console in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  // The server's clock; step-up needs "10 minutes later" without waiting 10 minutes.
  let skewMs = 0;
  const serverNow = (): Date => new Date(Date.now() + skewMs);
  const account = {
    slug: `b-${Date.now().toString(36)}`,
    email: 'owner@browser.example',
    secret: '',
    backupCodes: [] as string[],
  };

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  };
  const go = (to: string) => page.goto(`${server.origin}${to}`);

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await startConsoleServer(db.app, { now: serverNow });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000); // generous: CI runs this beside the database tests on 2 cores
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page)
      await shot(`failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the console is served with a strict CSP, and client routes survive a reload', async () => {
    const res = await fetch(`${server.origin}/security`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<div id="root">');
    const api404 = await fetch(`${server.origin}/nothing-here`, {
      headers: { accept: 'application/json' },
    });
    expect(api404.status).toBe(404);
    await go('/');
    await expect.poll(() => page.url()).toContain('/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot('01-sign-in');
  });

  test('sign up with a live strength meter', async () => {
    await go('/sign-up');
    await page.getByLabel('Organisation name').fill('Browser Test Co');
    await page.getByLabel('Organisation short name').fill(account.slug);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill('password');
    await page.getByText('not accepted yet').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByText('good enough').waitFor();
    await shot('02-sign-up');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/security');
  }, 45_000);

  test('enrol MFA with the QR code and the secret shown on the page', async () => {
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    account.secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    expect(account.secret).toMatch(/^[A-Z2-7]{16,}$/);
    await shot('03-mfa-enrol');
    await page.getByLabel('Code from the app').fill(totpCodeAt(account.secret, new Date()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByRole('list', { name: 'Backup codes' }).getByRole('listitem');
    await expect.poll(() => codes.count()).toBe(10);
    account.backupCodes = await codes.allInnerTexts();
    await shot('04-backup-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Backup codes left:').waitFor();
  }, 45_000);

  test('sign out, then sign in with a TOTP code', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signInWithPassword();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await shot('05-mfa-step');
    // The enrolment used this step's code (replay-blocked); RFC 6238 allows one step of drift.
    await page
      .getByLabel('Authentication code or backup code')
      .fill(totpCodeAt(account.secret, new Date(Date.now() + 30_000)));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await shot('06-overview');
  }, 45_000);

  test('a wrong code is shown next to the field; a backup code signs in', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signInWithPassword();
    const code = page.getByLabel('Authentication code or backup code');
    await code.fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('.field-error', { hasText: 'The code is not valid.' }).waitFor();
    expect(await code.getAttribute('aria-invalid')).toBe('true');
    await code.fill(account.backupCodes[0] ?? '');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
  }, 45_000);

  test('security page lists this session; admin shows members and the policy', async () => {
    await page.getByRole('link', { name: 'Security' }).first().click();
    await page.getByRole('table').getByText('This session').waitFor();
    await shot('07-security');
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Administration' })
      .click();
    await page.getByRole('cell', { name: `${account.email} You` }).waitFor();
    await page.getByLabel('Sign out after inactivity (minutes)').waitFor();
    await shot('08-admin');
  }, 45_000);

  test('a sensitive change asks for a fresh code (step-up), then goes through', async () => {
    await page.getByLabel('Email to invite').fill('member@browser.example');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText('Invitation sent to member@browser.example.').waitFor();
    const row = page.getByRole('row', { name: /member@browser\.example/ });
    await row.getByLabel('Role of member@browser.example').selectOption('admin');
    skewMs = 11 * 60_000; // the session's second factor is now older than the 10-minute window
    await row.getByRole('button', { name: /^Save/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    await shot('09-step-up');
    await dialog.getByLabel('Authentication code').fill(totpCodeAt(account.secret, serverNow()));
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('member@browser.example is now admin.').waitFor();
    expect(await dialog.isVisible()).toBe(false);
  }, 45_000);

  test('the Admin, Audit, Privacy and Compliance pages load their data', async () => {
    // Each page shows what its query answered for this fresh tenant, and no error.
    const checks: [string, string | RegExp][] = [
      ['/admin', 'No API keys yet.'],
      ['/audit', /events checked/],
      ['/privacy', 'You have not asked for anything yet.'],
      ['/compliance', 'No requests match.'],
    ];
    for (const [to, loaded] of checks) {
      await go(to);
      await page.getByText(loaded).first().waitFor();
      expect(await page.locator('main [role="alert"]').count()).toBe(0);
    }
    await go('/audit');
    await page.getByRole('cell', { name: 'auth.sign_in.succeeded' }).first().waitFor();
    await shot('10-audit');
    await go('/privacy');
    await shot('11-privacy');
  }, 45_000);

  test('no CSP violation or script error happened', () => {
    expect(problems).toEqual([]);
  });

  async function signInWithPassword(): Promise<void> {
    await page.getByLabel('Organisation').fill(account.slug);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
});
