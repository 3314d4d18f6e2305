/**
 * SAML single sign-on from the console in real Chromium, against the real server and a real SAML
 * identity provider (samlify in its IdP role, @tessera/api/testing) on another site (127.0.0.1,
 * while the console runs on localhost, so the IdP's HTTP-POST to the ACS is a cross-site form
 * post as in production):
 * - an owner adds a connection on the Admin page by pasting the IdP metadata, reads the SP values
 *   to give the IdP, sets the sign-in rules, enables it, and rotates to a second certificate;
 * - a new person starts at the connection's sign-in URL, signs in at the IdP, and lands in the
 *   console signed in as a just-in-time member; after the IdP switches keys it still works.
 * Screenshots go to output/.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyringSpec } from '@tessera/auth';
import { startSamlTestIdp, type SamlTestIdp } from '@tessera/api/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const run = chromiumAvailable();

describe.skipIf(!run)('SAML sign-in in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let idp: SamlTestIdp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let page: Page | undefined;
  const problems: string[] = [];
  const slug = `saml-${Date.now().toString(36)}`;
  let startUrl = '';

  const shot = (p: Page, name: string) =>
    p.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  const owner = (): Page => {
    if (!page) throw new Error('no owner page');
    return page;
  };
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const p = await context.newPage();
    p.setDefaultTimeout(15_000);
    p.on('dialog', (dialog) => void dialog.accept());
    p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    p.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(message.text());
    });
    return p;
  }

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    idp = await startSamlTestIdp();
    server = await startConsoleServer(db.app, {
      hostname: 'localhost',
      outbound: { mode: 'development' },
      sessionSecret: generateKeyringSpec(1),
    });
    browser = await launchChromium();
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    await shot(
      page,
      `saml-failed-${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`,
    ).catch(() => undefined);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await idp?.close();
  });

  test('an owner adds a SAML connection from the IdP metadata and enables it', async () => {
    page = await newPage();
    const p = owner();
    await p.goto(`${server.origin}/sign-up`);
    await p.getByLabel('Organisation name').fill('SAML Co');
    await p.getByLabel('Organisation short name').fill(slug);
    await p.getByLabel('Email').fill(`owner@${slug}.example`);
    await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await p.getByRole('button', { name: 'Create organisation' }).click();
    await p.getByRole('heading', { name: 'Security', level: 1 }).waitFor();

    await p.goto(`${server.origin}/admin`);
    const section = p.getByRole('region', { name: 'SAML single sign-on' });
    await section.getByText('No SAML connection yet.').waitFor();
    await section.getByText('Add a SAML connection').click();
    const form = section.getByRole('form', { name: 'Add a SAML connection' });
    await form.getByLabel('Name').fill('Corp IdP');
    await form.getByLabel('Identity provider metadata (XML)').fill(idp.metadataXml());
    await form.getByRole('button', { name: 'Add connection' }).click();

    const card = section.getByRole('article', { name: /Corp IdP/ });
    await card.getByText('Disabled').waitFor();
    await card.getByText(idp.entityId).waitFor();
    const codes = await card.locator('dd code').allInnerTexts();
    const [spEntityId = '', acsUrl = ''] = codes;
    expect(spEntityId).toMatch(
      new RegExp(`^${server.origin}/auth/saml/${slug}/[0-9a-f-]{36}/metadata$`),
    );
    expect(acsUrl).toBe(spEntityId.replace(/\/metadata$/, '/acs'));
    idp.sps.set(spEntityId, { acsUrl }); // what an IdP admin types in from this page
    expect(
      await card
        .getByRole('list', { name: /Signing certificates/ })
        .getByRole('listitem')
        .count(),
    ).toBe(1);

    await card.getByText('Sign-in rules').click();
    const rules = card.getByRole('form', { name: 'Sign-in rules of Corp IdP' });
    await rules.getByLabel('Create accounts on first sign-in').check();
    await rules.getByLabel('The IdP vouches for e-mail addresses').check();
    await rules.getByLabel('Group-to-role rules').fill('corp-compliance = compliance');
    await rules.getByRole('button', { name: 'Save rules' }).click();
    await card.getByText('Sign-in rules of Corp IdP saved.').waitFor();

    await card.getByRole('button', { name: 'Enable' }).click();
    await card.getByText('Enabled', { exact: true }).waitFor();
    startUrl = (await card.getByRole('link', { name: 'Test sign-in' }).getAttribute('href')) ?? '';
    expect(startUrl).toBe(spEntityId.replace(/\/metadata$/, '/start'));
    await shot(p, 'saml-01-connection');
  }, 60_000);

  test('a new person signs in through the IdP and lands in the console as a member', async () => {
    idp.users.set('dana', {
      nameId: 'dana-0001',
      email: `dana@${slug}.example`,
      name: 'Dana Corp',
    });
    const p = await newPage();
    await p.goto(startUrl);
    await p.getByRole('heading', { name: 'Test IdP sign-in' }).waitFor();
    await p.getByLabel('Account').fill('dana');
    await p.getByRole('button', { name: 'Sign in at the IdP' }).click();
    await p.waitForURL(`${server.origin}/**`);
    const me = await p.request.get(`${server.origin}/trpc/auth.me`);
    expect(me.status()).toBe(200);
    const body = (await me.json()) as {
      result: { data: { user: { email: string; role: string; displayName: string } } };
    };
    expect(body.result.data.user).toMatchObject({
      email: `dana@${slug}.example`,
      role: 'member',
      displayName: 'Dana Corp',
    });
    await shot(p, 'saml-02-signed-in');
  }, 45_000);

  test('certificate rotation: the owner trusts the next certificate, the IdP switches, sign-in still works', async () => {
    const p = owner();
    const next = await idp.addNextKey();
    const card = p
      .getByRole('region', { name: 'SAML single sign-on' })
      .getByRole('article', { name: /Corp IdP/ });
    await card.getByText('Rotate the signing certificate').click();
    const form = card.getByRole('form', { name: 'Rotate the certificate of Corp IdP' });
    await form
      .getByLabel('Certificates to trust (PEM)')
      .fill(`${idp.key.certificatePem}\n${next.certificatePem}`);
    await form.getByRole('button', { name: 'Save certificates' }).click();
    await card.getByText('Corp IdP now trusts 2 certificates.').waitFor();
    await expect
      .poll(() =>
        card
          .getByRole('list', { name: /Signing certificates/ })
          .getByRole('listitem')
          .count(),
      )
      .toBe(2);

    idp.useKey(next);
    idp.users.set('erin', {
      nameId: 'erin-0002',
      email: `erin@${slug}.example`,
      groups: ['corp-compliance'],
    });
    const q = await newPage();
    await q.goto(startUrl);
    await q.getByLabel('Account').fill('erin');
    await q.getByRole('button', { name: 'Sign in at the IdP' }).click();
    await q.waitForURL(`${server.origin}/**`);
    const me = (await (await q.request.get(`${server.origin}/trpc/auth.me`)).json()) as {
      result: { data: { user: { email: string; role: string } } };
    };
    expect(me.result.data.user).toMatchObject({
      email: `erin@${slug}.example`,
      role: 'compliance',
    });
    expect(problems).toEqual([]);
  }, 45_000);
});
