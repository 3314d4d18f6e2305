/**
 * The Roles page in real Chromium against the real server: an owner creates a custom role with a
 * permission, sees it listed next to the built-in roles, invites a member with it from the
 * Administration page, and deletes it; the member falls back to a plain member. Screenshots go to
 * output/.
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
const run = chromiumAvailable();

describe.skipIf(!run)('roles in Chromium', () => {
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
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const customRoleOf = async (email: string): Promise<string | null | undefined> => {
    const { rows } = await db.owner.pool.query<{ custom_role_id: string | null }>(
      'SELECT custom_role_id FROM users WHERE email = $1',
      [email],
    );
    return rows[0]?.custom_role_id;
  };

  test('create a role, invite a member with it, delete it', async () => {
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Roles Co');
    await page.getByLabel('Organisation short name').fill(`r-${Date.now().toString(36)}`);
    await page.getByLabel('Email').fill('owner@roles.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Roles' })
      .click();
    await page.getByRole('heading', { name: 'Roles', level: 1 }).waitFor();
    const create = page.getByRole('form', { name: 'Create a role' });
    await create.getByLabel('Name').fill('Support agent');
    await create.getByRole('checkbox', { name: /users:read:/ }).check();
    await create.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('cell', { name: 'Support agent', exact: true }).waitFor();
    await shot('40-roles-created');

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Administration' })
      .click();
    await page.getByLabel('Email to invite').fill('agent@roles.example');
    await page
      .getByLabel('Role', { exact: true })
      .selectOption({ label: 'Support agent (custom)' });
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await page.getByText('Invitation sent to agent@roles.example.').waitFor();
    await expect.poll(() => customRoleOf('agent@roles.example')).not.toBeNull();

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Roles' })
      .click();
    await page.getByRole('button', { name: 'Delete Support agent' }).click();
    await page.getByText('The role “Support agent” was deleted.').waitFor();
    await expect.poll(() => customRoleOf('agent@roles.example')).toBeNull();
    await shot('41-roles-deleted');
    expect(problems).toEqual([]);
  }, 60_000);

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  }
});
