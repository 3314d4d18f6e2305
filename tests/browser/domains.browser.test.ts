/**
 * Verified domains in real Chromium against the real server and a real DNS server on loopback
 * (dns2): an owner adds a domain on the Domains page, publishes the TXT record the page shows,
 * verifies it, and requires single sign-on for it; signing in with a password at that domain is
 * then refused on the sign-in page with a link to the organisation's SSO. Screenshots go to
 * output/.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalDnsServer, type LocalDnsServer } from '@tessera/auth/testing';
import { ssoSettings } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium, watchedPage } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const run = chromiumAvailable();

describe.skipIf(!run)('verified domains in Chromium', () => {
  const db = useTestDatabase();
  let dns: LocalDnsServer;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const slug = `dom-${Date.now().toString(36)}`;
  const domain = `corp-${Date.now().toString(36)}.example.com`;
  const email = `owner@${domain}`;

  const shot = (name: string) =>
    page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dns = await startLocalDnsServer();
    server = await startConsoleServer(db.app, {
      domainDns: { servers: [dns.server], timeoutMs: 1000 },
    });
    browser = await launchChromium();
    page = await watchedPage(browser, problems);
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page)
      await shot(`failed-domains-${ctx.task.name.replace(/\W+/g, '-').slice(0, 40)}`).catch(
        () => undefined,
      );
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await dns?.close();
  });

  test('an owner adds a domain, publishes its TXT record and verifies it against DNS', async () => {
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Domain Co');
    await page.getByLabel('Organisation short name').fill(slug);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();

    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
    await page.getByLabel('Domain', { exact: true }).fill(domain.toUpperCase());
    await page.getByRole('button', { name: 'Add domain' }).click();
    const item = page.getByRole('listitem', { name: domain });
    await item.getByText('Pending').waitFor();
    const name = (await item.locator('dd code').nth(0).innerText()).trim();
    const value = (await item.locator('dd code').nth(1).innerText()).trim();
    expect(name).toBe(`_tessera-verification.${domain}`);
    expect(value).toMatch(/^tessera-domain-verification=/);
    await shot('40-domain-pending');

    // Not published yet: the page says so and the domain stays pending.
    await item.getByRole('button', { name: `Verify ${domain}` }).click();
    await page.getByText(`${domain} could not be verified`).waitFor();

    dns.publishTxt(name, value);
    await item.getByRole('button', { name: `Verify ${domain}` }).click();
    await page.getByText(`${domain} is verified.`).waitFor();
    await item.getByText('Verified', { exact: true }).waitFor();
    expect(dns.queries).toContain(name);

    // The box follows the saved setting, so it turns checked once the server has answered.
    const requireSso = item.getByLabel(`Require single sign-on for ${domain} addresses`);
    await requireSso.click();
    await item.getByText('Not in force').waitFor(); // no SSO connection yet
    expect(await requireSso.isChecked()).toBe(true);
    await shot('41-domain-verified');
  }, 60_000);

  test('with SSO enabled, password sign-in at the domain is refused with a link to SSO', async () => {
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT id FROM tenants WHERE slug = $1',
      [slug],
    );
    const tenantId = rows[0]?.id ?? '';
    // The tenant's own OIDC connection (configured through tenant.sso.update; docs/sso.md).
    await db.withTenant(tenantId, (tx) =>
      tx.insert(ssoSettings).values({
        tenantId,
        enabled: true,
        issuer: 'https://idp.example.com',
        clientId: 'tessera',
        clientSecretCiphertext: 'v1.not-used-by-this-test',
      }),
    );
    await page.reload();
    const item = page.getByRole('listitem', { name: domain });
    await item.getByText('Verified', { exact: true }).waitFor();
    expect(await item.getByText('Not in force').count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Organisation').fill(slug);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const notice = page.getByRole('alert').filter({ hasText: 'requires single sign-on' });
    await notice.waitFor();
    const link = notice.getByRole('link', { name: 'Continue with single sign-on' });
    expect(await link.getAttribute('href')).toBe(`/auth/sso/${slug}/start`);
    expect(page.url()).toContain('/sign-in');
    await shot('42-sso-required');
    expect(problems).toEqual([]);
  }, 60_000);
});
