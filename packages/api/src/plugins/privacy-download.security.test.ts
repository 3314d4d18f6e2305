// Attack: a leaked, replayed or stale export link, or one fished out of the logs, hands a
// subject's personal data to someone else (docs/design.md "Privacy", rule 4; ASVS 3.5.2 / 7.1.1).
// Pins: the link works once, for at most five minutes (injected clock), for one export only, and
// only with the subject's own session or the tenant's compliance staff (a leaked link alone,
// another user's session or an API key downloads nothing); its token never reaches a log line;
// every use and refusal is audited; an expired export answers 410; the file streams back byte
// for byte from the encrypted chunks.
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import cookie from '@fastify/cookie';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { createSession } from '@tessera/auth/sessions';
import { parseSecurityPolicy } from '@tessera/auth/tenants';
import {
  completeExport,
  createExportDownloadLink,
  createPrivacyRequest,
  writeExportChunks,
} from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loggerOptions } from '../logger.js';
import { principalPlugin } from './principal.js';
import { privacyDownloadPlugin } from './privacy-download.js';
import { sessionResolver } from './session-cookie.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
const T0 = new Date('2026-04-01T10:00:00Z');
let clock = T0;
const logs: string[] = [];
let app: FastifyInstance;

beforeAll(async () => {
  const stream = new PassThrough();
  stream.on('data', (line: Buffer) => logs.push(line.toString('utf8')));
  app = Fastify({ logger: loggerOptions({ level: 'info', stream }) });
  await app.register(cookie);
  await app.register(principalPlugin, { resolvers: [sessionResolver(db.app, 'tessera_session')] });
  await app.register(privacyDownloadPlugin, { database: db.app, keyring, now: () => clock });
  await app.ready();
});
afterAll(async () => app.close());

/** A finished 200 KiB export for a fresh subject; returns its request id and the expected bytes. */
async function finishedExport(): Promise<{
  tenantId: string;
  userId: string;
  requestId: string;
  body: Buffer;
}> {
  const { id: tenantId } = await db.seedTenant();
  const userId = randomUUID();
  const body = Buffer.from(JSON.stringify({ filler: 'x'.repeat(200 * 1024), subject: userId }));
  const requestId = await db.withTenant(tenantId, async (tx) => {
    await tx.client.query(`INSERT INTO users (id, tenant_id, email) VALUES ($1, $2, $3)`, [
      userId,
      tenantId,
      `${userId}@example.com`,
    ]);
    const { request } = await createPrivacyRequest(
      tx,
      { type: 'user', id: userId },
      { userId, type: 'export', format: 'json' },
      { keyring, now: T0 },
    );
    const written = await writeExportChunks(
      tx,
      keyring,
      request.id,
      (async function* () {
        yield body;
      })(),
    );
    await completeExport(
      tx,
      request,
      {
        contentType: 'application/json; charset=utf-8',
        fileName: 'personal-data-2026-04-01.json',
        ...written,
      },
      { keyring, now: T0, consoleUrl: 'http://localhost:3000' },
    );
    return request.id;
  });
  return { tenantId, userId, requestId, body };
}

/** A real session, live on the database clock (the principal plugin resolves the cookie as in production). */
async function sessionOf(
  tenantId: string,
  userId: string,
  at = new Date(),
): Promise<{ tessera_session: string }> {
  const { token } = await db.withTenant(tenantId, (tx) =>
    createSession(
      tx,
      parseSecurityPolicy(undefined),
      { userId, aal: 1, ip: '203.0.113.5', userAgent: 'test' },
      at,
    ),
  );
  return { tessera_session: token };
}

async function userIn(tenantId: string, role: 'member' | 'compliance' | 'owner'): Promise<string> {
  const id = randomUUID();
  await db.withTenant(tenantId, (tx) =>
    tx.client.query(`INSERT INTO users (id, tenant_id, email, role) VALUES ($1, $2, $3, $4)`, [
      id,
      tenantId,
      `${id}@example.com`,
      role,
    ]),
  );
  return id;
}

const linkFor = (e: { tenantId: string; userId: string; requestId: string }, at = T0) =>
  db.withTenant(e.tenantId, (tx) =>
    createExportDownloadLink(tx, { type: 'user', id: e.userId, role: 'member' }, e.requestId, {
      now: at,
      publicUrl: 'http://localhost:3000',
    }),
  );
const pathOf = (url: string): string => new URL(url).pathname;

test('a link downloads the file once, byte for byte, with no-store headers; the download is audited', async () => {
  const e = await finishedExport();
  const { url } = await linkFor(e);
  clock = new Date(T0.getTime() + 60_000);
  const cookies = await sessionOf(e.tenantId, e.userId);
  const first = await app.inject({ method: 'GET', url: pathOf(url), cookies });
  expect(first.statusCode).toBe(200);
  expect(first.rawPayload.equals(e.body)).toBe(true);
  expect(first.headers).toMatchObject({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-disposition': 'attachment; filename="personal-data-2026-04-01.json"',
  });
  expect((await app.inject({ method: 'GET', url: pathOf(url), cookies })).statusCode).toBe(404);
  const { rows } = await db.owner.pool.query(
    `SELECT actor_id, target_id FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.export.downloaded'`,
    [e.tenantId],
  );
  expect(rows).toEqual([{ actor_id: e.userId, target_id: e.requestId }]);
});

test('a link is refused after five minutes', async () => {
  const e = await finishedExport();
  const { url, expiresAt } = await linkFor(e);
  const cookies = await sessionOf(e.tenantId, e.userId);
  expect(Date.parse(expiresAt)).toBe(T0.getTime() + 5 * 60_000);
  clock = new Date(T0.getTime() + 5 * 60_000);
  expect((await app.inject({ method: 'GET', url: pathOf(url), cookies })).statusCode).toBe(404);
  clock = new Date(T0.getTime() + 4 * 60_000 + 59_000);
  expect((await app.inject({ method: 'GET', url: pathOf(url), cookies })).statusCode).toBe(200);
});

test('a link serves its own export only, and forged or malformed tokens are not found', async () => {
  const a = await finishedExport();
  const b = await finishedExport();
  clock = T0;
  const { url } = await linkFor(a);
  const response = await app.inject({
    method: 'GET',
    url: pathOf(url),
    cookies: await sessionOf(a.tenantId, a.userId),
  });
  expect(response.rawPayload.equals(a.body)).toBe(true);
  expect(response.rawPayload.includes(Buffer.from(b.userId))).toBe(false);
  for (const forged of [
    'A'.repeat(43),
    'short',
    `${'A'.repeat(43)}/extra`,
    '../../trpc/health.check',
  ]) {
    expect(
      (await app.inject({ method: 'GET', url: `/privacy/downloads/${forged}` })).statusCode,
      forged,
    ).toBe(404);
  }
});

test('a valid link to an export past its 7 days answers 410 Gone', async () => {
  const e = await finishedExport();
  const later = new Date(T0.getTime() + 7 * 24 * 3_600_000 - 60_000);
  const { url } = await linkFor(e, later);
  clock = new Date(T0.getTime() + 7 * 24 * 3_600_000 + 1_000);
  const cookies = await sessionOf(e.tenantId, e.userId);
  const response = await app.inject({ method: 'GET', url: pathOf(url), cookies });
  expect(response.statusCode).toBe(410);
  expect(response.json()).toMatchObject({ error: 'export_expired' });
});

test('no log line ever holds a token, however the route answered', async () => {
  const e = await finishedExport();
  clock = T0;
  const { url } = await linkFor(e);
  const token = pathOf(url).split('/').at(-1) ?? '';
  const cookies = await sessionOf(e.tenantId, e.userId);
  logs.length = 0;
  await app.inject({ method: 'GET', url: pathOf(url), cookies });
  await app.inject({ method: 'GET', url: `${pathOf(url)}?again=1`, cookies });
  expect(logs.length).toBeGreaterThan(0);
  expect(logs.join('\n')).not.toContain(token);
  expect(logs.join('\n')).toContain('/privacy/downloads/[redacted]');
});

const downloadEvents = async (tenantId: string) =>
  (
    await db.owner.pool.query<{
      action: string;
      actor_id: string | null;
      metadata: Record<string, unknown>;
    }>(
      `SELECT action, actor_id, metadata FROM audit_logs WHERE tenant_id = $1 AND action LIKE 'privacy.export.download%' ORDER BY seq`,
      [tenantId],
    )
  ).rows;

test("a leaked link downloads nothing from another user's session, another tenant's or no session; each refusal is audited and spends the link", async () => {
  const e = await finishedExport();
  const stranger = await finishedExport(); // another tenant's user
  const colleague = await userIn(e.tenantId, 'owner'); // even the owner is not the subject
  clock = T0;
  const attempts = [
    {
      cookies: await sessionOf(e.tenantId, colleague),
      actor: colleague,
      reason: 'not_the_subject',
    },
    {
      cookies: await sessionOf(stranger.tenantId, stranger.userId),
      actor: null,
      reason: 'another_tenant',
    },
    { cookies: {}, actor: null, reason: 'no_session' },
  ];
  for (const attempt of attempts) {
    const { url } = await linkFor(e);
    const response = await app.inject({
      method: 'GET',
      url: pathOf(url),
      cookies: attempt.cookies,
    });
    expect(response.statusCode, attempt.reason).toBe(attempt.reason === 'no_session' ? 401 : 404);
    expect(response.rawPayload.includes(Buffer.from(e.userId)), attempt.reason).toBe(false);
    // The link is spent: the subject asks for a new one.
    expect(
      (
        await app.inject({
          method: 'GET',
          url: pathOf(url),
          cookies: await sessionOf(e.tenantId, e.userId),
        })
      ).statusCode,
      attempt.reason,
    ).toBe(404);
  }
  expect(await downloadEvents(e.tenantId)).toEqual(
    attempts.map((a) => ({
      action: 'privacy.export.download_refused',
      actor_id: a.actor,
      metadata: expect.objectContaining({ reason: a.reason, subjectId: e.userId }),
    })),
  );
  expect(await downloadEvents(stranger.tenantId)).toEqual([]);
});

test("the tenant's compliance staff may download a subject's export; another tenant's compliance staff may not", async () => {
  const e = await finishedExport();
  const other = await finishedExport();
  const officer = await userIn(e.tenantId, 'compliance');
  const foreignOfficer = await userIn(other.tenantId, 'compliance');
  clock = T0;
  const refused = await app.inject({
    method: 'GET',
    url: pathOf((await linkFor(e)).url),
    cookies: await sessionOf(other.tenantId, foreignOfficer),
  });
  expect(refused.statusCode).toBe(404);
  const { url } = await linkFor(e);
  const response = await app.inject({
    method: 'GET',
    url: pathOf(url),
    cookies: await sessionOf(e.tenantId, officer),
  });
  expect(response.statusCode).toBe(200);
  expect(response.rawPayload.equals(e.body)).toBe(true);
  expect(await downloadEvents(e.tenantId)).toEqual([
    {
      action: 'privacy.export.download_refused',
      actor_id: null,
      metadata: expect.objectContaining({ reason: 'another_tenant' }),
    },
    {
      action: 'privacy.export.downloaded',
      actor_id: officer,
      metadata: expect.objectContaining({ subjectId: e.userId }),
    },
  ]);
});

test("the subject's own enrollment-only session downloads nothing: a session that still owes its second factor is no session here", async () => {
  const e = await finishedExport();
  clock = T0;
  // The tenant requires MFA and the subject has no factor: every session of theirs is enrollment-only.
  await db.owner.pool.query(
    `UPDATE tenants SET security_policy = security_policy || '{"mfaRequired":"all"}'::jsonb WHERE id = $1`,
    [e.tenantId],
  );
  const { url } = await linkFor(e);
  const response = await app.inject({
    method: 'GET',
    url: pathOf(url),
    cookies: await sessionOf(e.tenantId, e.userId),
  });
  expect(response.statusCode).toBe(401);
  expect(response.rawPayload.includes(Buffer.from(e.userId))).toBe(false);
  expect(await downloadEvents(e.tenantId)).toEqual([
    {
      action: 'privacy.export.download_refused',
      actor_id: null,
      metadata: expect.objectContaining({ reason: 'no_session', subjectId: e.userId }),
    },
  ]);
});
