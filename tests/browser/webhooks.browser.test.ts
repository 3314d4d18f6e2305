/**
 * Privacy webhooks (GDPR Art. 19; docs/privacy.md "Webhooks") from the console in real Chromium,
 * against the real server with the GDPR workers running in-process:
 * - an owner adds an endpoint on the Admin page (a local receiver on 127.0.0.1, allowed by the
 *   development outbound rule) and copies the `whsec_` secret shown once;
 * - the owner requests a JSON export on the Privacy page; the receiver gets
 *   privacy.export.started and privacy.export.completed, signed with that secret;
 * - the endpoint's Deliveries disclosure lists both as delivered; rotating shows a new secret
 *   once; disabling marks the endpoint disabled; nothing is kept in browser storage.
 * Screenshots go to output/.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyWebhookSignature } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startConsoleServer, type ConsoleServer } from './server.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'output');
const PASSWORD = 'granite-otter-sings-at-dawn-42';
const EMAIL = 'owner@webhooks.example';
const run = chromiumAvailable();

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  receivedAt: Date;
}

/** A webhook receiver on 127.0.0.1 that records every request and answers 200. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
        receivedAt: new Date(),
      });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const typeOf = (r: Received): string => String(r.headers['tessera-event-type'] ?? '');

describe.skipIf(!run)('privacy webhooks in Chromium', () => {
  const db = useTestDatabase();
  let server: ConsoleServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const problems: string[] = [];
  const slug = `wh-${Date.now().toString(36)}`;
  let secret = '';

  const shot = (p: Page, name: string) =>
    p.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  const owner = (): Page => {
    if (!page) throw new Error('no owner page');
    return page;
  };

  async function waitForEvents(types: string[], timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!types.every((type) => receiver.received.some((r) => typeOf(r) === type))) {
      if (Date.now() > deadline)
        throw new Error(
          `receiver got ${receiver.received.map(typeOf).join(', ') || 'nothing'}, expected ${types.join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    receiver = await startReceiver();
    // Development outbound rule: http and loopback allowed (private ranges stay refused).
    server = await startConsoleServer(db.app, {
      privacyWorkers: true,
      outbound: { mode: 'development' },
    });
    browser = await launchChromium();
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    await shot(
      page,
      `webhooks-failed-${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`,
    ).catch(() => undefined);
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  test('an owner signs up', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // confirm() before disabling; prompt() for the rotation grace period keeps its default.
    page.on(
      'dialog',
      (dialog) =>
        void (dialog.type() === 'prompt' ? dialog.accept(dialog.defaultValue()) : dialog.accept()),
    );
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
        problems.push(message.text());
    });
    await page.goto(`${server.origin}/sign-up`);
    await page.getByLabel('Organisation name').fill('Webhook Co');
    await page.getByLabel('Organisation short name').fill(slug);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
  }, 45_000);

  test('the create form explains mistakes next to the fields', async () => {
    const p = owner();
    await p.goto(`${server.origin}/admin`);
    const section = p.getByRole('region', { name: 'Privacy webhooks' });
    await section.getByText('No webhook endpoints yet.').waitFor();
    await section.getByText('Add a webhook endpoint').click();
    for (const event of [
      'privacy.export.started',
      'privacy.export.completed',
      'privacy.erasure.started',
      'privacy.erasure.completed',
    ])
      expect(
        await section
          .getByRole('checkbox', { name: new RegExp(event.replaceAll('.', '\\.')) })
          .isChecked(),
      ).toBe(true);
    // No URL, and "waits for acknowledgement" without the erasure.started event.
    await section.getByRole('checkbox', { name: /privacy\.erasure\.started/ }).uncheck();
    await section.getByLabel('Erasure waits for acknowledgement').check();
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    const url = section.getByLabel('Endpoint URL');
    await expect.poll(() => url.getAttribute('aria-invalid')).toBe('true');
    await section.getByText('Enter the URL that receives the events.').waitFor();
    await url.fill(receiver.url);
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    await section.getByText(/must receive privacy\.erasure\.started/).waitFor();
    expect(
      await section.getByLabel('Erasure waits for acknowledgement').getAttribute('aria-invalid'),
    ).toBe('true');
    await section.getByRole('checkbox', { name: /privacy\.erasure\.started/ }).check();
    await section.getByLabel('Erasure waits for acknowledgement').uncheck();
  }, 30_000);

  test('add an endpoint for the local receiver; the signing secret is shown once', async () => {
    const p = owner();
    const section = p.getByRole('region', { name: 'Privacy webhooks' });
    await section.getByLabel('Description (optional)').fill('Test receiver');
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    const shown = section.getByLabel('New webhook signing secret');
    await shown.waitFor();
    secret = (await shown.innerText()).trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{20,}$/);
    const row = section.getByRole('row', { name: new RegExp(receiver.url.replaceAll('.', '\\.')) });
    await row.getByText('Enabled').waitFor();
    await shot(p, 'webhooks-01-created');

    await section.getByRole('button', { name: 'Done', exact: true }).click();
    await p.reload();
    await section
      .getByRole('cell', { name: `${receiver.url} · Test receiver`, exact: true })
      .waitFor();
    expect(await p.content()).not.toContain(secret);
  }, 30_000);

  test('an export sends signed export.started and export.completed to the receiver', async () => {
    const p = owner();
    await p.goto(`${server.origin}/privacy`);
    await p.getByLabel('Export format').selectOption('json');
    await p.getByRole('button', { name: 'Request export' }).click();
    await p.getByText('Export requested.').waitFor();
    await waitForEvents(['privacy.export.started', 'privacy.export.completed']);

    for (const delivery of receiver.received) {
      expect(delivery.path).toBe('/hook');
      expect(delivery.headers['content-type']).toMatch(/^application\/json/);
      const header = String(delivery.headers['tessera-signature'] ?? '');
      expect(verifyWebhookSignature(secret, header, delivery.body)).toBe(true);
      // A different secret or a changed body does not verify.
      expect(verifyWebhookSignature(`${secret}x`, header, delivery.body)).toBe(false);
      expect(
        verifyWebhookSignature(secret, header, Buffer.concat([delivery.body, Buffer.from(' ')])),
      ).toBe(false);
      const event = JSON.parse(delivery.body.toString('utf8')) as Record<string, unknown>;
      expect(event['type']).toBe(typeOf(delivery));
      expect(event['id']).toBe(delivery.headers['tessera-event-id']);
      // Ids only: never the subject's address.
      expect(delivery.body.toString('utf8')).not.toContain(EMAIL);
    }
  }, 60_000);

  test('the Deliveries disclosure lists the delivered events', async () => {
    const p = owner();
    await p.goto(`${server.origin}/admin`);
    const section = p.getByRole('region', { name: 'Privacy webhooks' });
    const toggle = section.getByRole('button', { name: `Deliveries of ${receiver.url}` });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.focus();
    await p.keyboard.press('Enter'); // keyboard opens it
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const log = section.getByRole('region', { name: `Deliveries to ${receiver.url}` });
    for (const type of ['privacy.export.started', 'privacy.export.completed']) {
      const row = log.getByRole('row', { name: new RegExp(type.replaceAll('.', '\\.')) });
      await expect
        .poll(
          async () => (await row.count()) > 0 && (await row.getByText('Delivered').count()) > 0,
          { timeout: 20_000 },
        )
        .toBe(true);
      await row.getByText('HTTP 200').waitFor();
    }
    // Nothing waits for an acknowledgement on an endpoint without requireAck.
    expect(await log.getByRole('button', { name: /^Acknowledge/ }).count()).toBe(0);
    await shot(p, 'webhooks-02-deliveries');
  }, 45_000);

  test('rotating shows a new secret once; disabling marks the endpoint disabled', async () => {
    const p = owner();
    const section = p.getByRole('region', { name: 'Privacy webhooks' });
    await section.getByRole('button', { name: `Rotate secret of ${receiver.url}` }).click();
    const shown = section.getByLabel('New webhook signing secret');
    await shown.waitFor();
    const rotated = (await shown.innerText()).trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await section.getByText(/previous secret also signs until/i).waitFor();
    await section.getByRole('button', { name: 'Done', exact: true }).click();

    await section.getByRole('button', { name: `Disable ${receiver.url}` }).click();
    await section
      .getByRole('row', { name: new RegExp(receiver.url.replaceAll('.', '\\.')) })
      .first()
      .getByText('Disabled')
      .waitFor();
    await section.getByRole('button', { name: `Enable ${receiver.url}` }).waitFor();
    await shot(p, 'webhooks-03-rotated-disabled');
  }, 30_000);

  test('nothing was kept in localStorage or sessionStorage', async () => {
    const stored = await owner().evaluate(() => [localStorage.length, sessionStorage.length]);
    expect(stored).toEqual([0, 0]);
  });

  test('no CSP violation or script error happened', () => {
    expect(problems).toEqual([]);
  });
});
