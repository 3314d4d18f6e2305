import { randomBytes } from 'node:crypto';
import { completeSsoSignIn } from '@tessera/auth/sso';
import { auditLogs, tenantDomains, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { eq } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { testAccountDeps } from '../testing/index.js';

const db = useTestDatabase();
const deps = testAccountDeps();
const request = { ip: '203.0.113.7', userAgent: 'vitest' };
const platform = { provider: 'google', issuer: 'https://accounts.google.com' };
const own = { provider: 'tenant', issuer: 'https://idp.example.com' };

async function tenantWithDomain(state: { autoJoin: boolean; verified: boolean }) {
  const tenant = await db.seedTenant();
  const domain = `j${randomBytes(4).toString('hex')}.example.com`;
  await db.withTenant(tenant.id, (tx) =>
    tx.insert(tenantDomains).values({
      tenantId: tenant.id,
      domain,
      verificationToken: randomBytes(24).toString('base64url'),
      autoJoin: state.autoJoin,
      ...(state.verified ? { verifiedAt: new Date() } : { suspendedAt: new Date() }),
    }),
  );
  return { tenant, domain };
}

const signIn = (
  tenantId: string,
  connection: { provider: string; issuer: string },
  email: string,
  emailVerified = true,
) =>
  completeSsoSignIn(
    db.app,
    deps,
    {
      tenantId,
      connection: { ...connection, jitProvisioning: false, trustProviderMfa: false },
      assertion: {
        subject: randomBytes(8).toString('hex'),
        email,
        emailVerified,
        name: 'Jo',
        amr: [],
      },
    },
    request,
    new Date(),
  );

test('with auto-join, an SSO sign-in with a verified address at a held domain joins as a member, from any accepted provider', async () => {
  const { tenant, domain } = await tenantWithDomain({ autoJoin: true, verified: true });
  for (const [connection, email] of [
    [own, `ann@${domain}`],
    [platform, `Bob@${domain.toUpperCase()}`],
  ] as const) {
    const result = await signIn(tenant.id, connection, email);
    expect(result.status, email).toBe('signed_in');
  }
  const members = await db.withTenant(tenant.id, (tx) => tx.select().from(users));
  expect(members.map((u) => [u.email, u.role]).sort()).toEqual([
    [`ann@${domain}`, 'member'],
    [`bob@${domain}`, 'member'],
  ]);
  const [event] = await db.withTenant(tenant.id, (tx) =>
    tx.select().from(auditLogs).where(eq(auditLogs.action, 'auth.sso.user_provisioned')),
  );
  expect(event?.metadata).toMatchObject({ via: 'domain_auto_join', role: 'member' });
});

test('no auto-join for an unverified address, another domain, a suspended domain, or with the setting off', async () => {
  const on = await tenantWithDomain({ autoJoin: true, verified: true });
  const suspended = await tenantWithDomain({ autoJoin: true, verified: false });
  const off = await tenantWithDomain({ autoJoin: false, verified: true });
  const refused = { status: 'refused', reason: 'no_account' };
  expect(await signIn(on.tenant.id, own, `ann@${on.domain}`, false)).toEqual(refused);
  expect(await signIn(on.tenant.id, own, `ann@sub.${on.domain}`)).toEqual(refused);
  expect(await signIn(on.tenant.id, platform, 'ann@elsewhere.example.org')).toEqual(refused);
  expect(await signIn(suspended.tenant.id, own, `ann@${suspended.domain}`)).toEqual(refused);
  expect(await signIn(off.tenant.id, own, `ann@${off.domain}`)).toEqual(refused);
  for (const t of [on, suspended, off])
    expect(await db.withTenant(t.tenant.id, (tx) => tx.select().from(users))).toEqual([]);
});
