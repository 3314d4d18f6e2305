/**
 * The security overview and the audit page in real Chromium against the real server, on a tenant
 * seeded with known figures (seedOverviewTenant): every chart renders, every table view shows the
 * numbers the procedures answer; the audit page shows people and keys by name, filters by an action
 * picked from the list of actions that occur, exports that filter, and explains a risk score.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedOverviewTenant, type OverviewSeed } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const run = chromiumAvailable();

describe.skipIf(!run)('security overview and audit page in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let seed: OverviewSeed;
  const problems: string[] = [];

  /** A procedure's answer as the signed-in browser gets it. */
  const query = async <T>(name: string): Promise<T> =>
    page.evaluate(async (path) => {
      const res = await fetch(`/trpc/${path}`);
      return ((await res.json()) as { result: { data: unknown } }).result.data;
    }, name) as Promise<T>;

  /** The cells of a table, row by row, as text. */
  const cells = (label: string): Promise<string[][]> =>
    page
      .getByRole('table', { name: label })
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent ?? '').trim()),
        ),
      );

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await startConsoleServer(db.app);
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(message.text());
    });
    const slug = `o-${Date.now().toString(36)}`;
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Overview Co');
    await page.getByLabel('Organisation short name').fill(slug);
    await page.getByLabel('Email').fill('owner@overview.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT id FROM tenants WHERE slug = $1',
      [slug],
    );
    seed = await seedOverviewTenant(
      db,
      rows[0]?.id ?? '',
      new Date(),
      generateKeyPairSync('ed25519').privateKey,
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the overview draws every chart and its tables show the procedures’ numbers', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Security overview' })
      .click();
    await page.getByRole('heading', { name: 'Security overview', level: 1 }).waitFor();
    for (const chart of ['members', 'sign-ins', 'api-keys', 'privacy']) {
      const figure = page.locator(`figure[data-chart="${chart}"]`);
      await figure.locator('svg.recharts-surface').first().waitFor();
      expect(
        await figure.locator('.recharts-bar-rectangle, .recharts-line-curve').count(),
        chart,
      ).toBeGreaterThan(0);
    }
    await page.screenshot({ path: path.join(OUTPUT, '40-security-overview.png'), fullPage: true });

    for (const title of [
      'Second factors',
      'Sign-ins, last 30 days',
      'API keys, last 30 days',
      'Privacy requests',
    ])
      await page
        .getByRole('group', { name: `${title} view` })
        .getByRole('button', { name: 'Table' })
        .click();

    const members = await query<{
      byRole: { role: string; members: number; withSecondFactor: number }[];
      withSecondFactor: number;
      members: number;
    }>('overview.members');
    expect([members.members, members.withSecondFactor]).toEqual([7, 3]); // the owner who signed up + 6
    expect(await cells('Second factors by role')).toEqual(
      members.byRole.map((r) => [
        expect.any(String),
        String(r.members),
        String(r.withSecondFactor),
        String(r.members - r.withSecondFactor),
      ]),
    );

    const signIns = await query<{ days: Record<string, number | string>[] }>('overview.signIns');
    const keys = ['succeeded', 'failed', 'lockedOut', 'refused', 'mfaFailed'];
    expect(await cells('Sign-ins per day')).toEqual(
      signIns.days.map((d) => [String(d['day']), ...keys.map((k) => String(d[k]))]),
    );

    const apiKeys = await query<{ keys: { name: string; calls: number; refusals: number }[] }>(
      'overview.apiKeys',
    );
    expect(apiKeys.keys.map((k) => [k.name, k.calls, k.refusals])).toEqual([
      ['Billing sync', 4, 10],
      ['Website widget', 0, 0],
    ]);
    expect((await cells('API key activity')).map((row) => [row[0], row[2], row[3]])).toEqual(
      apiKeys.keys.map((k) => [k.name, String(k.calls), String(k.refusals)]),
    );

    const privacy = await query<{
      byStatus: { status: string; count: number; overdue: number; dueSoon: number }[];
    }>('overview.privacyRequests');
    expect((await cells('Privacy requests by state')).map((row) => row.slice(0, 4))).toEqual(
      privacy.byStatus.map((s) => [
        s.status,
        String(s.count),
        String(s.overdue),
        String(s.dueSoon),
      ]),
    );
    expect(await page.getByLabel('Audit chain status').innerText()).toMatch(
      /Events waiting for a checkpoint\s+2/,
    );
    await page.screenshot({
      path: path.join(OUTPUT, '41-security-overview-tables.png'),
      fullPage: true,
    });
    expect(problems).toEqual([]);
  }, 60_000);

  test('the audit page shows names, filters by a chosen action, exports it and explains a score', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Audit log' })
      .click();
    const events = page.getByRole('table', { name: 'Audit events, newest first' });
    await events.waitFor();
    expect(await events.innerText()).toContain('Key Billing sync');

    const options = await page
      .locator('#audit-actions option')
      .evaluateAll((all) => all.map((o) => (o as HTMLOptionElement).value));
    expect(options).toContain('user.role.changed');
    expect(options).toEqual([...options].sort());
    await page.getByLabel('Action').fill('user.role.changed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect
      .poll(async () => (await cells('Audit events, newest first')).map((row) => row[2]))
      .toEqual([
        'user.role.changed',
        'user.role.changed',
        'user.role.changed',
        'user.role.changed',
        'user.role.changed',
      ]);
    const rows = await cells('Audit events, newest first');
    expect(rows.every((row) => row[3]?.includes('Key Billing sync'))).toBe(true);
    expect(rows.every((row) => row[4]?.includes('eve@overview.example'))).toBe(true);
    await page.screenshot({ path: path.join(OUTPUT, '42-audit-filtered.png'), fullPage: true });

    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'CSV' }).click();
    const file = await (await downloading).path();
    const lines = readFileSync(file, 'utf8').trim().split('\r\n');
    expect(lines).toHaveLength(1 + 5);
    expect(lines.slice(1).every((line) => line.includes(',user.role.changed,'))).toBe(true);

    await page.getByRole('button', { name: `Details of event ${rows[0]?.[0]}` }).click();
    const dialog = page.getByRole('dialog', { name: `Event #${rows[0]?.[0]}` });
    await dialog.getByText('Risk score 60').waitFor();
    expect(await dialog.innerText()).toContain('Fixed score for user.role.changed: 60.');
    await page.screenshot({ path: path.join(OUTPUT, '43-audit-detail.png'), fullPage: true });
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(seed.keys.busy).toBeTruthy();
    expect(problems).toEqual([]);
  }, 60_000);
});
