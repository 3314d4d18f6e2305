import { randomBytes } from 'node:crypto';
import { ssoSettings, userIdentities, users, withTenant } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Actor } from '../context/actor.js';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { listIdentities, unlinkIdentity } from './identities.js';
import { reencryptSsoSecrets } from './rotate.js';
import type { ActorUseCase } from '../context/use-case.js';
import {
  checkSsoSettingsPatch,
  getSsoSettings,
  loadSsoConnection,
  updateSsoSettings,
  type SsoDeps,
  type SsoSettingsPatch,
} from './settings.js';

const db = useTestDatabase();
const v1 = generateKeyringSpec(1);
const keyring = parseKeyring(v1);
const now = new Date('2026-03-01T12:00:00Z');
const request = { ip: '203.0.113.7', userAgent: 'vitest' };
const platform = [
  {
    id: 'google',
    name: 'Google',
    issuer: 'https://accounts.google.com',
    clientId: 'g',
    clientSecret: 'gs',
  },
];
const deps: SsoDeps = {
  keyring,
  outbound: { mode: 'production' },
  platformProviders: [{ id: 'google', name: 'Google' }],
  publicUrl: 'https://auth.example.com',
  resolve: async () => ['93.184.216.34'],
};
const connection = {
  enabled: true,
  issuer: 'https://idp.example.com',
  clientId: 'tessera',
  clientSecret: 'client-secret-value-123',
};

async function seedUser(
  tenantId: string,
  role: Actor['role'],
  options: { password?: boolean } = {},
): Promise<Actor> {
  const [row] = await db.withTenant(tenantId, (tx) =>
    tx
      .insert(users)
      .values({
        tenantId,
        role,
        email: `${role}-${randomBytes(3).toString('hex')}@example.com`,
        ...(options.password
          ? {
              passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
              passwordAlgorithm: 'argon2id' as const,
            }
          : {}),
      })
      .returning({ id: users.id }),
  );
  return { tenantId, userId: row?.id ?? '', role, sessionId: null };
}

async function tenantWithOwner(): Promise<{ tenant: { id: string; slug: string }; owner: Actor }> {
  const tenant = await db.seedTenant();
  return { tenant, owner: await seedUser(tenant.id, 'owner') };
}

/** As tenant.sso.update does it: the patch checked first, then applied in the tenant transaction. */
async function saveSsoSettings(uc: ActorUseCase<Actor, SsoDeps>, patch: SsoSettingsPatch) {
  const checked = await checkSsoSettingsPatch(uc, patch);
  return withTenant(uc.db, uc.actor.tenantId, (tx) => updateSsoSettings(tx, uc, checked));
}

/** Unlinks inside the user's tenant transaction, as the procedure does through ctx.withTenant. */
function unlink(actor: Actor, identityId: string): Promise<void> {
  return withTenant(db.app, actor.tenantId, (tx) =>
    unlinkIdentity(tx, { actor, request, now }, identityId, deps.platformProviders),
  );
}

describe('tenant SSO settings', () => {
  test('the client secret is stored encrypted and bound to its tenant and row; reads never return it', async () => {
    const { tenant, owner } = await tenantWithOwner();
    const view = await saveSsoSettings(
      { db: db.app, deps, actor: owner, request, now },
      connection,
    );
    expect(view).toMatchObject({
      enabled: true,
      clientSecretSet: true,
      callbackUrl: `https://auth.example.com/auth/callback/tenant-${tenant.slug}`,
    });
    expect(
      JSON.stringify(await withTenant(db.app, tenant.id, (tx) => getSsoSettings(tx, deps))),
    ).not.toContain(connection.clientSecret);
    const { rows } = await db.owner.pool.query<{ client_secret_ciphertext: string }>(
      'SELECT client_secret_ciphertext FROM sso_settings WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(rows[0]?.client_secret_ciphertext).toMatch(/^v1\./);
    expect(rows[0]?.client_secret_ciphertext).not.toContain(connection.clientSecret);
    expect(await loadSsoConnection(db.app, keyring, platform, tenant.id, 'tenant')).toMatchObject({
      clientSecret: connection.clientSecret,
    });
    // An attacker with database access copies the ciphertext into their own tenant's row.
    const other = await tenantWithOwner();
    await saveSsoSettings(
      { db: db.app, deps, actor: other.owner, request, now },
      { ...connection, clientSecret: 'theirs' },
    );
    await db.owner.pool.query(
      'UPDATE sso_settings SET client_secret_ciphertext = $1 WHERE tenant_id = $2',
      [rows[0]?.client_secret_ciphertext, other.tenant.id],
    );
    await expect(
      loadSsoConnection(db.app, keyring, platform, other.tenant.id, 'tenant'),
    ).rejects.toThrow('decryption failed');
  });

  test('every change is audited in the same transaction, without the secret', async () => {
    const { tenant, owner } = await tenantWithOwner();
    await saveSsoSettings({ db: db.app, deps, actor: owner, request, now }, connection);
    const { rows } = await db.owner.pool.query(
      "SELECT before, after, metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'tenant.sso.updated'",
      [tenant.id],
    );
    expect(rows).toMatchObject([
      {
        before: null,
        after: { enabled: true, issuer: connection.issuer, clientSecretSet: true },
        metadata: { clientSecretChanged: true },
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(connection.clientSecret);
  });

  test('only owners change the connection; admins may change provisioning and platform providers; members nothing', async () => {
    const { tenant, owner } = await tenantWithOwner();
    const admin = await seedUser(tenant.id, 'admin');
    const member = await seedUser(tenant.id, 'member');
    await saveSsoSettings({ db: db.app, deps, actor: owner, request, now }, connection);
    for (const patch of [
      { issuer: 'https://evil.example.com' },
      { clientSecret: 'x' },
      { enabled: false },
      { trustProviderMfa: true },
    ]) {
      await expect(
        saveSsoSettings({ db: db.app, deps, actor: admin, request, now }, patch),
        JSON.stringify(patch),
      ).rejects.toMatchObject({ code: 'forbidden' });
    }
    await expect(
      saveSsoSettings(
        { db: db.app, deps, actor: admin, request, now },
        { jitProvisioning: true, platformProviders: ['google'] },
      ),
    ).resolves.toMatchObject({ jitProvisioning: true, platformProviders: ['google'] });
    await expect(
      saveSsoSettings(
        { db: db.app, deps, actor: member, request, now },
        { jitProvisioning: false },
      ),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  test('enabling needs a complete connection; unknown platform providers and private issuers are refused', async () => {
    const { owner } = await tenantWithOwner();
    await expect(
      saveSsoSettings(
        { db: db.app, deps, actor: owner, request, now },
        { enabled: true, issuer: connection.issuer },
      ),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'enabled' });
    await expect(
      saveSsoSettings(
        { db: db.app, deps, actor: owner, request, now },
        { platformProviders: ['github'] },
      ),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'platformProviders' });
    const internal = { ...deps, resolve: async () => ['10.0.0.5'] };
    await expect(
      saveSsoSettings({ db: db.app, deps: internal, actor: owner, request, now }, connection),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'issuer' });
    await expect(
      saveSsoSettings(
        { db: db.app, deps, actor: owner, request, now },
        { ...connection, issuer: 'http://idp.example.com' },
      ),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });

  test('a changed issuer drops the identities linked under the old one (OIDC subjects are per issuer)', async () => {
    const { tenant, owner } = await tenantWithOwner();
    await saveSsoSettings({ db: db.app, deps, actor: owner, request, now }, connection);
    await db.withTenant(tenant.id, (tx) =>
      tx.insert(userIdentities).values([
        {
          tenantId: tenant.id,
          userId: owner.userId,
          provider: 'tenant',
          issuer: connection.issuer,
          subject: 'old-sub',
        },
        {
          tenantId: tenant.id,
          userId: owner.userId,
          provider: 'google',
          issuer: 'https://accounts.google.com',
          subject: 'g-sub',
        },
      ]),
    );
    await saveSsoSettings(
      { db: db.app, deps, actor: owner, request, now },
      { issuer: 'https://new-idp.example.com' },
    );
    const left = await db.withTenant(tenant.id, (tx) => tx.select().from(userIdentities));
    expect(left.map((row) => row.subject)).toEqual(['g-sub']);
  });

  test('platform providers are offered only when the tenant opted in; JIT and amr trust never apply to them', async () => {
    const { tenant, owner } = await tenantWithOwner();
    await saveSsoSettings(
      { db: db.app, deps, actor: owner, request, now },
      { ...connection, jitProvisioning: true, trustProviderMfa: true },
    );
    expect(await loadSsoConnection(db.app, keyring, platform, tenant.id, 'google')).toBeNull();
    await saveSsoSettings(
      { db: db.app, deps, actor: owner, request, now },
      { platformProviders: ['google'] },
    );
    expect(await loadSsoConnection(db.app, keyring, platform, tenant.id, 'google')).toMatchObject({
      provider: 'google',
      jitProvisioning: false,
      trustProviderMfa: false,
    });
    expect(await loadSsoConnection(db.app, keyring, [], tenant.id, 'google')).toBeNull(); // removed from configuration
  });

  test('key rotation re-encrypts client secrets under the newest key and is idempotent', async () => {
    const { tenant, owner } = await tenantWithOwner();
    await saveSsoSettings({ db: db.app, deps, actor: owner, request, now }, connection);
    const rotated = parseKeyring(`${generateKeyringSpec(2)},${v1}`);
    const first = await reencryptSsoSecrets(db.app, rotated);
    expect(first.reencrypted).toBeGreaterThanOrEqual(1);
    expect(first.failed.length).toBe(1); // the row tampered with in the first test stays as it is, reported
    expect((await reencryptSsoSecrets(db.app, rotated)).reencrypted).toBe(0);
    const [row] = await db.withTenant(tenant.id, (tx) => tx.select().from(ssoSettings));
    expect(row?.clientSecretCiphertext).toMatch(/^v2\./);
    expect(await loadSsoConnection(db.app, rotated, platform, tenant.id, 'tenant')).toMatchObject({
      clientSecret: connection.clientSecret,
    });
  });
});

describe('linked identities', () => {
  async function linked(options: { password: boolean; providers: string[] }) {
    const { tenant, owner } = await tenantWithOwner();
    await saveSsoSettings(
      { db: db.app, deps, actor: owner, request, now },
      { ...connection, platformProviders: ['google'] },
    );
    const user = await seedUser(tenant.id, 'member', { password: options.password });
    const rows = await db.withTenant(tenant.id, (tx) =>
      tx
        .insert(userIdentities)
        .values(
          options.providers.map((provider, i) => ({
            tenantId: tenant.id,
            userId: user.userId,
            provider,
            issuer: provider === 'tenant' ? connection.issuer : 'https://accounts.google.com',
            subject: `sub-${i}`,
          })),
        )
        .returning({ id: userIdentities.id }),
    );
    return { tenant, owner, user, ids: rows.map((r) => r.id) };
  }

  test('a user lists only their own identities, with the provider names the tenant shows', async () => {
    const { owner, user } = await linked({ password: false, providers: ['tenant', 'google'] });
    expect(
      await withTenant(db.app, user.tenantId, (tx) =>
        listIdentities(tx, user, deps.platformProviders),
      ),
    ).toMatchObject([
      { provider: 'tenant', providerName: 'Single sign-on' },
      { provider: 'google', providerName: 'Google' },
    ]);
    expect(
      await withTenant(db.app, owner.tenantId, (tx) =>
        listIdentities(tx, owner, deps.platformProviders),
      ),
    ).toEqual([]);
  });

  test('the last way to sign in cannot be unlinked; with a password or a second identity it can, audited', async () => {
    const alone = await linked({ password: false, providers: ['tenant'] });
    await expect(unlink(alone.user, alone.ids[0] ?? '')).rejects.toMatchObject({
      code: 'conflict',
      field: 'identityId',
    });
    const withPassword = await linked({ password: true, providers: ['tenant'] });
    await unlink(withPassword.user, withPassword.ids[0] ?? '');
    expect(
      await withTenant(db.app, withPassword.user.tenantId, (tx) =>
        listIdentities(tx, withPassword.user, deps.platformProviders),
      ),
    ).toEqual([]);
    const two = await linked({ password: false, providers: ['tenant', 'google'] });
    await unlink(two.user, two.ids[1] ?? '');
    await expect(unlink(two.user, two.ids[0] ?? '')).rejects.toMatchObject({ code: 'conflict' });
    const { rows } = await db.owner.pool.query(
      "SELECT metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'auth.sso.identity_unlinked'",
      [two.tenant.id],
    );
    expect(rows).toMatchObject([{ metadata: { provider: 'google' } }]);
  });

  test('an identity whose provider the tenant no longer offers does not count as a way to sign in', async () => {
    const { owner, user, ids } = await linked({ password: false, providers: ['tenant', 'google'] });
    await saveSsoSettings(
      { db: db.app, deps, actor: owner, request, now },
      { platformProviders: [] },
    );
    await expect(unlink(user, ids[0] ?? '')).rejects.toMatchObject({ code: 'conflict' });
  });

  test("another user's identity, in the tenant or elsewhere, looks like no identity at all", async () => {
    const a = await linked({ password: true, providers: ['tenant'] });
    const b = await linked({ password: true, providers: ['tenant'] });
    await expect(unlink(a.owner, a.ids[0] ?? '')).rejects.toMatchObject({ code: 'not_found' });
    await expect(unlink(a.user, b.ids[0] ?? '')).rejects.toMatchObject({ code: 'not_found' });
  });
});
