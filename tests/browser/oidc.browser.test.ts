/**
 * Tessera as the OpenID Provider of a tenant's app, in real Chromium against the real server: the
 * owner registers an app on the Apps page (secret shown once), signs out, and the app sends the
 * browser to the authorization endpoint; the console's sign-in page takes the password and hands
 * back to the interaction, the consent page is allowed, and the browser lands on the app's
 * redirect URI with a code that the app exchanges (PKCE S256, client secret). The Security page
 * then lists the app and removes it. No Content-Security-Policy violation on the way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium, watchedPage } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const APP = 'http://localhost:8123';
const REDIRECT = `${APP}/callback`;
const run = chromiumAvailable();

describe.skipIf(!run)(
  'an app signing users in through Tessera (OpenID Connect) in Chromium',
  () => {
    const db = useTestDatabase();
    let server: ConsoleServer;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      mkdirSync(OUTPUT, { recursive: true });
      server = await startConsoleServer(db.app);
      browser = await launchChromium();
      page = await watchedPage(browser, problems);
      // The app itself is not running: its callback page is answered here.
      await page
        .context()
        .route(`${APP}/**`, (route) =>
          route.fulfill({ status: 200, contentType: 'text/html', body: '<p>app</p>' }),
        );
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    test('register an app, sign in to it through the console and consent, then remove it', async () => {
      const slug = `o-${Date.now().toString(36)}`;
      await page.goto(`${server.origin}/sign-up`);
      await page.getByLabel('Organisation name').fill('App Co');
      await page.getByLabel('Organisation short name').fill(slug);
      await page.getByLabel('Email').fill('owner@app.example');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Create organisation' }).click();
      await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();

      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Apps' })
        .click();
      await page.getByText('No apps registered yet.').waitFor();
      await page.getByLabel('Name', { exact: true }).fill('Shop');
      await page.getByLabel('Kind').selectOption('web');
      await page.getByLabel('Redirect URIs', { exact: true }).fill(REDIRECT);
      await page.getByRole('button', { name: 'Register app' }).click();
      const secretField = page.getByLabel('Client secret', { exact: true });
      await secretField.waitFor();
      const secret = (await secretField.innerText()).trim();
      expect(secret).toMatch(/^ocs_/);
      const clientId = (await page.locator('td code').first().innerText()).trim();
      expect(clientId).toMatch(/^oc_/);
      await shot('60-oidc-app-registered');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();

      const issuer = `${server.origin}/oidc/${slug}`;
      const verifier = randomBytes(32).toString('base64url');
      const authorize = new URL(`${issuer}/auth`);
      for (const [k, v] of Object.entries({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: REDIRECT,
        scope: 'openid email',
        state: 'st-1',
        nonce: 'n-1',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }))
        authorize.searchParams.set(k, v);
      await page.goto(authorize.href);
      await page.waitForURL(/\/sign-in\?/);
      expect(await page.getByLabel('Organisation').inputValue()).toBe(slug);
      await page.getByLabel('Email').fill('owner@app.example');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Allow Shop?' }).waitFor();
      await shot('61-oidc-consent');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.href.startsWith(REDIRECT));
      const callback = new URL(page.url());
      expect(callback.searchParams.get('state')).toBe('st-1');
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') ?? '',
          redirect_uri: REDIRECT,
          code_verifier: verifier,
        }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ token_type: 'Bearer' });

      await page.goto(`${server.origin}/security`);
      const apps = page.getByRole('region', { name: 'Apps you allowed' });
      await apps.getByRole('button', { name: 'Remove Shop' }).waitFor();
      await apps.getByRole('button', { name: 'Remove Shop' }).click();
      await apps.getByText('No app signs you in through this account.').waitFor();
      expect(problems).toEqual([]);
    }, 90_000);

    async function shot(name: string): Promise<void> {
      await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
    }
  },
);
