/**
 * The console's workflows in real Chromium, against the real server with the GDPR
 * workers running in-process (as `pnpm start` runs them):
 * - an owner creates an API key on the Admin page, the test calls the API with the key shown
 *   once, the owner revokes it and the same call is refused;
 * - the owner requests a JSON export on the Privacy page, a worker builds it, the download
 *   button fetches the file through the short-lived link;
 * - a compliance user places a legal hold on a member, the member asks for deletion (it waits
 *   "On legal hold"), the hold is released and the deletion completes.
 * Three browser contexts keep three separate session cookies. Screenshots go to output/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenMailedTo } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const run = chromiumAvailable();

describe.skipIf(!run)('console workflows in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let browser: Browser;
  const pages: Record<'owner' | 'officer' | 'subject', Page | undefined> = {
    owner: undefined,
    officer: undefined,
    subject: undefined,
  };
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const slug = `w-${Date.now().toString(36)}`;
  let tenantId = '';
  let apiKey = '';

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  const pageOf = (who: keyof typeof pages): Page => {
    const page = pages[who];
    if (!page) throw new Error(`no page for ${who}`);
    return page;
  };

  async function newPage(who: keyof typeof pages): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (dialog) => void dialog.accept()); // confirm() before revoke and deletion
    page.on('pageerror', (error) => problems.push(`${who}: page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(`${who}: ${message.text()}`);
    });
    pages[who] = page;
    return page;
  }

  /** The newest link token mailed to `address`, read from the outbox as the mail sender would. */
  const inviteTokenFor = (address: string): Promise<string> =>
    tokenMailedTo(db.owner, server.services.accounts.keyring, tenantId, address);

  async function invite(email: string, role: string): Promise<void> {
    const owner = pageOf('owner');
    await owner.goto(`${server.origin}/admin`);
    await owner.getByLabel('Email to invite').fill(email);
    await owner.getByLabel('Role', { exact: true }).selectOption(role);
    await owner.getByRole('button', { name: 'Invite', exact: true }).click();
    await owner.getByText(`Invitation sent to ${email}.`).waitFor();
  }

  async function accept(who: 'officer' | 'subject', email: string): Promise<void> {
    const page = await newPage(who);
    await page.goto(`${server.origin}/accept-invite#token=${await inviteTokenFor(email)}`);
    await page.getByRole('heading', { name: 'Accept invitation' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
  }

  /** Reloads until the text shows: pages load once, the workers finish in the background. */
  async function reloadUntil(
    page: Page,
    text: string | RegExp,
    timeoutMs = 30_000,
    within: (page: Page) => ReturnType<Page['locator']> = (p) => p.locator('main'),
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await within(page).getByText(text).count()) > 0) return;
      if (Date.now() > deadline) throw new Error(`"${String(text)}" did not appear`);
      await page.waitForTimeout(500);
      await page.reload();
      await page.waitForLoadState('networkidle');
    }
  }

  const listUsersWith = (key: string) =>
    fetch(`${server.origin}/trpc/users.list`, { headers: { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await startConsoleServer(db.app, { privacyWorkers: true });
    browser = await launchChromium();
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const [who, page] of Object.entries(pages))
      if (page) await shot(page, `failed-workflow-${who}`).catch(() => undefined);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  test('an owner signs up', async () => {
    const page = await newPage('owner');
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Workflow Co');
    await page.getByLabel('Organisation short name').fill(slug);
    await page.getByLabel('Email').fill('owner@workflow.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT id FROM tenants WHERE slug = $1',
      [slug],
    );
    tenantId = rows[0]?.id ?? '';
    expect(tenantId).not.toBe('');
  }, 45_000);

  test('create an API key on the Admin page and call the API with it', async () => {
    const page = pageOf('owner');
    await page.goto(`${server.origin}/admin`);
    // The Admin page has several forms with a "Name" field (API keys, SAML connections).
    const keys = page.getByRole('region', { name: 'API keys' });
    await keys.getByText('Create an API key').click();
    await keys.getByLabel('Name', { exact: true }).fill('billing-service');
    await keys.getByLabel('users:read').check();
    await keys.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByLabel('New API key');
    await shown.waitFor();
    apiKey = (await shown.innerText()).trim();
    expect(apiKey).toMatch(/^sk_test_/);
    await shot(page, '20-api-key-created');

    const ok = await listUsersWith(apiKey);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('owner@workflow.example');
    // The key carries users:read only: a write with it is refused.
    const denied = await fetch(`${server.origin}/trpc/apiKeys.list`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(denied.status).toBe(403);

    // Shown once: after "Done" the page never shows the key again.
    await page.getByRole('button', { name: 'Done', exact: true }).click();
    await page.reload();
    await page.getByRole('cell', { name: 'billing-service', exact: true }).waitFor();
    expect(await page.content()).not.toContain(apiKey);
  }, 45_000);

  test('revoking the key in the console refuses the next call', async () => {
    const page = pageOf('owner');
    await page.getByRole('button', { name: 'Revoke billing-service' }).click();
    await page
      .getByRole('row', { name: /billing-service/ })
      .getByText('Revoked')
      .waitFor();
    const refused = await listUsersWith(apiKey);
    expect(refused.status).toBe(401);
  }, 45_000);

  test('request an export on the Privacy page and download it', async () => {
    const page = pageOf('owner');
    await page.goto(`${server.origin}/privacy`);
    await page.getByLabel('Export format').selectOption('json');
    await page.getByRole('button', { name: 'Request export' }).click();
    await page.getByText('Export requested.').waitFor();
    await reloadUntil(page, 'Completed');
    await shot(page, '21-privacy-export-ready');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download export json' }).click(),
    ]);
    const file = await download.path();
    const exported = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const text = JSON.stringify(exported);
    expect(text).toContain('owner@workflow.example');
    expect(text).toContain(tenantId);
  }, 60_000);

  test('a legal hold keeps a deletion waiting until it is released; then it completes', async () => {
    await invite('officer@workflow.example', 'compliance');
    await invite('subject@workflow.example', 'member');
    await accept('officer', 'officer@workflow.example');
    await accept('subject', 'subject@workflow.example');

    const subject = pageOf('subject');
    const me = (await subject.evaluate(async () => {
      const res = await fetch('/trpc/auth.me');
      return (await res.json()) as { result: { data: { user: { id: string } } } };
    })) as { result: { data: { user: { id: string } } } };
    const subjectId = me.result.data.user.id;

    const officer = pageOf('officer');
    await officer.goto(`${server.origin}/compliance`);
    await officer.getByLabel('Subject user id').last().fill(subjectId);
    await officer.getByLabel('Reason').fill('Litigation hold: contract dispute 2026-114');
    await officer.getByRole('button', { name: 'Place hold' }).click();
    const holds = officer.getByRole('list', { name: 'Holds placed in this session' });
    await holds.getByText(subjectId).waitFor();

    await subject.goto(`${server.origin}/privacy`);
    await subject.getByRole('button', { name: 'Request deletion of my data' }).click();
    await subject.getByText('Deletion requested.').waitFor();
    await reloadUntil(subject, 'On legal hold');
    await shot(subject, '22-privacy-deletion-on-hold');

    await officer.reload();
    await officer
      .getByRole('row', { name: new RegExp(`${subjectId}.*Deletion`) })
      .getByText('On legal hold')
      .waitFor();
    await shot(officer, '23-compliance-queue-hold');
    // The hold list lives in the page's memory; after the reload release it by id.
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT id FROM privacy_legal_holds WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, subjectId],
    );
    const holdId = rows[0]?.id ?? '';
    await officer.getByText('Release a hold by id').click();
    await officer.getByLabel('Hold id').fill(holdId);
    await officer.getByRole('button', { name: 'Release hold', exact: true }).click();

    const deletionRow = (p: Page) =>
      p.getByRole('row', { name: new RegExp(`${subjectId}.*Deletion`) });
    await reloadUntil(officer, 'Completed', 45_000, deletionRow);
    await shot(officer, '24-compliance-deletion-completed');

    // The subject is gone: their session no longer works and their address is nowhere.
    const after = await subject.evaluate(async () => (await fetch('/trpc/auth.me')).status);
    expect(after).toBe(401);
    const left = await db.owner.pool.query('SELECT 1 FROM users WHERE email = $1', [
      'subject@workflow.example',
    ]);
    expect(left.rowCount).toBe(0);
  }, 120_000);

  test('change the e-mail address from the Security page; the link mailed to it confirms', async () => {
    const page = pageOf('owner');
    await page.goto(`${server.origin}/security`);
    await page.getByLabel('New e-mail address').fill('owner.new@workflow.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Change address' }).click();
    await page.getByText(/owner\.new@workflow\.example can be used/).waitFor();
    const token = await inviteTokenFor('owner.new@workflow.example');
    await page.goto(`${server.origin}/confirm-email-change#token=${token}`);
    expect(page.url()).not.toContain(token); // the fragment is captured and dropped
    await page.getByRole('button', { name: 'Use this address' }).click();
    await page.getByText('Your account now uses this address.').waitFor();
    await page.goto(`${server.origin}/security`);
    await page.getByText('You sign in as owner.new@workflow.example').waitFor();
  }, 45_000);

  test('no page kept anything in localStorage or sessionStorage (no secret at rest in the browser)', async () => {
    for (const page of Object.values(pages)) {
      if (!page) continue;
      const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
      expect(stored).toEqual([0, 0]);
    }
  });

  test('no CSP violation or script error happened', () => {
    expect(problems).toEqual([]);
  });
});
