// privacy.webhooks.* through tRPC callers on real Postgres (Art. 19): who may manage and
// read endpoints, that the signing secret is shown once and stored only encrypted (docs/design.md
// "Secrets"), that every change is audited, that the outbound rule refuses http, loopback and
// private addresses in production (docs/design.md "Outbound URLs"), and that one tenant can neither see
// nor touch another tenant's endpoints or delivery log (RLS; docs/design.md rule 1).
import { randomUUID } from 'node:crypto';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import {
  createPrivacyRequest,
  recordPrivacyWebhookEvent,
  reencryptWebhookSecrets,
  webhookSecretContext,
} from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Principal, Role, Services } from '../context.js';
import { createTestContext, testAccountDeps, testServices } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { privacyRouter } from './privacy.js';

const db = useTestDatabase();
const callerOf = createCallerFactory(router({ privacy: privacyRouter }));
const loopbacks: string[] = [];
const keySpec = generateKeyringSpec(1);
const dev = testServices({
  accounts: testAccountDeps({ keyring: parseKeyring(keySpec) }),
  sso: {
    outbound: { mode: 'development', onLoopback: (host) => loopbacks.push(host) },
    platformProviders: [],
  },
});
const prod: Services = { ...dev, sso: { outbound: { mode: 'production' }, platformProviders: [] } };
const T0 = new Date('2026-05-31T08:00:00Z');
const URL_OK = 'http://127.0.0.1:9/hooks';

function session(tenantId: string, userId: string, role: Role): Principal {
  return {
    kind: 'session',
    tenantId,
    userId,
    role,
    sessionId: randomUUID(),
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly: false,
    expiresAt: new Date(T0.getTime() + 3_600_000),
  };
}
const key = (tenantId: string, scopes: string[]): Principal => ({
  kind: 'api_key',
  tenantId,
  keyId: randomUUID(),
  keyType: 'secret',
  scopes,
});
const as = (principal: Principal, services: Services = dev) =>
  callerOf(createTestContext(db.app, { principal, services, now: () => T0 })).privacy.webhooks;

async function tenant() {
  const { id } = await db.seedTenant();
  const [owner, admin, member, officer] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await db.withTenant(id, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role) VALUES ($1::uuid, $5, $1::text || '@example.com', 'owner'),
    ($2::uuid, $5, $2::text || '@example.com', 'admin'), ($3::uuid, $5, $3::text || '@example.com', 'member'), ($4::uuid, $5, $4::text || '@example.com', 'compliance')`,
      [owner, admin, member, officer, id],
    ),
  );
  return {
    id,
    memberId: member,
    owner: session(id, owner, 'owner'),
    admin: session(id, admin, 'admin'),
    member: session(id, member, 'member'),
    officer: session(id, officer, 'compliance'),
  };
}

const auditActions = async (tenantId: string) =>
  (
    await db.owner.pool.query<{ action: string }>(
      `SELECT action FROM audit_logs WHERE tenant_id = $1 AND action LIKE 'privacy.webhook.%' ORDER BY seq`,
      [tenantId],
    )
  ).rows.map((r) => r.action);

describe('managing endpoints', () => {
  test('create shows the secret once; it is stored only encrypted, bound to its row; list never returns it', async () => {
    const t = await tenant();
    const { endpoint, secret } = await as(t.owner).create({
      url: URL_OK,
      description: 'CRM',
      requireAck: true,
    });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(endpoint).toMatchObject({
      url: URL_OK,
      description: 'CRM',
      requireAck: true,
      enabled: true,
      events: [
        'privacy.export.started',
        'privacy.export.completed',
        'privacy.erasure.started',
        'privacy.erasure.completed',
      ],
    });
    expect(loopbacks).toContain('127.0.0.1');
    const listed = await as(t.officer).list();
    expect(listed).toEqual([endpoint]);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const { rows } = await db.owner.pool.query<{ secret_ciphertext: string }>(
      'SELECT * FROM privacy_webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(JSON.stringify(rows)).not.toContain(secret.slice(6));
    const ciphertext = rows[0]?.secret_ciphertext ?? '';
    expect(
      dev.accounts.keyring.decryptString(ciphertext, webhookSecretContext(t.id, endpoint.id)),
    ).toBe(secret);
    expect(() =>
      dev.accounts.keyring.decryptString(ciphertext, webhookSecretContext(t.id, randomUUID())),
    ).toThrow();
  });

  test('update, rotateSecret and delete work for owners and admins and are audited', async () => {
    const t = await tenant();
    const { endpoint, secret } = await as(t.owner).create({
      url: URL_OK,
      events: ['privacy.erasure.completed'],
    });
    const { endpoint: updated } = await as(t.admin).update({
      id: endpoint.id,
      enabled: false,
      description: 'paused',
      events: ['privacy.erasure.started', 'privacy.erasure.completed'],
      requireAck: true,
    });
    expect(updated).toMatchObject({
      enabled: false,
      description: 'paused',
      requireAck: true,
      disabledAt: T0.toISOString(),
    });
    const rotated = await as(t.admin).rotateSecret({ id: endpoint.id, graceSeconds: 3600 });
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.endpoint.previousSecretExpiresAt).toBe(
      new Date(T0.getTime() + 3_600_000).toISOString(),
    );
    expect(await as(t.owner).delete({ id: endpoint.id })).toEqual({ ok: true });
    expect(await as(t.owner).list()).toEqual([]);
    expect(await auditActions(t.id)).toEqual([
      'privacy.webhook.created',
      'privacy.webhook.updated',
      'privacy.webhook.secret_rotated',
      'privacy.webhook.deleted',
    ]);
    const audit = await db.owner.pool.query('SELECT * FROM audit_logs WHERE tenant_id = $1', [
      t.id,
    ]);
    expect(JSON.stringify(audit.rows)).not.toContain(rotated.secret);
  });

  test('an endpoint that asks for acknowledgements must receive privacy.erasure.started', async () => {
    const t = await tenant();
    await expect(
      as(t.owner).create({ url: URL_OK, events: ['privacy.export.started'], requireAck: true }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const { endpoint } = await as(t.owner).create({
      url: URL_OK,
      events: ['privacy.export.started'],
    });
    await expect(as(t.owner).update({ id: endpoint.id, requireAck: true })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});

describe('who may call', () => {
  test('members are refused everything; compliance and privacy:read keys only read; keys cannot manage', async () => {
    const t = await tenant();
    const { endpoint } = await as(t.owner).create({ url: URL_OK });
    await expect(as(t.member).list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(as(t.member).create({ url: URL_OK })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(as(t.member).deliveries()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(as(t.member).delete({ id: endpoint.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(as(t.officer).create({ url: URL_OK })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(as(t.officer).rotateSecret({ id: endpoint.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await as(t.officer).deliveries()).toEqual({ items: [], nextCursor: null });
    expect(await as(key(t.id, ['privacy:read'])).list()).toHaveLength(1);
    await expect(
      as(key(t.id, ['privacy:write', 'privacy:read'])).create({ url: URL_OK }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(as(key(t.id, ['users:read'])).list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('tenant isolation', () => {
  test("tenant B can neither list, change, delete nor rotate A's endpoints, nor see or acknowledge A's deliveries", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const { endpoint } = await as(a.owner).create({ url: URL_OK, requireAck: true });
    const requestId = await db.withTenant(a.id, async (tx) => {
      const { request } = await createPrivacyRequest(
        tx,
        { type: 'user', id: a.memberId },
        { userId: a.memberId, type: 'deletion' },
        { keyring: dev.accounts.keyring, now: T0 },
      );
      await recordPrivacyWebhookEvent(tx, request, 'privacy.erasure.started', T0);
      return request.id;
    });
    const mine = await as(a.officer).deliveries({ requestId });
    expect(mine.items).toEqual([
      expect.objectContaining({
        endpointId: endpoint.id,
        requestId,
        eventType: 'privacy.erasure.started',
        status: 'pending',
        requiresAck: true,
      }),
    ]);
    const deliveryId = mine.items[0]?.id ?? '';
    expect(await as(b.owner).list()).toEqual([]);
    expect(await as(b.officer).deliveries()).toEqual({ items: [], nextCursor: null });
    expect(await as(b.officer).deliveries({ endpointId: endpoint.id })).toEqual({
      items: [],
      nextCursor: null,
    });
    await expect(
      as(b.owner).update({ id: endpoint.id, url: 'http://127.0.0.1:9/stolen' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(as(b.owner).delete({ id: endpoint.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(as(b.owner).rotateSecret({ id: endpoint.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(as(b.officer).acknowledge({ deliveryId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await as(a.owner).list()).toEqual([
      expect.objectContaining({ id: endpoint.id, url: URL_OK }),
    ]);
    expect(await as(a.officer).acknowledge({ deliveryId })).toEqual({
      status: 'acknowledged',
      resumed: false,
    });
  });
});

describe('outbound URL rule', () => {
  test('production refuses http, loopback, link-local and private addresses; development allows loopback with a warning', async () => {
    const t = await tenant();
    for (const url of [
      'http://93.184.215.14/hook',
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest',
      'https://172.16.0.1/hook',
      'https://user:pw@93.184.215.14/hook',
      'https://93.184.215.14/hook?x=1',
      'ftp://93.184.215.14/',
    ]) {
      await expect(as(t.owner, prod).create({ url }), url).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
    const { endpoint } = await as(t.owner, prod).create({ url: 'https://93.184.215.14/hook' });
    await expect(
      as(t.owner, prod).update({ id: endpoint.id, url: 'https://127.0.0.1/x' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(as(t.owner, dev).create({ url: 'http://10.1.2.3/hook' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    loopbacks.length = 0;
    await as(t.owner, dev).update({ id: endpoint.id, url: 'http://127.0.0.1:8080/x' });
    expect(loopbacks).toEqual(['127.0.0.1']);
  });
});

test('key rotation re-encrypts endpoint secrets under the new first key, once', async () => {
  const t = await tenant();
  const { endpoint, secret } = await as(t.owner).create({ url: URL_OK });
  const ring = parseKeyring(`${generateKeyringSpec(2)},${keySpec}`);
  const first = await reencryptWebhookSecrets(db.app, ring);
  expect(first.reencrypted).toBe(first.checked);
  expect(await reencryptWebhookSecrets(db.app, ring)).toEqual({
    checked: first.checked,
    reencrypted: 0,
  });
  const { rows } = await db.owner.pool.query<{ secret_ciphertext: string }>(
    'SELECT secret_ciphertext FROM privacy_webhook_endpoints WHERE id = $1',
    [endpoint.id],
  );
  expect(ring.needsRotation(rows[0]?.secret_ciphertext ?? '')).toBe(false);
  expect(
    ring.decryptString(rows[0]?.secret_ciphertext ?? '', webhookSecretContext(t.id, endpoint.id)),
  ).toBe(secret);
});
