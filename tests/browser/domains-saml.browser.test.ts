/**
 * Sign-in by work e-mail through SAML in real Chromium, against the real server, a real DNS
 * server on loopback (dns2) and a real SAML identity provider (samlify in its IdP role) on
 * another site (127.0.0.1, while the console runs on localhost). The organisation verifies its
 * domain, requires single sign-on for it with auto-join on, and has only a SAML connection:
 * - a new person types an address at the domain into the sign-in page's work e-mail form, is sent
 *   to the IdP by `domains.route`, signs in there, and lands in the console as a member;
 * - the owner's password at the domain is refused, and the notice links to the SAML start URL.
 * Screenshots go to output/.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyringSpec } from '@tessera/auth';
import { startLocalDnsServer, type LocalDnsServer } from '@tessera/auth/testing';
import { startSamlTestIdp, type SamlTestIdp } from '@tessera/api/testing';
import { callerFor, signUpOwner, STRONG_PASSWORD } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const run = chromiumAvailable();

describe.skipIf(!run)('sign-in by work e-mail through SAML in Chromium', () => {
  const db = useTestDatabase();
  let dns: LocalDnsServer;
  let idp: SamlTestIdp;
  let server: ConsoleServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let page: Page | undefined;
  const problems: string[] = [];
  const domain = `corp-${Date.now().toString(36)}.example.com`;
  let slug = '';
  let startPath = '';

  const shot = (p: Page, name: string) =>
    p.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const p = await context.newPage();
    p.setDefaultTimeout(15_000);
    p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    p.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(message.text());
    });
    page = p;
    return p;
  }

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dns = await startLocalDnsServer();
    idp = await startSamlTestIdp();
    server = await startConsoleServer(db.app, {
      hostname: 'localhost',
      outbound: { mode: 'development' },
      sessionSecret: generateKeyringSpec(1),
      domainDns: { servers: [dns.server], timeoutMs: 1000 },
    });
    browser = await launchChromium();

    // The organisation's set-up through its procedures (the console pages for it have browser
    // tests of their own): a verified domain with require-SSO and auto-join, one SAML connection.
    const owner = await signUpOwner(db.app, {
      services: server.services,
      email: `owner@${domain}`,
    });
    slug = owner.tenant.slug;
    const caller = await callerFor(db.app, owner.token, { services: server.services });
    const added = await caller.domains.add({ domain });
    dns.publishTxt(added.record.name, added.record.value);
    expect((await caller.domains.verify({ id: added.id })).outcome).toBe('verified');
    await caller.domains.update({ id: added.id, requireSso: true, autoJoin: true });
    const conn = await caller.tenant.saml.create({
      name: 'Corp IdP',
      metadataXml: idp.metadataXml(),
      emailsVerified: true, // the IdP is the company's directory; no just-in-time provisioning
      enabled: true,
    });
    idp.sps.set(conn.spEntityId, { acsUrl: conn.acsUrl });
    expect((await caller.domains.list())[0]).toMatchObject({ ssoEnforced: true });
    startPath = new URL(conn.startUrl).pathname;
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    await shot(
      page,
      `domains-saml-failed-${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}`,
    ).catch(() => undefined);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await idp?.close();
    await dns?.close();
  });

  test('a person types a work e-mail at the verified domain and signs in through the SAML IdP as a new member', async () => {
    idp.users.set('dana', { nameId: 'dana-0001', email: `dana@${domain}`, name: 'Dana Corp' });
    const p = await newPage();
    await p.goto(`${server.origin}/sign-in`);
    await p.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    const sso = p.getByRole('form', { name: 'Single sign-on' });
    // A domain nobody verified gets a plain answer; the password form stays.
    await sso.getByLabel('Work e-mail').fill('someone@unverified.example.org');
    await sso.getByRole('button', { name: 'Continue with SSO' }).click();
    await sso.getByText('Single sign-on is not set up for this e-mail address.').waitFor();
    await shot(p, 'domains-saml-01-work-email');

    await sso.getByLabel('Work e-mail').fill(`Dana@${domain.toUpperCase()}`);
    await sso.getByRole('button', { name: 'Continue with SSO' }).click();
    await p.getByRole('heading', { name: 'Test IdP sign-in' }).waitFor();
    expect(new URL(p.url()).origin).toBe(new URL(idp.ssoUrl).origin);
    await p.getByLabel('Account').fill('dana');
    await p.getByRole('button', { name: 'Sign in at the IdP' }).click();
    await p.waitForURL(`${server.origin}/**`);
    const me = await p.request.get(`${server.origin}/trpc/auth.me`);
    expect(me.status()).toBe(200);
    const body = (await me.json()) as {
      result: { data: { user: { email: string; role: string; displayName: string } } };
    };
    expect(body.result.data.user).toMatchObject({
      email: `dana@${domain}`,
      role: 'member',
      displayName: 'Dana Corp',
    });
    await shot(p, 'domains-saml-02-signed-in');
    expect(problems).toEqual([]);
  }, 60_000);

  test("the owner's password at the domain is refused, with a link to the SAML connection's start", async () => {
    const p = await newPage();
    await p.goto(`${server.origin}/sign-in`);
    await p.getByLabel('Organisation').fill(slug);
    await p.getByLabel('Email').fill(`owner@${domain}`);
    await p.getByLabel('Password').fill(STRONG_PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    const notice = p.getByRole('alert').filter({ hasText: 'requires single sign-on' });
    await notice.waitFor();
    const link = notice.getByRole('link', { name: 'Continue with single sign-on' });
    expect(await link.getAttribute('href')).toBe(startPath);
    await link.click();
    await p.getByRole('heading', { name: 'Test IdP sign-in' }).waitFor();
    await shot(p, 'domains-saml-03-sso-required');
    expect(problems).toEqual([]);
  }, 60_000);
});
