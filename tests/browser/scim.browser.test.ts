/**
 * The Provisioning page in real Chromium against the real server: an owner creates a SCIM token
 * (shown once), an identity provider provisions a user and a group with it over /scim/v2, the
 * owner maps the group to a role on the page and the member's role follows, then the owner
 * revokes the token and the provider's next request is refused. Screenshots go to output/.
 */
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
const SCIM = 'application/scim+json';
const run = chromiumAvailable();

describe.skipIf(!run)('provisioning (SCIM) in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const scim = (token: string, method: string, route: string, body?: unknown) =>
    fetch(`${server.origin}/scim/v2${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': SCIM }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await startConsoleServer(db.app);
    browser = await launchChromium();
    page = await watchedPage(browser, problems);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('create a token, provision with it, map a group to a role, revoke the token', async () => {
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Directory Co');
    await page.getByLabel('Organisation short name').fill(`s-${Date.now().toString(36)}`);
    await page.getByLabel('Email').fill('owner@directory.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Provisioning' })
      .click();
    await page.getByText('No SCIM tokens yet.').waitFor();
    expect(await page.getByLabel('SCIM base URL').innerText()).toBe(`${server.origin}/scim/v2`);
    await page.getByLabel('Token name').fill('Okta');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByLabel('New SCIM token', { exact: true });
    await shown.waitFor();
    const token = (await shown.innerText()).trim();
    expect(token).toMatch(/^scim_/);
    await shot('30-scim-token-created');

    const user = (await (
      await scim(token, 'POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'ada@directory.example',
        emails: [{ primary: true, value: 'ada@directory.example' }],
        active: true,
      })
    ).json()) as { id: string };
    const created = await scim(token, 'POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Tessera Admins',
      members: [{ value: user.id }],
    });
    expect(created.status).toBe(201);

    await page.reload();
    const select = page.getByLabel('Role for Tessera Admins');
    await select.selectOption('admin');
    await expect
      .poll(async () => {
        const { rows } = await db.owner.pool.query<{ role: string }>(
          'SELECT role FROM users WHERE id = $1',
          [user.id],
        );
        return rows[0]?.role;
      })
      .toBe('admin');
    await shot('31-scim-group-role');

    await page.getByRole('button', { name: 'Revoke Okta' }).click();
    await page.getByText('Revoked').waitFor();
    expect((await scim(token, 'GET', '/Users')).status).toBe(401);
    expect(problems).toEqual([]);
  }, 60_000);

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  }
});
