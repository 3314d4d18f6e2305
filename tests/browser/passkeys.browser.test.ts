/**
 * Passkeys in real Chromium with a CDP virtual authenticator (WebAuthn.addVirtualAuthenticator,
 * ctap2, internal, resident keys, user verification): sign up, add a passkey on the Security
 * page, sign out, sign in with password + passkey; then allow passwordless sign-in in the
 * policy and sign in with the passkey alone. The server runs on http://localhost: a WebAuthn
 * RP ID must be a domain name, and localhost is a secure context over plain HTTP.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const run = chromiumAvailable();

describe.skipIf(!run)('passkeys in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId = '';
  const problems: string[] = [];
  const account = { slug: `pk-${Date.now().toString(36)}`, email: 'owner@passkeys.example' };

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: path.join(OUTPUT, `passkeys-${name}.png`), fullPage: true });
  };
  const credentials = async (): Promise<{ signCount: number; isResidentCredential: boolean }[]> =>
    (
      (await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as {
        credentials: { signCount: number; isResidentCredential: boolean }[];
      }
    ).credentials;
  const signOut = async (): Promise<void> => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  };
  const auditActions = async (): Promise<string[]> => {
    const { rows } = await db.owner.pool.query<{ action: string }>(
      `SELECT a.action FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = $1 ORDER BY a.seq`,
      [account.slug],
    );
    return rows.map((r) => r.action);
  };

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await startConsoleServer(db.app, { hostname: 'localhost' });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const added = (await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    })) as { authenticatorId: string };
    authenticatorId = added.authenticatorId;
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page)
      await shot(`failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('sign up on http://localhost and add a passkey on the Security page', async () => {
    expect(server.origin).toMatch(/^http:\/\/localhost:\d+$/);
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Passkey Test Co');
    await page.getByLabel('Organisation short name').fill(account.slug);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByText('good enough').waitFor();
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    const section = page.getByRole('region', { name: 'Passkeys' });
    await section.getByText('No passkeys yet.').waitFor();
    await section.getByLabel('Passkey name').fill('Virtual laptop');
    await section.getByRole('button', { name: 'Add a passkey' }).click();
    await section.getByText('Passkey “Virtual laptop” added.').waitFor();
    await section.getByRole('cell', { name: 'Virtual laptop', exact: true }).waitFor();
    await shot('01-added');
    expect(await credentials()).toEqual([expect.objectContaining({ isResidentCredential: true })]);
    expect(await auditActions()).toContain('passkey.registered');
  }, 45_000);

  test('sign out, then sign in with the password and the passkey as second factor', async () => {
    await signOut();
    await page.getByLabel('Organisation').fill(account.slug);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await shot('02-mfa-step');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    expect((await credentials())[0]?.signCount).toBeGreaterThan(0);
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['auth.mfa.verified', 'passkey.sign_in']),
    );
  }, 45_000);

  test('passwordless is refused until the policy allows it, then the passkey alone signs in', async () => {
    await signOut();
    await page.getByLabel('Organisation').fill(account.slug);
    await page.getByRole('button', { name: 'Continue with a passkey' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'not turned on for this organisation' })
      .waitFor();
    // Back in with password + passkey, allow passwordless in the policy, sign out again.
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await page.goto(`${server.origin}/admin`);
    await page.getByLabel('Allow sign-in with a passkey alone (no password)').check();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy saved.').waitFor();
    await signOut();
    await page.getByLabel('Organisation').fill(account.slug);
    await shot('03-passwordless');
    await page.getByRole('button', { name: 'Continue with a passkey' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    const me = await page.evaluate(async () => {
      const res = await fetch('/trpc/auth.me');
      return ((await res.json()) as { result: { data: { session: { aal: number } } } }).result.data;
    });
    expect(me.session.aal).toBe(2);
    expect((await auditActions()).filter((a) => a === 'passkey.sign_in')).toHaveLength(3);
  }, 60_000);

  test('no CSP violation or script error happened', () => {
    expect(problems).toEqual([]);
  });
});
